// Helpers shared by the C++ tests: building small records and reading the shared corpus.
#pragma once

#include <rapidmarc/rapidmarc.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
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
