#include "rapidmarc/marcjson.hpp"

#include <algorithm>
#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "iso_builder.hpp"
#include "rapidmarc/compressed.hpp"
#include "rapidmarc/record_view.hpp"
#include "rapidmarc/text.hpp"

namespace rapidmarc {

JsonError::JsonError(std::string reason, std::uint64_t line, std::uint64_t column, std::uint64_t position,
                     std::uint64_t record_index, const std::string& name)
    : std::runtime_error(name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + reason +
                         " (record " + std::to_string(record_index) + ")"),
      reason_(std::move(reason)),
      line_(line),
      column_(column),
      position_(position),
      record_index_(record_index) {}

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

bool looks_like_json(std::string_view head) noexcept {
    if (head.starts_with(kBom)) head.remove_prefix(3);
    const std::size_t i = head.find_first_not_of(" \t\r\n");
    return i != std::string_view::npos && (head[i] == '[' || head[i] == '{');
}

ReadOptions marcjson_read_options(ReadOptions options) {
    options.parse.force_utf8 = true;
    options.parse.detect_encoding = false;  // the text is UTF-8: there is nothing to detect
    return options;
}

namespace {

using detail::IsoRecordBuilder;

bool all_ascii(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool holds_delimiter(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= '\x1d' && c <= '\x1f'; });
}

bool one_ascii(std::string_view s) noexcept { return s.size() == 1 && all_ascii(s) && !holds_delimiter(s); }

void append_utf8(std::uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// A syntax error inside one record's text, at byte `at` of it.
struct SyntaxError {
    std::string reason;
    std::size_t at;
};

constexpr int kMaxDepth = 512;  // deeper nesting is refused (Python's json raises RecursionError near 1000)

// Parses the complete text of one top-level value and builds its ISO 2709 record, or says why
// it cannot (problem). Throws SyntaxError for JSON that is not well-formed.
class RecordParser {
public:
    RecordParser(std::string_view text, IsoRecordBuilder& iso, std::string& subfields)
        : t_(text), iso_(iso), data_(iso.data()), subs_(subfields) {
        iso_.clear();
    }

    void parse() {
        ws();
        if (peek() == '{') record();
        else {
            skip_value(0);
            note("not an object");
        }
        ws();
        if (i_ != t_.size()) fail("Extra data", i_);
        if (problem) return;
        if (!leader) note("no leader");
        else if (leader->size() != kLeaderLength || !all_ascii(*leader) || holds_delimiter(*leader)) note("bad leader");
        if (!have_fields) note("no fields");
    }

    std::optional<std::string> leader;
    const char* problem = nullptr;  // null: ISO 2709 holds the record as pymarc builds it

private:
    [[noreturn]] void fail(const char* reason, std::size_t at) { throw SyntaxError{reason, at}; }
    void note(const char* why) {
        if (!problem && *why) problem = why;
    }
    char peek() const noexcept { return i_ < t_.size() ? t_[i_] : '\0'; }
    void ws() noexcept {
        while (i_ < t_.size() && is_ws(t_[i_])) ++i_;
    }
    void expect(char c, const char* reason) {
        ws();
        if (peek() != c) fail(reason, i_);
        ++i_;
    }

    // Iterates the members of the object at i_ ('{' expected): on_member(key) parses the value.
    template <typename OnMember>
    void object(int depth, OnMember&& on_member) {
        if (depth > kMaxDepth) fail("nesting too deep", i_);
        ++i_;  // '{'
        ws();
        if (peek() == '}') {
            ++i_;
            return;
        }
        std::string key;
        for (;;) {
            ws();
            if (peek() != '"') fail("Expecting property name enclosed in double quotes", i_);
            key.clear();
            bool lone = string(key);
            if (lone) note("lone surrogate");
            expect(':', "Expecting ':' delimiter");
            ws();
            on_member(key);
            ws();
            if (peek() == ',') {
                ++i_;
                ws();
                if (peek() == '}') fail("Illegal trailing comma before end of object", i_);
                continue;
            }
            if (peek() == '}') {
                ++i_;
                return;
            }
            fail("Expecting ',' delimiter", i_);
        }
    }

    template <typename OnElement>
    void array(int depth, OnElement&& on_element) {
        if (depth > kMaxDepth) fail("nesting too deep", i_);
        ++i_;  // '['
        ws();
        if (peek() == ']') {
            ++i_;
            return;
        }
        for (;;) {
            ws();
            on_element();
            ws();
            if (peek() == ',') {
                ++i_;
                ws();
                if (peek() == ']') fail("Illegal trailing comma before end of array", i_);
                continue;
            }
            if (peek() == ']') {
                ++i_;
                return;
            }
            fail("Expecting ',' delimiter", i_);
        }
    }

    // A string at i_ ('"'), decoded into `out`. Returns true when it held a lone surrogate
    // (which UTF-8 cannot hold; nothing is appended for it).
    bool string(std::string& out) {
        const std::size_t start = i_++;
        bool lone = false;
        for (;;) {
            const std::size_t run = i_;
            while (i_ < t_.size() && t_[i_] != '"' && t_[i_] != '\\') ++i_;
            if (i_ > run) {
                const std::string_view piece = t_.substr(run, i_ - run);
                if (!all_ascii(piece) && !is_valid_utf8(piece)) fail("invalid UTF-8", run);
                out.append(piece);
            }
            if (i_ >= t_.size()) fail("Unterminated string starting at", start);
            if (t_[i_] == '"') {
                ++i_;
                return lone;
            }
            const std::size_t esc = i_++;  // '\\'
            if (i_ >= t_.size()) fail("Unterminated string starting at", start);
            switch (t_[i_++]) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    std::uint32_t cp = hex4(esc);
                    if (cp >= 0xD800 && cp <= 0xDBFF && t_.substr(i_, 2) == "\\u") {
                        const std::size_t save = i_;
                        i_ += 2;
                        const std::uint32_t low = hex4(save);
                        if (low >= 0xDC00 && low <= 0xDFFF) cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        else i_ = save;  // a high surrogate alone; the next escape is read by itself
                    }
                    if (cp >= 0xD800 && cp <= 0xDFFF) lone = true;
                    else append_utf8(cp, out);
                    break;
                }
                default: fail("Invalid \\escape", esc);
            }
        }
    }

