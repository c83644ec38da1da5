// MARC-8 <-> UTF-8 conversion.
//
// The character tables are generated from the Library of Congress MARC-8 code tables
// (tools/gen_marc8_tables.py -> src/core/marc8_tables.inc).  Decoding reproduces pymarc 5.4's
// marc8_to_unicode() control flow exactly (escape handling, combining-mark reordering, dropped
// bytes, recovery from unknown characters, the cases where pymarc raises); see docs/marc8.md for the
// few mapping differences of the default LC profile and for the pymarc profile that removes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapidmarc::marc8 {

// Which mapping tables decode() uses.  Control flow is identical in both.
enum class Profile : unsigned char {
    // LC's code tables: preferred Unicode values, any set usable as G0 or G1, C1 controls NSB/NSE/
    // ZWJ/ZWNJ mapped.  Differs from pymarc only in the ways listed in docs/marc8.md.
    lc,
    // pymarc 5.4.0's marc8_mapping: identical output to pymarc (before NFC) for every input.
    pymarc,
};

struct DecodeOptions {
    Profile profile = Profile::lc;
    // The final bytes of the sets designated as G0 and G1 when decoding starts (Basic Latin and
    // ANSEL, pymarc's defaults). Any byte is kept, as pymarc keeps it; an unknown set maps nothing.
    unsigned char g0 = 0x42;
    unsigned char g1 = 0x45;
};

struct DecodeProblem {
    std::size_t offset = 0;  // byte offset in the input where the offending sequence starts
    std::string what;        // for warnings, the text pymarc writes to stderr (without newline)
};

struct DecodeResult {
    // false: pymarc raises UnicodeDecodeError("marc8_to_unicode", data, 0, len(data),
    // "invalid multibyte character encoding") for this input (an escape sequence cut off by the
    // end of the data).  `out` then holds what was decoded before the problem.
    bool ok = true;
    // true when the output contains non-ASCII text, i.e. when NFC normalisation could change it.
    // pymarc always applies NFC; callers need to only when this is set.
    bool needs_normalization = false;
    // Problems pymarc reports on stderr and recovers from: an unmapped character (written as a
    // SPACE; pymarc's "Unable to parse character ..." message, suppressed by its
    // hide_utf8_warnings) and a 3-byte character cut off by the end of the data (pymarc's
    // "Multi-byte position ..." message, always printed, followed by an unmapped-character one).
    std::size_t warnings = 0;
    // Bytes or marks dropped silently, as pymarc does: C0 controls, C1 bytes 0x81-0x9F (except the
    // four the LC profile maps), combining marks left without a base at the end.
    std::size_t dropped = 0;
    // The error when !ok, otherwise the first warning.
    std::optional<DecodeProblem> problem;
    // The sets designated as G0 and G1 where decoding ended (for a caller that carries the state
    // from one piece of text to the next, as pymarc's MARC8ToUnicode object does).
    unsigned char g0 = 0x42;
    unsigned char g1 = 0x45;
};

// One entry of a character set's mapping table.
struct CodeMapping {
    std::uint32_t code = 0;  // the byte (single-byte sets) or the three bytes (EACC), as decode() reads them
    char32_t ucs = 0;        // the Unicode character it decodes to
    bool combining = false;  // a combining mark (MARC-8 writes it before its base character)
};

// The table decode() looks characters of the set with final byte `final` up in, for `profile`, in
// code order: every code that maps to a character (codes mapping to nothing, such as LC's second
// halves of double diacritics, are left out). Empty for a final byte no set has. With
// Profile::pymarc, the EACC table includes pymarc's overrides, so the tables are pymarc's
// marc8_mapping.CODESETS less the codes decode() never looks up (bytes below 0x20 and 0x81-0x9F).
std::vector<CodeMapping> code_table(unsigned char final, Profile profile);

// pymarc's ODD_MAP: six 3-byte codes that Innovative Interfaces systems wrote for punctuation,
// decoded (in both profiles) when EACC has no mapping for them.
std::vector<CodeMapping> odd_codes();

// Appends the UTF-8 for MARC-8 `in` to `out` (never clears out).  Every call starts in the state
// options.g0/g1 (by default G0 = Basic Latin, G1 = ANSEL, as pymarc does for each subfield value).  The output is NOT
// normalised: combining marks already follow their base character (MARC-8 puts them before it),
// as in pymarc before its final unicodedata.normalize("NFC", ...).  Apply
// rapidmarc::unicode::append_nfc when result.needs_normalization is set.
DecodeResult decode(std::string_view in, std::string& out, DecodeOptions options = {});

// What encode() does with a character MARC-8 cannot represent (LC "Conversion Between
// Environments": the two approved methods).
enum class Unmappable : unsigned char {
    ncr,    // lossless: "&#xXXXX;", uppercase hex, at least 4 digits (more when needed)
    lossy,  // lossy: '|' (0x7C)
};

struct EncodeOptions {
    Unmappable unmappable = Unmappable::ncr;
    // Canonically decompose (NFD) the input first, so precomposed letters such as U+00E9 become a
    // base letter plus an ANSEL combining mark.  Set to false only for input already in NFD.
    bool decompose = true;
};

struct EncodeResult {
    std::size_t unmappable = 0;    // characters written as NCR (or '|')
    std::size_t invalid_utf8 = 0;  // ill-formed input bytes, each treated as an unmappable U+FFFD
};

// Appends the MARC-8 encoding of UTF-8 `utf8` to `out` (never clears out).  Starts in the default
// state and returns to it at the end (ESC s / ESC ( B, ESC ) E as needed), so each value can be
// decoded on its own.  Combining marks are written before their base character; a mark with no
// encodable base before it is treated as unmappable.
EncodeResult encode(std::string_view utf8, std::string& out, EncodeOptions options = {});

// Appends `utf8` to `out` with every well-formed numeric character reference "&#xH;" (1-6 hex
// digits, either case, naming a Unicode scalar value) replaced by the character it names.
void decode_ncr(std::string_view utf8, std::string& out);

// True when `utf8` contains something decode_ncr would replace.
bool contains_ncr(std::string_view utf8) noexcept;

}  // namespace rapidmarc::marc8
