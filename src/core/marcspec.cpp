#include "rapidmarc/marcspec.hpp"

#include <limits>

namespace rapidmarc {

namespace {

std::string error_message(std::string_view spec, std::size_t position, std::string_view why) {
    std::string m = "invalid field spec '" + std::string(spec) + "' at position " + std::to_string(position) + ": " +
                    std::string(why) + "\n    " + std::string(spec) + "\n    " + std::string(position, ' ') + "^";
    return m;
}

}  // namespace

MarcSpecError::MarcSpecError(std::string_view spec, std::size_t position, std::string_view why)
    : std::invalid_argument(error_message(spec, position, why)), position_(position) {}

bool PositionRange::resolve(std::size_t count, std::size_t& first, std::size_t& last) const noexcept {
    if (count == 0) return false;
    const std::size_t top = count - 1;
    if (start.from_end) {
        // "#" and "#-#": the last; "#-m": counted backwards from the last, so the last m+1.
        const std::size_t back = end.from_end ? 0 : end.value;
        first = back >= top ? 0 : top - back;
        last = top;
        return true;
    }
    if (start.value > top) return false;
    first = start.value;
    last = end.from_end ? top : std::min<std::size_t>(end.value, top);
    return first <= last;
}

bool MarcSpec::tag_matches(std::string_view pattern, std::string_view field_tag) noexcept {
    if (field_tag.size() != 3 || pattern.size() != 3) return false;
    for (std::size_t i = 0; i < 3; ++i)
        if (pattern[i] != '.' && pattern[i] != field_tag[i]) return false;
    return true;
}

// ---- parsing -----------------------------------------------------------------------------------

namespace {

// What an abbreviated term inside a subspec refers to (the spec around it, as parsed so far).
struct Outer {
    SpecKind kind = SpecKind::field;
    std::string tag;
    bool leader = false;
    bool has_chars = false;                     // a field spec with a character range (a fixed field)
    const SubfieldSelector* group = nullptr;    // SpecKind::subfield: the group the subspec follows
};

class Parser {
public:
    explicit Parser(std::string_view text) : s_(text) {}

    MarcSpec parse() {
        MarcSpec spec;
        spec.text = std::string(s_);
        if (s_.empty()) fail(0, "a spec is empty (expected a field tag such as 245, LDR or 6..)");
        parse_tag(spec.tag, spec.leader);
        if (peek('[')) spec.index = parse_index();
        Outer outer{SpecKind::field, spec.tag, spec.leader, false, nullptr};
        if (peek('/')) {
            spec.chars = parse_chars();
            outer.has_chars = true;
            if (peek('$') || peek('^'))
                fail(pos_, "a character range ends a field spec: no subfields or indicators come after it");
            spec.subspecs = parse_subspecs(outer);
        } else if (peek('^')) {
            if (spec.leader) fail(pos_, "the leader has no indicators");
            spec.kind = SpecKind::indicator;
            spec.indicator = parse_indicator();
            outer.kind = SpecKind::indicator;
            spec.subspecs = parse_subspecs(outer);
        } else {
            // Subspecs before the first '$' hold for the field (an extension: MARCspec writes
            // "650$a{^2=\0}" for "650{^2=\0}$a"; both select the same).
            spec.subspecs = parse_subspecs(outer);
            if (peek('$')) {
                if (spec.leader) fail(pos_, "the leader has no subfields");
                spec.kind = SpecKind::subfield;
                while (peek('$')) {
                    SubfieldGroup group;
                    group.selector = parse_subfield(/*legacy_codes=*/true);
                    Outer inner{SpecKind::subfield, spec.tag, false, false, &group.selector};
                    group.subspecs = parse_subspecs(inner);
                    spec.subfields.push_back(std::move(group));
                }
            }
        }
        if (pos_ < s_.size()) unexpected();
        set_plain(spec);
        return spec;
    }

private:
    [[noreturn]] void fail(std::size_t at, std::string_view why) const { throw MarcSpecError(s_, at, why); }

