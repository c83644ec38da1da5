// Internal: a minimal parallel loop for bulk work over an index range (used by the Python binding
// to parse a list of records on native threads). Not part of the API (rapidmarc::detail may change).
#pragma once

#include <cstddef>
#include <functional>

namespace rapidmarc::detail {

// Runs fn(begin, end) over [0, n) cut into about `workers` * 4 contiguous slices on `workers`
// threads (0: one per hardware thread; the caller's thread is one of them). Rethrows the first
// exception after all finished.
void parallel_for(std::size_t n, unsigned workers, const std::function<void(std::size_t, std::size_t)>& fn);

}  // namespace rapidmarc::detail
