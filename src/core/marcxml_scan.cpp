#include "marcxml_scan.hpp"

#include <array>
#include <cstring>

namespace rapidmarc::detail {

namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kXmlnsNamespace = "http://www.w3.org/2000/xmlns/";

// Byte classes. 0 is a byte that needs no attention in the context of the table.
enum : std::uint8_t { kPlain = 0, kLt, kAmp, kCr, kBracket, kHigh, kIllegal, kSpace, kQuote, kDash, kQuestion };

constexpr bool is_space(unsigned char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Bytes of character data.
constexpr std::array<std::uint8_t, 256> make_text_table() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = kIllegal;
    t['\t'] = t['\n'] = kPlain;
    t['\r'] = kCr;
    t['<'] = kLt;
    t['&'] = kAmp;
    t[']'] = kBracket;
    for (int c = 0x80; c < 0x100; ++c) t[c] = kHigh;
    return t;
}
// Bytes of an attribute value.
constexpr std::array<std::uint8_t, 256> make_attr_table() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = kIllegal;
    t['\t'] = t['\n'] = kSpace;
    t['\r'] = kCr;
    t['<'] = kIllegal;
    t['&'] = kAmp;
    t['"'] = t['\''] = kQuote;
    for (int c = 0x80; c < 0x100; ++c) t[c] = kHigh;
    return t;
}
// Bytes of a comment, a processing instruction or a CDATA section (their terminators' first byte
// is looked for separately).
constexpr std::array<std::uint8_t, 256> make_raw_table() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = kIllegal;
    t['\t'] = t['\n'] = kPlain;
    t['\r'] = kCr;
    t['-'] = kDash;
    t['?'] = kQuestion;
    t[']'] = kBracket;
    for (int c = 0x80; c < 0x100; ++c) t[c] = kHigh;
    return t;
}
constexpr auto kText = make_text_table();
constexpr auto kAttr = make_attr_table();
constexpr auto kRaw = make_raw_table();

// ASCII name characters (the scanner leaves names with other characters to expat).
enum : std::uint8_t { kNameStart = 1, kNameChar = 2 };
constexpr std::array<std::uint8_t, 256> make_name_table() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[c] = kNameStart | kNameChar;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = kNameStart | kNameChar;
    t['_'] = kNameStart | kNameChar;
    for (int c = '0'; c <= '9'; ++c) t[c] = kNameChar;
    t['.'] = t['-'] = kNameChar;
    return t;
}
constexpr auto kName = make_name_table();

inline unsigned char at(const char* p) noexcept { return static_cast<unsigned char>(*p); }

constexpr int kIncomplete = -1;
constexpr int kInvalid = 0;

// The length of the UTF-8 sequence of a character allowed in XML at p (a byte >= 0x80), kInvalid,
// or kIncomplete when the bytes before `end` are a valid beginning of one.
inline int utf8_char(const char* p, const char* end) noexcept {
    const unsigned char c = at(p);
    const std::ptrdiff_t left = end - p;
    auto cont = [&](int i, unsigned char lo, unsigned char hi) noexcept {
        const unsigned char b = at(p + i);
        return b >= lo && b <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) {
        if (left < 2) return kIncomplete;
        return cont(1, 0x80, 0xBF) ? 2 : kInvalid;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        const unsigned char hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
        if (left < 2) return kIncomplete;
        if (!cont(1, lo, hi)) return kInvalid;
        if (left < 3) return kIncomplete;
        if (!cont(2, 0x80, 0xBF)) return kInvalid;
        if (c == 0xEF && at(p + 1) == 0xBF && at(p + 2) >= 0xBE) return kInvalid;  // U+FFFE, U+FFFF
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        if (left < 2) return kIncomplete;
        if (!cont(1, lo, hi)) return kInvalid;
        if (left < 3) return kIncomplete;
        if (!cont(2, 0x80, 0xBF)) return kInvalid;
        if (left < 4) return kIncomplete;
        return cont(3, 0x80, 0xBF) ? 4 : kInvalid;
    }
    return kInvalid;
}