    std::uint32_t hex4(std::size_t esc) {
        if (i_ + 4 > t_.size()) fail("Invalid \\uXXXX escape", esc);
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = t_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else fail("Invalid \\uXXXX escape", esc);
        }
        return v;
    }

    bool literal(std::string_view word) {
        if (t_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }

    void digits() {
        while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    }

    // A number, true, false, null, NaN, Infinity or -Infinity at i_.
    void scalar() {
        if (literal("true") || literal("false") || literal("null") || literal("NaN") || literal("Infinity") ||
            literal("-Infinity"))
            return;
        const std::size_t start = i_;
        if (peek() == '-') ++i_;
        if (peek() == '0') ++i_;
        else if (peek() >= '1' && peek() <= '9') digits();
        else fail("Expecting value", start);
        if (peek() == '.' && i_ + 1 < t_.size() && t_[i_ + 1] >= '0' && t_[i_ + 1] <= '9') {
            ++i_;
            digits();
        }
        if ((peek() == 'e' || peek() == 'E')) {
            std::size_t j = i_ + 1;
            if (j < t_.size() && (t_[j] == '+' || t_[j] == '-')) ++j;
            if (j < t_.size() && t_[j] >= '0' && t_[j] <= '9') {
                i_ = j;
                digits();
            }
        }
    }

    void skip_value(int depth) {
        ws();
        switch (peek()) {
            case '{': object(depth + 1, [&](const std::string&) { skip_value(depth + 1); }); break;
            case '[': array(depth + 1, [&] { skip_value(depth + 1); }); break;
            case '"': {
                std::string ignored;
                string(ignored);
                break;
            }
            default: scalar();
        }
    }

    // A string value into `out`, or a note that it is not one.
    bool string_value(std::string& out, const char* otherwise) {
        if (peek() != '"') {
            skip_value(3);
            note(otherwise);
            return false;
        }
        if (string(out)) note("lone surrogate");
        return true;
    }

    void record() {
        bool seen_leader = false;
        object(1, [&](const std::string& key) {
            if (key == "leader") {
                if (std::exchange(seen_leader, true)) note("duplicate member");
                std::string value;
                if (string_value(value, "leader not a string")) leader = std::move(value);
            } else if (key == "fields") {
                if (std::exchange(have_fields, true)) note("duplicate member");
                if (peek() != '[') {
                    skip_value(1);
                    note("fields not an array");
                    return;
                }
                array(2, [&] { field(); });
            } else {
                skip_value(1);
            }
        });
    }

    void field() {
        if (peek() != '{') {
            skip_value(2);
            note("field not an object");
            return;
        }
        std::size_t members = 0;
        object(3, [&](const std::string& tag) {
            if (++members > 1) {
                note("field of several members");
                skip_value(3);
                return;
            }
            if (tag.size() != 3 || !all_ascii(tag) || holds_delimiter(tag)) note("bad tag");
            iso_.begin_field();
            if (peek() == '"') {
                if (!is_control_tag(tag)) note("datafield tag");
                std::string value;
                string_value(value, "");
                if (holds_delimiter(value)) note("delimiter in data");
                data_.append(value);
            } else if (peek() == '{') {
                if (is_control_tag(tag)) note("controlfield tag");
                datafield();
            } else {
                skip_value(3);
                note("field value");
                return;
            }
            iso_.end_field(tag);
        });
        if (members == 0) note("empty field object");
    }

    void datafield() {
        std::string ind1, ind2;
        bool has1 = false, has2 = false, has_subfields = false;
        subs_.clear();
        object(4, [&](const std::string& key) {
            if (key == "ind1" || key == "ind2") {
                bool& seen = key == "ind1" ? has1 : has2;
                if (std::exchange(seen, true)) note("duplicate member");
                std::string& ind = key == "ind1" ? ind1 : ind2;
                ind.clear();
                if (string_value(ind, "bad indicator") && !one_ascii(ind)) note("bad indicator");
            } else if (key == "subfields") {
                if (std::exchange(has_subfields, true)) note("duplicate member");
                if (peek() != '[') {
                    skip_value(4);
                    note("subfields not an array");
                    return;
                }
                array(5, [&] { subfield(); });
            } else {
                skip_value(4);
            }
        });
        if (!has_subfields || !has1 || !has2) note("incomplete datafield");
        data_.push_back(ind1.empty() ? ' ' : ind1[0]);
        data_.push_back(ind2.empty() ? ' ' : ind2[0]);
        data_.append(subs_);
    }

    void subfield() {
        if (peek() != '{') {
            skip_value(5);
            note("subfield not an object");
            return;
        }
        std::string codes;  // the codes of this object: a repeated one is a duplicate member
        object(6, [&](const std::string& code) {
            if (!one_ascii(code)) note("bad subfield code");
            else if (codes.find(code[0]) != std::string::npos) note("duplicate member");
            else codes.push_back(code[0]);
            subs_.push_back('\x1f');
            subs_.append(code.substr(0, 1));
            std::string value;
            if (string_value(value, "subfield value") && holds_delimiter(value)) note("delimiter in data");
            subs_.append(value);
        });
    }

    std::string_view t_;
    std::size_t i_ = 0;
    IsoRecordBuilder& iso_;
    std::string& data_;  // iso_'s field data
    std::string& subs_;
    bool have_fields = false;
};

