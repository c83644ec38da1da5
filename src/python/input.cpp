// Python sources as native batch streams.
#include "input.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <nanobind/stl/string.h>

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

// Reads a binary file object into native buffers: readinto() when it has one, else read().
std::unique_ptr<ByteSource> file_object_source(nb::handle file) {
    nb::object readinto = nb::getattr(file, "readinto", nb::none());
    nb::object read = file.attr("read");
    return std::make_unique<CallbackSource>([readinto, read](char* dst, std::size_t n) -> std::size_t {
        nb::gil_scoped_acquire acquire;
        if (!readinto.is_none()) {
            PyObject* mv = PyMemoryView_FromMemory(dst, static_cast<Py_ssize_t>(n), PyBUF_WRITE);
            if (!mv) throw nb::python_error();
            nb::object view = nb::steal(mv);
            nb::object got = readinto(view);
            view.attr("release")();
            return got.is_none() ? 0 : nb::cast<std::size_t>(got);
        }
        nb::object chunk = read(n);
        Py_buffer buf;
        if (PyObject_GetBuffer(chunk.ptr(), &buf, PyBUF_SIMPLE) != 0) throw nb::python_error();
        std::size_t got = std::min(static_cast<std::size_t>(buf.len), n);
        std::memcpy(dst, buf.buf, got);
        PyBuffer_Release(&buf);
        return got;
    });
}

}  // namespace

NativeInput open_input(nb::object source, int kind, const PyReadOptions& options,
                       std::function<void(Batch&)> process) {
    NativeInput in;
    if (kind == kPath) {
        std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            in.stream = open_batches(path, options.core, std::move(process));
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
    in.stream = open_batches(file_object_source(source), options.core, std::move(process));
    return in;
}

}  // namespace rapidmarc::binding
