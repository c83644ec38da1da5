#include "rapidmarc/text.hpp"

#include "rapidmarc/marc8.hpp"
#include "rapidmarc/unicode.hpp"
#include "rapidmarc/utf8.hpp"

namespace rapidmarc {

namespace {

void append_latin1(std::string_view raw, std::string& out) {
    for (char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            out.push_back(ch);
        } else {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
}

constexpr bool is_python_space(char32_t c) noexcept {
    // str.isspace(): bidirectional class WS, B or S, or general category Zs.
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

bool append_text(std::string_view raw, TextEncoding encoding, std::string& out) {
    switch (encoding) {
        case TextEncoding::utf8:
        case TextEncoding::bytes:
            out.append(raw);
            return true;
        case TextEncoding::utf8_replace:
        case TextEncoding::utf8_ignore:
            append_utf8_lossy(raw, encoding == TextEncoding::utf8_replace ? Utf8Errors::replace : Utf8Errors::ignore, out);
            return true;
        case TextEncoding::latin1:
            append_latin1(raw, out);
            return true;
        case TextEncoding::marc8:
        case TextEncoding::marc8_pymarc:
            break;
    }
    // Printable ASCII is itself in MARC-8's default state: no escapes, controls or marks.
    bool plain = true;
    for (char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7e) {
            plain = false;
            break;
        }
    }
    if (plain) {
        out.append(raw);
        return true;
    }
    const std::size_t start = out.size();
    marc8::DecodeOptions options;
    options.profile = encoding == TextEncoding::marc8_pymarc ? marc8::Profile::pymarc : marc8::Profile::lc;
    const marc8::DecodeResult r = marc8::decode(raw, out, options);
    if (r.needs_normalization) {
        const std::string_view decoded(out.data() + start, out.size() - start);
        if (!unicode::quick_nfc(decoded)) {
            std::string nfc;
            nfc.reserve(decoded.size() + 8);
            unicode::append_nfc(decoded, nfc);
            out.resize(start);
            out.append(nfc);
        }
    }
    return r.ok;
}

std::string_view detail::strip_python_whitespace_general(std::string_view s) noexcept {
    for (;;) {
        char32_t cp = 0;
        const std::size_t n = unicode::decode_utf8(s, cp);
        if (n == 0 || !is_python_space(cp)) break;
        s.remove_prefix(n);
    }
    while (!s.empty()) {
        // Step back to the start of the last code point.
        std::size_t start = s.size() - 1;
        while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        char32_t cp = 0;
        const std::size_t n = unicode::decode_utf8(s.substr(start), cp);
        if (n != s.size() - start || !is_python_space(cp)) break;
        s.remove_suffix(n);
    }
    return s;
}

}  // namespace rapidmarc
