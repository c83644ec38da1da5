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

namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// The code point of the multi-byte sequence at p (*p >= 0x80), checked as Python's strict UTF-8
// decoder checks it (no overlongs, no surrogates, nothing above U+10FFFF, nothing cut off by `end`),
// with p moved past it; or -1, p unchanged.
RAPIDMARC_ALWAYS_INLINE std::int32_t checked_sequence(const unsigned char*& p, const unsigned char* end) noexcept {
    const unsigned lead = p[0];
    const auto cont = [](unsigned char c) noexcept { return (c & 0xC0) == 0x80; };
    const std::ptrdiff_t left = end - p;
    if (lead >= 0xC2 && lead < 0xE0) {
        if (left < 2 || !cont(p[1])) return -1;
        const auto cp = static_cast<std::int32_t>(((lead & 0x1F) << 6) | (p[1] & 0x3F));
        p += 2;
        return cp;
    }
    if (lead >= 0xE0 && lead < 0xF0) {
        if (left < 3 || !cont(p[1]) || !cont(p[2])) return -1;
        const auto cp = static_cast<std::int32_t>(((lead & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F));
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
        p += 3;
        return cp;
    }
    if (lead >= 0xF0 && lead < 0xF5) {
        if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return -1;
        const auto cp = static_cast<std::int32_t>(((lead & 0x07) << 18) | ((p[1] & 0x3F) << 12) |
                                                  ((p[2] & 0x3F) << 6) | (p[3] & 0x3F));
        if (cp < 0x10000 || cp > 0x10FFFF) return -1;
        p += 4;
        return cp;
    }
    return -1;
}

// The code point of a sequence already checked by checked_sequence, p moved past it.
RAPIDMARC_ALWAYS_INLINE Py_UCS4 known_sequence(const unsigned char*& p) noexcept {
    const unsigned lead = p[0];
    if (lead < 0xE0) {
        const Py_UCS4 cp = ((lead & 0x1F) << 6) | (p[1] & 0x3F);
        p += 2;
        return cp;
    }
    if (lead < 0xF0) {
        const Py_UCS4 cp = ((lead & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        p += 3;
        return cp;
    }
    const Py_UCS4 cp = ((lead & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    p += 4;
    return cp;
}

// Writes the characters of checked UTF-8 as Char units.
template <typename Char>
void write_utf8(const unsigned char* p, const unsigned char* end, Char* out) noexcept {
    while (p < end) {
        if constexpr (sizeof(Char) == 1) {  // ASCII runs are copied 8 bytes at a time
            while (end - p >= 8) {
                std::uint64_t word;
                std::memcpy(&word, p, 8);
                if (word & kHighBits) break;
                std::memcpy(out, p, 8);
                p += 8;
                out += 8;
            }
            if (p == end) break;
        }
        if (*p < 0x80) {
            *out++ = static_cast<Char>(*p++);
        } else {
            *out++ = static_cast<Char>(known_sequence(p));
        }
    }
}

}  // namespace

PyObject* str_from_utf8(std::string_view s) {
    const auto* const begin = reinterpret_cast<const unsigned char*>(s.data());
    const unsigned char* const end = begin + s.size();
    // First pass: check the bytes, count the characters and find the largest, which decides the
    // str's kind (1, 2 or 4 bytes a character) exactly as CPython's canonical form requires.
    Py_ssize_t chars = 0;
    std::int32_t max_char = 0;
    for (const unsigned char* p = begin; p < end;) {
        while (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (word & kHighBits) break;
            p += 8;
            chars += 8;
        }
        if (p == end) break;
        if (*p < 0x80) {
            ++p;
        } else {
            const std::int32_t cp = checked_sequence(p, end);
            if (cp < 0) return nullptr;
            if (cp > max_char) max_char = cp;
        }
        ++chars;
    }
    PyObject* o = PyUnicode_New(chars, static_cast<Py_UCS4>(max_char < 0x80 ? 0x7F : max_char));
    if (!o) return nullptr;
    switch (PyUnicode_KIND(o)) {
        case PyUnicode_1BYTE_KIND: write_utf8(begin, end, PyUnicode_1BYTE_DATA(o)); break;
        case PyUnicode_2BYTE_KIND: write_utf8(begin, end, PyUnicode_2BYTE_DATA(o)); break;
        default: write_utf8(begin, end, PyUnicode_4BYTE_DATA(o)); break;
    }
    return o;
}

nb::object decode(std::string_view s, TextEncoding text) {
    PyObject* o = nullptr;
    const auto n = static_cast<Py_ssize_t>(s.size());
    switch (text) {
        case TextEncoding::utf8:
            o = str_from_utf8(s);
            // Not UTF-8 (or no memory): CPython's codec says exactly what is wrong.
            if (!o && !PyErr_Occurred()) o = PyUnicode_DecodeUTF8(s.data(), n, "strict");
            break;
        case TextEncoding::utf8_replace: o = PyUnicode_DecodeUTF8(s.data(), n, "replace"); break;
        case TextEncoding::utf8_ignore: o = PyUnicode_DecodeUTF8(s.data(), n, "ignore"); break;
        case TextEncoding::latin1: o = PyUnicode_DecodeLatin1(s.data(), n, "strict"); break;
        case TextEncoding::bytes: o = PyBytes_FromStringAndSize(s.data(), n); break;
        case TextEncoding::marc8:
        case TextEncoding::marc8_pymarc: {
            std::string utf8;
            append_marc8(s, utf8, text);
            return decode(utf8, TextEncoding::utf8);
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
    // For the tests: the one UTF-8 decoder every value of a UTF-8 record goes through, on any bytes.
    m.def("_decode_utf8", [](nb::bytes data) { return decode({data.c_str(), data.size()}, TextEncoding::utf8); }, "data"_a);
}

}  // namespace rapidmarc::binding
