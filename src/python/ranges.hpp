// Partitions of one input for cluster readers (rapidmarc.dask): the byte-range seam of
// parallel.hpp over a path, a bytes-like object or a Python file object that can seek (an fsspec
// file), numbered as the whole input's sequential reader numbers its items.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "input.hpp"

namespace rapidmarc::binding {

// A random-access input from Python, of `size` bytes: a path (read natively with pread), a
// bytes-like object, or a binary file object with seek() and read(), read through those methods
// (the GIL is taken for each read, of up to 64 KiB).
struct PartInput {
    RangeInput input;
    nb::object keep;    // the bytes or file object the input reads
    std::unique_ptr<std::string> owned = std::make_unique<std::string>();  // a copy of a mutable buffer
};
PartInput part_input(nb::object source, std::uint64_t size);

// Thrown (with the Python error restored) by a file object's read that raised: see without_gil.
struct PythonReadFailed : std::exception {
    const char* what() const noexcept override { return "a Python file object's read failed"; }
};

// Runs fn() with the GIL released; an exception a file object's read raised meanwhile is raised
// again as itself once the GIL is back.
template <class Fn>
auto without_gil(Fn&& fn) {
    try {
        nb::gil_scoped_release release;
        return std::forward<Fn>(fn)();
    } catch (const PythonReadFailed&) {
        throw nb::python_error();
    }
}

// One partition's items in `out`, numbered from `base` (their index in the whole input): with
// span false, the records starting in [begin, end) (read_range; framing stops at the first framing
// error); with span true, the sequential reader's items from the record boundary `begin` up to the
// first starting at or after `end` (read_span, recover honoured).
void read_part(const PartInput& in, bool span, std::uint64_t begin, std::uint64_t end, std::uint64_t base,
               const PyReadOptions& options, Batch& out);

// The same items in parsed batches of about 1 MiB, handed to on_batch(batch) without the GIL (and
// reused after it returns): memory stays at a batch, however long the partition.
void read_part(const PartInput& in, bool span, std::uint64_t begin, std::uint64_t end, std::uint64_t base,
               const PyReadOptions& options, const std::function<void(Batch&)>& on_batch);

}  // namespace rapidmarc::binding