    [[noreturn]] void unexpected() const {
        const char c = s_[pos_];
        if (c == ' ') fail(pos_, "a spec has no spaces (a blank in a comparison string is written \\s)");
        if (c == '$') fail(pos_, "a character range or an indicator ends a spec: no subfields come after it");
        if (c == '^') fail(pos_, "an indicator comes right after the tag or the field index (245^1, 650[0]^2)");
        if (c == '/') fail(pos_, "a character range comes right after the tag or the field index (008/7-10)");
        if (c == '[') fail(pos_, "an index comes right after the tag or a subfield code (650[0], 650$a[0])");
        fail(pos_, std::string("unexpected '") + c + "'");
    }

    bool peek(char c) const noexcept { return pos_ < s_.size() && s_[pos_] == c; }
    bool at_end() const noexcept { return pos_ >= s_.size(); }

    // Digits, ASCII letters and '.' (MARCspec's tags; 'X' and 'x' are wildcards too).
    static bool tag_char(char c) noexcept {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.';
    }

    void parse_tag(std::string& tag, bool& leader) {
        const std::size_t start = pos_;
        for (int i = 0; i < 3; ++i) {
            if (at_end()) fail(pos_, "a field tag has three characters (245, LDR, 6.., 6XX)");
            const char c = s_[pos_];
            if (c == ' ') fail(pos_, "a spec has no spaces");
            if (!tag_char(c)) fail(pos_, "a field tag has three characters: digits, letters or '.' (245, LDR, 6.., 6XX)");
            tag.push_back(c == 'X' || c == 'x' ? '.' : c);
            ++pos_;
        }
        leader = s_.substr(start, 3) == "LDR";
    }

    SpecPosition parse_position() {
        SpecPosition p;
        if (peek('#')) {
            ++pos_;
            p.from_end = true;
            return p;
        }
        const std::size_t start = pos_;
        if (at_end() || s_[pos_] < '0' || s_[pos_] > '9')
            fail(pos_, "expected a position: a number or '#' (the last)");
        std::uint64_t v = 0;
        while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') {
            v = v * 10 + static_cast<std::uint64_t>(s_[pos_] - '0');
            if (v > std::numeric_limits<std::uint32_t>::max()) fail(start, "a position is too large");
            ++pos_;
        }
        if (pos_ - start > 1 && s_[start] == '0') fail(start, "a position has no leading zeros");
        p.value = static_cast<std::uint32_t>(v);
        return p;
    }

    PositionRange parse_range() {
        PositionRange r;
        const std::size_t start = pos_;
        r.start = r.end = parse_position();
        if (peek('-')) {
            ++pos_;
            r.end = parse_position();
            if (!r.start.from_end && !r.end.from_end && r.start.value > r.end.value)
                fail(start, "a range starts after it ends (write the smaller position first, or #-n for the "
                            "last n+1)");
        }
        return r;
    }

    PositionRange parse_index() {
        ++pos_;  // '['
        PositionRange r = parse_range();
        if (!peek(']')) fail(pos_, "an index ends with ']'");
        ++pos_;
        return r;
    }

    PositionRange parse_chars() {
        ++pos_;  // '/'
        return parse_range();
    }

    int parse_indicator() {
        ++pos_;  // '^'
        if (peek('1') || peek('2')) return s_[pos_++] - '0';
        fail(pos_, "an indicator is ^1 or ^2");
    }

    static bool lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
    static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

    // "$a", "$a-c", then [index] [/chars]. With `legacy_codes`, more codes may follow the first
    // without a '$' ("650$axz", select.hpp's form).
    SubfieldSelector parse_subfield(bool legacy_codes) {
        SubfieldSelector sel;
        ++pos_;  // '$'
        if (at_end()) fail(pos_, "no subfield code after '$'");
        const char code = s_[pos_];
        const auto u = static_cast<unsigned char>(code);
        if (u <= 0x20 || u >= 0x7f) fail(pos_, "a subfield code is a printable ASCII character");
        ++pos_;
        auto add = [&](char c) {
            if (!sel.has(c)) sel.code_list.push_back(c);
            sel.codes[static_cast<unsigned char>(c)] = true;
        };
        if (peek('-') && pos_ + 1 < s_.size()) {
            const char last = s_[pos_ + 1];
            const bool same_kind = (lower(code) && lower(last)) || (digit(code) && digit(last));
            if (!same_kind || last < code)
                fail(pos_ - 1, "a subfield code range is a-z or 0-9 style, its first code not after its last");
            for (char c = code; c <= last; ++c) add(c);
            pos_ += 2;
        } else if (peek('-')) {
            fail(pos_, "a subfield code range needs its last code (245$a-c)");
        } else {
            add(code);
        }
        if (legacy_codes) {
            while (!at_end() && !peek('[') && !peek('/') && !peek('{') && !peek('$')) {
                const char c = s_[pos_];
                if (c == ' ') fail(pos_, "a spec has no spaces");
                const auto cu = static_cast<unsigned char>(c);
                if (cu <= 0x20 || cu >= 0x7f) fail(pos_, "a subfield code is a printable ASCII character");
                add(c);
                ++pos_;
            }
        }
        if (peek('[')) sel.index = parse_index();
        if (peek('/')) sel.chars = parse_chars();
        return sel;
    }

