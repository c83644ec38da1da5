// Unicode normalisation (NFC / NFD) for UTF-8 text, without ICU.
//
// The data tables (src/core/unicode_tables.inc) are generated from Python's unicodedata by
// tools/gen_unicode_tables.py, so results match unicodedata.normalize() of that Unicode version
// exactly (see unicode_version()).  Hangul syllables are handled algorithmically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rapidmarc::unicode {

// Appends the NFC (resp. NFD) normalisation of UTF-8 text `in` to `out` (never clears out).
// Ill-formed UTF-8 bytes are copied through unchanged (never undefined behaviour); they act as
// opaque boundaries (nothing composes or reorders across them).
void append_nfc(std::string_view in, std::string& out);
void append_nfd(std::string_view in, std::string& out);

// True when `in` is certainly already NFC (every code point NFC_QC=Yes and canonical ordering holds),
// so callers can skip append_nfc. False means "maybe not" (also returned for ill-formed UTF-8).
// Very fast on ASCII.
bool quick_nfc(std::string_view in) noexcept;

// The first ASCII character of the compatibility decomposition (NFKD) of `cp`, or '\0' if it has
// none (`cp` itself when it is ASCII). Python's unicodedata.normalize("NFKD", chr(cp)) keeps ASCII
// characters in order, so folding a string character by character matches folding it whole.
char ascii_fold(char32_t cp) noexcept;

// Canonical combining class of a code point (0 for starters and for values > U+10FFFF).
std::uint8_t combining_class(char32_t cp) noexcept;

// Unicode version of the generated tables, e.g. "14.0.0".
const char* unicode_version() noexcept;

// ---- Small UTF-8 helpers ------------------------------------------------------------------------

// Decodes one well-formed UTF-8 scalar value at the start of `in` (non-empty).  Returns the number
// of bytes consumed (1..4) and stores the code point in `cp`, or returns 0 when the leading bytes are
// ill-formed (overlong, surrogate, > U+10FFFF, truncated, stray continuation byte).
inline std::size_t decode_utf8(std::string_view in, char32_t& cp) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    if (n == 0) return 0;
    const unsigned b0 = p[0];
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    if (b0 < 0xC2) return 0;  // continuation byte or overlong 2-byte lead
    if (b0 < 0xE0) {
        if (n < 2 || (p[1] & 0xC0) != 0x80) return 0;
        cp = (char32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (b0 < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (b0 == 0xE0 && p[1] < 0xA0) return 0;  // overlong
        if (b0 == 0xED && p[1] >= 0xA0) return 0;  // surrogate
        cp = (char32_t(b0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        return 3;
    }
    if (b0 < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (b0 == 0xF0 && p[1] < 0x90) return 0;  // overlong
        if (b0 == 0xF4 && p[1] >= 0x90) return 0;  // > U+10FFFF
        cp = (char32_t(b0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) |
             (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

// Writes the UTF-8 encoding of `cp` (must be a scalar value <= U+10FFFF) to buf; returns its length.
inline std::size_t encode_utf8(char32_t cp, char* buf) noexcept {
    if (cp < 0x80) {
        buf[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = static_cast<char>(0xC0 | (cp >> 6));
        buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = static_cast<char>(0xE0 | (cp >> 12));
        buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

// Appends the UTF-8 encoding of `cp` to `out`.
inline void append_utf8(char32_t cp, std::string& out) {
    char buf[4];
    out.append(buf, encode_utf8(cp, buf));
}

}  // namespace rapidmarc::unicode
