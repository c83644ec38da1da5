// What the types written against the C API (Field, Record) share: calling into C++ from a slot or
// method (the object locked on a free-threaded Python, C++ exceptions turned into Python errors)
// and parsing the arguments of a METH_FASTCALL | METH_KEYWORDS method.
#pragma once

#include <array>
#include <cstring>

#include "binding.hpp"

namespace rapidmarc::binding {

// Runs fn() on `self` and hands its object to Python, or turns its exception into a Python error.
// On a free-threaded interpreter the object is locked for the call (a per-object critical section:
// lazy materialisation changes its state); with the GIL the guard is a no-op.
template <typename Fn>
PyObject* guarded(PyObject* self, Fn&& fn) noexcept {
    nb::ft_object_guard guard{nb::handle(self)};
    try {
        return fn().release().ptr();
    } catch (...) {
        set_python_error();
        return nullptr;
    }
}

template <typename Fn>
int guarded_int(PyObject* self, Fn&& fn) noexcept {
    nb::ft_object_guard guard{nb::handle(self)};
    try {
        return fn();
    } catch (...) {
        set_python_error();
        return -1;
    }
}

// Positional-or-keyword arguments of a METH_FASTCALL | METH_KEYWORDS call into out[] (borrowed;
// null where not given). Returns false with TypeError set on a bad call.
template <std::size_t N>
bool parse_args(const char* fname, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                const std::array<const char*, N>& names, std::size_t required, std::array<PyObject*, N>& out) {
    out.fill(nullptr);
    if (static_cast<std::size_t>(nargs) > N) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zu arguments (%zd given)", fname, N, nargs);
        return false;
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) out[static_cast<std::size_t>(i)] = args[i];
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
        const char* key = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
        if (!key) return false;
        std::size_t i = 0;
        while (i < N && std::strcmp(names[i], key) != 0) ++i;
        if (i == N) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'", fname, key);
            return false;
        }
        if (out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, key);
            return false;
        }
        out[i] = args[nargs + k];
    }
    for (std::size_t i = 0; i < required; ++i) {
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return false;
        }
    }
    return true;
}

// A METH_FASTCALL function as the PyCFunction a PyMethodDef holds.
template <typename Fn>
PyCFunction cfunction(Fn fn) {
    return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn));
}

// Attributes of the C-API types can be set but not deleted (as pymarc's, which always exist):
// true, with AttributeError set, when `value` is a deletion.
inline bool deletion_refused(PyObject* value, const char* type_name, const char* name) {
    if (value) return false;
    PyErr_Format(PyExc_AttributeError, "cannot delete %s.%s", type_name, name);
    return true;
}

}  // namespace rapidmarc::binding