    std::vector<SubSpec> parse_subspecs(const Outer& outer) {
        std::vector<SubSpec> out;
        while (peek('{')) {
            ++pos_;
            SubSpec sub;
            for (;;) {
                sub.any_of.push_back(parse_condition(outer));
                if (peek('|')) {
                    ++pos_;
                    continue;
                }
                if (peek('}')) {
                    ++pos_;
                    break;
                }
                if (at_end()) fail(pos_, "a subspec ends with '}'");
                unexpected_in_subspec();
            }
            out.push_back(std::move(sub));
        }
        return out;
    }

    [[noreturn]] void unexpected_in_subspec() const {
        if (s_[pos_] == ' ') fail(pos_, "a spec has no spaces (a blank in a comparison string is written \\s)");
        fail(pos_, std::string("unexpected '") + s_[pos_] + "' in a subspec (expected an operator, '|' or '}')");
    }

    bool at_operator() const noexcept { return peek('=') || peek('!') || peek('~') || peek('?'); }

    SpecOperator parse_operator() {
        const char c = s_[pos_++];
        switch (c) {
            case '=': return SpecOperator::equal;
            case '~': return SpecOperator::includes;
            case '?': return SpecOperator::exists;
            default: break;  // '!'
        }
        if (peek('=')) {
            ++pos_;
            return SpecOperator::not_equal;
        }
        if (peek('~')) {
            ++pos_;
            return SpecOperator::not_includes;
        }
        return SpecOperator::not_exists;
    }

    SpecCondition parse_condition(const Outer& outer) {
        SpecCondition c;
        if (at_operator()) {
            c.op = parse_operator();
        } else {
            SpecTerm first = parse_term(outer);
            if (!at_operator()) {  // "{$a}": the term exists
                c.op = SpecOperator::exists;
                c.right = std::move(first);
                return c;
            }
            c.left = std::move(first);
            c.op = parse_operator();
        }
        if (peek('}') || peek('|') || at_end()) fail(pos_, "an operator needs a term after it");
        c.right = parse_term(outer);
        return c;
    }

    SpecTerm parse_term(const Outer& outer) {
        if (peek('\\')) return parse_string();
        if (peek('[') || peek('/') || peek('^') || peek('$')) return parse_abbreviation(outer);
        if (at_end()) fail(pos_, "expected a term");
        // A spec of its own: tag [index] then a character range, an indicator or one subfield.
        auto spec = std::make_shared<MarcSpec>();
        const std::size_t start = pos_;
        parse_tag(spec->tag, spec->leader);
        if (peek('[')) spec->index = parse_index();
        finish_record_term(*spec, start);
        SpecTerm t;
        t.kind = TermKind::record;
        t.spec = std::move(spec);
        return t;
    }

    // After "tag[index]" (written or implied) of a term evaluated on the whole record.
    void finish_record_term(MarcSpec& spec, std::size_t start) {
        if (peek('/')) {
            spec.chars = parse_chars();
        } else if (peek('^')) {
            if (spec.leader) fail(pos_, "the leader has no indicators");
            spec.kind = SpecKind::indicator;
            spec.indicator = parse_indicator();
        } else if (peek('$')) {
            if (spec.leader) fail(pos_, "the leader has no subfields");
            spec.kind = SpecKind::subfield;
            SubfieldGroup g;
            g.selector = parse_subfield(false);
            spec.subfields.push_back(std::move(g));
        }
        if (peek('{')) fail(pos_, "a term inside a subspec has no subspecs of its own");
        spec.text = std::string(s_.substr(start, pos_ - start));
        set_plain(spec);
    }

