// PyReadOptions from Python's ReadOptions: the only place where reading settings cross the binding.
#include "options.hpp"

#include <nanobind/stl/string.h>

namespace rapidmarc::binding {

PyReadOptions decode_options(bool to_unicode, bool force_utf8, std::string_view utf8_handling,
                             std::string file_encoding) {
    PyReadOptions o;
    o.to_unicode = to_unicode;
    o.force_utf8 = force_utf8;
    if (utf8_handling == "strict") o.utf8_handling = Utf8Handling::strict;
    else if (utf8_handling == "replace") o.utf8_handling = Utf8Handling::replace;
    else if (utf8_handling == "ignore") o.utf8_handling = Utf8Handling::ignore;
    else throw nb::value_error("utf8_handling must be 'strict', 'replace' or 'ignore'");
    o.file_encoding = std::move(file_encoding);
    o.latin1_encoding = o.file_encoding == "iso8859-1";
    ParseOptions& po = o.core.parse;
    po.validate_text = o.to_unicode;
    po.force_utf8 = o.force_utf8;
    po.utf8_handling = o.utf8_handling;
    po.validate_marc8 = o.to_unicode && o.latin1_encoding;
    return o;
}

PyReadOptions read_options(nb::handle py) {
    PyReadOptions o = decode_options(nb::cast<bool>(py.attr("to_unicode")), nb::cast<bool>(py.attr("force_utf8")),
                                     nb::cast<std::string>(py.attr("utf8_handling")),
                                     nb::cast<std::string>(py.attr("file_encoding")));
    o.core.parse.detect_encoding = !py.attr("encoding").is_none();  // ReadOptions admits only None and "auto"
    nb::object workers = py.attr("workers");
    o.core.workers = workers.is_none() ? -1 : nb::cast<int>(workers);
    o.core.strict = nb::cast<bool>(py.attr("strict"));
    o.core.framing.recover = nb::cast<bool>(py.attr("recover"));
    o.core.parse.pymarc_marc8 = nb::cast<std::string>(py.attr("marc8_mapping")) == "pymarc";  // or "lc"
    return o;
}

void PyReadOptions::require_native_text(const char* what) const {
    if (to_unicode && !latin1_encoding)
        throw nb::value_error((std::string(what) + " converts MARC-8 and UTF-8 records natively; file_encoding='" +
                               file_encoding + "' needs MARCReader")
                                  .c_str());
}

}  // namespace rapidmarc::binding
