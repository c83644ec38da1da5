// The partition functions behind rapidmarc.dask: frame_range and frame_span (framing only, the
// cheap first pass that lets a coordinator check the chain of ranges and number every record) and
// read_part_records (a partition's records); extract_arrow_part (its columns) is in columns.cpp.
#include "ranges.hpp"

#include <algorithm>
#include <cstring>
#include <system_error>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "record.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

PartInput part_input(nb::object source, std::uint64_t size) {
    PartInput in;
    if (PyUnicode_Check(source.ptr())) {
        const std::string path = nb::cast<std::string>(source);
        try {
            in.input = RangeInput::file(path);
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
        if (in.input.size() != size)
            throw nb::value_error(("'" + path + "' is " + std::to_string(in.input.size()) + " bytes, not " +
                                   std::to_string(size) + ": it changed while being read")
                                      .c_str());
        return in;
    }
    if (PyObject_CheckBuffer(source.ptr())) {
        const std::string_view bytes = borrow_bytes(source, *in.owned);  // views `source` or *in.owned
        if (bytes.size() != size) throw nb::value_error("the buffer's size is not the size given");
        in.input = RangeInput::memory(bytes);
        in.keep = std::move(source);
        return in;
    }
    if (!nb::hasattr(source, "seek") || !nb::hasattr(source, "read"))
        throw nb::type_error("a partition reads a path, a bytes-like object or a file object with seek() and read()");
    // `keep` holds the file object for as long as the input exists; the reader borrows it.
    in.input = RangeInput::reader(size, [file = source.ptr()](char* dst, std::size_t n, std::uint64_t offset) {
        nb::gil_scoped_acquire acquire;
        try {
            nb::handle f(file);
            f.attr("seek")(offset);
            nb::object data = f.attr("read")(n);
            if (!PyBytes_Check(data.ptr())) {
                data = nb::steal(PyBytes_FromObject(data.ptr()));
                if (!data.is_valid()) throw nb::python_error();
            }
            const auto got = std::min(n, static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr())));
            std::memcpy(dst, PyBytes_AS_STRING(data.ptr()), got);
            return got;
        } catch (nb::python_error& e) {
            e.restore();
            throw PythonReadFailed{};
        }
    });
    in.keep = std::move(source);
    return in;
}

void read_part(const PartInput& in, bool span, std::uint64_t begin, std::uint64_t end, std::uint64_t base,
               const PyReadOptions& options, Batch& out) {
    without_gil([&] {
        if (span) read_span(in.input, begin, end, options.core.framing, options.core.parse, out);
        else read_range(in.input, begin, end, options.core.framing, options.core.parse, out);
        for (std::size_t i = 0; i < out.frames.size(); ++i) out.frames[i].index = base + i;
    });
}

void read_part(const PartInput& in, bool span, std::uint64_t begin, std::uint64_t end, std::uint64_t base,
               const PyReadOptions& options, const std::function<void(Batch&)>& on_batch) {
    constexpr std::size_t kPartBatchBytes = std::size_t{1} << 20;
    std::uint64_t next = base;
    const std::function<void(Batch&)> numbered = [&](Batch& batch) {
        for (FramedRecord& f : batch.frames) f.index = next++;
        on_batch(batch);
    };
    without_gil([&] {
        const ReaderOptions& ro = options.core.framing;
        if (span) read_span(in.input, begin, end, ro, options.core.parse, kPartBatchBytes, numbered);
        else read_range(in.input, begin, end, ro, options.core.parse, kPartBatchBytes, numbered);
    });
}

namespace {

nb::object offset_or_none(std::uint64_t v) {
    return v == RangeInfo::none ? nb::object(nb::none()) : nb::object(nb::int_(v));
}

// (start or None, end, clean, items) of the range [begin, end): frame_range.
nb::tuple part_frame_range(nb::object source, std::uint64_t size, std::uint64_t begin, std::uint64_t end,
                           nb::handle py_options) {
    const PyReadOptions o = read_options(py_options);
    const PartInput in = part_input(std::move(source), size);
    const RangeFrames f = without_gil([&] { return frame_range(in.input, begin, end, o.core.framing); });
    return nb::make_tuple(offset_or_none(f.info.start), f.info.end, f.info.clean, f.items);
}

// (items, end, rejoin or None) of the sequential reader from `begin`: frame_span.
nb::tuple part_frame_span(nb::object source, std::uint64_t size, std::uint64_t begin, std::vector<std::uint64_t> rejoin,
                          nb::handle py_options) {
    const PyReadOptions o = read_options(py_options);
    const PartInput in = part_input(std::move(source), size);
    std::sort(rejoin.begin(), rejoin.end());
    const SpanFrames f = without_gil([&] { return frame_span(in.input, begin, rejoin, o.core.framing); });
    return nb::make_tuple(f.items, f.end, offset_or_none(f.rejoin));
}

// A partition's items as MARCReader yields them, without the bad ones, and its account: the
// records (a list), and a dict with tally_dict's keys and "errors", the first bad items' exceptions
// (as MARCReader's current_exception would hold them, a decoding error included).
nb::tuple part_records(nb::object source, std::uint64_t size, bool span, std::uint64_t begin, std::uint64_t end,
                       std::uint64_t base, nb::handle py_options) {
    const PyReadOptions o = read_options(py_options);
    const PartInput in = part_input(std::move(source), size);
    Batch batch;
    read_part(in, span, begin, end, base, o, batch);
    nb::list out;
    nb::list errors;
    ReadTally tally;
    nb::object first_error = nb::none();
    for (std::size_t i = 0; i < batch.size(); ++i) {
        RecordOrError built = record_or_error(batch, i, o);
        const bool good = built.record.is_valid();
        if (good) {
            out.append(built.record);
        } else {
            // A decoding error has no core Error for the tally to keep: keep its exception.
            if (!tally.first_error && first_error.is_none() && batch.readable(i)) first_error = built.error;
            if (static_cast<std::size_t>(nb::len(errors)) < kKeptErrors) errors.append(built.error);
        }
        tally.add(batch, i, good);
    }
    nb::dict account = tally_dict(tally, o, first_error);
    account["errors"] = errors;
    return nb::make_tuple(out, account);
}

}  // namespace

void bind_ranges(nb::module_& m) {
    m.def("frame_range", &part_frame_range, "source"_a, "size"_a, "begin"_a, "end"_a, "options"_a);
    m.def("frame_span", &part_frame_span, "source"_a, "size"_a, "begin"_a, "rejoin"_a, "options"_a);
    m.def("read_part_records", &part_records, "source"_a, "size"_a, "span"_a, "begin"_a, "end"_a, "base"_a,
          "options"_a);
}

}  // namespace rapidmarc::binding
