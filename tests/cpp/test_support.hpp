// Helpers shared by the C++ tests: building small records and reading the shared corpus.
#pragma once

#include <rapidmarc/rapidmarc.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace rapidmarc::test {

inline std::filesystem::path shared_data() { return RAPIDMARC_SHARED_DATA; }

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A UTF-8 record with the given (tag, data-without-terminator) fields.
inline std::string make_record(const std::vector<std::pair<std::string, std::string>>& fields) {
    RecordBuilder b;
    b.reset("00000nam a2200000 a 4500");
    for (const auto& [tag, data] : fields) b.add_field(tag, data);
    std::string out;
    b.finish(out);
    return out;
}

// Short random byte strings biased to the bytes where UTF-8 validity changes (continuation bytes,
// C0/C1, the E0/ED/F0/F4 boundaries, F5-FF), for property tests of UTF-8 handling.
inline std::string random_utf8_edge_bytes(std::mt19937& rng) {
    static constexpr unsigned char edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
                                             0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5, 0xFF};
    std::uniform_int_distribution<int> len(0, 40), pick(0, 3), any(0, 255);
    std::uniform_int_distribution<std::size_t> which(0, sizeof edge - 1);
    std::string s(static_cast<std::size_t>(len(rng)), '\0');
    for (char& c : s) c = static_cast<char>(pick(rng) == 0 ? any(rng) : edge[which(rng)]);
    return s;
}

// Everything observable about one record a batch stream delivered, for comparing engines.
struct Delivered {
    std::uint64_t index;
    std::uint64_t offset;
    ErrorCode frame_error;
    ErrorCode parse_error;
    std::size_t fields;
    std::string bytes;
    bool operator==(const Delivered&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Delivered& d) {
    return os << "{index " << d.index << ", offset " << d.offset << ", frame " << int(d.frame_error) << ", parse "
              << int(d.parse_error) << ", fields " << d.fields << ", " << d.bytes.size() << " bytes}";
}

// Every record `stream` delivers, in order (batches are recycled).
inline std::vector<Delivered> delivered(BatchStream& stream) {
    std::vector<Delivered> out;
    while (auto batch = stream.next()) {
        for (std::size_t i = 0; i < batch->size(); ++i) {
            const FramedRecord& f = batch->frames[i];
            const ParsedRecord& p = batch->parsed[i];
            const bool framed = f.error == ErrorCode::ok;
            out.push_back({f.index, f.offset, f.error, framed ? p.error : ErrorCode::ok, framed ? p.entries.size() : 0,
                           std::string(batch->record(i))});
        }
        stream.recycle(std::move(batch));
    }
    return out;
}

inline std::vector<std::string> split_on_terminator(const std::string& bytes) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (bytes[i] == kRecordTerminator) {
            out.push_back(bytes.substr(start, i + 1 - start));
            start = i + 1;
        }
    return out;
}

}  // namespace rapidmarc::test
