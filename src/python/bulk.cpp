// Bulk operations: records are read and parsed (and converted) on native threads with the GIL
// released; Python objects are made only for the results. count, read_range, parse_records and
// convert; extract and extract_arrow are in columns.cpp.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <nanobind/stl/string.h>

#include "input.hpp"
#include "record.hpp"
#include "rapidmarc/detail/parallel_for.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

nb::dict tally_dict(const ReadTally& t, const PyReadOptions& o, nb::object first_error) {
    nb::dict out;
    out["good"] = t.good;
    out["bad"] = t.bad;
    out["end"] = t.end;
    out["first_error"] = !first_error.is_none() ? first_error : t.first_error ? make_error(t.first_error) : nb::none();
    out["stop"] = t.last_fatal && !o.core.framing.recover ? make_error(t.last_fatal) : nb::none();
    return out;
}

namespace {

// What count/scan read before the input failed part-way (a corrupt .gz, a failing disk): the
// OSError it raises carries the accounting so far as `read_before` (scan() makes it a summary).
[[noreturn]] void raise_read_error(const std::system_error& e, const ReadTally& tally, const PyReadOptions& o,
                                   nb::handle first_error) {
    nb::object error = nb::steal(PyObject_CallFunction(PyExc_OSError, "is", e.code().value(), e.what()));
    if (!error.is_valid()) throw nb::python_error();
    error.attr("read_before") = tally_dict(tally, o, nb::borrow(first_error));
    PyErr_SetObject(PyExc_OSError, error.ptr());
    throw nb::python_error();
}

// The loop of bulk_count, which keeps `tally` and `first_error` for raise_read_error.
nb::dict count_batches(NativeInput& in, int kind, const PyReadOptions& o, nb::object progress, ReadTally& tally,
                       nb::object& first_error) {
    if (!o.to_unicode || o.latin1_encoding) {
        drain_batches(in, o.core.strict, [&](const Batch& batch) {
            tally.add(batch);
            if (progress.is_none()) return;
            nb::gil_scoped_acquire acquire;
            progress(tally.end);
        });
        return tally_dict(tally, o);
    }
    for (;;) {
        std::unique_ptr<Batch> batch;
        {
            nb::gil_scoped_release release;
            batch = in.stream->next();
        }
        if (!batch) return tally_dict(tally, o, first_error);
        for (std::size_t i = 0; i < batch->size(); ++i) {
            if (!batch->readable(i)) {
                if (o.core.strict) raise_strict(in, make_error(batch->error(i)), (kind & kKindMask) == kFile);
                tally.add(*batch, i, false);
                continue;
            }
            if (!o.python_codec(batch->parsed[i].utf8)) {
                tally.add(*batch, i, true);
                continue;
            }
            RecordOrError built = record_or_error(*batch, i, o);
            if (!built.record.is_valid()) {
                if (o.core.strict) raise_strict(in, built.error, (kind & kKindMask) == kFile);
                if (!tally.first_error && first_error.is_none()) first_error = built.error;
            }
            tally.add(*batch, i, built.record.is_valid());
        }
        if (!progress.is_none()) progress(tally.end);
        nb::gil_scoped_release release;
        in.stream->recycle(std::move(batch));
    }
}

// Good records: those MARCReader yields as a Record. Only a Python codec (file_encoding) can fail
// on a record the core finds readable, so only then are records decoded, exactly as MARCReader does.
// progress(bytes), if given, is called after each batch with the input bytes framed so far.
nb::dict bulk_count(nb::object source, int kind, nb::handle py_options, nb::object progress) {
    const PyReadOptions o = read_options(py_options);
    NativeInput in = open_input(std::move(source), kind, o);
    ReadTally tally;
    nb::object first_error = nb::none();
    try {
        return count_batches(in, kind, o, std::move(progress), tally, first_error);
    } catch (const std::system_error& e) {
        raise_read_error(e, tally, o, first_error);
    }
}

// read_range(): the records that start in bytes [start, end) of a path or bytes object
// (parallel.hpp's byte-range seam), for partitioned readers such as Dask's. Bad records are None
// with their exception in "errors" (strict: the first one is raised); "start" / "end" / "clean"
// let a coordinator check that the ranges it read chain into the whole input.
nb::dict bulk_read_range(nb::object source, int kind, std::uint64_t start, std::uint64_t end, nb::handle py_options) {
    const PyReadOptions o = read_options(py_options);
    Batch batch;
    RangeInfo info;
    std::string owned;
    if (kind == kPath) {
        const std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            info = read_range(RangeInput::file(path), start, end, o.core.framing, o.core.parse, batch);
        } catch (const std::system_error& e) {
            // A pipe, FIFO or device (RangeInput::file refuses it unopened): io.UnsupportedOperation,
            // an OSError and a ValueError, as Python raises for seek() on a stream that cannot seek.
            if (e.code().value() == ESPIPE) {
                nb::object unsupported = nb::module_::import_("io").attr("UnsupportedOperation");
                PyErr_SetString(unsupported.ptr(),
                                ("read_range() needs random access, and '" + path +
                                 "' is not a regular file (a pipe, FIFO or device can be read only once, in order): "
                                 "read it with MARCReader, count, extract or convert, which stream it")
                                    .c_str());
                throw nb::python_error();
            }
            raise_os_error(e, path);
        }
    } else if (kind == kBytes) {
        const std::string_view bytes = borrow_bytes(source, owned);  // `source` keeps a bytes object alive
        nb::gil_scoped_release release;
        info = read_range(RangeInput::memory(bytes), start, end, o.core.framing, o.core.parse, batch);
    } else {
        throw nb::type_error("read_range() needs a path or a bytes-like object (file objects cannot seek natively)");
    }
    nb::list records, errors;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        RecordOrError built = record_or_error(batch, i, o);
        if (!built.record.is_valid() && o.core.strict) raise_error_object(built.error);
        records.append(built.record.is_valid() ? built.record : nb::none());
        if (built.error.is_valid()) errors.append(built.error);
    }
    // Framing stopped inside the range: strict mode raises that error, as MARCReader would.
    if (!info.clean && o.core.strict) raise_error_object(make_error(info.stop));
    nb::dict out;
    out["records"] = records;
    out["errors"] = errors;
    out["start"] = info.start == RangeInfo::none ? nb::object(nb::none()) : nb::object(nb::int_(info.start));
    out["end"] = info.end;
    out["clean"] = info.clean;
    return out;
}

