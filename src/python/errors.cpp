// The registered Python classes, and the one path from a native error to pymarc's exception.
#include <nanobind/stl/string.h>

#include "binding.hpp"

namespace rapidmarc::binding {

PyTypes& py_types() {
    static PyTypes types;  // written once by _register, under the GIL, before any use
    return types;
}

const PyTypes& types() {
    const PyTypes& t = py_types();
    if (!t.ready) throw std::runtime_error("rapidmarc._core used before rapidmarc was imported");
    return t;
}

nb::object make_error(ErrorCode code, const std::string& detail, std::uint64_t index, std::uint64_t offset,
                      std::string_view culprit) {
    // Details may quote bad input bytes; never let describing an error raise another one.
    PyObject* text = PyUnicode_DecodeUTF8(detail.data(), static_cast<Py_ssize_t>(detail.size()), "backslashreplace");
    if (!text) throw nb::python_error();
    return types().make_error(std::string(error_name(code)), nb::steal(text), index, offset,
                              nb::bytes(culprit.data(), culprit.size()));
}

nb::object make_error(const Error& error) {
    return make_error(error.code, error.detail, error.record_index, error.byte_offset, error.culprit);
}

[[noreturn]] void raise_error_object(nb::handle err) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(err.ptr())), err.ptr());
    throw nb::python_error();
}

void set_python_error() noexcept {
    try {
        throw;
    } catch (nb::python_error& e) {
        e.restore();
    } catch (const nb::builtin_exception& e) {
        PyObject* type = PyExc_RuntimeError;
        switch (e.type()) {
            case nb::exception_type::stop_iteration: type = PyExc_StopIteration; break;
            case nb::exception_type::index_error: type = PyExc_IndexError; break;
            case nb::exception_type::key_error: type = PyExc_KeyError; break;
            case nb::exception_type::value_error: type = PyExc_ValueError; break;
            case nb::exception_type::type_error: type = PyExc_TypeError; break;
            case nb::exception_type::attribute_error: type = PyExc_AttributeError; break;
            default: break;
        }
        if (*e.what()) PyErr_SetString(type, e.what());
        else PyErr_SetNone(type);
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
    } catch (const std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception in rapidmarc");
    }
}

}  // namespace rapidmarc::binding
