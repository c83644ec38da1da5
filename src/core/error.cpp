#include "rapidmarc/error.hpp"

namespace rapidmarc {

std::string_view error_name(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::ok: return "ok";
        case ErrorCode::record_length_invalid: return "record_length_invalid";
        case ErrorCode::truncated_record: return "truncated_record";
        case ErrorCode::end_of_record_not_found: return "end_of_record_not_found";
        case ErrorCode::leader_invalid: return "leader_invalid";
        case ErrorCode::leader_not_ascii: return "leader_not_ascii";
        case ErrorCode::base_address_not_numeric: return "base_address_not_numeric";
        case ErrorCode::base_address_not_found: return "base_address_not_found";
        case ErrorCode::base_address_invalid: return "base_address_invalid";
        case ErrorCode::directory_not_ascii: return "directory_not_ascii";
        case ErrorCode::directory_invalid: return "directory_invalid";
        case ErrorCode::directory_entry_not_numeric: return "directory_entry_not_numeric";
        case ErrorCode::no_fields_found: return "no_fields_found";
        case ErrorCode::indicator_not_ascii: return "indicator_not_ascii";
        case ErrorCode::invalid_utf8: return "invalid_utf8";
        case ErrorCode::invalid_marc8: return "invalid_marc8";
        case ErrorCode::subfield_code_invalid: return "subfield_code_invalid";
        case ErrorCode::tag_invalid: return "tag_invalid";
        case ErrorCode::field_too_long: return "field_too_long";
        case ErrorCode::record_too_long: return "record_too_long";
        case ErrorCode::field_data_invalid: return "field_data_invalid";
        case ErrorCode::io_error: return "io_error";
    }
    return "unknown";
}

std::string_view error_description(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::ok: return "no error";
        case ErrorCode::record_length_invalid: return "invalid record length in first 5 bytes of record";
        case ErrorCode::truncated_record: return "record length in leader is greater than the length of data";
        case ErrorCode::end_of_record_not_found: return "unable to locate end of record marker";
        case ErrorCode::leader_invalid: return "unable to extract record leader";
        case ErrorCode::leader_not_ascii: return "leader is not ASCII";
        case ErrorCode::base_address_not_numeric: return "base address is not a number";
        case ErrorCode::base_address_not_found: return "unable to locate base address of record";
        case ErrorCode::base_address_invalid: return "base address exceeds size of record";
        case ErrorCode::directory_not_ascii: return "directory is not ASCII";
        case ErrorCode::directory_invalid: return "invalid directory";
        case ErrorCode::directory_entry_not_numeric: return "directory entry length or position is not a number";
        case ErrorCode::no_fields_found: return "unable to locate fields in record data";
        case ErrorCode::indicator_not_ascii: return "indicators are not ASCII";
        case ErrorCode::invalid_utf8: return "field data is not valid UTF-8";
        case ErrorCode::invalid_marc8: return "MARC-8 text ends inside an escape sequence";
        case ErrorCode::subfield_code_invalid: return "a subfield code that is not ASCII folds to no ASCII character";
        case ErrorCode::tag_invalid: return "tag is not exactly three bytes";
        case ErrorCode::field_too_long: return "field longer than 9,999 bytes cannot be written as ISO 2709";
        case ErrorCode::record_too_long: return "record longer than 99,999 bytes cannot be written as ISO 2709";
        case ErrorCode::field_data_invalid:
            return "a value holding a subfield delimiter or a field or record terminator cannot be written as ISO 2709";
        case ErrorCode::io_error: return "input/output error";
    }
    return "unknown error";
}

std::string Error::message() const {
    std::string out(error_name(code));
    out += " at record " + std::to_string(record_index) + " (byte offset " + std::to_string(byte_offset) + ")";
    out += ": ";
    out += detail.empty() ? std::string(error_description(code)) : detail;
    return out;
}

}  // namespace rapidmarc