// Records of raw data: one stream of records (bytes) or one record per item (a list of bytes).
nb::list bulk_parse(nb::object data, nb::handle py_options) {
    const PyReadOptions o = read_options(py_options);
    nb::list out;
    auto emit = [&](RecordOrError built) {
        if (!built.record.is_valid() && o.core.strict) raise_error_object(built.error);
        out.append(built.record.is_valid() ? built.record : nb::none());
    };
    if (!nb::isinstance<nb::list>(data) && !nb::isinstance<nb::tuple>(data)) {
        NativeInput in = open_input(std::move(data), kBytes, o);
        for (;;) {
            std::unique_ptr<Batch> batch;
            {
                nb::gil_scoped_release release;
                batch = in.stream->next();
            }
            if (!batch) break;
            for (std::size_t i = 0; i < batch->size(); ++i) emit(record_or_error(*batch, i, o));
        }
        return out;
    }
    // A sequence of records: each item is one record (as pymarc's Record(data=...)).
    nb::sequence items = nb::borrow<nb::sequence>(data);
    const std::size_t n = nb::len(items);
    std::vector<nb::object> keep(n);
    std::vector<std::string_view> views(n);
    for (std::size_t i = 0; i < n; ++i) {
        nb::object item = items[i];
        if (!PyBytes_Check(item.ptr())) {
            if (!PyObject_CheckBuffer(item.ptr()))
                throw nb::type_error("parse_records() needs bytes, or a list of bytes with one record each");
            item = nb::steal(PyBytes_FromObject(item.ptr()));
            if (!item.is_valid()) throw nb::python_error();
        }
        views[i] = {PyBytes_AS_STRING(item.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(item.ptr()))};
        keep[i] = std::move(item);
    }
    std::vector<ParsedRecord> parsed(n);
    const ParseOptions& po = o.core.parse;
    {
        nb::gil_scoped_release release;
        const int workers = o.core.workers;
        const unsigned threads = workers < 0 ? 0u : std::max(1u, static_cast<unsigned>(workers));  // 0: per core
        detail::parallel_for(n, threads, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) parse_record(views[i], po, parsed[i]);
        });
    }
    std::uint64_t offset = 0;
    for (std::size_t i = 0; i < n; ++i) {
        emit(record_or_error(views[i], parsed[i], i, offset, o));
        offset += views[i].size();
    }
    return out;
}

