// Internal: the ISO 2709 record assembly that the readers of other formats share (MARCXML:
// marcxml_build.hpp for both XML engines; MARC-in-JSON: the general and the fast parser in
// marcjson.cpp). A reader feeds the fields of one record in order and then finishes it with its
// leader; the builder computes the directory, the base address and the record length, and writes
// the record, or the stub that stands for a record ISO 2709 cannot hold.
//
// The rules, the same for every format (docs/formats.md):
// * Field data is written as given, each field followed by a field terminator; a directory entry
//   is the tag (a shorter tag padded with spaces, a longer one cut to three bytes), the field's
//   length with its terminator (four digits) and its start in the data (five digits). A number
//   too large for its digits is saturated (9999, 99999).
// * A record of more than 99,999 bytes is written whole, with record length 99999 and the
//   saturated directory numbers: the reader frames it by its record terminator and the parser
//   reads it by the field terminators (reader.hpp, read_oversize).
// * A field of more than 9,999 bytes in a record of at most 99,999 bytes cannot be written (its
//   directory length would lie): the record is a stub with the reason "field>9999 bytes".
// * A record the caller says ISO 2709 cannot hold (a reason string) is a stub: "000NN" + the
//   reason (cut to 17 bytes) + a record terminator, fewer bytes than a leader, which the parser
//   reports as leader_invalid: a bad record in its place, never a dropped one.
// * The record's leader is the given 24 bytes with its length (00-04) and base address (12-16)
//   computed and leader/09 set to 'a': the data the readers produce is UTF-8.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "rapidmarc/record_view.hpp"

namespace rapidmarc::detail {

class IsoRecordBuilder {
public:
    // The reason of the stub for a record under 100,000 bytes with a field over 9,999 bytes.
    static constexpr const char* kLongField = "field>9999 bytes";
    // The reason of the stub for a leader that is not 24 bytes.
    static constexpr const char* kBadLeader = "bad leader";

    // How finish() wrote the record.
    struct Finished {
        const char* stub = nullptr;   // the reason of the stub written instead of the record (null: the record)
        bool leader_changed = false;  // the record's leader differs from the leader given
    };

    // Starts a new record (the buffers keep their capacity).
    void clear() noexcept {
        directory_.clear();
        data_.clear();
        fields_ = 0;
        long_field_ = false;
    }

    // The field data so far. A field's bytes are appended here between begin_field() and
    // end_field() (readers that decode text straight into it do so; the helpers below are the
    // plain way).
    std::string& data() noexcept { return data_; }

    // Marks the start of a field at the end of the data.
    void begin_field() noexcept { field_start_ = data_.size(); }

    // Ends the field begun last: field terminator and directory entry under `tag`.
    void end_field(std::string_view tag) {
        data_.push_back(kFieldTerminator);
        const std::size_t length = data_.size() - field_start_;
        if (length > 9999) long_field_ = true;
        char entry[12];
        const std::size_t n = std::min<std::size_t>(tag.size(), 3);
        std::memcpy(entry, tag.data(), n);
        std::fill(entry + n, entry + 3, ' ');
        put_number(entry + 3, 4, length);
        put_number(entry + 7, 5, field_start_);
        directory_.append(entry, sizeof entry);
        ++fields_;
    }

    // A control field.
    void add_control(std::string_view tag, std::string_view value) {
        begin_field();
        data_.append(value);
        end_field(tag);
    }

    // Begins a data field with its indicators; add_subfield() its subfields, end_field(tag) ends it.
    void begin_data(char ind1, char ind2) {
        begin_field();
        const char head[2] = {ind1, ind2};
        data_.append(head, 2);
    }

    void add_subfield(char code, std::string_view value) {
        const char head[2] = {kSubfieldDelimiter, code};
        data_.append(head, 2);
        data_.append(value);
    }

    std::size_t fields() const noexcept { return fields_; }
    bool long_field() const noexcept { return long_field_; }

    // Appends the record with `leader` (24 bytes) to `out`, or a stub when `problem` is set (the
    // reason ISO 2709 cannot hold the record) or a field is too long. The builder is then ready
    // for the next record.
    Finished finish(std::string& out, std::string_view leader, const char* problem) {
        const std::size_t base = kLeaderLength + directory_.size() + 1;
        const std::size_t total = base + data_.size() + 1;
        if (!problem && leader.size() != kLeaderLength) problem = kBadLeader;  // the callers check it first
        if (!problem && long_field_ && total <= kMaxRecordLength) problem = kLongField;
        Finished result;
        if (problem) {
            append_stub(out, problem);
            result.stub = problem;
        } else {
            const std::size_t mark = out.size();
            out.append(leader);
            char* head = out.data() + mark;
            put_number(head, 5, total);
            put_number(head + 12, 5, base);
            head[9] = 'a';
            result.leader_changed = std::string_view(head, kLeaderLength) != leader;
            out.append(directory_);
            out.push_back(kFieldTerminator);
            out.append(data_);
            out.push_back(kRecordTerminator);
        }
        clear();
        return result;
    }

    // A stub for a record ISO 2709 cannot hold: fewer bytes than a leader, framed as one record
    // and parsed as leader_invalid.
    static void append_stub(std::string& out, std::string_view reason) {
        const std::size_t mark = out.size();
        out.append("00000");
        out.append(reason.substr(0, kLeaderLength - 7));
        out.push_back(kRecordTerminator);
        put_number(out.data() + mark, 5, out.size() - mark);
    }

    // Writes `value` as `width` decimal digits, saturated at the largest such number.
    static void put_number(char* dst, std::size_t width, std::size_t value) noexcept {
        std::size_t max = 1;
        for (std::size_t i = 0; i < width; ++i) max *= 10;
        value = std::min(value, max - 1);
        for (std::size_t i = width; i-- > 0;) {
            dst[i] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    }

private:
    std::string directory_;
    std::string data_;  // field data, each field terminated
    std::size_t field_start_ = 0;
    std::size_t fields_ = 0;
    bool long_field_ = false;
};

}  // namespace rapidmarc::detail