// The fast path: the shape MARC-in-JSON writers produce, parsed in one pass straight from the
// input buffer into the record's directory and data, with no per-value allocation. It accepts only
// what the general RecordParser accepts without a note, and builds the same bytes:
// {"leader": "<24 ASCII>", "fields": [...]} (both members once, either order, no other member),
// each field an object of one member, a control field tag with a string, any other 3-byte tag with
// {"ind1": "x", "ind2": "y", "subfields": [{"a": "..."}, ...]} (each member once, any order, no
// other member, one member per subfield object), keys without escapes. Anything else, including
// every problem the general parser would note or report, makes it give up (fallback) and the
// general parser reads the value: the fast path changes speed, never output.
class FastRecordParser {
public:
    enum class Result : std::uint8_t { ok, more, fallback };

    // `text` starts at the value's '{'; it may end before the value does (result `more`).
    FastRecordParser(std::string_view text, IsoRecordBuilder& iso)
        : p_(text.data()), begin_(text.data()), end_(text.data() + text.size()), iso_(iso), data_(iso.data()) {
        iso_.clear();
    }

    Result parse() {
        if (!record()) return why_;
        return Result::ok;
    }

    std::size_t consumed() const noexcept { return static_cast<std::size_t>(p_ - begin_); }

    std::string_view leader;

private:
    bool give_up() noexcept {
        why_ = Result::fallback;
        return false;
    }
    bool more() noexcept {
        why_ = Result::more;
        return false;
    }

    // Skips whitespace; false (more) when the text ends.
    bool ws() noexcept {
        if (p_ < end_ && static_cast<unsigned char>(*p_) > ' ') return true;  // compact JSON: no whitespace
        while (p_ < end_ && is_ws(*p_)) ++p_;
        return p_ < end_ || more();
    }
    // Whitespace, then `c` (consumed).
    bool expect(char c) noexcept {
        if (p_ < end_ && *p_ == c) {  // compact JSON
            ++p_;
            return true;
        }
        if (!ws()) return false;
        if (*p_ != c) return give_up();
        ++p_;
        return true;
    }
    // After a member or element: ',' (true, `next` set) or `close` (true, `next` clear).
    bool separator(char close, bool& next) noexcept {
        if (!ws()) return false;
        if (*p_ == ',') {
            ++p_;
            next = true;
            return true;
        }
        if (*p_ == close) {
            ++p_;
            next = false;
            return true;
        }
        return give_up();
    }

