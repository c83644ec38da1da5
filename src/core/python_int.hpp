// Private to the core: Python's int() on the ASCII numbers of leaders and directories, shared by
// the reader (record length), the parser (base address, directory) and the parallel reader
// (locating record starts), so that all three accept exactly what pymarc accepts.
#pragma once

#include <cstdint>
#include <string_view>

namespace rapidmarc::detail {

// Parses an integer the way Python's int() parses ASCII bytes: surrounding whitespace, an optional
// sign and single underscores between digits are accepted. Returns false if it is not a number.
bool parse_python_int(std::string_view text, std::int64_t& value) noexcept;

// parse_python_int for the five-character numbers of a leader (record length, base address),
// with the usual case, five ASCII digits, inline.
inline bool parse_leader_number(std::string_view text, std::int64_t& value) noexcept {
    if (text.size() == 5) {
        const auto digit = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(text[i])) - 48U; };
        const unsigned a = digit(0), b = digit(1), c = digit(2), d = digit(3), e = digit(4);
        if (a <= 9 && b <= 9 && c <= 9 && d <= 9 && e <= 9) {
            value = static_cast<std::int64_t>(a * 10000 + b * 1000 + c * 100 + d * 10 + e);
            return true;
        }
    }
    return parse_python_int(text, value);
}

}  // namespace rapidmarc::detail
