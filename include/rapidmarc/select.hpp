// Field selection ("245$a") and columnar value extraction, without building any record object.
//
// A spec names what to take from each record:
//   "LDR"        the leader
//   "001"        a control field's data (each occurrence is one value)
//   "245"        a data field's value as pymarc's Field.value() gives it: every subfield value,
//                stripped of surrounding whitespace, joined by one space
//   "245$a"      every $a of every 245, in record order
//   "650$axz"    every $a, $x and $z of every 650, in field order
//   "6XX$a"      'X' (or 'x') in a tag matches any character
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rapidmarc/record_view.hpp"
#include "rapidmarc/text.hpp"

namespace rapidmarc {

struct FieldSpec {
    std::string text;   // the spec as written
    std::string tag;    // three characters, 'X' a wildcard; "LDR" for the leader
    std::string codes;  // subfield codes; empty: the whole field
    bool leader = false;

    bool matches(std::string_view field_tag) const noexcept;
};

// Parses one spec; throws std::invalid_argument with a message naming the spec if it is malformed.
FieldSpec parse_field_spec(std::string_view text);

// Calls emit(value) for each value `spec` selects in `record`. `scratch` is reused between calls;
// a value stays valid until the next call of emit.
template <class Emit>
void for_each_value(const RecordView& record, const FieldSpec& spec, TextEncoding encoding, std::string& scratch,
                    Emit&& emit) {
    if (spec.leader) {
        scratch.clear();
        append_text(record.leader(), encoding == TextEncoding::bytes ? TextEncoding::bytes : TextEncoding::latin1,
                    scratch);
        emit(std::string_view(scratch));
        return;
    }
    std::string piece;
    for (std::size_t i = 0; i < record.size(); ++i) {
        const FieldView f = record.field(i);
        if (!spec.matches(f.tag())) continue;
        if (f.is_control()) {
            if (!spec.codes.empty()) continue;  // control fields have no subfields
            scratch.clear();
            // pymarc decodes control fields of MARC-8 records as ISO 8859-1, not as MARC-8 (text.hpp).
            append_text(f.data(), control_encoding(encoding), scratch);
            emit(std::string_view(scratch));
            continue;
        }
        if (spec.codes.empty()) {  // Field.value()
            scratch.clear();
            bool first = true;
            for (const SubfieldView& sf : f.subfields()) {
                piece.clear();
                append_text(sf.value, encoding, piece);
                if (!first) scratch.push_back(' ');
                first = false;
                scratch.append(encoding == TextEncoding::bytes ? std::string_view(piece)
                                                               : strip_python_whitespace(piece));
            }
            emit(std::string_view(scratch));
            continue;
        }
        for (const SubfieldView& sf : f.subfields()) {
            if (spec.codes.find(sf.code) == std::string::npos) continue;
            scratch.clear();
            append_text(sf.value, encoding, scratch);
            emit(std::string_view(scratch));
        }
    }
}

}  // namespace rapidmarc