    // A key at p_ ('"' expected after whitespace) without escapes, then ':'.
    bool key(std::string_view& out) noexcept {
        if (!expect('"')) return false;
        const char* start = p_;
        // The usual keys: a subfield code (1 byte) or a tag (3 bytes), then '":'.
        for (const std::ptrdiff_t n : {1, 3}) {
            if (end_ - p_ > n + 1 && p_[n] == '"' && p_[n + 1] == ':' &&
                std::none_of(p_, p_ + n, [](char c) { return c == '"' || c == '\\'; })) {
                out = std::string_view(start, static_cast<std::size_t>(n));
                p_ += n + 2;
                return true;
            }
        }
        while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
        if (p_ == end_) return more();
        if (*p_ == '\\') return give_up();
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return expect(':');
    }

    // The compact form of a known key, `"name":`, at p_: consumed if there (else key() reads it).
    bool literal(std::string_view quoted) noexcept {
        if (static_cast<std::size_t>(end_ - p_) <= quoted.size() || std::memcmp(p_, quoted.data(), quoted.size()) != 0)
            return false;
        p_ += quoted.size();
        return true;
    }

    // A string without escapes of exactly `out.size()`-independent raw bytes: the view of its
    // content (for the leader and indicators).
    bool raw_string(std::string_view& out) noexcept {
        if (!expect('"')) return false;
        const char* start = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
        if (p_ == end_) return more();
        if (*p_ == '\\') return give_up();
        out = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
    }

    // Eight bytes at p: a mask with the high bit set in each byte that is '"', '\\' or below 0x20
    // (exact for the lowest such byte, which is all the caller uses).
    static std::uint64_t special(const char* p) noexcept {
        std::uint64_t x;
        std::memcpy(&x, p, 8);
        constexpr std::uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
        const std::uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & high;
    }

