// One-pass parsing of a framed ISO 2709 record into directory entries.
//
// The parser checks the leader and directory, resolves every entry to a bounds-checked slice of
// the record and, when asked, validates character data (ASCII indicators, UTF-8 text) so that
// later decoding cannot fail. It never allocates per field: entries go into a caller-owned vector
// that is reused from record to record.
//
// The checks and their order follow pymarc's Record.decode_marc, so that a record rejected here is
// exactly a record pymarc rejects, with the same error. Where the directory points outside the
// record, pymarc's (Python slice) semantics are kept: the slice is clamped, not rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rapidmarc/error.hpp"
#include "rapidmarc/record_view.hpp"
#include "rapidmarc/text.hpp"  // is_valid_utf8: the rule text validation applies

namespace rapidmarc {

enum class Utf8Handling : std::uint8_t { strict, replace, ignore };

struct ParseOptions {
    // Validate that text which will be decoded as UTF-8 is valid (leader/09 == 'a' or force_utf8).
    // Control fields are always validated strictly; subfield values only with Utf8Handling::strict.
    bool validate_text = true;
    bool force_utf8 = false;
    Utf8Handling utf8_handling = Utf8Handling::strict;
    // Validate that MARC-8 text (records not decoded as UTF-8) converts: pymarc's marc8_to_unicode
    // raises UnicodeDecodeError for an escape sequence cut off by the end of a value. Only fields
    // holding an ESC byte can fail, so this costs one scan of MARC-8 records.
    bool validate_marc8 = false;
    // Trust the bytes over leader/09 (opt-in): a record flagged MARC-8 whose data is valid UTF-8
    // with non-ASCII characters and no escape sequences is read as UTF-8; a record flagged UTF-8
    // whose data is not valid UTF-8 but converts cleanly as MARC-8 is read as MARC-8. Such records
    // have ParsedRecord::encoding_corrected set. Ignored with force_utf8.
    bool detect_encoding = false;
    // MARC-8 text with pymarc 5.4's mapping table instead of LC's (TextEncoding::marc8_pymarc): the
    // two differ only for ANSEL's ligature and double-tilde halves (docs/marc8.md).
    bool pymarc_marc8 = false;
};

// Result of parsing one record; reuse one instance across records to avoid allocations.
struct ParsedRecord {
    std::vector<FieldEntry> entries;
    ErrorCode error = ErrorCode::ok;
    std::string detail;       // filled only on error
    std::size_t error_offset = 0;  // on a text error: the offending bytes (field data, leader or directory)
    std::size_t error_length = 0;
    bool utf8 = false;        // text is UTF-8 (leader/09 == 'a' or force_utf8)
    bool bad_subfield_code = false;  // some subfield code byte is not ASCII (needs normalising)
    bool resequenced = false; // directory offsets were unusable (oversize record) and fields were
                              // located by their terminators instead
    bool encoding_corrected = false;  // detect_encoding overruled leader/09 (see `utf8` for the result)

    void clear() noexcept {
        entries.clear();
        error = ErrorCode::ok;
        detail.clear();
        error_offset = error_length = 0;
        utf8 = false;
        bad_subfield_code = false;
        resequenced = false;
        encoding_corrected = false;
    }
};

// The encoding a parsed record's subfield text is read in, as pymarc's reader decodes it (with its
// default file_encoding): bytes when text is not decoded (to_unicode=False), UTF-8 with the
// options' error handling, or MARC-8. Every native text writer (selection, export, conversion,
// Arrow columns) and the Python binding choose a record's encoding here.
constexpr TextEncoding text_encoding(const ParsedRecord& parsed, const ParseOptions& options) noexcept {
    if (!options.validate_text) return TextEncoding::bytes;
    if (!parsed.utf8) return options.pymarc_marc8 ? TextEncoding::marc8_pymarc : TextEncoding::marc8;
    switch (options.utf8_handling) {
        case Utf8Handling::replace: return TextEncoding::utf8_replace;
        case Utf8Handling::ignore: return TextEncoding::utf8_ignore;
        default: return TextEncoding::utf8;
    }
}

// Parses `record` (leader through record terminator). Returns out.error.
ErrorCode parse_record(std::string_view record, const ParseOptions& options, ParsedRecord& out);

}  // namespace rapidmarc
