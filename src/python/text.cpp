// Bytes to Python text, and the text functions of the module (MARC-8 both ways, NCRs, pymarc's
// subfield code rule).
#include "text.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include "rapidmarc/marc8.hpp"
#include "rapidmarc/unicode.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

[[noreturn]] void raise_marc8_error(std::string_view s) {
    PyObject* exc = PyUnicodeDecodeError_Create("marc8_to_unicode", s.data(), static_cast<Py_ssize_t>(s.size()), 0,
                                                static_cast<Py_ssize_t>(s.size()),
                                                "invalid multibyte character encoding");
    if (!exc) throw nb::python_error();
    PyErr_SetObject(PyExc_UnicodeDecodeError, exc);
    Py_DECREF(exc);
    throw nb::python_error();
}

nb::object decode(std::string_view s, TextEncoding text) {
    PyObject* o = nullptr;
    const auto n = static_cast<Py_ssize_t>(s.size());
    switch (text) {
        case TextEncoding::utf8: o = PyUnicode_DecodeUTF8(s.data(), n, "strict"); break;
        case TextEncoding::utf8_replace: o = PyUnicode_DecodeUTF8(s.data(), n, "replace"); break;
        case TextEncoding::utf8_ignore: o = PyUnicode_DecodeUTF8(s.data(), n, "ignore"); break;
        case TextEncoding::latin1: o = PyUnicode_DecodeLatin1(s.data(), n, "strict"); break;
        case TextEncoding::bytes: o = PyBytes_FromStringAndSize(s.data(), n); break;
        case TextEncoding::marc8:
        case TextEncoding::marc8_pymarc: {
            std::string utf8;
            append_marc8(s, utf8, text);
            o = PyUnicode_DecodeUTF8(utf8.data(), static_cast<Py_ssize_t>(utf8.size()), "strict");
            break;
        }
    }
    if (!o) throw nb::python_error();
    return nb::steal(o);
}

nb::str make_str(std::string_view s) {
    PyObject* o = PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
    if (!o) throw nb::python_error();
    return nb::steal<nb::str>(o);
}

nb::object py_slice(nb::handle seq, Py_ssize_t a, Py_ssize_t b) {
    PyObject* o = PySequence_GetSlice(seq.ptr(), a, b);
    if (!o) throw nb::python_error();
    return nb::steal(o);
}

std::string_view utf8_of(nb::handle str) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(str.ptr(), &n);
    if (!p) throw nb::python_error();
    return {p, static_cast<std::size_t>(n)};
}

namespace {

nb::object marc8_to_unicode(nb::bytes data, bool /*hide_utf8_warnings*/, std::string_view marc8_mapping) {
    TextEncoding encoding = TextEncoding::marc8;
    if (marc8_mapping == "pymarc") encoding = TextEncoding::marc8_pymarc;
    else if (marc8_mapping != "lc") throw nb::value_error("marc8_mapping must be 'lc' or 'pymarc'");
    return decode(std::string_view(data.c_str(), data.size()), encoding);
}

// Takes a str (not a string_view, which nanobind refuses with "incompatible function arguments"
// for a str holding a lone surrogate): such a str raises Python's own UnicodeEncodeError here.
nb::bytes unicode_to_marc8(nb::str text, bool lossy) {
    marc8::EncodeOptions eo;
    eo.unmappable = lossy ? marc8::Unmappable::lossy : marc8::Unmappable::ncr;
    std::string out;
    marc8::encode(utf8_of(text), out, eo);
    return nb::bytes(out.data(), out.size());
}

// pymarc's MARC8ToUnicode.translate: the NFC text of `data` decoded from the sets g0/g1, and the
// sets designated where it ended. Input pymarc cannot convert raises TypeError, as pymarc's ord(b"")
// does there; marc8_to_unicode() turns that into UnicodeDecodeError.
nb::tuple marc8_translate(nb::bytes data, unsigned g0, unsigned g1, bool pymarc_mapping) {
    if (g0 > 0xFF || g1 > 0xFF) throw nb::value_error("g0 and g1 are the final bytes of character sets (0-255)");
    marc8::DecodeOptions options;
    options.profile = pymarc_mapping ? marc8::Profile::pymarc : marc8::Profile::lc;
    options.g0 = static_cast<unsigned char>(g0);
    options.g1 = static_cast<unsigned char>(g1);
    std::string out;
    const marc8::DecodeResult r = marc8::decode(std::string_view(data.c_str(), data.size()), out, options);
    if (!r.ok) throw nb::type_error("ord() expected a character, but string of length 0 found");
    if (r.needs_normalization && !unicode::quick_nfc(out)) {
        std::string nfc;
        unicode::append_nfc(out, nfc);
        out.swap(nfc);
    }
    return nb::make_tuple(make_str(out), static_cast<unsigned>(r.g0), static_cast<unsigned>(r.g1));
}

// A MARC-8 set's mapping table as (code, Unicode code point, combining) triples, in code order.
nb::list marc8_code_table(unsigned final, bool pymarc_mapping) {
    nb::list out;
    if (final > 0xFF) return out;
    for (const marc8::CodeMapping& m :
         marc8::code_table(static_cast<unsigned char>(final), pymarc_mapping ? marc8::Profile::pymarc : marc8::Profile::lc))
        out.append(nb::make_tuple(m.code, static_cast<std::uint32_t>(m.ucs), m.combining));
    return out;
}

nb::list marc8_odd_codes() {
    nb::list out;
    for (const marc8::CodeMapping& m : marc8::odd_codes()) out.append(nb::make_tuple(m.code, static_cast<std::uint32_t>(m.ucs)));
    return out;
}

nb::object decode_ncr(nb::str text) {
    std::string_view in = utf8_of(text);
    if (!marc8::contains_ncr(in)) return text;
    std::string out;
    marc8::decode_ncr(in, out);
    return make_str(out);
}

// pymarc's normalize_subfield_code: (code, bytes the code occupies), IndexError when none is found.
nb::tuple normalize_code(nb::bytes piece) {
    NormalizedCode n;
    if (!normalize_subfield_code(std::string_view(piece.c_str(), piece.size()), n))
        throw nb::index_error("string index out of range");  // what pymarc's rule raises
    return nb::make_tuple(make_str({&n.code, 1}), n.skip);
}

}  // namespace

void bind_text(nb::module_& m) {
    m.def("marc8_to_unicode", &marc8_to_unicode, "marc8"_a, "hide_utf8_warnings"_a = false, nb::kw_only(),
          "marc8_mapping"_a = "lc");
    m.def("unicode_to_marc8", &unicode_to_marc8, "text"_a, "lossy"_a = false);
    m.def("decode_ncr", &decode_ncr, "text"_a);
    m.def("marc8_translate", &marc8_translate, "data"_a, "g0"_a, "g1"_a, "pymarc_mapping"_a = false);
    m.def("marc8_code_table", &marc8_code_table, "final"_a, "pymarc_mapping"_a = false);
    m.def("marc8_odd_codes", &marc8_odd_codes);
    m.def("normalize_subfield_code", &normalize_code, "piece"_a);
}

}  // namespace rapidmarc::binding