    // A string value at p_ (after whitespace), decoded and appended to data_. Gives up on what
    // the general parser notes or refuses: a delimiter or terminator, invalid UTF-8, an invalid
    // escape, a surrogate that is not half of a pair.
    bool string_value() {
        if (!expect('"')) return false;
        for (;;) {
            const char* run = p_;
            std::uint64_t high = 0;  // the high bits of the run's bytes: non-ASCII needs validating
            for (;;) {
                if (std::endian::native == std::endian::little) {
                    while (end_ - p_ >= 8) {
                        const std::uint64_t m = special(p_);
                        std::uint64_t x;
                        std::memcpy(&x, p_, 8);
                        if (m != 0) {
                            const int k = std::countr_zero(m) / 8;
                            std::uint64_t keep = k == 0 ? 0 : (~std::uint64_t{0} >> (64 - 8 * k));
                            high |= x & keep;
                            p_ += k;
                            break;
                        }
                        high |= x;
                        p_ += 8;
                    }
                }
                while (p_ < end_) {
                    const auto c = static_cast<unsigned char>(*p_);
                    if (c == '"' || c == '\\' || c < 0x20) break;
                    high |= c;
                    ++p_;
                }
                if (p_ == end_) return more();
                const auto c = static_cast<unsigned char>(*p_);
                if (c == '"' || c == '\\') break;
                if (c >= 0x1d) return give_up();  // 0x1d-0x1f: a delimiter or terminator in the data
                ++p_;                             // another control character: allowed raw
            }
            const std::string_view piece(run, static_cast<std::size_t>(p_ - run));
            if ((high & 0x8080808080808080ULL) != 0 && !is_valid_utf8(piece)) return give_up();
            data_.append(piece);
            if (*p_++ == '"') return true;
            if (p_ == end_) return more();  // '\\'
            switch (*p_++) {
                case '"': data_.push_back('"'); break;
                case '\\': data_.push_back('\\'); break;
                case '/': data_.push_back('/'); break;
                case 'b': data_.push_back('\b'); break;
                case 'f': data_.push_back('\f'); break;
                case 'n': data_.push_back('\n'); break;
                case 'r': data_.push_back('\r'); break;
                case 't': data_.push_back('\t'); break;
                case 'u': {
                    std::uint32_t cp = 0;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (end_ - p_ < 2) return more();
                        if (p_[0] != '\\' || p_[1] != 'u') return give_up();
                        p_ += 2;
                        std::uint32_t low = 0;
                        if (!hex4(low)) return false;
                        if (low < 0xDC00 || low > 0xDFFF) return give_up();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return give_up();
                    } else if (cp >= 0x1d && cp <= 0x1f) {
                        return give_up();
                    }
                    append_utf8(cp, data_);
                    break;
                }
                default: return give_up();
            }
        }
    }

    bool hex4(std::uint32_t& v) noexcept {
        if (end_ - p_ < 4) return more();
        for (int k = 0; k < 4; ++k) {
            const char c = *p_++;
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else return give_up();
        }
        return true;
    }

    // one_ascii(s), inline.
    static bool plain_byte(std::string_view s) noexcept {
        return s.size() == 1 && static_cast<unsigned char>(s[0]) < 0x80 && (s[0] < '\x1d' || s[0] > '\x1f');
    }

    bool record() {
        if (!expect('{')) return false;
        bool have_leader = false, have_fields = false, next = true;
        while (next) {
            std::string_view k;
            if (literal("\"leader\":")) k = "leader";
            else if (literal("\"fields\":")) k = "fields";
            else if (!key(k)) return false;
            if (k == "leader" && !have_leader) {
                have_leader = true;
                if (!raw_string(leader)) return false;
                if (leader.size() != kLeaderLength || !all_ascii(leader) || holds_delimiter(leader)) return give_up();
            } else if (k == "fields" && !have_fields) {
                have_fields = true;
                if (!expect('[')) return false;
                if (!ws()) return false;
                if (*p_ == ']') {
                    ++p_;
                } else {
                    for (bool more_fields = true; more_fields;) {
                        if (!field() || !separator(']', more_fields)) return false;
                    }
                }
            } else {
                return give_up();  // another member, or one given twice
            }
            if (!separator('}', next)) return false;
        }
        return (have_leader && have_fields) || give_up();
    }

    bool field() {
        if (!expect('{')) return false;
        std::string_view tag;
        if (!key(tag)) return false;
        if (tag.size() != 3 || !all_ascii(tag) || holds_delimiter(tag)) return give_up();
        iso_.begin_field();
        if (!ws()) return false;
        if (*p_ != (is_control_tag(tag) ? '"' : '{')) return give_up();
        if (!(is_control_tag(tag) ? string_value() : datafield())) return false;
        if (!expect('}')) return false;  // a second member is the general parser's business
        iso_.end_field(tag);
        return true;
    }

    bool datafield() {
        ++p_;  // '{'
        const std::size_t ind_at = data_.size();
        data_.append("  ");
        bool has1 = false, has2 = false, has_subfields = false, next = true;
        while (next) {
            std::string_view k;
            if (literal("\"ind1\":")) k = "ind1";
            else if (literal("\"ind2\":")) k = "ind2";
            else if (literal("\"subfields\":")) k = "subfields";
            else if (!key(k)) return false;
            if ((k == "ind1" && !has1) || (k == "ind2" && !has2)) {
                (k == "ind1" ? has1 : has2) = true;
                std::string_view ind;
                if (!raw_string(ind)) return false;
                if (!plain_byte(ind)) return give_up();
                data_[ind_at + (k == "ind1" ? 0 : 1)] = ind[0];
            } else if (k == "subfields" && !has_subfields) {
                has_subfields = true;
                if (!expect('[')) return false;
                if (!ws()) return false;
                if (*p_ == ']') {
                    ++p_;
                } else {
                    for (bool more_subfields = true; more_subfields;) {
                        if (!subfield() || !separator(']', more_subfields)) return false;
                    }
                }
            } else {
                return give_up();
            }
            if (!separator('}', next)) return false;
        }
        return (has1 && has2 && has_subfields) || give_up();
    }

    bool subfield() {
        if (!expect('{')) return false;
        std::string_view code;
        if (!key(code)) return false;
        if (!plain_byte(code)) return give_up();
        const char head[2] = {kSubfieldDelimiter, code[0]};
        data_.append(head, 2);
        if (!ws()) return false;
        if (*p_ != '"') return give_up();
        return string_value() && expect('}');
    }

    const char* p_;
    const char* const begin_;
    const char* const end_;
    IsoRecordBuilder& iso_;
    std::string& data_;  // iso_'s field data
    Result why_ = Result::fallback;
};

class MarcJsonSource final : public ByteSource {
public:
    MarcJsonSource(std::unique_ptr<ByteSource> in, MarcJsonOptions options, std::string name)
        : in_(std::move(in)), options_(std::move(options)), name_(std::move(name)),
          chunk_(std::max<std::size_t>(options_.chunk_size, 1)) {}

    std::size_t read(char* dst, std::size_t n) override {
        while (out_pos_ == out_.size()) {
            out_.clear();
            out_pos_ = 0;
            if (failure_) throw *failure_;  // after the records completed before the error
            if (done_) return 0;
            step(n);
        }
        const std::size_t k = std::min(n, out_.size() - out_pos_);
        std::memcpy(dst, out_.data() + out_pos_, k);
        out_pos_ += k;
        return k;
    }

    void cancel() noexcept override { in_->cancel(); }

private:
    enum class State : std::uint8_t {
        start,        // before the first value (a byte order mark may come)
        array_first,  // after '[': a value or ']'
        array_next,   // after ',' in the array: a value
        array_after,  // after a value in the array: ',' or ']'
        after_end,    // after the array's ']': whitespace only
        objects,      // between top-level values of a sequence: whitespace or a value
        value,        // inside a top-level value (buf_ holds its text from val_)
    };