struct WriteFailed {};  // thrown by convert()'s writer after a failed write (errno kept aside)

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// convert(): the core's converter (convert.hpp) over a Python source, writing to a file descriptor
// or a binary file object, with progress and Ctrl-C.
nb::dict bulk_convert(nb::object source, int kind, nb::object destination, std::string format, nb::handle py_options,
                      nb::object progress, std::string destination_name, bool utf8_leader) {
    const std::optional<ConvertFormat> fmt = parse_convert_format(format);
    if (!fmt) throw nb::value_error("convert() writes 'json', 'xml' or 'marc'");
    const PyReadOptions o = read_options(py_options);
    if (*fmt != ConvertFormat::marc && !o.to_unicode)
        throw nb::value_error("convert() writes text for 'json' and 'xml': to_unicode must be True");
    o.require_native_text("convert()");
    NativeInput in = open_input(std::move(source), kind, o, convert_hook(*fmt, o.core.parse, utf8_leader));

    // A file descriptor (the Python layer opened the destination: a ".partial" file it renames
    // into place, or a FIFO, device or standard output) is written natively without the GIL, on
    // a duplicate so that closing it here leaves the caller's open; a file object is written
    // through its write().
    std::unique_ptr<std::FILE, FileCloser> file;
    nb::object write_method;
    if (PyLong_Check(destination.ptr())) {
        const int fd = ::dup(nb::cast<int>(destination));
        if (fd < 0 || !(file = std::unique_ptr<std::FILE, FileCloser>(::fdopen(fd, "wb")))) {
            if (fd >= 0) ::close(fd);
            PyErr_SetFromErrno(PyExc_OSError);
            throw nb::python_error();
        }
    } else {
        write_method = destination.attr("write");
    }
    int write_errno = 0;
    // Runs without the GIL. A file object's write() may take less than it is given (raw files,
    // pipes): the rest is offered again.
    auto write = [&](std::string_view text) {
        if (write_errno) return;
        if (file) {
            if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) {
                write_errno = errno ? errno : EIO;
                throw WriteFailed{};  // stops reading: nothing more can be written
            }
            return;
        }
        nb::gil_scoped_acquire acquire;
        while (!text.empty()) {
            nb::object n = write_method(nb::bytes(text.data(), text.size()));
            if (n.is_none()) break;  // file objects that do not report a count write everything
            const auto done = nb::cast<std::size_t>(n);
            if (done == 0) throw nb::value_error("convert(): the destination's write() accepted nothing");
            text.remove_prefix(std::min(done, text.size()));
        }
    };
    // After each batch: Python's signal handlers (Ctrl-C stops the conversion, and the partial
    // output is removed), then the caller's progress callback, if any.
    const std::function<void(std::uint64_t)> report = [&progress](std::uint64_t consumed) {
        check_signals();
        if (progress.is_none()) return;
        nb::gil_scoped_acquire acquire;
        progress(consumed);
    };
    ConvertResult result;
    std::optional<Error> bad;
    {
        nb::gil_scoped_release release;
        try {
            result = convert_stream(*in.stream, *fmt, o.core.strict, write, report);
        } catch (const ParseError& e) {
            bad = e.error();
        } catch (const WriteFailed&) {
        }
        if (file) {  // flushed and closed in every case; an error of a complete write is reported
            if (std::fflush(file.get()) != 0 && !write_errno) write_errno = errno ? errno : EIO;
            if (std::fclose(file.release()) != 0 && !write_errno) write_errno = errno ? errno : EIO;
        }
    }
    if (bad) raise_error_object(make_error(*bad));
    if (write_errno) {
        errno = write_errno;
        if (destination_name.empty()) PyErr_SetFromErrno(PyExc_OSError);
        else PyErr_SetFromErrnoWithFilename(PyExc_OSError, destination_name.c_str());
        throw nb::python_error();
    }
    nb::dict out = tally_dict(result.read, o);
    out["records"] = result.records;
    out["bad"] = result.bad;
    out["unconvertible"] = result.unconvertible;
    return out;
}

}  // namespace

void bind_bulk(nb::module_& m) {
    m.def("count", &bulk_count, "source"_a, "kind"_a, "options"_a, "progress"_a = nb::none());  // a tally: rapidmarc.scan()
    m.def("read_range", &bulk_read_range, "source"_a, "kind"_a, "start"_a, "end"_a, "options"_a);
    m.def("parse_records", &bulk_parse, "data"_a, "options"_a);
    m.def("convert", &bulk_convert, "source"_a, "kind"_a, "destination"_a, "format"_a, "options"_a,
          "progress"_a = nb::none(), "destination_name"_a = "", "utf8_leader"_a = false);
}

}  // namespace rapidmarc::binding