    SpecTerm parse_abbreviation(const Outer& outer) {
        SpecTerm t;
        const std::size_t start = pos_;
        if (peek('$')) {
            if (outer.leader) fail(pos_, "the leader has no subfields");
            t.kind = TermKind::subfield;
            t.subfield = parse_subfield(false);
            return t;
        }
        if (peek('^')) {
            if (outer.leader) fail(pos_, "the leader has no indicators");
            if (outer.has_chars)
                fail(pos_, "a spec with a character range is a fixed field, which has no indicators");
            t.kind = TermKind::indicator;
            t.indicator = parse_indicator();
            return t;
        }
        if (peek('/')) {
            if (outer.kind == SpecKind::indicator) fail(pos_, "an indicator has no character positions");
            t.kind = TermKind::current;
            t.chars = parse_chars();
            return t;
        }
        // "[i]": the i-th subfield of the enclosing group in this field ("$a{[1]}" is "$a{$a[1]}"),
        // else the i-th field with the enclosing tag.
        PositionRange index = parse_index();
        if (outer.kind == SpecKind::subfield && !peek('^') && !peek('$')) {
            t.kind = TermKind::subfield;
            t.subfield = *outer.group;
            t.subfield.index = index;
            t.subfield.chars.reset();
            if (peek('/')) t.subfield.chars = parse_chars();
            return t;
        }
        auto spec = std::make_shared<MarcSpec>();
        spec->tag = outer.tag;
        spec->leader = outer.leader;
        spec->index = index;
        finish_record_term(*spec, start);
        spec->text = outer.tag + spec->text;
        t.kind = TermKind::record;
        t.spec = std::move(spec);
        return t;
    }

    SpecTerm parse_string() {
        SpecTerm t;
        t.kind = TermKind::string;
        ++pos_;  // '\'
        // The first character is taken as it is, even one of $ { } ! = ~ ? | ("\=" is "=");
        // after it those end the string unless escaped with '\'.
        for (bool first = true; !at_end(); first = false) {
            const char c = s_[pos_];
            if (!first && (c == '$' || c == '{' || c == '}' || c == '!' || c == '=' || c == '~' || c == '?' || c == '|'))
                break;
            if (c == ' ') fail(pos_, "a comparison string has no spaces: write a blank as \\s");
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7f) fail(pos_, "a comparison string has no control characters");
            if (c == '\\' && pos_ + 1 < s_.size()) {
                const char e = s_[pos_ + 1];
                if (e == 's') {
                    t.literal.push_back(' ');
                    pos_ += 2;
                    continue;
                }
                if (e == '$' || e == '{' || e == '}' || e == '!' || e == '=' || e == '~' || e == '?' || e == '|' ||
                    e == '\\') {
                    t.literal.push_back(e);
                    pos_ += 2;
                    continue;
                }
            }
            t.literal.push_back(c);
            ++pos_;
        }
        return t;
    }

