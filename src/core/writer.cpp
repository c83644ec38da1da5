#include "rapidmarc/writer.hpp"

#include <algorithm>
#include <cstdio>

#include "rapidmarc/record_view.hpp"

namespace rapidmarc {

namespace {

void append_number(std::string& out, std::size_t value, int width) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%0*zu", width, value);
    out.append(buf);
}

// The bytes ISO 2709 gives a structural meaning to.
constexpr bool is_structural(char c) noexcept {
    return c == kSubfieldDelimiter || c == kFieldTerminator || c == kRecordTerminator;
}

// The first byte of `bytes` for which `bad` holds, or npos.
template <class Bad>
std::size_t find_byte(std::string_view bytes, Bad bad) noexcept {
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (bad(bytes[i])) return i;
    return std::string_view::npos;
}

std::string hex_byte(char c) {
    static constexpr char digits[] = "0123456789ABCDEF";
    const auto u = static_cast<unsigned char>(c);
    return std::string("0x") + digits[u >> 4] + digits[u & 15];
}

constexpr bool is_non_ascii(char c) noexcept { return static_cast<unsigned char>(c) >= 0x80; }

// Text for a message: printable ASCII as it is, other bytes as \xHH.
std::string printable(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
        if (c >= 0x20 && c < 0x7f) out.push_back(c);
        else out += "\\x" + hex_byte(c).substr(2);
    }
    return out;
}

}  // namespace

void RecordBuilder::reset(std::string_view leader) {
    leader_.assign(leader.substr(0, kLeaderLength));
    leader_.resize(kLeaderLength, ' ');
    directory_.clear();
    data_.clear();
    error_ = ErrorCode::ok;
    error_detail_.clear();
    // A reader decodes the leader as ASCII (pymarc does): a leader it would refuse is not written.
    // (Its positions are fixed, so no byte of it can be mistaken for a delimiter or terminator.)
    if (std::size_t at = find_byte(leader, is_non_ascii); at != std::string_view::npos) {
        error_ = ErrorCode::leader_not_ascii;
        error_detail_ = "leader byte " + std::to_string(at) + " is " + hex_byte(leader[at]) + ", not ASCII";
    }
}

void RecordBuilder::begin_field(std::string_view tag) {
    if (error_ == ErrorCode::ok && tag.size() != 3) {
        error_ = ErrorCode::tag_invalid;
        error_detail_ = "tag '" + std::string(tag) + "' is not three characters";
    } else if (std::size_t at = find_byte(tag, [](char c) { return is_non_ascii(c) || is_structural(c); });
               error_ == ErrorCode::ok && at != std::string_view::npos) {
        error_ = ErrorCode::tag_invalid;
        error_detail_ = "tag '" + printable(tag) + "': byte " + std::to_string(at) + " is " + hex_byte(tag[at]) +
                        ", and a directory holds ASCII and no delimiter or terminator";
    }
    directory_.append(tag.substr(0, 3));
    directory_.append(3 - std::min<std::size_t>(tag.size(), 3), ' ');
    field_start_ = data_.size();
}

void RecordBuilder::append_subfield(std::string_view code, std::string_view value) {
    data_.push_back(kSubfieldDelimiter);
    append_value(code);
    append_value(value);
}

void RecordBuilder::append_value(std::string_view bytes) {
    if (error_ == ErrorCode::ok) {
        if (std::size_t at = find_byte(bytes, is_structural); at != std::string_view::npos) {
            error_ = ErrorCode::field_data_invalid;
            error_detail_ = "field " + directory_.substr(directory_.size() - 3) + ": a value holds byte " +
                            hex_byte(bytes[at]) + " (ISO 2709's " +
                            (bytes[at] == kSubfieldDelimiter ? "subfield delimiter"
                             : bytes[at] == kFieldTerminator ? "field terminator"
                                                             : "record terminator") +
                            "), which would read back as a different record";
        }
    }
    data_.append(bytes);
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
