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

}  // namespace rapidmarc::detail