    // The select.hpp FieldSpec that selects the same values, when there is one.
    static void set_plain(MarcSpec& spec) {
        if (spec.index || spec.chars || !spec.subspecs.empty() || spec.kind == SpecKind::indicator) return;
        FieldSpec plain;
        plain.text = spec.text;
        plain.tag = spec.tag;
        for (char& c : plain.tag)
            if (c == '.') c = 'X';
        plain.leader = spec.leader;
        for (const SubfieldGroup& g : spec.subfields) {
            if (g.selector.index || g.selector.chars || !g.subspecs.empty()) return;
            plain.codes += g.selector.code_list;
        }
        spec.plain = std::move(plain);
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

MarcSpec parse_marcspec(std::string_view text) { return Parser(text).parse(); }

// ---- selection ---------------------------------------------------------------------------------

namespace {

// The part of `text` a character range names, counting code points of UTF-8 (bytes for bytes).
bool slice_chars(std::string_view text, const PositionRange& range, bool bytes, std::string_view& out) {
    std::size_t count = text.size();
    if (!bytes) {
        count = 0;
        for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }
    std::size_t first = 0, last = 0;
    if (!range.resolve(count, first, last)) return false;
    if (bytes) {
        out = text.substr(first, last - first + 1);
        return true;
    }
    // Byte offsets of code points `first` and `last + 1`.
    std::size_t cp = 0, begin = text.size(), end = text.size();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (cp == first) begin = i;
        if (cp == last + 1) {
            end = i;
            break;
        }
        ++cp;
    }
    out = text.substr(begin, end - begin);
    return true;
}

class Selector {
public:
    Selector(const RecordView& record, TextEncoding encoding) : record_(record), encoding_(encoding) {}

    void run(const MarcSpec& spec, ValueSink& sink) {
        if (spec.leader) {
            if (spec.index) {
                std::size_t a = 0, b = 0;
                if (!spec.index->resolve(1, a, b)) return;
            }
            std::string text;
            append_text(record_.leader(), bytes() ? TextEncoding::bytes : TextEncoding::latin1, text);
            std::string_view v = text;
            if (spec.chars && !slice_chars(text, *spec.chars, bytes(), v)) return;
            const Element e{nullptr, text, v};
            if (holds(spec.subspecs, e)) sink.value(v);
            return;
        }
        std::size_t first = 0, last = std::numeric_limits<std::size_t>::max();
        if (spec.index) {
            std::size_t count = std::numeric_limits<std::size_t>::max();
            if (spec.index->start.from_end || spec.index->end.from_end) {
                count = 0;
                for (std::size_t i = 0; i < record_.size(); ++i) count += spec.matches(record_.field(i).tag());
            }
            if (!spec.index->resolve(count, first, last)) return;
        }
        std::size_t occurrence = 0;
        for (std::size_t i = 0; i < record_.size(); ++i) {
            const FieldView f = record_.field(i);
            if (!spec.matches(f.tag())) continue;
            const std::size_t k = occurrence++;
            if (k < first) continue;
            if (k > last) break;
            field(spec, f, sink);
        }
    }

private:
    // What a subspec is evaluated against: the field (null for the leader), the element's whole
    // text and the value the spec selects from it.
    struct Element {
        const FieldView* field;
        std::string_view whole;
        std::string_view value;
    };

    bool bytes() const noexcept { return encoding_ == TextEncoding::bytes; }

    // A field's text: control field data, or pymarc's Field.value().
    void field_text(const FieldView& f, std::string& out) const {
        out.clear();
        if (f.is_control()) {
            append_text(f.data(), control_encoding(encoding_), out);
            return;
        }
        bool first = true;
        std::string piece;
        for (const SubfieldView& sf : f.subfields()) {
            piece.clear();
            append_text(sf.value, encoding_, piece);
            if (!first) out.push_back(' ');
            first = false;
            out.append(bytes() ? std::string_view(piece) : strip_python_whitespace(piece));
        }
    }

    void indicator_text(const FieldView& f, int which, std::string& out) const {
        out.clear();
        const char c = which == 1 ? f.indicator1() : f.indicator2();
        append_text({&c, 1}, bytes() ? TextEncoding::bytes : TextEncoding::latin1, out);
    }

    void field(const MarcSpec& spec, const FieldView& f, ValueSink& sink) {
        std::string text;
        switch (spec.kind) {
            case SpecKind::field: {
                field_text(f, text);
                std::string_view v = text;
                if (spec.chars && !slice_chars(text, *spec.chars, bytes(), v)) return;
                if (holds(spec.subspecs, {&f, text, v})) sink.value(v);
                return;
            }
            case SpecKind::indicator: {
                if (f.is_control()) return;
                indicator_text(f, spec.indicator, text);
                if (holds(spec.subspecs, {&f, text, text})) sink.value(text);
                return;
            }
            case SpecKind::subfield: break;
        }
        if (f.is_control()) return;
        if (!spec.subspecs.empty()) {
            field_text(f, text);
            if (!holds(spec.subspecs, {&f, text, text})) return;
        }
        subfields(f, spec.subfields, sink);
    }

    // Each subfield of `f` selected by the first group that selects it, in field order.
    void subfields(const FieldView& f, const std::vector<SubfieldGroup>& groups, ValueSink& sink) {
        const std::size_t n = groups.size();
        std::vector<std::size_t> seen(n, 0), total(n, std::numeric_limits<std::size_t>::max());
        for (std::size_t g = 0; g < n; ++g) {
            const auto& index = groups[g].selector.index;
            if (!index || !(index->start.from_end || index->end.from_end)) continue;
            total[g] = 0;
            for (const SubfieldView& sf : f.subfields()) total[g] += groups[g].selector.has(sf.code);
        }
        std::string text;
        for (const SubfieldView& sf : f.subfields()) {
            bool decoded = false, done = false;
            for (std::size_t g = 0; g < n; ++g) {
                const SubfieldSelector& sel = groups[g].selector;
                if (!sel.has(sf.code)) continue;
                const std::size_t k = seen[g]++;
                if (done) continue;
                if (sel.index) {
                    std::size_t a = 0, b = 0;
                    if (!sel.index->resolve(total[g], a, b) || k < a || k > b) continue;
                }
                if (!decoded) {
                    text.clear();
                    append_text(sf.value, encoding_, text);
                    decoded = true;
                }
                std::string_view v = text;
                if (sel.chars && !slice_chars(text, *sel.chars, bytes(), v)) continue;
                if (!holds(groups[g].subspecs, {&f, text, v})) continue;
                sink.value(v);
                done = true;
            }
        }
    }

    // ---- conditions ----
    struct Collect final : ValueSink {
        std::vector<std::string> values;
        void value(std::string_view v) override { values.emplace_back(v); }
    };

    bool holds(const std::vector<SubSpec>& subspecs, const Element& e) {
        for (const SubSpec& s : subspecs) {
            bool any = false;
            for (const SpecCondition& c : s.any_of) {
                if (check(c, e)) {
                    any = true;
                    break;
                }
            }
            if (!any) return false;
        }
        return true;
    }

    bool check(const SpecCondition& c, const Element& e) {
        const std::vector<std::string> right = values(c.right, e);
        if (c.op == SpecOperator::exists) return !right.empty();
        if (c.op == SpecOperator::not_exists) return right.empty();
        const std::vector<std::string> left = c.left ? values(*c.left, e) : std::vector<std::string>{std::string(e.value)};
        if (left.empty()) return false;
        bool found = false;
        for (const std::string& l : left) {
            for (const std::string& r : right) {
                const bool hit = (c.op == SpecOperator::equal || c.op == SpecOperator::not_equal)
                                     ? l == r
                                     : l.find(r) != std::string::npos;
                if (hit) {
                    found = true;
                    break;
                }
            }
            if (found) break;
        }
        switch (c.op) {
            case SpecOperator::equal:
            case SpecOperator::includes: return found;
            default: return !found;  // not_equal, not_includes (true when the right side is empty)
        }
    }

    std::vector<std::string> values(const SpecTerm& t, const Element& e) {
        std::vector<std::string> out;
        switch (t.kind) {
            case TermKind::string: out.push_back(t.literal); break;
            case TermKind::current: {
                std::string_view v = e.whole;
                if (!t.chars || slice_chars(e.whole, *t.chars, bytes(), v)) out.emplace_back(v);
                break;
            }
            case TermKind::indicator: {
                if (!e.field || e.field->is_control()) break;
                std::string text;
                indicator_text(*e.field, t.indicator, text);
                out.push_back(std::move(text));
                break;
            }
            case TermKind::subfield: {
                if (!e.field || e.field->is_control()) break;
                SubfieldGroup g;
                g.selector = t.subfield;
                Collect c;
                subfields(*e.field, std::vector<SubfieldGroup>{std::move(g)}, c);
                out = std::move(c.values);
                break;
            }
            case TermKind::record: {
                Collect c;
                Selector(record_, encoding_).run(*t.spec, c);
                out = std::move(c.values);
                break;
            }
        }
        return out;
    }

    const RecordView& record_;
    TextEncoding encoding_;
};

}  // namespace

void select_values(const RecordView& record, const MarcSpec& spec, TextEncoding encoding, ValueSink& sink) {
    if (spec.plain) {
        std::string scratch;
        for_each_value(record, *spec.plain, encoding, scratch, [&](std::string_view v) { sink.value(v); });
        return;
    }
    Selector(record, encoding).run(spec, sink);
}

}  // namespace rapidmarc
