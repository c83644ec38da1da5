// Internal: the out-of-line parts of text.hpp's inline helpers. Not part of the API
// (rapidmarc::detail may change).
#pragma once

#include <string_view>

namespace rapidmarc::detail {

// strip_python_whitespace (text.hpp) for text that begins or ends with something other than
// printable ASCII: decodes the characters at both ends.
std::string_view strip_python_whitespace_general(std::string_view utf8) noexcept;

}  // namespace rapidmarc::detail