    // Reads one more chunk into buf_ (keeping what is unconsumed, and all of a value being read);
    // false at the end of input.
    bool fill() {
        const std::size_t keep = state_ == State::value ? val_ : pos_;
        buf_.erase(0, keep);
        pos_ -= keep;
        val_ -= std::min(val_, keep);
        const std::size_t old = buf_.size();
        buf_.resize(old + chunk_);
        const std::size_t got = in_->read(buf_.data() + old, chunk_);
        buf_.resize(old + got);
        return got > 0;
    }

    // The characters in `s` (bytes that are not UTF-8 continuation bytes, 0x80-0xBF) and its
    // newlines, sixteen bytes at a time with SSE2, else eight (per-byte counters, at most 255 steps,
    // summed at the end).
    static std::pair<std::uint64_t, std::uint64_t> characters(std::string_view s) noexcept {
        constexpr std::uint64_t high = 0x8080808080808080ULL, low7 = 0x7F7F7F7F7F7F7F7FULL;
        constexpr std::uint64_t lanes = 0x00FF00FF00FF00FFULL, sum16 = 0x0001000100010001ULL;
        const auto bytes_sum = [&](std::uint64_t v) { return (((v & lanes) + ((v >> 8) & lanes)) * sum16) >> 48; };
        std::uint64_t continuation = 0, newlines = 0;
        std::size_t i = 0;
#if defined(__SSE2__)
        // Sixteen bytes at a time: per-byte counters (at most 255 steps), summed by _mm_sad_epu8.
        const __m128i zero = _mm_setzero_si128(), lead_below = _mm_set1_epi8(-64), newline = _mm_set1_epi8('\n');
        const auto sum = [&](__m128i v) {
            const __m128i halves = _mm_sad_epu8(v, zero);
            return static_cast<std::uint64_t>(_mm_cvtsi128_si64(halves)) +
                   static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(halves, halves)));
        };
        while (s.size() - i >= 16) {
            __m128i cont = zero, nl = zero;
            for (int step = 0; step < 255 && s.size() - i >= 16; ++step, i += 16) {
                const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
                cont = _mm_sub_epi8(cont, _mm_cmplt_epi8(x, lead_below));  // signed < -64: 0x80-0xBF
                nl = _mm_sub_epi8(nl, _mm_cmpeq_epi8(x, newline));
            }
            continuation += sum(cont);
            newlines += sum(nl);
        }
