// Zero-copy views of one ISO 2709 record: leader, directory entries, fields and subfields.
//
// A RecordView borrows the record's bytes and an array of FieldEntry produced by the parser
// (parser.hpp); nothing here allocates. Field data, indicators and subfield values are
// std::string_view slices of the record bytes, valid as long as those bytes are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

// Small functions on per-subfield paths that GCC at -O3 still leaves out of line.
#if defined(__GNUC__) || defined(__clang__)
#define RAPIDMARC_ALWAYS_INLINE [[gnu::always_inline]] inline
#else
#define RAPIDMARC_ALWAYS_INLINE inline
#endif

namespace rapidmarc {

inline constexpr std::size_t kLeaderLength = 24;
inline constexpr std::size_t kDirectoryEntryLength = 12;
inline constexpr char kSubfieldDelimiter = '\x1f';
inline constexpr char kFieldTerminator = '\x1e';
inline constexpr char kRecordTerminator = '\x1d';
inline constexpr std::size_t kMaxRecordLength = 99999;  // five digits in leader/00-04
inline constexpr std::size_t kMaxFieldLength = 9999;    // four digits in a directory entry

// One directory entry, resolved to a slice of the record. `offset`/`length` cover the field's
// data without its field terminator.
struct FieldEntry {
    std::array<char, 3> tag{};
    bool ascii = false;  // the parser found every byte of the field's data to be ASCII
    std::uint32_t offset = 0;
    std::uint32_t length = 0;

    std::string_view tag_view() const noexcept { return {tag.data(), tag.size()}; }
};

// MARC 21 (like ruby-marc and pymarc) treats tags 001-009 as control fields: no indicators,
// no subfields. Non-numeric tags are always data fields.
constexpr bool is_control_tag(std::string_view tag) noexcept {
    // Three digits below "010": "00" and a digit.
    return tag.size() == 3 && tag[0] == '0' && tag[1] == '0' && tag[2] >= '0' && tag[2] <= '9';
}

struct SubfieldView {
    // The code: the byte after the delimiter, or, when that byte is not ASCII, the code pymarc's
    // rule gives (normalize_subfield_code below; the byte itself if the rule finds none).
    char code = 0;
    std::string_view value;  // bytes after the code up to the next delimiter
    std::uint8_t code_bytes = 1;  // bytes the code occupies before `value` (more when normalised)
    bool normalized = false;      // `code` came from pymarc's rule, not from the byte itself

    // The whole piece after the delimiter: the code's bytes and the value.
    std::string_view piece() const noexcept { return {value.data() - code_bytes, value.size() + code_bytes}; }
};

// Iterates subfields of a data field's bytes: pieces after each 0x1F, empty pieces skipped.
// pymarc's rule for a subfield whose code byte is not ASCII (its normalize_subfield_code):
// `piece` is the code byte and the value. Decoded as UTF-8 when the whole piece is valid UTF-8
// (the code then spans the first character), else as ISO 8859-1 (one byte); the code is the first
// ASCII character of the text's NFKD, which may come from the value. Returns false when there is
// none (pymarc then raises IndexError and the record is bad).
struct NormalizedCode {
    char code = 0;
    std::size_t skip = 1;  // bytes of `piece` before the value
};
bool normalize_subfield_code(std::string_view piece, NormalizedCode& out) noexcept;

class RecordView;
// False when some subfield code of `record` is not ASCII and normalises to nothing: pymarc cannot
// read such a record (IndexError), so rapidmarc's readers report it as bad.
bool subfield_codes_readable(const RecordView& record) noexcept;

class SubfieldIterator {
public:
    using value_type = SubfieldView;
    using difference_type = std::ptrdiff_t;

    SubfieldIterator() = default;
    explicit SubfieldIterator(std::string_view rest) noexcept : rest_(rest) { advance(); }

