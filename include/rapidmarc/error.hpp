// Error codes and the exception type of the rapidmarc core.
//
// Hot paths report problems as an ErrorCode plus a location (record index, byte offset) so
// that permissive readers can skip, report and continue without throwing. ParseError wraps the
// same information for callers that prefer exceptions (strict mode). The codes mirror the
// exception classes of pymarc so that the Python layer can map them one to one.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rapidmarc {

enum class ErrorCode : std::uint8_t {
    ok = 0,
    // Framing errors: the reader cannot find where the record ends. pymarc stops reading after these.
    record_length_invalid,    // the first five bytes are not a number
    truncated_record,         // the stream ends before the length the leader announces
    end_of_record_not_found,  // the byte at the announced length is not a record terminator
    // Structural errors inside one record: the reader skips the record and continues.
    leader_invalid,           // fewer than 24 bytes
    leader_not_ascii,         // a leader byte is not ASCII
    base_address_not_numeric, // leader/12-16 is not a number
    base_address_not_found,   // base address <= 0
    base_address_invalid,     // base address beyond the end of the record
    directory_not_ascii,      // a directory byte is not ASCII
    directory_invalid,        // directory length is not a multiple of 12
    directory_entry_not_numeric,  // length or starting position of an entry is not a number
    no_fields_found,          // the directory has no entries
    // Character data errors (strict decoding).
    indicator_not_ascii,      // an indicator byte is not ASCII
    invalid_utf8,             // field data is not valid UTF-8 where UTF-8 is required
    invalid_marc8,            // MARC-8 text ends inside an escape sequence (pymarc: UnicodeDecodeError)
    subfield_code_invalid,    // a subfield code that is not ASCII folds to no ASCII character (pymarc: IndexError)
    // Writer errors.
    tag_invalid,              // a tag is not exactly three bytes
    field_too_long,           // a field's data exceeds 9,999 bytes
    record_too_long,          // a record exceeds 99,999 bytes
    field_data_invalid,       // a value holds a delimiter or terminator byte (0x1D, 0x1E, 0x1F)
    // I/O.
    io_error,
};

// A framing error leaves the reader unable to locate the next record reliably.
constexpr bool is_fatal(ErrorCode code) noexcept {
    return code == ErrorCode::record_length_invalid || code == ErrorCode::truncated_record ||
           code == ErrorCode::end_of_record_not_found || code == ErrorCode::io_error;
}

// Stable, machine-readable name of a code ("truncated_record").
std::string_view error_name(ErrorCode code) noexcept;
// One-line, human-readable description of a code.
std::string_view error_description(ErrorCode code) noexcept;

// Where and what: everything a user needs to find the bad bytes.
struct Error {
    ErrorCode code = ErrorCode::ok;
    std::uint64_t record_index = 0;  // 0-based position of the record in the stream
    std::uint64_t byte_offset = 0;   // offset of the record's first byte in the stream
    std::string detail;              // what exactly was wrong, e.g. "length 'ab123' is not a number"
    // The offending bytes of a text error (for exact decoding messages: pymarc's UnicodeDecodeError
    // quotes them and gives positions within them); empty otherwise. The initializer lets existing
    // aggregate initialisations {code, index, offset, detail} omit it without -Wextra warnings.
    std::string culprit = {};

    explicit operator bool() const noexcept { return code != ErrorCode::ok; }
    // "truncated_record at record 3 (byte offset 4096): <detail>"
    std::string message() const;
};

class ParseError : public std::runtime_error {
public:
    explicit ParseError(Error error) : std::runtime_error(error.message()), error_(std::move(error)) {}
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

}  // namespace rapidmarc