#endif
        while (s.size() - i >= 8) {
            std::uint64_t cont = 0, nl = 0;
            for (int step = 0; step < 255 && s.size() - i >= 8; ++step, i += 8) {
                std::uint64_t x;
                std::memcpy(&x, s.data() + i, 8);
                cont += (x & ~(x << 1) & high) >> 7;           // bit 7 set, bit 6 clear
                const std::uint64_t y = x ^ 0x0A0A0A0A0A0A0A0AULL;  // '\n' -> 0
                nl += (~(((y & low7) + low7) | y | low7)) >> 7;  // exactly the zero bytes
            }
            continuation += bytes_sum(cont);
            newlines += bytes_sum(nl);
        }
        for (; i < s.size(); ++i) {
            continuation += (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
            newlines += s[i] == '\n';
        }
        return {s.size() - continuation, newlines};
    }

    // Advances the position (line, column, characters) over consumed bytes.
    void account(std::string_view s) noexcept {
        const auto [chars, newlines] = characters(s);
        chars_ += chars;
        if (newlines == 0) {
            column_ += chars;
            return;
        }
        line_ += newlines;
        column_ = characters(s.substr(s.rfind('\n') + 1)).first;
    }

    void fail(std::string reason, std::uint64_t line, std::uint64_t column0, std::uint64_t chars) {
        failure_.emplace(std::move(reason), line, column0 + 1, chars, emitted_, name_);
        done_ = true;
    }
    void fail_here(std::string reason) { fail(std::move(reason), line_, column_, chars_); }

    // Consumes whitespace in buf_; false when buf_ ran out.
    bool skip_ws() {
        const std::size_t from = pos_;
        while (pos_ < buf_.size() && is_ws(buf_[pos_])) ++pos_;
        account(std::string_view(buf_).substr(from, pos_ - from));
        return pos_ < buf_.size();
    }

    // Builds records into out_ until it holds `want` bytes, the input ends or fails, or (once it
    // holds a record) the values in buf_ are used up: records the input has delivered are handed
    // out at once rather than wait for more input (a pipe that pauses), and handing out many per
    // call lets the reader batch them (one record per read made every record a batch of its own,
    // and a hand-over between threads).
    void step(std::size_t want) {
        while ((out_.empty() || out_.size() < want) && !done_) {
            // More input when all is consumed, or at the start until a byte order mark can be seen.
            if (pos_ == buf_.size() || (!bom_checked_ && buf_.size() - pos_ < 3 && !eof_)) {
                if (!out_.empty()) return;
                if (!eof_ && fill()) continue;
                eof_ = true;
                if (pos_ == buf_.size()) {
                    at_end();
                    return;
                }
            }
            advance();
        }
    }

    // The input ended in `state_`.
    void at_end() {
        switch (state_) {
            case State::start:
            case State::objects:
            case State::after_end: done_ = true; return;
            case State::value:
                finish_value();  // what the input held of it: a scalar is complete, anything else an error
                if (!failure_) at_end();
                return;
            case State::array_first:
            case State::array_next: fail_here("Expecting value"); return;
            case State::array_after: fail_here("Expecting ',' delimiter"); return;
        }
    }

    void advance() {
        switch (state_) {
            case State::start:
                if (!std::exchange(bom_checked_, true) && std::string_view(buf_).substr(pos_).starts_with(kBom)) {
                    account(kBom);
                    pos_ += 3;
                }
                if (!skip_ws()) return;
                if (buf_[pos_] == '[') {
                    account("[");
                    ++pos_;
                    array_ = true;
                    state_ = State::array_first;
                } else {
                    state_ = State::objects;
                }
                return;
            case State::array_first:
                if (!skip_ws()) return;
                if (buf_[pos_] == ']') {
                    account("]");
                    ++pos_;
                    state_ = State::after_end;
                    return;
                }
                begin_value();
                return;
            case State::array_next:
                if (!skip_ws()) return;
                if (buf_[pos_] == ']') return fail_here("Illegal trailing comma before end of array");
                begin_value();
                return;
            case State::array_after:
                if (!skip_ws()) return;
                if (buf_[pos_] == ',') {
                    account(",");
                    ++pos_;
                    state_ = State::array_next;
                } else if (buf_[pos_] == ']') {
                    account("]");
                    ++pos_;
                    state_ = State::after_end;
                } else {
                    fail_here("Expecting ',' delimiter");
                }
                return;
            case State::after_end:
                if (!skip_ws()) return;
                return fail_here("Extra data");
            case State::objects:
                if (!skip_ws()) return;
                begin_value();
                return;
            case State::value:
                // First the fast path on what the buffer holds; if the value goes on past it (or
                // the fast path gives up), the bracket scan finds its end.
                if (fast_ && !std::exchange(fast_tried_, true) && try_fast(std::string_view(buf_).substr(val_), false))
                    return;
                scan_value();
                return;
        }
    }

    void begin_value() {
        val_ = pos_;
        fast_ = options_.fast_path && buf_[pos_] == '{';
        fast_tried_ = false;
        rec_line_ = line_;
        rec_column_ = column_;
        rec_chars_ = chars_;
        depth_ = 0;
        in_string_ = escaped_ = false;
        first_ = buf_[pos_];
        state_ = State::value;
    }

    // Consumes bytes of the value being read; when it is complete, builds its record.
    void scan_value() {
        bool complete = false;
        if (first_ == '{' || first_ == '[' || first_ == '"') {
            while (pos_ < buf_.size()) {
                const char c = buf_[pos_++];
                if (in_string_) {
                    if (escaped_) escaped_ = false;
                    else if (c == '\\') escaped_ = true;
                    else if (c == '"') {
                        in_string_ = false;
                        if (depth_ == 0) {
                            complete = true;  // a string at the top level
                            break;
                        }
                    }
                } else if (c == '"') {
                    in_string_ = true;
                } else if (c == '{' || c == '[') {
                    ++depth_;
                } else if (c == '}' || c == ']') {
                    if (--depth_ <= 0) {
                        complete = true;
                        break;
                    }
                }
            }
        } else {
            // A scalar (or junk): up to whitespace or a delimiter of the enclosing layout.
            while (pos_ < buf_.size() && !is_ws(buf_[pos_]) && buf_[pos_] != ',' && buf_[pos_] != ']' &&
                   buf_[pos_] != '}' && buf_[pos_] != '[' && buf_[pos_] != '{' && buf_[pos_] != '"')
                ++pos_;
            const bool stray = pos_ == val_;
            if (stray) ++pos_;  // a stray delimiter where a value should start: one byte, which the parser refuses
            complete = stray || pos_ < buf_.size();
        }
        if (complete) finish_value();
    }

    // The fast path on `text` from val_ (the whole value when `whole`): true when it built the
    // record, which is then handed out.
    bool try_fast(std::string_view text, bool whole) {
        FastRecordParser fast(text, iso_);
        const FastRecordParser::Result result = fast.parse();
        if (result != FastRecordParser::Result::ok || (whole && fast.consumed() != text.size())) {
            if (result != FastRecordParser::Result::more || whole) fast_ = false;
            return false;
        }
        text = text.substr(0, fast.consumed());
        pos_ = val_ + text.size();
        account(text);
        state_ = in_array() ? State::array_after : State::objects;
        emit(fast.leader, nullptr, text);
        return true;
    }

    // Parses the value's text (complete, or what the input held of it at its end) into a record.
    void finish_value() {
        const std::string_view rec = std::string_view(buf_).substr(val_, pos_ - val_);
        if (fast_ && try_fast(rec, true)) return;
        const bool array = in_array();
        RecordParser parser(rec, iso_, subs_);
        try {
            parser.parse();
        } catch (const SyntaxError& e) {
            const std::string_view before = rec.substr(0, std::min(e.at, rec.size()));
            std::uint64_t line = rec_line_, column = rec_column_, chars = rec_chars_;
            for (const char c : before) {
                const bool lead = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                if (c == '\n') {
                    ++line;
                    column = 0;
                } else if (lead) {
                    ++column;
                }
                if (lead) ++chars;
            }
            fail(e.reason, line, column, chars);
            return;
        }
        account(rec);
        state_ = array ? State::array_after : State::objects;
        emit(parser.leader ? std::string_view(*parser.leader) : std::string_view(), parser.problem, rec);
    }

    bool in_array() const noexcept { return array_; }

    // Hands out the record built in iso_ (or a stub saying why ISO 2709 cannot hold it: `problem`
    // or a field too long); `text` is the value's JSON.
    void emit(std::string_view leader, const char* problem, std::string_view text) {
        const std::size_t fields = iso_.fields();
        const std::uint64_t index = emitted_++;
        const IsoRecordBuilder::Finished done = iso_.finish(out_, leader, problem);
        if (done.stub || fields == 0) {
            if (options_.originals) options_.originals->add(index, std::string(text));
        }
        if (done.leader_changed && options_.leaders) options_.leaders->add(index, std::string(leader));
    }

    std::unique_ptr<ByteSource> in_;
    MarcJsonOptions options_;
    std::string name_;
    std::size_t chunk_;
    std::string buf_;  // input read and not yet consumed from pos_
    std::size_t pos_ = 0;
    bool eof_ = false;
    std::string out_;  // records handed out by read()
    std::size_t out_pos_ = 0;
    bool done_ = false;
    std::uint64_t emitted_ = 0;
    std::optional<JsonError> failure_;  // raised once the records before it are handed out

    State state_ = State::start;
    bool bom_checked_ = false;
    bool array_ = false;
    std::uint64_t line_ = 1, column_ = 0, chars_ = 0;  // where the consumed input ends

    // The top-level value being read: buf_ from val_.
    std::size_t val_ = 0;
    bool fast_ = false;        // the fast path may still build it
    bool fast_tried_ = false;  // the fast path was tried on what the buffer held when it began
    std::uint64_t rec_line_ = 1, rec_column_ = 0, rec_chars_ = 0;
    long depth_ = 0;
    bool in_string_ = false;
    bool escaped_ = false;
    char first_ = '\0';
    IsoRecordBuilder iso_;  // the record being built (its buffers reused between records)
    std::string subs_;      // the general parser's subfields of a data field
};

