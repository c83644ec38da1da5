#include "rapidmarc/writer.hpp"

#include <cstdio>

#include "rapidmarc/record_view.hpp"

namespace rapidmarc {

namespace {

void append_number(std::string& out, std::size_t value, int width) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%0*zu", width, value);
    out.append(buf);
}

}  // namespace

void RecordBuilder::reset(std::string_view leader) {
    leader_.assign(leader.substr(0, kLeaderLength));
    leader_.resize(kLeaderLength, ' ');
    directory_.clear();
    data_.clear();
    error_ = ErrorCode::ok;
    error_detail_.clear();
}

void RecordBuilder::begin_field(std::string_view tag) {
    if (tag.size() != 3 && error_ == ErrorCode::ok) {
        error_ = ErrorCode::tag_invalid;
        error_detail_ = "tag '" + std::string(tag) + "' is not three characters";
    }
    directory_.append(tag.substr(0, 3));
    directory_.append(3 - std::min<std::size_t>(tag.size(), 3), ' ');
    field_start_ = data_.size();
}

void RecordBuilder::append_subfield(std::string_view code, std::string_view value) {
    data_.push_back(kSubfieldDelimiter);
    data_.append(code);
    data_.append(value);
}

void RecordBuilder::end_field() {
    data_.push_back(kFieldTerminator);
    const std::size_t length = data_.size() - field_start_;
    if (error_ == ErrorCode::ok && length > kMaxFieldLength) {
        error_ = ErrorCode::field_too_long;
        error_detail_ = "field " + directory_.substr(directory_.size() - 3) + " is " + std::to_string(length) +
                        " bytes; ISO 2709 allows at most 9999";
    }
    if (error_ == ErrorCode::ok && field_start_ > kMaxRecordLength) {
        error_ = ErrorCode::record_too_long;
        error_detail_ = "field data exceeds 99999 bytes";
    }
    append_number(directory_, length % 10000, 4);
    append_number(directory_, field_start_ % 100000, 5);
}

ErrorCode RecordBuilder::finish(std::string& out, std::string* detail) const {
    const std::size_t base = kLeaderLength + directory_.size() + 1;
    const std::size_t total = base + data_.size() + 1;
    ErrorCode error = error_;
    std::string why = error_detail_;
    if (error == ErrorCode::ok && total > kMaxRecordLength) {
        error = ErrorCode::record_too_long;
        why = "record is " + std::to_string(total) + " bytes; ISO 2709 allows at most 99999";
    }
    if (error != ErrorCode::ok) {
        if (detail) *detail = std::move(why);
        return error;
    }
    out.clear();
    out.reserve(total);
    append_number(out, total, 5);
    out.append(leader_, 5, 7);
    append_number(out, base, 5);
    out.append(leader_, 17, 7);
    out.append(directory_);
    out.push_back(kFieldTerminator);
    out.append(data_);
    out.push_back(kRecordTerminator);
    return ErrorCode::ok;
}

}  // namespace rapidmarc
