// Text of record bytes as pymarc decodes it: the encodings a value can be in, their conversion to
// UTF-8, UTF-8 validity by Python's rules, and Python's str.strip().
//
// Every producer of text (selection, MARC-in-JSON, MARCXML, Arrow columns, the Python binding)
// converts through append_text, so a value reads the same everywhere. MARC-8 uses the LC tables and
// is NFC-normalised as pymarc's marc8_to_unicode (marc8.hpp, unicode.hpp); lossy UTF-8 decoding
// with CPython's error handling is in utf8.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rapidmarc/detail/text.hpp"

namespace rapidmarc {

// How a record's raw text becomes output text.
enum class TextEncoding : std::uint8_t {
    utf8,          // UTF-8 already (validated when parsed): copied
    utf8_replace,  // UTF-8 decoded with CPython's errors="replace": each invalid sequence becomes U+FFFD
    utf8_ignore,   // UTF-8 decoded with CPython's errors="ignore": invalid sequences are dropped
    latin1,        // ISO 8859-1: converted to UTF-8
    marc8,         // MARC-8: converted to UTF-8 and NFC-normalised, as pymarc's marc8_to_unicode (LC tables)
    marc8_pymarc,  // MARC-8 with pymarc 5.4's own mapping table (marc8::Profile::pymarc): pymarc's text exactly
    bytes,         // no conversion (to_unicode=False)
};

// True for both MARC-8 mappings.
constexpr bool is_marc8(TextEncoding encoding) noexcept {
    return encoding == TextEncoding::marc8 || encoding == TextEncoding::marc8_pymarc;
}

// The encoding of a record's control fields when its subfields are in `encoding`: pymarc decodes
// the control fields of MARC-8 records as ISO 8859-1, and those of UTF-8 records strictly (the
// parser validates them whatever utf8_handling says).
constexpr TextEncoding control_encoding(TextEncoding encoding) noexcept {
    switch (encoding) {
        case TextEncoding::marc8:
        case TextEncoding::marc8_pymarc: return TextEncoding::latin1;
        case TextEncoding::utf8_replace:
        case TextEncoding::utf8_ignore: return TextEncoding::utf8;
        default: return encoding;
    }
}

// Appends the text of `raw` in `encoding` to `out` as UTF-8 (or unchanged for bytes). Returns false
// only for MARC-8 that pymarc refuses (an escape sequence cut off by the end; `out` then holds the
// text before it). MARC-8 is converted with the LC tables and NFC-normalised (marc8.hpp).
bool append_text(std::string_view raw, TextEncoding encoding, std::string& out);

// True if `text` is well-formed UTF-8 by Python's rules (no surrogates, no overlongs, <= U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// Python's str.strip() with no arguments on UTF-8 text (Unicode whitespace, including U+001C..1F).
// Inline fast path: most values begin and end with a printable ASCII character, so there is
// nothing to strip and nothing to decode.
inline std::string_view strip_python_whitespace(std::string_view utf8) noexcept {
    constexpr auto plain = [](char c) noexcept {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x80;
    };
    if (utf8.empty() || (plain(utf8.front()) && plain(utf8.back()))) return utf8;
    return detail::strip_python_whitespace_general(utf8);
}

}  // namespace rapidmarc