BatchOptions json_batch_options(bool background, std::function<void(Batch&)> process) {
    BatchOptions bo;
    bo.background = background;
    bo.process = std::move(process);
    return bo;
}

}  // namespace

std::unique_ptr<ByteSource> marcjson_source(std::unique_ptr<ByteSource> json, MarcJsonOptions options, std::string name) {
    return std::make_unique<MarcJsonSource>(std::move(json), std::move(options), std::move(name));
}

std::unique_ptr<BatchStream> open_marcjson_batches(const std::filesystem::path& path, const ReadOptions& options,
                                                   std::function<void(Batch&)> process, MarcJsonOptions json) {
    const ReadOptions read = marcjson_read_options(options);
    auto source = maybe_gunzip(std::make_unique<FileSource>(path), path.string());
    return std::make_unique<BatchReader>(marcjson_source(std::move(source), std::move(json), path.string()),
                                         read.framing, read.parse,
                                         json_batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_marcjson_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                          std::function<void(Batch&)> process, MarcJsonOptions json) {
    const ReadOptions read = marcjson_read_options(options);
    return std::make_unique<BatchReader>(marcjson_source(std::make_unique<MemorySource>(bytes), std::move(json)),
                                         read.framing, read.parse,
                                         json_batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_marcjson_batches(std::unique_ptr<ByteSource> source, const ReadOptions& options,
                                                   std::function<void(Batch&)> process, MarcJsonOptions json,
                                                   std::string name) {
    const ReadOptions read = marcjson_read_options(options);
    return std::make_unique<BatchReader>(marcjson_source(std::move(source), std::move(json), std::move(name)),
                                         read.framing, read.parse, json_batch_options(false, std::move(process)));
}

}  // namespace rapidmarc
