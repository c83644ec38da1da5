// An owning, mutable MARC record for C++ users who build or edit records.
//
// Reading never needs this type (RecordView is zero-copy); it exists so that a C++ program can
// create records, change them and write them with RecordBuilder. Text is kept as the record's
// bytes (UTF-8 or MARC-8, as leader/09 says): no transcoding happens here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rapidmarc/error.hpp"
#include "rapidmarc/record_view.hpp"

namespace rapidmarc {

struct Subfield {
    char code = 'a';
    std::string value;
};

struct Field {
    std::string tag;
    char indicator1 = ' ';
    char indicator2 = ' ';
    std::vector<Subfield> subfields;  // data fields
    std::string data;                 // control fields

    bool is_control() const noexcept { return is_control_tag(tag); }
    // First value of subfield `code`, or nullptr.
    const std::string* get(char code) const noexcept;
};

struct Record {
    std::string leader = std::string(kLeaderLength, ' ');
    std::vector<Field> fields;

    static Record from_view(const RecordView& view);
    // First field with `tag`, or nullptr.
    const Field* get(std::string_view tag) const noexcept;
    // ISO 2709 bytes; throws ParseError (RecordBuilder's errors: field_too_long, record_too_long,
    // tag_invalid, field_data_invalid, leader_not_ascii) if the record cannot be represented.
    std::string to_marc() const;
};

}  // namespace rapidmarc
