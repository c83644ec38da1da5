// Lossy UTF-8 decoding with CPython's exact error semantics.
//
// pymarc decodes UTF-8 field data with bytes.decode("utf-8", utf8_handling); with "replace" or
// "ignore" an ill-formed value still becomes text. The native converters (JSON, MARCXML, Arrow)
// must produce that same text byte for byte, so this reproduces CPython's UTF-8 decoder: which
// bytes form one error, and hence how many U+FFFD a damaged value turns into.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rapidmarc {

enum class Utf8Errors : std::uint8_t { replace, ignore };

// Appends `raw` as valid UTF-8 to `out` (never clears it), exactly as CPython's
// raw.decode("utf-8", "replace" / "ignore").encode("utf-8") would: each invalid sequence becomes
// U+FFFD (replace) or nothing (ignore). An invalid sequence is, as in CPython, the maximal prefix of
// a well-formed sequence (at least one byte): a lead byte plus the continuation bytes that could
// still begin a valid character, where E0 needs A0..BF, ED needs 80..9F (no surrogates), F0 needs
// 90..BF (no overlongs), F4 needs 80..8F (<= U+10FFFF), and 80..C1 / F5..FF are never valid leads.
// Valid input is appended with a single copy; nothing is allocated except by growing `out`.
void append_utf8_lossy(std::string_view raw, Utf8Errors errors, std::string& out);

}  // namespace rapidmarc
