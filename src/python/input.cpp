// Python sources as native batch streams.
#include "input.hpp"

#include <cerrno>
#include <initializer_list>
#include <cstring>
#include <system_error>

#include <nanobind/stl/string.h>

#include "rapidmarc/marcjson.hpp"
#include "rapidmarc/marcxml.hpp"

namespace rapidmarc::binding {

[[noreturn]] void raise_os_error(const std::system_error& e, const std::string& path) {
    errno = e.code().value();
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
    throw nb::python_error();
}

std::string_view borrow_bytes(nb::handle source, std::string& owned) {
    Py_buffer view;
    if (PyObject_GetBuffer(source.ptr(), &view, PyBUF_SIMPLE) != 0) throw nb::python_error();
    std::string_view bytes(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
    if (!PyBytes_Check(source.ptr())) {
        owned.assign(bytes);
        bytes = owned;
    }
    PyBuffer_Release(&view);
    return bytes;
}

namespace {

constexpr std::size_t kFileObjectChunk = std::size_t{64} << 10;

[[noreturn]] void raise_python(PyObject* type, const std::string& message) {
    PyErr_SetString(type, message.c_str());
    throw nb::python_error();
}

// The byte count a file object's readinto(buffer of n bytes) returned, checked as CPython's
// BufferedReader checks a raw stream's: an int from 0 to n. Anything else would make the reader
// trust bytes that were never written, or lose data without a word.
std::size_t checked_count(nb::handle got, std::size_t n) {
    if (got.is_none())  // a non-blocking stream with no data ready: not the end of the input
        raise_python(PyExc_BlockingIOError,
                     "the file object's readinto() returned None (no data ready on a non-blocking stream); "
                     "rapidmarc reads blocking streams");
    if (!PyLong_Check(got.ptr()))
        raise_python(PyExc_TypeError, std::string("the file object's readinto() returned ") +
                                          Py_TYPE(got.ptr())->tp_name + ", not int");
    const long long count = PyLong_AsLongLong(got.ptr());
    if (count == -1 && PyErr_Occurred()) throw nb::python_error();
    if (count < 0 || static_cast<unsigned long long>(count) > n)
        raise_python(PyExc_OSError, "the file object's readinto() returned invalid length " + std::to_string(count) +
                                        " (should have been between 0 and " + std::to_string(n) + ")");
    return static_cast<std::size_t>(count);
}

// The first of a file object's methods named `names` that it has, or None.
nb::object first_method(nb::handle file, std::initializer_list<const char*> names) {
    for (const char* name : names)
        if (nb::object m = nb::getattr(file, name, nb::none()); !m.is_none()) return m;
    return nb::none();
}

// Reads a binary file object into native buffers. readinto1()/read1() first: a buffered stream
// (sys.stdin.buffer, a socket's makefile) then returns what has arrived instead of blocking until
// the whole buffer is full, so records reach the reader as they come.
std::unique_ptr<ByteSource> file_object_source(nb::handle file) {
    nb::object readinto = first_method(file, {"readinto1", "readinto"});
    nb::object read = first_method(file, {"read1", "read"});
    if (read.is_none()) read = file.attr("read");  // raises AttributeError naming what is missing
    return std::make_unique<CallbackSource>([readinto, read](char* dst, std::size_t n) -> std::size_t {
        nb::gil_scoped_acquire acquire;
        if (!readinto.is_none()) {
            PyObject* mv = PyMemoryView_FromMemory(dst, static_cast<Py_ssize_t>(n), PyBUF_WRITE);
            if (!mv) throw nb::python_error();
            nb::object view = nb::steal(mv);
            nb::object got = readinto(view);
            view.attr("release")();
            return checked_count(got, n);
        }
        nb::object chunk = read(n);
        if (chunk.is_none())
            raise_python(PyExc_BlockingIOError,
                         "the file object's read() returned None (no data ready on a non-blocking stream); "
                         "rapidmarc reads blocking streams");
        Py_buffer buf;
        if (PyObject_GetBuffer(chunk.ptr(), &buf, PyBUF_SIMPLE) != 0) {
            PyErr_Clear();
            raise_python(PyExc_TypeError, std::string("the file object's read() returned ") +
                                              Py_TYPE(chunk.ptr())->tp_name + ", not bytes (open the file in binary mode)");
        }
        const auto got = static_cast<std::size_t>(buf.len);
        if (got <= n) std::memcpy(dst, buf.buf, got);
        PyBuffer_Release(&buf);
        if (got > n)
            raise_python(PyExc_OSError, "the file object's read(" + std::to_string(n) + ") returned " +
                                            std::to_string(got) + " bytes");
        return got;
    });
}

}  // namespace

void check_signals() {
    nb::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
}

namespace {

// A stream whose next() lets Python's signal handlers run while it waits for a worker: a reader
// of a pipe that has gone quiet still stops at Ctrl-C, instead of when the next bytes come.
class InterruptibleStream final : public BatchStream {
public:
    explicit InterruptibleStream(std::unique_ptr<BatchStream> inner) : inner_(std::move(inner)) {}
    std::unique_ptr<Batch> next() override {
        while (!inner_->wait_ready(std::chrono::milliseconds(100))) check_signals();
        return inner_->next();
    }
    void recycle(std::unique_ptr<Batch> batch) override { inner_->recycle(std::move(batch)); }
    bool wait_ready(std::chrono::milliseconds timeout) override { return inner_->wait_ready(timeout); }
    void check_rest() override { inner_->check_rest(); }

private:
    std::unique_ptr<BatchStream> inner_;
};

}  // namespace

namespace {

NativeInput open_xml_input(nb::object source, int kind, const PyReadOptions& options,
                           std::function<void(Batch&)> process, bool keep_leaders) {
    NativeInput in;
    MarcXmlOptions xml;
    xml.names = (kind & kXmlSlimOnly)       ? MarcXmlNames::slim_only
                : (kind & kXmlAnyNamespace) ? MarcXmlNames::any
                                            : MarcXmlNames::marc;
    if (keep_leaders) xml.leaders = in.xml_leaders = std::make_shared<XmlLeaderLog>();
    kind &= kKindMask;
    if (kind == kPath) {
        std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            in.stream = std::make_unique<InterruptibleStream>(
                open_marcxml_batches(path, options.core, std::move(process), std::move(xml)));
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
        return in;
    }
    if (kind == kBytes) {
        in.keep = source;
        in.owned = std::make_unique<std::string>();
        in.stream = std::make_unique<InterruptibleStream>(
            open_marcxml_batches_memory(borrow_bytes(source, *in.owned), options.core, std::move(process), std::move(xml)));
        return in;
    }
    in.keep = source;
    in.stream = open_marcxml_batches(file_object_source(source), options.core, std::move(process), std::move(xml));
    return in;
}

NativeInput open_json_input(nb::object source, int kind, const PyReadOptions& options,
                            std::function<void(Batch&)> process, bool keep_leaders) {
    NativeInput in;
    MarcJsonOptions json;
    if (keep_leaders) {
        json.leaders = in.xml_leaders = std::make_shared<XmlLeaderLog>();
        json.originals = in.json_originals = std::make_shared<XmlLeaderLog>();
    }
    kind &= kKindMask;
    if (kind == kPath) {
        std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            in.stream = std::make_unique<InterruptibleStream>(
                open_marcjson_batches(path, options.core, std::move(process), std::move(json)));
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
        return in;
    }
    if (kind == kBytes) {
        in.keep = source;
        in.owned = std::make_unique<std::string>();
        in.stream = std::make_unique<InterruptibleStream>(open_marcjson_batches_memory(
            borrow_bytes(source, *in.owned), options.core, std::move(process), std::move(json)));
        return in;
    }
    in.keep = source;
    in.stream = open_marcjson_batches(file_object_source(source), options.core, std::move(process), std::move(json));
    return in;
}

}  // namespace

NativeInput open_input(nb::object source, int kind, const PyReadOptions& options,
                       std::function<void(Batch&)> process, bool keep_xml_leaders) {
    if (kind & kJson) return open_json_input(std::move(source), kind, options, std::move(process), keep_xml_leaders);
    if (kind & kXml) return open_xml_input(std::move(source), kind, options, std::move(process), keep_xml_leaders);
    NativeInput in;
    if (kind == kPath) {
        std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            in.stream = std::make_unique<InterruptibleStream>(open_batches(path, options.core, std::move(process)));
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
        return in;
    }
    if (kind == kBytes) {  // borrowed, kept alive by holding the object
        in.keep = source;
        in.owned = std::make_unique<std::string>();  // at a stable address: the streams point into it
        in.stream = open_batches_memory(borrow_bytes(source, *in.owned), options.core, std::move(process));
        return in;
    }
    in.keep = source;
    // Smaller reads than a file's 1 MiB: a stream that fails part-way loses at most what one
    // read() call was filling, and every complete record before it is delivered first.
    ReadOptions streamed = options.core;
    streamed.framing.chunk_size = kFileObjectChunk;
    in.stream = open_batches(file_object_source(source), streamed, std::move(process));
    return in;
}

void raise_strict(NativeInput& in, nb::handle error, bool calls_python) {
    const nb::object held = nb::borrow(error);
    if (calls_python) {
        in.stream->check_rest();
    } else {
        nb::gil_scoped_release release;
        in.stream->check_rest();
    }
    raise_error_object(held);
}

}  // namespace rapidmarc::binding