constexpr bool xml_char(std::uint32_t cp) noexcept {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

void append_utf8(std::string& out, std::uint32_t cp) {
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

enum class Ref : std::uint8_t { ok, incomplete, invalid };

// The reference at p ('&'): the five predefined entities and character references to characters
// allowed in XML. Anything else (another entity, which without a DTD is an error) is invalid.
Ref reference(const char* p, const char* end, std::string& out, const char*& after) {
    const char* s = p + 1;
    constexpr std::ptrdiff_t kLongest = 32;  // longer references (leading zeros) are left to expat
    if (s == end) return Ref::incomplete;
    if (*s == '#') {
        ++s;
        if (s == end) return Ref::incomplete;
        const bool hex = *s == 'x';
        if (hex) ++s;
        std::uint32_t cp = 0;
        const char* digits = s;
        for (;; ++s) {
            if (s == end) return s - p > kLongest ? Ref::invalid : Ref::incomplete;
            if (s - p > kLongest) return Ref::invalid;
            const unsigned char c = at(s);
            std::uint32_t d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else break;
            cp = cp * (hex ? 16 : 10) + d;
            if (cp > 0x10FFFF) return Ref::invalid;
        }
        if (s == digits || *s != ';' || !xml_char(cp)) return Ref::invalid;
        append_utf8(out, cp);
        after = s + 1;
        return Ref::ok;
    }
    const char* name = s;
    while (s != end && s - name < 5 && *s >= 'a' && *s <= 'z') ++s;
    if (s == end) return Ref::incomplete;
    if (*s != ';') return Ref::invalid;
    const std::string_view n(name, static_cast<std::size_t>(s - name));
    char c;
    if (n == "lt") c = '<';
    else if (n == "gt") c = '>';
    else if (n == "amp") c = '&';
    else if (n == "quot") c = '"';
    else if (n == "apos") c = '\'';
    else return Ref::invalid;
    out.push_back(c);
    after = s + 1;
    return Ref::ok;
}

// Skips XML white space.
inline const char* skip_space(const char* s, const char* end) noexcept {
    while (s != end && is_space(at(s))) ++s;
    return s;
}

bool starts_with(const char* p, const char* end, std::string_view what) noexcept {
    return static_cast<std::size_t>(end - p) >= what.size() && std::memcmp(p, what.data(), what.size()) == 0;
}

// True when [p, end) is a proper beginning of `what` (more bytes could complete it).
bool could_start(const char* p, const char* end, std::string_view what) noexcept {
    const auto n = static_cast<std::size_t>(end - p);
    return n < what.size() && std::memcmp(p, what.data(), n) == 0;
}

}  // namespace

// A qualified name at s: returns its end (nullptr: incomplete or invalid, which sets *bad), with
// the offset of its colon (0 when it has none).
static const char* qname(const char* s, const char* end, std::uint32_t& colon, bool& bad) {
    colon = 0;
    if (s == end) return nullptr;
    if (!(kName[at(s)] & kNameStart)) {
        bad = true;
        return nullptr;
    }
    const char* n = s + 1;
    for (;;) {
        while (n != end && (kName[at(n)] & kNameChar)) ++n;
        if (n == end) return nullptr;
        if (*n != ':') return n;
        if (colon) {
            bad = true;
            return nullptr;
        }
        colon = static_cast<std::uint32_t>(n - s);
        ++n;
        if (n == end) return nullptr;
        if (!(kName[at(n)] & kNameStart)) {
            bad = true;
            return nullptr;
        }
        ++n;
    }
}

const XmlScanner::Binding* XmlScanner::lookup(std::string_view prefix) const noexcept {
    for (auto b = bindings_.rbegin(); b != bindings_.rend(); ++b)
        if (b->prefix == prefix) return &*b;
    return nullptr;
}

const char* XmlScanner::xml_declaration(const char* p, const char* end) {
    // <?xml version="1.0" [encoding="UTF-8"] [standalone="yes|no"] ?>, and nothing else.
    const char* s = p + 5;
    auto fail = [&]() -> const char* {
        fail_ = true;
        return nullptr;
    };
    int step = 0;  // 0: version next, 1: encoding or standalone, 2: standalone, 3: nothing
    for (;;) {
        const char* t = skip_space(s, end);
        if (t == end) return nullptr;
        if (*t == '?') {
            if (t + 1 == end) return nullptr;
            if (t[1] != '>' || step == 0) return fail();
            return t + 2;
        }
        if (t == s) return fail();  // pseudo-attributes are separated by white space
        const char* n = t;
        while (n != end && *n >= 'a' && *n <= 'z') ++n;
        if (n == end) return nullptr;
        const std::string_view name(t, static_cast<std::size_t>(n - t));
        n = skip_space(n, end);
        if (n == end) return nullptr;
        if (*n != '=') return fail();
        n = skip_space(n + 1, end);
        if (n == end) return nullptr;
        const char quote = *n;
        if (quote != '"' && quote != '\'') return fail();
        const char* v = n + 1;
        const char* close = v;
        while (close != end && *close != quote && close - v < 32) ++close;
        if (close == end) return nullptr;
        if (*close != quote) return fail();
        std::string value(v, close);
        for (char& c : value)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (name == "version" && step == 0 && value == "1.0") step = 1;
        else if (name == "encoding" && step == 1 && value == "UTF-8") step = 2;
        else if (name == "standalone" && step >= 1 && step <= 2 &&
                 (std::string_view(v, close) == "yes" || std::string_view(v, close) == "no"))
            step = 3;
        else return fail();
        s = close + 1;
    }
}

const char* XmlScanner::start_tag(const char* p, const char* end) {
    std::uint32_t colon = 0;
    const char* name = p + 1;
    const char* s = qname(name, end, colon, fail_);
    if (!s) return nullptr;
    const auto name_size = static_cast<std::uint32_t>(s - name);
    attrs_.clear();
    scratch_.clear();
    bool empty = false;
    for (;;) {
        const char* t = skip_space(s, end);
        if (t == end) return nullptr;
        if (*t == '>') {
            s = t + 1;
            break;
        }
        if (*t == '/') {
            if (t + 1 == end) return nullptr;
            if (t[1] != '>') {
                fail_ = true;
                return nullptr;
            }
            empty = true;
            s = t + 2;
            break;
        }
        if (t == s) {  // attributes are separated by white space
            fail_ = true;
            return nullptr;
        }
        Attr a{};
        a.name = t;
        const char* n = qname(t, end, a.colon, fail_);
        if (!n) return nullptr;
        a.name_size = static_cast<std::uint32_t>(n - t);
        n = skip_space(n, end);
        if (n == end) return nullptr;
        if (*n != '=') {
            fail_ = true;
            return nullptr;
        }
        n = skip_space(n + 1, end);
        if (n == end) return nullptr;
        const char quote = *n;
        if (quote != '"' && quote != '\'') {
            fail_ = true;
            return nullptr;
        }
        const char* v = n + 1;
        const char* copied = v;
        const std::size_t mark = scratch_.size();
        bool decoded = false;
        for (;;) {
            while (v != end && kAttr[at(v)] == kPlain) ++v;
            if (v == end) return nullptr;
            switch (kAttr[at(v)]) {
                case kQuote:
                    if (*v != quote) {
                        ++v;
                        continue;
                    }
                    break;
                case kAmp: {
                    scratch_.append(copied, v);
                    const char* after = nullptr;
                    const Ref r = reference(v, end, scratch_, after);
                    if (r == Ref::incomplete) return nullptr;
                    if (r == Ref::invalid) {
                        fail_ = true;
                        return nullptr;
                    }
                    v = copied = after;
                    decoded = true;
                    continue;
                }
                case kCr:
                    if (v + 1 == end) return nullptr;
                    scratch_.append(copied, v);
                    scratch_.push_back(' ');
                    v += v[1] == '\n' ? 2 : 1;
                    copied = v;
                    decoded = true;
                    continue;
                case kSpace:
                    scratch_.append(copied, v);
                    scratch_.push_back(' ');
                    copied = ++v;
                    decoded = true;
                    continue;
                case kHigh: {
                    const int k = utf8_char(v, end);
                    if (k == kIncomplete) return nullptr;
                    if (k == kInvalid) {
                        fail_ = true;
                        return nullptr;
                    }
                    v += k;
                    continue;
                }
                default:
                    fail_ = true;
                    return nullptr;
            }
            break;
        }
        if (decoded) {
            scratch_.append(copied, v);
            a.scratch = true;
            a.value_at = static_cast<std::uint32_t>(mark);
            a.value_size = static_cast<std::uint32_t>(scratch_.size() - mark);
        } else {
            a.value = n + 1;
            a.value_size = static_cast<std::uint32_t>(v - (n + 1));
        }
        attrs_.push_back(a);
        s = v + 1;
    }
    if (where_ == Where::epilog) {  // a second root element
        fail_ = true;
        return nullptr;
    }

    // The tag is complete and well-formed as far as its syntax goes: namespaces, then events.
    const auto bindings_before = static_cast<std::uint32_t>(bindings_.size());
    const std::int32_t default_before = default_ns_;
    MarcAttrs marc;
    bool prefixed = false;
    for (std::size_t i = 0; i < attrs_.size(); ++i) {
        const Attr& a = attrs_[i];
        for (std::size_t j = 0; j < i; ++j)
            if (attrs_[j].name_size == a.name_size && std::memcmp(attrs_[j].name, a.name, a.name_size) == 0) {
                fail_ = true;
                return nullptr;
            }
        if (a.colon) prefixed = true;
        if (a.name_size >= 5 && std::memcmp(a.name, "xmlns", 5) == 0 && (a.name_size == 5 || a.colon == 5)) {
            const std::string_view value = value_of(a);
            const std::string_view prefix = a.colon ? std::string_view(a.name + 6, a.name_size - 6) : std::string_view();
            // Reserved names and prefixes ("xml..."), and undeclaring a prefix, are left to expat;
            // so is a namespace name holding expat's separator (a blank: "uri local" would be ambiguous).
            const bool reserved = prefix.size() >= 3 && (prefix[0] | 0x20) == 'x' && (prefix[1] | 0x20) == 'm' &&
                                  (prefix[2] | 0x20) == 'l';
            if (value == kXmlNamespace || value == kXmlnsNamespace || reserved || (a.colon && value.empty()) ||
                value.find(' ') != std::string_view::npos) {
                fail_ = true;
                return nullptr;
            }
            const XmlNs ns = value.empty() ? XmlNs::none : value == kMarcXmlNamespace ? XmlNs::slim : XmlNs::other;
            bindings_.push_back(Binding{std::string(prefix), std::string(value), ns});
            if (!a.colon) default_ns_ = static_cast<std::int32_t>(bindings_.size() - 1);
            continue;
        }
        if (a.colon) continue;
        if (a.name_size == 3) {
            if (std::memcmp(a.name, "tag", 3) == 0) marc.tag = value_of(a);
        } else if (a.name_size == 4) {
            if (std::memcmp(a.name, "ind1", 4) == 0) marc.ind1 = value_of(a);
            else if (std::memcmp(a.name, "ind2", 4) == 0) marc.ind2 = value_of(a);
            else if (std::memcmp(a.name, "code", 4) == 0) marc.code = value_of(a);
        }
    }
    // Prefixed attributes: bound, and no two with the same expanded name.
    for (std::size_t i = 0; prefixed && i < attrs_.size(); ++i) {
        const Attr& a = attrs_[i];
        if (!a.colon) continue;
        const std::string_view an(a.name, a.name_size);
        const std::string_view prefix = an.substr(0, a.colon);
        if (prefix == "xmlns") continue;
        std::string_view uri = kXmlNamespace;
        if (prefix != "xml") {
            const Binding* b = lookup(prefix);
            if (!b) {
                fail_ = true;
                return nullptr;
            }
            uri = b->uri;
        }
        for (std::size_t j = 0; j < i; ++j) {
            const Attr& o = attrs_[j];
            if (!o.colon) continue;
            const std::string_view on(o.name, o.name_size);
            const std::string_view op = on.substr(0, o.colon);
            if (op == "xmlns" || on.substr(o.colon + 1) != an.substr(a.colon + 1)) continue;
            const std::string_view ouri = op == "xml" ? kXmlNamespace : std::string_view(lookup(op)->uri);
            if (ouri == uri) {
                fail_ = true;
                return nullptr;
            }
        }
    }
    const std::string_view qualified(name, name_size);
    XmlNs ns;
    std::string_view local = qualified;
    if (colon) {
        const std::string_view prefix = qualified.substr(0, colon);
        const Binding* b = prefix == "xml" || prefix == "xmlns" ? nullptr : lookup(prefix);
        if (!b) {
            fail_ = true;
            return nullptr;
        }
        ns = b->ns;
        local = qualified.substr(colon + 1);
    } else {
        ns = default_ns_ < 0 ? XmlNs::none : bindings_[static_cast<std::size_t>(default_ns_)].ns;
    }
    const XmlElem kind = classify(ns, local, names_);
    if (kind == XmlElem::record && !builder_.in_record() && static_cast<std::size_t>(p - begin_) >= stop_from_) {
        bindings_.resize(bindings_before);  // a boundary: the tag is left for whoever reads on from here
        default_ns_ = default_before;
        stopped_ = true;
        return nullptr;
    }
    if (builder_.start(kind, marc)) {  // the reader refuses it: expat says so, where
        fail_ = true;
        return nullptr;
    }
    if (empty) {
        builder_.end(kind);
        bindings_.resize(bindings_before);
        default_ns_ = default_before;
        if (open_.empty()) where_ = Where::epilog;
        return s;
    }
    open_.push_back(Open{static_cast<std::uint32_t>(names_buf_.size()), name_size, bindings_before, default_before, kind});
    names_buf_.append(qualified);
    where_ = Where::content;
    return s;
}

const char* XmlScanner::end_tag(const char* p, const char* end) {
    std::uint32_t colon = 0;
    const char* s = qname(p + 2, end, colon, fail_);
    if (!s) return nullptr;
    const std::string_view qualified(p + 2, static_cast<std::size_t>(s - (p + 2)));
    s = skip_space(s, end);
    if (s == end) return nullptr;
    if (*s != '>' || open_.empty()) {
        fail_ = true;
        return nullptr;
    }
    const Open& top = open_.back();
    if (top.name_size != qualified.size() || std::memcmp(names_buf_.data() + top.name_at, qualified.data(), qualified.size()) != 0) {
        fail_ = true;
        return nullptr;
    }
    builder_.end(top.kind);
    bindings_.resize(top.bindings);
    default_ns_ = top.default_ns;
    names_buf_.resize(top.name_at);
    open_.pop_back();
    if (open_.empty()) where_ = Where::epilog;
    return s + 1;
}

const char* XmlScanner::comment(const char* p, const char* end) {
    const char* s = p + 4;
    for (;;) {
        while (s != end && kRaw[at(s)] != kDash && kRaw[at(s)] != kHigh && kRaw[at(s)] != kIllegal) ++s;
        if (s == end) return nullptr;
        const auto c = kRaw[at(s)];
        if (c == kDash) {
            if (s + 1 == end) return nullptr;
            if (s[1] != '-') {
                ++s;
                continue;
            }
            if (s + 2 == end) return nullptr;
            if (s[2] != '>') break;  // "--" inside a comment
            return s + 3;
        }
        if (c == kIllegal) break;
        const int k = utf8_char(s, end);
        if (k == kIncomplete) return nullptr;
        if (k == kInvalid) break;
        s += k;
    }
    fail_ = true;
    return nullptr;
}

const char* XmlScanner::pi(const char* p, const char* end) {
    const char* t = p + 2;
    const char* s = t;
    if (s == end) return nullptr;
    if (!(kName[at(s)] & kNameStart)) {
        fail_ = true;
        return nullptr;
    }
    while (s != end && (kName[at(s)] & kNameChar)) ++s;
    if (s == end) return nullptr;
    const std::string_view target(t, static_cast<std::size_t>(s - t));
    if (target.size() == 3 && (t[0] | 0x20) == 'x' && (t[1] | 0x20) == 'm' && (t[2] | 0x20) == 'l') {
        fail_ = true;  // reserved, or a declaration not at the start
        return nullptr;
    }
    if (*s == '?') {
        if (s + 1 == end) return nullptr;
        if (s[1] == '>') return s + 2;
        fail_ = true;
        return nullptr;
    }
    if (!is_space(at(s))) {  // a colon or another character in the target, or no white space after it
        fail_ = true;
        return nullptr;
    }
    for (;;) {
        while (s != end && kRaw[at(s)] != kQuestion && kRaw[at(s)] != kHigh && kRaw[at(s)] != kIllegal) ++s;
        if (s == end) return nullptr;
        const auto c = kRaw[at(s)];
        if (c == kQuestion) {
            if (s + 1 == end) return nullptr;
            if (s[1] == '>') return s + 2;
            ++s;
            continue;
        }
        if (c == kIllegal) break;
        const int k = utf8_char(s, end);
        if (k == kIncomplete) return nullptr;
        if (k == kInvalid) break;
        s += k;
    }
    fail_ = true;
    return nullptr;
}

const char* XmlScanner::cdata(const char* p, const char* end) {
    const char* s = p + 9;
    const char* copied = s;
    scratch_.clear();
    for (;;) {
        while (s != end && kRaw[at(s)] != kBracket && kRaw[at(s)] != kCr && kRaw[at(s)] != kHigh &&
               kRaw[at(s)] != kIllegal)
            ++s;
        if (s == end) return nullptr;
        const auto c = kRaw[at(s)];
        if (c == kBracket) {
            if (end - s < 3) return nullptr;
            if (s[1] == ']' && s[2] == '>') {
                scratch_.append(copied, s);
                builder_.text(scratch_);
                return s + 3;
            }
            ++s;
            continue;
        }
        if (c == kCr) {
            if (s + 1 == end) return nullptr;
            scratch_.append(copied, s);
            scratch_.push_back('\n');
            s += s[1] == '\n' ? 2 : 1;
            copied = s;
            continue;
        }
        if (c == kIllegal) break;
        const int k = utf8_char(s, end);
        if (k == kIncomplete) return nullptr;
        if (k == kInvalid) break;
        s += k;
    }
    fail_ = true;
    return nullptr;
}

const char* XmlScanner::text(const char* p, const char* end, bool) {
    const char* s = p;
    const char* copied = p;
    bool decoded = false;
    for (;;) {
        while (s != end && kText[at(s)] == kPlain) ++s;
        if (s == end) return nullptr;
        switch (kText[at(s)]) {
            case kLt:
                break;
            case kAmp: {
                if (!decoded) scratch_.clear();
                scratch_.append(copied, s);
                decoded = true;
                const char* after = nullptr;
                const Ref r = reference(s, end, scratch_, after);
                if (r == Ref::incomplete) return nullptr;
                if (r == Ref::invalid) {
                    fail_ = true;
                    return nullptr;
                }
                s = copied = after;
                continue;
            }
            case kCr:
                if (s + 1 == end) return nullptr;
                if (!decoded) scratch_.clear();
                scratch_.append(copied, s);
                decoded = true;
                scratch_.push_back('\n');
                s += s[1] == '\n' ? 2 : 1;
                copied = s;
                continue;
            case kBracket:
                if (end - s < 3) return nullptr;
                if (s[1] == ']' && s[2] == '>') {  // "]]>" is not allowed in character data
                    fail_ = true;
                    return nullptr;
                }
                ++s;
                continue;
            case kHigh: {
                const int k = utf8_char(s, end);
                if (k == kIncomplete) return nullptr;
                if (k == kInvalid) {
                    fail_ = true;
                    return nullptr;
                }
                s += k;
                continue;
            }
            default:
                fail_ = true;
                return nullptr;
        }
        break;
    }
    if (decoded) {
        scratch_.append(copied, s);
        builder_.text(scratch_);
    } else {
        builder_.text(std::string_view(p, static_cast<std::size_t>(s - p)));
    }
    return s;
}

std::size_t XmlScanner::scan(const char* begin, const char* end, bool final, Status& status) {
    const char* p = begin;
    auto finish = [&](Status st) {
        status = st;
        return static_cast<std::size_t>(p - begin);
    };
    if (fail_) return finish(Status::fallback);
    begin_ = begin;
    if (where_ == Where::start) {
        // A byte order mark and an XML declaration are looked at with enough bytes to tell.
        if (!final && end - p < 16) return finish(Status::more);
        const char* s = p;
        if (starts_with(s, end, "\xEF\xBB\xBF")) s += 3;
        if (starts_with(s, end, "<?xml") && end - s > 5 && is_space(at(s + 5))) {
            const char* after = xml_declaration(s, end);
            if (!after) return finish(fail_ || final ? Status::fallback : Status::more);
            s = after;
        }
        where_ = Where::prolog;
        p = s;
    }
    while (p != end) {
        const char* next = nullptr;
        if (*p != '<') {
            if (where_ == Where::content) {
                next = text(p, end, final);
            } else {
                next = skip_space(p, end);
                if (next != end && *next != '<') fail_ = true;
                else if (next == end) {
                    p = end;
                    break;
                }
            }
        } else if (p + 1 == end) {
            next = nullptr;
        } else if (p[1] == '/') {
            if (where_ != Where::content) fail_ = true;
            else next = end_tag(p, end);
        } else if (p[1] == '?') {
            next = pi(p, end);
        } else if (p[1] == '!') {
            if (starts_with(p, end, "<!--")) next = comment(p, end);
            else if (starts_with(p, end, "<![CDATA[")) {
                if (where_ != Where::content) fail_ = true;
                else next = cdata(p, end);
            } else if (!could_start(p, end, "<!--") && !could_start(p, end, "<![CDATA["))
                fail_ = true;  // a document type declaration, or not well-formed
        } else {
            next = start_tag(p, end);
        }
        if (stopped_) {
            stopped_ = false;
            return finish(Status::boundary);
        }
        if (fail_ || !next) return finish(fail_ || final ? Status::fallback : Status::more);
        p = next;
    }
    if (!final) return finish(Status::more);
    return finish(where_ == Where::epilog ? Status::done : Status::fallback);
}

}  // namespace rapidmarc::detail
