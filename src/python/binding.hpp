// What the files of the rapidmarc._core binding share: the Python classes registered at import,
// the error path from native errors to pymarc's exceptions, and the bind_* entry points that the
// module file calls. Private to src/python/.
//
// The binding is split by concept, one file each:
//   text.hpp/.cpp      bytes to Python text (pymarc's decoding rules), MARC-8 functions
//   field.hpp/.cpp     PyField: a field as a view of its record's bytes, and its pymarc semantics
//   field_type.cpp     the Field type itself, written against the C API (cheap to create and call)
//   capi.hpp           what the C-API types share: guarded calls, argument parsing
//   record.hpp/.cpp    PyRecord: fields created lazily, title, native JSON/XML export
//   record_type.cpp    the Record type itself, written against the C API (cheap to create and call)
//   as_marc.cpp        Record.as_marc(): writing a record back to ISO 2709
//   options.hpp/.cpp   PyReadOptions: the one reading-options object, from Python's ReadOptions
//   input.hpp/.cpp     sources (paths, bytes-like objects, file objects) as native batch streams
//   reader.cpp         PyReader: MARCReader's native iteration
//   bulk.cpp           count, read_range, parse_records, convert
//   columns.cpp        extract and extract_arrow: selected values as columns (lists, or Arrow
//                      through the PyCapsule interface); extract_arrow_part for rapidmarc.dask
//   ranges.hpp/.cpp    partitions of one input for cluster readers (rapidmarc.dask)
//   module.cpp         NB_MODULE: registration, and one bind_* call per file
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "rapidmarc/rapidmarc.hpp"

namespace rapidmarc::binding {

namespace nb = nanobind;

// Python-side classes, registered once at import by the package (_register).
struct PyTypes {
    nb::object subfield;       // rapidmarc.Subfield (namedtuple)
    nb::object indicators;     // rapidmarc.Indicators (namedtuple)
    nb::object leader;         // rapidmarc.Leader
    nb::object make_error;     // rapidmarc.exceptions._make_error(code, detail, index, offset, culprit)
    nb::object bad_code_warning;  // rapidmarc.BadSubfieldCodeWarning
    nb::object warn;           // warnings.warn (its C implementation)
    std::string package_dir;   // the rapidmarc package's directory, with a trailing separator
    nb::object field_type;     // rapidmarc._core.Field (a C-API type, created at import)
    nb::object raw_field_type; // rapidmarc._core.RawField: Field's subtype for records read with to_unicode=False
    nb::object record_type;    // rapidmarc._core.Record (a C-API type, created at import)
    nb::object record_fields;  // Record.fields, its descriptor (a subclass may override it)
    bool ready = false;
};

// Written once by _register, under the GIL, before any use.
PyTypes& py_types();
// The registered types; throws if the package has not been imported.
const PyTypes& types();

// ---- errors: one path from a native error to the exception pymarc raises
// The exception object (not raised) for a native error, built by rapidmarc.exceptions._make_error.
nb::object make_error(ErrorCode code, const std::string& detail, std::uint64_t index, std::uint64_t offset,
                      std::string_view culprit);
nb::object make_error(const Error& error);
// Raises an exception object.
[[noreturn]] void raise_error_object(nb::handle err);
// Sets the Python error for the C++ exception being handled (for C-API entry points).
void set_python_error() noexcept;

// ---- user-settable sequences (Record.fields, Field.subfields)
// Calls fn(item) for each item of a sequence a user may have assigned: a list, as pymarc makes
// them, or any iterable (pymarc's loops take a tuple too, and raise TypeError for None). Each item
// is held by a strong reference while fn runs, and a list's length is read again at every step:
// fn may run Python code (a tag property, __getitem__, a __del__) that changes the list. fn
// returns false to stop.
template <typename Fn>
void for_each_item(nb::handle seq, Fn&& fn) {
    if (PyList_CheckExact(seq.ptr())) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(seq.ptr()); ++i) {
#ifdef Py_GIL_DISABLED
            PyObject* got = PyList_GetItemRef(seq.ptr(), i);  // another thread may shrink the list
            if (!got) {
                PyErr_Clear();
                return;
            }
            nb::object item = nb::steal(got);
#else
            nb::object item = nb::borrow(PyList_GET_ITEM(seq.ptr(), i));
#endif
            if (!fn(nb::handle(item))) return;
        }
        return;
    }
    nb::object it = nb::steal(PyObject_GetIter(seq.ptr()));
    if (!it.is_valid()) throw nb::python_error();
    while (PyObject* next = PyIter_Next(it.ptr())) {
        nb::object item = nb::steal(next);
        if (!fn(nb::handle(item))) return;
    }
    if (PyErr_Occurred()) throw nb::python_error();
}

// ---- the bind_* entry points, one per file, called by NB_MODULE in module.cpp
void bind_text(nb::module_& m);
void bind_field(nb::module_& m);
void bind_record(nb::module_& m);
void bind_reader(nb::module_& m);
void bind_bulk(nb::module_& m);
void bind_columns(nb::module_& m);
void bind_ranges(nb::module_& m);

}  // namespace rapidmarc::binding