    const SubfieldView& operator*() const noexcept { return current_; }
    const SubfieldView* operator->() const noexcept { return &current_; }
    SubfieldIterator& operator++() noexcept {
        advance();
        return *this;
    }
    SubfieldIterator operator++(int) noexcept {
        auto copy = *this;
        advance();
        return copy;
    }
    bool operator==(const SubfieldIterator& other) const noexcept {
        return done_ == other.done_ && (done_ || rest_.data() == other.rest_.data());
    }

private:
    // rest_ is empty or starts at a delimiter; empty pieces ("\x1f\x1f") are skipped as pymarc
    // does. Forced inline: it runs once per subfield on every hot path.
    RAPIDMARC_ALWAYS_INLINE void advance() noexcept {
        while (!rest_.empty()) {
            rest_.remove_prefix(1);  // the delimiter
            const std::size_t end = rest_.find(kSubfieldDelimiter);
            const std::string_view piece = rest_.substr(0, end);
            rest_ = end == std::string_view::npos ? std::string_view{} : rest_.substr(end);
            if (!piece.empty()) {
                NormalizedCode n;
                if (static_cast<unsigned char>(piece[0]) >= 0x80 && normalize_subfield_code(piece, n))
                    current_ = {n.code, piece.substr(n.skip), static_cast<std::uint8_t>(n.skip), true};  // rare
                else
                    current_ = {piece[0], piece.substr(1), 1, false};
                done_ = false;
                return;
            }
        }
        done_ = true;
    }

    std::string_view rest_;  // unread bytes, starting at a delimiter (or empty)
    SubfieldView current_;
    bool done_ = true;
};

struct SubfieldRange {
    std::string_view after_indicators;
    SubfieldIterator begin() const noexcept { return SubfieldIterator(after_indicators); }
    SubfieldIterator end() const noexcept { return {}; }
};

class FieldView {
public:
    FieldView(std::string_view tag, std::string_view data) noexcept : tag_(tag), data_(data) {}

    std::string_view tag() const noexcept { return tag_; }
    bool is_control() const noexcept { return is_control_tag(tag_); }
    // Whole field data (without terminator): control field value, or indicators + subfields.
    std::string_view data() const noexcept { return data_; }

    // The bytes before the first subfield delimiter (normally exactly two indicators).
    std::string_view indicator_bytes() const noexcept { return data_.substr(0, data_.find(kSubfieldDelimiter)); }
    // Indicators as pymarc reads them: missing ones are blanks, extra ones are ignored.
    char indicator1() const noexcept {
        auto ind = indicator_bytes();
        return ind.empty() ? ' ' : ind[0];
    }
    char indicator2() const noexcept {
        auto ind = indicator_bytes();
        return ind.size() < 2 ? ' ' : ind[1];
    }
    SubfieldRange subfields() const noexcept {
        auto pos = data_.find(kSubfieldDelimiter);
        return {pos == std::string_view::npos ? std::string_view{} : data_.substr(pos)};
    }

private:
    std::string_view tag_;
    std::string_view data_;
};

class RecordView {
public:
    RecordView() = default;
    RecordView(std::string_view bytes, std::span<const FieldEntry> entries) noexcept
        : bytes_(bytes), entries_(entries) {}

    std::string_view bytes() const noexcept { return bytes_; }
    std::string_view leader() const noexcept { return bytes_.substr(0, kLeaderLength); }
    std::span<const FieldEntry> entries() const noexcept { return entries_; }
    std::size_t size() const noexcept { return entries_.size(); }

    FieldView field(std::size_t i) const noexcept {
        const FieldEntry& e = entries_[i];
        return {e.tag_view(), bytes_.substr(e.offset, e.length)};
    }
    // Leader/09: 'a' means UCS/Unicode (UTF-8); blank means MARC-8.
    bool leader_says_utf8() const noexcept { return bytes_.size() > 9 && bytes_[9] == 'a'; }

private:
    std::string_view bytes_;
    std::span<const FieldEntry> entries_;
};

}  // namespace rapidmarc
