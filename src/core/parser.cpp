#include "rapidmarc/parser.hpp"

#include "python_int.hpp"
#include "text_scan.hpp"
#include "rapidmarc/marc8.hpp"
#include "rapidmarc/unicode.hpp"

#include <algorithm>
#include <cstring>

namespace rapidmarc {

bool normalize_subfield_code(std::string_view piece, NormalizedCode& out) noexcept {
    const bool utf8 = is_valid_utf8(piece);
    std::size_t i = 0;
    bool first = true;
    while (i < piece.size()) {
        char32_t cp = static_cast<unsigned char>(piece[i]);
        std::size_t n = 1;
        if (utf8 && cp >= 0x80) n = unicode::decode_utf8(piece.substr(i), cp);
        if (first) out.skip = n;
        first = false;
        const char c = unicode::ascii_fold(cp);
        if (cp < 0x80 || c != '\0') {  // an ASCII character (NUL included) is its own fold
            out.code = c;
            return true;
        }
        i += n;
    }
    return false;
}

bool subfield_codes_readable(const RecordView& record) noexcept {
    for (std::size_t i = 0; i < record.size(); ++i) {
        const FieldView f = record.field(i);
        if (f.is_control()) continue;
        for (const SubfieldView& sf : f.subfields())  // the iterator leaves such a code as it is
            if (!sf.normalized && static_cast<unsigned char>(sf.code) >= 0x80) return false;
    }
    return true;
}

namespace {

bool is_ascii_space(char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r'); }

using detail::ascii_only;
using detail::utf8_valid;

// Python slice bound normalisation for a sequence of length n.
std::int64_t clamp_index(std::int64_t i, std::int64_t n) noexcept {
    if (i < 0) i += n;
    return std::clamp<std::int64_t>(i, 0, n);
}

std::string quote(std::string_view bytes) {
    std::string out = "'";
    for (unsigned char c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out += static_cast<char>(c);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    out += "'";
    return out;
}

// True when pymarc's marc8_to_unicode would not raise for `text`.
bool converts_as_marc8(std::string_view text) {
    if (text.find('\x1b') == std::string_view::npos) return true;
    std::string scratch;
    return marc8::decode(text, scratch).ok;
}

ErrorCode fail(ParsedRecord& out, ErrorCode code, std::string detail) {
    out.error = code;
    out.detail = std::move(detail);
    return code;
}

// A text error in `part` of `record` (the leader or the directory, which pymarc decodes as ASCII):
// the part is the culprit, so that the error carries pymarc's exact decoding position.
ErrorCode fail_in(ParsedRecord& out, ErrorCode code, std::string detail, std::string_view record, std::string_view part) {
    out.error_offset = static_cast<std::size_t>(part.data() - record.data());
    out.error_length = part.size();
    return fail(out, code, std::move(detail));
}

std::string field_label(std::string_view tag, std::size_t index) {
    return "field " + std::string(tag) + " (directory entry " + std::to_string(index) + ")";
}

// Checks one field's bytes and notes non-ASCII subfield codes. Text validation follows what
// pymarc decodes: control data strictly, indicators as ASCII, subfield values per utf8_handling.
ErrorCode check_field(std::string_view record, FieldEntry& entry, std::size_t index,
                      const ParseOptions& options, ParsedRecord& out) {
    std::string_view data = record.substr(entry.offset, entry.length);
    out.error_offset = entry.offset;
    out.error_length = entry.length;
    const bool check_marc8 = options.validate_text && options.validate_marc8 && !out.utf8 &&
                             data.find('\x1b') != std::string_view::npos;
    // Most fields are pure ASCII: then indicators and codes are ASCII and the text is valid UTF-8.
    if (!check_marc8 && ascii_only(data)) {
        entry.ascii = true;
        return ErrorCode::ok;
    }
    const bool check_utf8 = options.validate_text && out.utf8;
    if (is_control_tag(entry.tag_view())) {
        if (check_utf8 && !utf8_valid(data))
            return fail(out, ErrorCode::invalid_utf8, field_label(entry.tag_view(), index) + ": control data is not valid UTF-8");
        if (check_marc8 && !converts_as_marc8(data))
            return fail(out, ErrorCode::invalid_marc8,
                        field_label(entry.tag_view(), index) + ": control data ends inside a MARC-8 escape sequence");
        return ErrorCode::ok;
    }
    std::size_t first = data.find(kSubfieldDelimiter);
    if (!ascii_only(data.substr(0, first)))
        return fail(out, ErrorCode::indicator_not_ascii,
                    field_label(entry.tag_view(), index) + ": indicators " + quote(data.substr(0, first)) + " are not ASCII");
    bool bad_code = false;
    for (std::size_t p = first; p != std::string_view::npos; p = data.find(kSubfieldDelimiter, p + 1)) {
        if (p + 1 < data.size() && static_cast<unsigned char>(data[p + 1]) >= 0x80) bad_code = true;
    }
    // A code that is not ASCII is normalised as pymarc does (SubfieldIterator); readers that build
    // Python objects also warn about it, so they are told.
    if (bad_code) out.bad_subfield_code = true;
    const bool strict_utf8 = check_utf8 && options.utf8_handling == Utf8Handling::strict;
    // The whole field at once is the fast check (delimiters are ASCII, so it is valid exactly when
    // every value is); a field with odd codes is checked value by value, since the bytes a
    // normalised code occupies are not decoded.
    if (!check_marc8 && !(strict_utf8 && (bad_code || !utf8_valid(data)))) return ErrorCode::ok;
    // Value by value, in order, as pymarc decodes them: the first value that does not decode is the
    // error, and its bytes are the culprit (so the exception's positions are pymarc's).
    for (const SubfieldView& sf : FieldView(entry.tag_view(), data).subfields()) {
        // A code that normalises to nothing stops pymarc first (IndexError): the Python layer
        // raises it, and the native bulk paths skip the record (subfield_codes_readable).
        if (!sf.normalized && static_cast<unsigned char>(sf.code) >= 0x80) break;
        const bool bad_utf8 = strict_utf8 && !utf8_valid(sf.value);
        const bool bad_marc8 = !bad_utf8 && check_marc8 && !converts_as_marc8(sf.value);
        if (!bad_utf8 && !bad_marc8) continue;
        out.error_offset = static_cast<std::size_t>(sf.value.data() - record.data());
        out.error_length = sf.value.size();
        return fail(out, bad_utf8 ? ErrorCode::invalid_utf8 : ErrorCode::invalid_marc8,
                    field_label(entry.tag_view(), index) + ": subfield $" + std::string(1, sf.code) +
                        (bad_utf8 ? " is not valid UTF-8" : " ends inside a MARC-8 escape sequence"));
    }
    return ErrorCode::ok;
}

// The opt-in encoding detection (ParseOptions::detect_encoding) over a record's data area.
void detect_encoding(std::string_view data, const ParseOptions& options, ParsedRecord& out) {
    if (!options.detect_encoding || options.force_utf8 || ascii_only(data)) return;
    if (!out.utf8) {
        if (data.find('\x1b') == std::string_view::npos && utf8_valid(data)) {
            out.utf8 = true;
            out.encoding_corrected = true;
        }
        return;
    }
    if (utf8_valid(data)) return;
    std::string scratch;
    const marc8::DecodeResult r = marc8::decode(data, scratch);
    if (r.ok && r.warnings == 0) {
        out.utf8 = false;
        out.encoding_corrected = true;
    }
}

// Records longer than 99,999 bytes cannot state their length, base address or (past 99,999)
// field offsets. When the reader framed one by its terminator, fields are found by walking the
// field terminators in directory order instead.
ErrorCode parse_resequenced(std::string_view record, const ParseOptions& options, ParsedRecord& out) {
    out.resequenced = true;
    std::size_t dir_end = kLeaderLength;
    while (dir_end < record.size() && record[dir_end] != kFieldTerminator) dir_end += kDirectoryEntryLength;
    if (dir_end >= record.size())
        return fail(out, ErrorCode::directory_invalid, "oversize record: no directory terminator on a 12-byte boundary");
    std::string_view directory = record.substr(kLeaderLength, dir_end - kLeaderLength);
    if (!ascii_only(directory))
        return fail_in(out, ErrorCode::directory_not_ascii, "directory contains non-ASCII bytes", record, directory);
    std::size_t pos = dir_end + 1;
    const std::size_t data_end = record.size() - 1;  // the record terminator
    detect_encoding(record.substr(pos), options, out);
    for (std::size_t i = 0; i * kDirectoryEntryLength < directory.size(); ++i) {
        std::size_t term = record.find(kFieldTerminator, pos);
        if (term == std::string_view::npos || term > data_end)
            return fail(out, ErrorCode::directory_invalid,
                        "oversize record: directory lists more fields than the data holds (entry " + std::to_string(i) + ")");
        FieldEntry e;
        std::memcpy(e.tag.data(), directory.data() + i * kDirectoryEntryLength, 3);
        e.offset = static_cast<std::uint32_t>(pos);
        e.length = static_cast<std::uint32_t>(term - pos);
        out.entries.push_back(e);
        if (auto rc = check_field(record, out.entries.back(), i, options, out); rc != ErrorCode::ok) return rc;
        pos = term + 1;
    }
    if (pos != data_end)
        return fail(out, ErrorCode::directory_invalid, "oversize record: data continues after the last directory entry");
    if (out.entries.empty()) return fail(out, ErrorCode::no_fields_found, "the directory is empty");
    return ErrorCode::ok;
}

}  // namespace

bool detail::parse_python_int(std::string_view text, std::int64_t& value) noexcept {
    // Fast path: the fixed-width digit strings of every well-formed leader and directory.
    if (!text.empty() && text.size() <= 9) {
        std::int64_t v = 0;
        bool digits = true;
        for (char c : text) {
            if (c < '0' || c > '9') {
                digits = false;
                break;
            }
            v = v * 10 + (c - '0');
        }
        if (digits) {
            value = v;
            return true;
        }
    }
    while (!text.empty() && is_ascii_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_ascii_space(text.back())) text.remove_suffix(1);
    bool negative = false;
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    if (text.empty() || text.front() == '_' || text.back() == '_') return false;
    std::int64_t v = 0;
    char prev = 0;
    for (char c : text) {
        if (c == '_') {
            if (prev == '_') return false;
        } else if (c >= '0' && c <= '9') {
            if (v > (INT64_MAX - 9) / 10) return false;  // far beyond any MARC number
            v = v * 10 + (c - '0');
        } else {
            return false;
        }
        prev = c;
    }
    value = negative ? -v : v;
    return true;
}

// Declared in text.hpp; the scan itself is inline in text_scan.hpp, for the parser's loops.
bool is_valid_utf8(std::string_view text) noexcept { return utf8_valid(text); }

ErrorCode parse_record(std::string_view record, const ParseOptions& options, ParsedRecord& out) {
    out.clear();
    std::string_view leader = record.substr(0, kLeaderLength);
    if (!ascii_only(leader))
        return fail_in(out, ErrorCode::leader_not_ascii, "leader contains non-ASCII bytes " + quote(leader), record, leader);
    if (leader.size() != kLeaderLength)
        return fail(out, ErrorCode::leader_invalid, "record has only " + std::to_string(record.size()) + " bytes, fewer than a leader");
    out.utf8 = leader[9] == 'a' || options.force_utf8;

    if (record.size() > kMaxRecordLength) return parse_resequenced(record, options, out);

    std::int64_t base = 0;
    if (!detail::parse_leader_number(leader.substr(12, 5), base))
        return fail(out, ErrorCode::base_address_not_numeric, "base address " + quote(leader.substr(12, 5)) + " is not a number");
    const auto size = static_cast<std::int64_t>(record.size());
    if (base <= 0) return fail(out, ErrorCode::base_address_not_found, "base address is " + std::to_string(base));
    if (base >= size)
        return fail(out, ErrorCode::base_address_invalid,
                    "base address " + std::to_string(base) + " is beyond the record's " + std::to_string(size) + " bytes");
    std::int64_t declared = 0;
    if (!detail::parse_leader_number(leader.substr(0, 5), declared))
        return fail(out, ErrorCode::record_length_invalid, "record length " + quote(leader.substr(0, 5)) + " is not a number");
    if (size < declared)
        return fail(out, ErrorCode::truncated_record,
                    "leader says " + std::to_string(declared) + " bytes, record has " + std::to_string(size));

    const std::int64_t dir_stop = std::max<std::int64_t>(base - 1, static_cast<std::int64_t>(kLeaderLength));
    std::string_view directory = record.substr(kLeaderLength, static_cast<std::size_t>(dir_stop) - kLeaderLength);
    if (!ascii_only(directory))
        return fail_in(out, ErrorCode::directory_not_ascii, "directory contains non-ASCII bytes", record, directory);
    if (directory.size() % kDirectoryEntryLength != 0)
        return fail(out, ErrorCode::directory_invalid,
                    "directory length " + std::to_string(directory.size()) + " is not a multiple of 12");

    detect_encoding(record.substr(static_cast<std::size_t>(base)), options, out);
    const std::size_t count = directory.size() / kDirectoryEntryLength;
    out.entries.reserve(count);
    // Fields wholly before the next non-ASCII byte of the record need no checking at all (ASCII is
    // valid UTF-8, ASCII indicators and codes), unless MARC-8 escapes are to be validated: one
    // forward scan serves all the fields of the usual record, whose fields are in offset order.
    const bool ascii_shortcut = !(options.validate_text && options.validate_marc8 && !out.utf8);
    const auto* bytes = reinterpret_cast<const unsigned char*>(record.data());
    std::size_t scanned = 0, non_ascii = 0;  // bytes [scanned, non_ascii) are known to be ASCII
    for (std::size_t i = 0; i < count; ++i) {
        std::string_view raw = directory.substr(i * kDirectoryEntryLength, kDirectoryEntryLength);
        std::int64_t length = 0, offset = 0;
        const bool numbers = detail::directory_numbers(raw.data(), length, offset) ||
                             (detail::parse_python_int(raw.substr(3, 4), length) &&
                              detail::parse_python_int(raw.substr(7, 5), offset));
        if (!numbers)
            return fail(out, ErrorCode::directory_entry_not_numeric,
                        "directory entry " + std::to_string(i) + " " + quote(raw) + " has a non-numeric length or position");
        const std::int64_t start = clamp_index(base + offset, size);
        const std::int64_t stop = clamp_index(base + offset + length - 1, size);
        FieldEntry e;
        std::memcpy(e.tag.data(), raw.data(), 3);
        e.offset = static_cast<std::uint32_t>(start);
        e.length = static_cast<std::uint32_t>(std::max<std::int64_t>(stop - start, 0));
        if (ascii_shortcut) {
            if (e.offset < scanned || e.offset > non_ascii) {
                scanned = e.offset;
                non_ascii = detail::skip_ascii(bytes, e.offset, record.size());
            }
            if (non_ascii >= std::size_t{e.offset} + e.length) {
                e.ascii = true;
                out.entries.push_back(e);
                continue;
            }
        }
        out.entries.push_back(e);
        if (auto rc = check_field(record, out.entries.back(), i, options, out); rc != ErrorCode::ok) return rc;
    }
    if (out.entries.empty()) return fail(out, ErrorCode::no_fields_found, "the directory is empty");
    return ErrorCode::ok;
}

}  // namespace rapidmarc
