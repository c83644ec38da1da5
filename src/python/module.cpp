// rapidmarc._core: the native Record, Field and Reader types and the bulk operations behind the
// pymarc-compatible package. Each concept is bound by its own file (binding.hpp lists them);
// this file registers the package's Python classes and calls the bind_* functions.
#include <system_error>

#include <nanobind/stl/string.h>

#include "rapidmarc/compressed.hpp"
#include "rapidmarc/marcjson.hpp"
#include "rapidmarc/marcxml.hpp"

#include "binding.hpp"

namespace nb = nanobind;
using namespace nb::literals;
using namespace rapidmarc::binding;

namespace {

// The package's Python classes the binding creates objects of, registered once at import.
void register_types(nb::object subfield, nb::object indicators, nb::object leader, nb::object make_error_fn,
                    nb::object bad_code_warning, std::string package_dir) {
    PyTypes& t = py_types();
    t.subfield = std::move(subfield);
    t.indicators = std::move(indicators);
    t.leader = std::move(leader);
    t.make_error = std::move(make_error_fn);
    t.bad_code_warning = std::move(bad_code_warning);
    t.warn = nb::module_::import_("warnings").attr("warn");
    t.package_dir = std::move(package_dir);
    t.ready = true;
}

// Drops the registered classes at interpreter exit so that nothing outlives the module.
void unregister_types() {
    PyTypes& t = py_types();
    t.ready = false;
    t.subfield.reset();
    t.indicators.reset();
    t.leader.reset();
    t.make_error.reset();
    t.bad_code_warning.reset();
    t.warn.reset();
}

// An I/O error of a native source met while reading (a failing disk, a damaged .gz) is an
// OSError with its errno, as Python's own file objects raise it, not a RuntimeError.
void translate_system_error(const std::exception_ptr& p, void*) {
    try {
        std::rethrow_exception(p);
    } catch (const std::system_error& e) {
        nb::object error = nb::steal(PyObject_CallFunction(PyExc_OSError, "is", e.code().value(), e.what()));
        if (!error.is_valid()) return;  // the call failed and set its own error
        PyErr_SetObject(PyExc_OSError, error.ptr());
    } catch (const rapidmarc::XmlError& e) {
        // MARCXML that is not well-formed: rapidmarc.exceptions.XMLParseError, a SAXParseException
        // with the position, as Python's SAX parser raises it.
        try {
            nb::object cls = nb::module_::import_("rapidmarc.exceptions").attr("XMLParseError");
            nb::object error = cls(e.reason(), e.line(), e.column(), e.record_index());
            PyErr_SetObject(cls.ptr(), error.ptr());
        } catch (nb::python_error& raised) {
            raised.restore();
        }
    } catch (const rapidmarc::JsonError& e) {
        // MARC-in-JSON that is not well-formed: rapidmarc.exceptions.JSONParseError, a
        // json.JSONDecodeError with the position, as Python's json module raises it.
        try {
            nb::object cls = nb::module_::import_("rapidmarc.exceptions").attr("JSONParseError");
            nb::object error = cls(e.reason(), e.line(), e.column(), e.position(), e.record_index());
            PyErr_SetObject(cls.ptr(), error.ptr());
        } catch (nb::python_error& raised) {
            raised.restore();
        }
    }
}

}  // namespace

NB_MODULE(_core, m) {
    m.doc() = "Native core of rapidmarc (see the rapidmarc package for the public API).";
    // Records that user code leaves in reference cycles at interpreter exit are not collected by
    // CPython; nanobind would report them as leaks although nothing is wrong.
    nb::set_leak_warnings(false);
    m.def("_register", &register_types, "subfield"_a, "indicators"_a, "leader"_a, "make_error"_a, "bad_code_warning"_a,
          "package_dir"_a);
    m.def("_unregister", &unregister_types);
    nb::register_exception_translator(translate_system_error);
    m.def("gzip_supported", &rapidmarc::gzip_supported);  // True when this build reads gzip input (zlib)
    m.def("marcxml_supported", &rapidmarc::marcxml_supported);  // True when this build reads MARCXML (expat)
    bind_text(m);
    bind_field(m);
    bind_record(m);
    bind_reader(m);
    bind_bulk(m);
    bind_columns(m);
    bind_ranges(m);
}
