// Serialising records as ISO 2709: the record length, base address and directory are computed
// from the fields; nothing is taken on trust from the leader.
//
// RecordBuilder is the one place that lays out a record. Fields are appended in order, either
// whole (add_field) or piece by piece (begin_field / append / end_field) so that callers can
// encode text straight into the output without building a field first.
#pragma once

#include <string>
#include <string_view>

#include "rapidmarc/error.hpp"

namespace rapidmarc {

class RecordBuilder {
public:
    // Starts a record. `leader` supplies positions 05-11 and 17-23 (missing positions are blanks);
    // the length (00-04) and base address (12-16) are computed.
    void reset(std::string_view leader);

    void begin_field(std::string_view tag);
    // Appends bytes that are known to be ISO 2709 already (a field's raw data, a delimiter).
    void append(std::string_view bytes) { data_.append(bytes); }
    void append(char byte) { data_.push_back(byte); }
    // Appends one value (an indicator, a subfield code or value, control data): bytes that carry
    // no structure, so a delimiter or terminator byte in them is an error (field_data_invalid),
    // since the record would read back as different fields or subfields.
    void append_value(std::string_view bytes);
    // Appends a subfield delimiter, the code and the value.
    void append_subfield(std::string_view code, std::string_view value);
    void end_field();  // adds the field terminator and the directory entry

    void add_field(std::string_view tag, std::string_view data) {
        begin_field(tag);
        append(data);
        end_field();
    }

    // Writes the finished record to `out` (replacing its contents). On error (a leader that is not
    // ASCII; a tag that is not three ASCII bytes or holds a delimiter or
    // terminator; a value holding one; a field over 9,999 bytes; a record over 99,999 bytes) leaves
    // `out` untouched and returns the first error's code, with a description in `detail`.
    ErrorCode finish(std::string& out, std::string* detail = nullptr) const;

private:
    std::string leader_;
    std::string directory_;
    std::string data_;
    std::size_t field_start_ = 0;
    ErrorCode error_ = ErrorCode::ok;
    std::string error_detail_;
};

}  // namespace rapidmarc
