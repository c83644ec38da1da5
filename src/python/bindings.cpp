// rapidmarc._core: the native Record, Field and Reader types behind the pymarc-compatible API.
//
// Laziness is the design. A Record read from a file keeps its raw bytes (a Python bytes object)
// and the parser's directory entries; Field objects are created only when Python first touches
// the record's fields, and each Field starts as a view (owner bytes, offset, length) that answers
// value(), get(), str() and friends straight from the bytes. Only when Python asks for the
// mutable parts (subfields, indicators, data) does a Field build Subfield tuples; from then on
// those Python objects are the truth and are what as_marc() writes.
//
// Reading happens in batches with the GIL released: the reader frames and parses up to 1 MiB of
// records natively, then hands them out one by one. A Python file object is read with readinto()
// under the GIL, in 1 MiB chunks; a path is read entirely natively.
//
// Python classes the binding needs (Subfield, Indicators, Leader, the exception factory) are
// registered once by the package at import time (_register).
#include <Python.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "rapidmarc/marc8.hpp"
#include "rapidmarc/rapidmarc.hpp"
#include "rapidmarc/unicode.hpp"

namespace nb = nanobind;
using namespace nb::literals;
using rapidmarc::ErrorCode;
using rapidmarc::FieldEntry;

namespace {

// ---------------------------------------------------------------------------------------------
// Python-side classes, registered once at import.
struct PyTypes {
    nb::object subfield;       // rapidmarc.Subfield (namedtuple)
    nb::object indicators;     // rapidmarc.Indicators (namedtuple)
    nb::object leader;         // rapidmarc.Leader
    nb::object make_error;     // rapidmarc.exceptions._make_error(code, detail, index, offset, culprit)
    nb::object subfield_code;  // rapidmarc.field._normalize_subfield_code(piece) -> (code, skip)
    nb::object field_type;     // rapidmarc._core.Field (a C-API type, created at import)
    nb::object record_type;    // rapidmarc._core.Record (bound at import; cached to skip nanobind's type lookup)
    bool ready = false;
};

PyTypes& py_types() {
    static PyTypes types;  // written once by _register, under the GIL, before any use
    return types;
}

const PyTypes& types() {
    const PyTypes& t = py_types();
    if (!t.ready) throw std::runtime_error("rapidmarc._core used before rapidmarc was imported");
    return t;
}

// How a field's bytes become Python values (pymarc's decode_marc rules).
enum class Text : std::uint8_t {
    utf8_strict,   // validated at parse time, cannot fail
    utf8_replace,
    utf8_ignore,
    latin1,        // ISO 8859-1: control fields of MARC-8 records, as pymarc decodes them
    marc8,         // MARC-8 subfield text: converted natively and NFC-normalised, as pymarc does
    bytes,         // to_unicode=False
};

// pymarc's exception for MARC-8 it cannot convert (marc8_to_unicode turns its IndexError into this).
[[noreturn]] void raise_marc8_error(std::string_view s) {
    PyObject* exc = PyUnicodeDecodeError_Create("marc8_to_unicode", s.data(), static_cast<Py_ssize_t>(s.size()), 0,
                                                static_cast<Py_ssize_t>(s.size()),
                                                "invalid multibyte character encoding");
    if (!exc) throw nb::python_error();
    PyErr_SetObject(PyExc_UnicodeDecodeError, exc);
    Py_DECREF(exc);
    throw nb::python_error();
}

// MARC-8 bytes as UTF-8 text (NFC), appended to out.
void append_marc8(std::string_view s, std::string& out) {
    if (!rapidmarc::append_text(s, rapidmarc::TextEncoding::marc8, out)) raise_marc8_error(s);
}

// A str from bytes known to be ASCII: no decoding scan.
nb::object ascii_str(std::string_view s) {
    PyObject* o = PyUnicode_New(static_cast<Py_ssize_t>(s.size()), 127);
    if (!o) throw nb::python_error();
    if (!s.empty()) std::memcpy(PyUnicode_DATA(o), s.data(), s.size());
    return nb::steal(o);
}

// decode() for bytes of a field the parser found to be ASCII (UTF-8 and Latin-1 text are then
// the bytes themselves; MARC-8 may still hold escapes and controls).
nb::object decode(std::string_view s, Text text);
nb::object decode_known(std::string_view s, Text text, bool ascii) {
    if (ascii && text != Text::marc8 && text != Text::bytes) return ascii_str(s);
    return decode(s, text);
}

nb::object decode(std::string_view s, Text text) {
    PyObject* o = nullptr;
    const auto n = static_cast<Py_ssize_t>(s.size());
    switch (text) {
        case Text::utf8_strict: o = PyUnicode_DecodeUTF8(s.data(), n, "strict"); break;
        case Text::utf8_replace: o = PyUnicode_DecodeUTF8(s.data(), n, "replace"); break;
        case Text::utf8_ignore: o = PyUnicode_DecodeUTF8(s.data(), n, "ignore"); break;
        case Text::latin1: o = PyUnicode_DecodeLatin1(s.data(), n, "strict"); break;
        case Text::bytes: o = PyBytes_FromStringAndSize(s.data(), n); break;
        case Text::marc8: {
            std::string utf8;
            append_marc8(s, utf8);
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

// seq[a:b], with Python's clamping.
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

// Python's str.isspace() for the characters that can end a stripped value. Bytes-level stripping
// handles ASCII; anything else at an edge sends the caller to the exact (Python) path.
constexpr bool is_ascii_strip(char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

RAPIDMARC_ALWAYS_INLINE std::string_view strip_ascii(std::string_view s) noexcept {
    while (!s.empty() && is_ascii_strip(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ascii_strip(s.back())) s.remove_suffix(1);
    return s;
}

// After ASCII stripping, may a non-ASCII whitespace character sit at an edge?
bool edges_uncertain(std::string_view s, Text text) noexcept {
    if (s.empty()) return false;
    const auto f = static_cast<unsigned char>(s.front()), b = static_cast<unsigned char>(s.back());
    if (text == Text::latin1) return f == 0x85 || f == 0xa0 || b == 0x85 || b == 0xa0;
    return f >= 0x80 || b >= 0x80;
}

// Builds short texts on the stack (most fields are short), spilling to the heap when needed.
class Scratch {
public:
    void append(std::string_view s) {
        if (!spilled_ && len_ + s.size() <= sizeof(stack_)) {
            if (!s.empty()) std::memcpy(stack_ + len_, s.data(), s.size());
            len_ += s.size();
            return;
        }
        if (!spilled_) {
            heap_.assign(stack_, len_);
            spilled_ = true;
        }
        heap_.append(s);
    }
    void push_back(char c) { append({&c, 1}); }
    std::string_view view() const { return spilled_ ? std::string_view(heap_) : std::string_view(stack_, len_); }

private:
    char stack_[1024];
    std::size_t len_ = 0;
    bool spilled_ = false;
    std::string heap_;
};

nb::object call_strip(nb::handle value) { return value.attr("strip")(); }

// ---------------------------------------------------------------------------------------------
struct Field {
    std::string tag;    // UTF-8 copy for fast comparisons
    nb::object tag_obj; // cached Python str
    bool control = false;

    // Raw state: a view of the record's bytes.
    nb::object owner;   // bytes object; null once materialised
    std::uint32_t off = 0, len = 0;
    bool ascii = false;  // the raw bytes are all ASCII (from the parser)
    Text text = Text::utf8_strict;

    // Materialised state (pymarc's attributes).
    nb::object subfields;   // list of Subfield
    nb::object indicators;  // Indicators, or None for control fields
    nb::object data;        // control data, or None

    Field() = default;
    // A raw field: `len` bytes at `off` in the record's bytes `owner`.
    Field(std::string_view tag_bytes, nb::handle owner_bytes, std::uint32_t offset, std::uint32_t length,
          bool all_ascii, Text record_text, Text control_text)
        : tag(tag_bytes),
          control(rapidmarc::is_control_tag(tag_bytes)),
          owner(nb::borrow(owner_bytes)),
          off(offset),
          len(length),
          ascii(all_ascii),
          text(control ? control_text : record_text) {}

    bool is_raw() const noexcept { return owner.is_valid(); }
    std::string_view raw() const noexcept {
        return {PyBytes_AS_STRING(owner.ptr()) + off, len};
    }
    rapidmarc::FieldView view() const noexcept { return {tag, raw()}; }

    nb::object tag_str() {
        if (!tag_obj.is_valid()) tag_obj = make_str(tag);
        return tag_obj;
    }

    // Builds pymarc's Python objects from the bytes; decode_value(bytes, is_control) makes a value.
    // A non-ASCII subfield code is normalised (with a warning) as pymarc does.
    template <typename DecodeValue>
    void materialize_with(DecodeValue&& decode_value) {
        if (!is_raw()) return;
        const PyTypes& t = types();
        if (control) {
            data = decode_value(raw(), true);
            indicators = nb::none();
            subfields = nb::list();
        } else {
            auto v = view();
            char i1 = v.indicator1(), i2 = v.indicator2();
            nb::list list;
            for (const auto& sf : v.subfields()) {
                nb::object code;
                std::string_view value = sf.value;
                if (!sf.normalized && static_cast<unsigned char>(sf.code) < 0x80) {
                    code = make_str({&sf.code, 1});
                } else {
                    // pymarc's rule through Python, which also warns (BadSubfieldCodeWarning) and
                    // raises IndexError when no code can be found.
                    const std::string_view piece = sf.piece();
                    nb::tuple norm = nb::borrow<nb::tuple>(t.subfield_code(nb::bytes(piece.data(), piece.size())));
                    code = norm[0];
                    value = piece.substr(std::min(nb::cast<std::size_t>(norm[1]), piece.size()));
                }
                list.append(t.subfield(code, decode_value(value, false)));
            }
            indicators = t.indicators(make_str({&i1, 1}), make_str({&i2, 1}));
            subfields = std::move(list);
            data = nb::none();
        }
        owner.reset();
    }

    void materialize() {
        materialize_with([this](std::string_view bytes, bool) { return decode_known(bytes, text, ascii); });
    }
};

// The Python object of a Field (the type itself is created at import: create_field_type).
struct FieldObject {
    PyObject_HEAD
    Field field;
};

Field& field_of(PyObject* self) noexcept { return reinterpret_cast<FieldObject*>(self)->field; }

// Iterates (code, value) over either state; value objects are produced on demand.
template <typename Fn>
void for_each_subfield(Field& f, Fn&& fn) {
    if (f.control) return;
    if (f.is_raw()) {
        for (const auto& sf : f.view().subfields()) {
            if (!fn(std::string_view(&sf.code, 1), [&] { return decode_known(sf.value, f.text, f.ascii); })) return;
        }
        return;
    }
    nb::list list = nb::borrow<nb::list>(f.subfields);
    for (nb::handle item : list) {
        nb::object code = item[0];
        std::string_view c = nb::isinstance<nb::str>(code) ? utf8_of(code) : std::string_view{};
        nb::object value = item[1];
        if (!fn(c, [&] { return value; })) return;
    }
}

bool code_matches(std::string_view sub_code, nb::handle wanted) {
    if (!nb::isinstance<nb::str>(wanted)) return false;
    return sub_code == utf8_of(wanted);
}

// First value of subfield `code`, or an invalid object.
nb::object field_find(Field& f, std::string_view code) {
    nb::object found;
    for_each_subfield(f, [&](std::string_view c, auto value) {
        if (c != code) return true;
        found = value();
        return false;
    });
    return found;
}

nb::object field_get(Field& f, nb::handle code, nb::handle dflt) {
    nb::object found = nb::isinstance<nb::str>(code) ? field_find(f, utf8_of(code)) : nb::object();
    return found.is_valid() ? found : nb::borrow(dflt);
}

// value(): subfield values, each stripped, joined by one space.
nb::object field_value(Field& f) {
    if (f.control) {
        if (f.is_raw()) return decode_known(f.raw(), f.text, f.ascii);
        return f.data.is_none() ? nb::object(make_str("")) : f.data;
    }
    if (f.is_raw() && f.ascii && f.text != Text::marc8 && f.text != Text::bytes) {
        // All ASCII (the parser said so): text is bytes, str.strip() strips ASCII whitespace only,
        // and the str is written in place, sized from the stripped pieces.
        // Uninitialised on purpose: only the first `count` entries are ever read.
        const char* starts[32];
        std::size_t sizes[32];
        std::size_t count = 0, total = 0;
        bool fits = true;
        for (const auto& sf : f.view().subfields()) {
            if (count == std::size(starts)) {
                fits = false;
                break;
            }
            const std::string_view v = strip_ascii(sf.value);
            starts[count] = v.data();
            sizes[count++] = v.size();
            total += v.size();
        }
        if (fits) {
            if (count > 1) total += count - 1;
            PyObject* o = PyUnicode_New(static_cast<Py_ssize_t>(total), 127);
            if (!o) throw nb::python_error();
            char* out = static_cast<char*>(PyUnicode_DATA(o));
            for (std::size_t k = 0; k < count; ++k) {
                if (k) *out++ = ' ';
                if (sizes[k]) std::memcpy(out, starts[k], sizes[k]);
                out += sizes[k];
            }
            return nb::steal(o);
        }
    }
    if (f.is_raw() && f.text == Text::marc8) {
        // Each subfield is its own MARC-8 string (fresh escape state), as pymarc decodes them.
        std::string joined, piece;
        bool first = true;
        for (const auto& sf : f.view().subfields()) {
            piece.clear();
            append_marc8(sf.value, piece);
            if (!first) joined.push_back(' ');
            first = false;
            joined.append(rapidmarc::strip_python_whitespace(piece));
        }
        return decode(joined, Text::utf8_strict);
    }
    if (f.is_raw() && f.text != Text::bytes) {
        // The first piece is only copied once a second one appears: a single subfield (the common
        // case) is decoded straight from the record's bytes.
        Scratch buf;
        std::string_view first;
        std::size_t count = 0;
        bool exact = true;
        for (const auto& sf : f.view().subfields()) {
            // Validated UTF-8 is stripped exactly as str.strip() would; other text only of ASCII
            // whitespace, leaving non-ASCII edges to the Python path.
            std::string_view v = f.text == Text::utf8_strict ? rapidmarc::strip_python_whitespace(sf.value)
                                                             : strip_ascii(sf.value);
            if (f.text != Text::utf8_strict && edges_uncertain(v, f.text)) {
                exact = false;
                break;
            }
            if (count == 0) {
                first = v;
            } else {
                if (count == 1) buf.append(first);
                buf.push_back(' ');
                buf.append(v);
            }
            ++count;
        }
        if (exact) return decode_known(count <= 1 ? first : buf.view(), f.text, f.ascii);
    }
    f.materialize();
    nb::list parts;
    for (nb::handle item : nb::borrow<nb::list>(f.subfields)) parts.append(call_strip(item[1]));
    return make_str(" ").attr("join")(parts);
}

// format_field(): like value() but skips $6, puts " -- " before subject subdivisions and strips
// only the ends.
nb::object field_format(Field& f) {
    if (f.control) return field_value(f);
    const bool subject = !f.tag.empty() && f.tag[0] == '6';
    auto is_subdivision = [](std::string_view c) { return c == "v" || c == "x" || c == "y" || c == "z"; };
    if (f.is_raw() && f.text == Text::marc8) {
        std::string buf;
        for (const auto& sf : f.view().subfields()) {
            std::string_view c(&sf.code, 1);
            if (c == "6") continue;
            buf.append(subject && is_subdivision(c) ? " -- " : " ");
            append_marc8(sf.value, buf);
        }
        return decode(rapidmarc::strip_python_whitespace(buf), Text::utf8_strict);
    }
    if (f.is_raw() && f.text != Text::bytes) {
        Scratch buf;
        for (const auto& sf : f.view().subfields()) {
            std::string_view c(&sf.code, 1);
            if (c == "6") continue;
            buf.append(subject && is_subdivision(c) ? " -- " : " ");
            buf.append(sf.value);
        }
        if (f.text == Text::utf8_strict) return decode_known(rapidmarc::strip_python_whitespace(buf.view()), f.text, f.ascii);
        std::string_view s = strip_ascii(buf.view());
        if (!edges_uncertain(s, f.text)) return decode(s, f.text);
    }
    f.materialize();
    nb::list parts;
    for (nb::handle item : nb::borrow<nb::list>(f.subfields)) {
        nb::object code = item[0];
        std::string_view c = nb::isinstance<nb::str>(code) ? utf8_of(code) : std::string_view{};
        if (c == "6") continue;
        parts.append(make_str(subject && is_subdivision(c) ? " -- " : " "));
        parts.append(item[1]);
    }
    return call_strip(make_str("").attr("join")(parts));
}

// str(field): MARCMaker-style text, blanks shown as backslashes.
nb::object field_str(Field& f) {
    if (f.is_raw() && f.text != Text::bytes) {
        Scratch buf;
        buf.append("=");
        buf.append(f.tag);
        buf.append("  ");
        if (f.control) {
            for (char c : f.raw()) buf.push_back(c == ' ' ? '\\' : c);
        } else {
            auto v = f.view();
            for (char c : {v.indicator1(), v.indicator2()}) buf.push_back(c == ' ' || c == '\\' ? '\\' : c);
            for (const auto& sf : v.subfields()) {
                buf.push_back('$');
                buf.push_back(sf.code);
                if (f.text == Text::marc8) {
                    std::string piece;
                    append_marc8(sf.value, piece);
                    buf.append(piece);
                } else {
                    buf.append(sf.value);
                }
            }
        }
        // The prefix is ASCII, so decoding the whole text equals decoding the data alone.
        return decode(buf.view(), f.text == Text::marc8 ? Text::utf8_strict : f.text);
    }
    f.materialize();
    nb::object tag = f.tag_str();
    if (f.control) {
        nb::object d = f.data.is_none() ? nb::object(make_str("")) : f.data.attr("replace")(" ", "\\");
        return nb::str("={}  {}").format(tag, d);
    }
    nb::list parts;
    for (nb::handle ind : f.indicators) {
        nb::object s = nb::str(ind);
        std::string_view sv = utf8_of(s);
        parts.append(sv == " " || sv == "\\" ? nb::object(make_str("\\")) : s);
    }
    for (nb::handle item : nb::borrow<nb::list>(f.subfields)) parts.append(nb::str("${}{}").format(item[0], item[1]));
    return nb::str("={}  {}").format(tag, make_str("").attr("join")(parts));
}

// pymarc's tag rule: digit strings are zero-padded to three, others kept.
std::string normalize_tag(nb::handle tag, nb::object& tag_obj) {
    if (nb::isinstance<nb::str>(tag)) {
        nb::str s = nb::borrow<nb::str>(tag);
        if (nb::cast<bool>(s.attr("isdigit")()) && nb::len(s) != 3) {
            tag_obj = nb::str("{:03}").format(nb::int_(s));
        } else {
            tag_obj = s;
        }
    } else {
        try {
            tag_obj = nb::str("{:03}").format(nb::int_(tag));
        } catch (nb::python_error&) {
            tag_obj = nb::str(tag);
        }
    }
    return std::string(utf8_of(tag_obj));
}

void set_indicators(Field& f, nb::handle value) {
    f.materialize();
    const bool seq = PyList_Check(value.ptr()) || PyTuple_Check(value.ptr());
    if (seq && nb::len(value) != 2)
        throw nb::value_error("The indicators input no longer accepts an iterable of arbitrary length. "
                              "Use the Indicators() named tuple instead.");
    if (value.is_none()) return;
    if (nb::isinstance(value, types().indicators)) {
        f.indicators = nb::borrow(value);
    } else {
        nb::object it = nb::borrow(value);
        f.indicators = types().indicators(*it);
    }
}

nb::object field_indicator(Field& f, int which) {
    if (f.control) return make_str("");
    if (f.is_raw()) {
        char c = which == 0 ? f.view().indicator1() : f.view().indicator2();
        return make_str({&c, 1});
    }
    if (f.indicators.is_none()) return make_str("");
    return f.indicators[which];
}

// The character encoding a record is written in.
enum class Out : std::uint8_t { latin1, utf8, marc8 };

bool canonical_data_field(const Field& f) {
    // Bytes are copied unchanged only when they are what pymarc would write back: exactly two
    // indicators and no empty subfields.
    const auto v = f.view();
    const std::string_view data = f.raw();
    return v.indicator_bytes().size() == 2 && data.find("\x1f\x1f") == std::string_view::npos &&
           (data.empty() || data.back() != '\x1f');
}

// Encodes one field's data (without its terminator) into the builder, copying bytes unchanged
// where the raw bytes already are what would be written.
void encode_field(rapidmarc::RecordBuilder& b, Field& f, Out out) {
    auto encode = [&](nb::handle value, bool control) {
        if (PyBytes_Check(value.ptr())) {  // to_unicode=False values are written as they are
            b.append(std::string_view(PyBytes_AS_STRING(value.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(value.ptr()))));
            return;
        }
        nb::object s = nb::str(value);
        if (out == Out::utf8) {
            b.append(utf8_of(s));
        } else if (out == Out::marc8 && !control) {
            std::string m;
            rapidmarc::marc8::encode(utf8_of(s), m);
            b.append(m);
        } else {
            PyObject* enc = PyUnicode_AsLatin1String(s.ptr());
            if (!enc) throw nb::python_error();
            nb::object e = nb::steal(enc);
            b.append(std::string_view(PyBytes_AS_STRING(enc), static_cast<std::size_t>(PyBytes_GET_SIZE(enc))));
        }
    };
    if (f.is_raw()) {
        bool same = false;
        switch (f.text) {
            case Text::bytes: same = true; break;
            case Text::utf8_strict: same = out == Out::utf8; break;
            case Text::utf8_replace:
            case Text::utf8_ignore: same = out == Out::utf8 && rapidmarc::is_valid_utf8(f.raw()); break;
            case Text::latin1: same = out != Out::utf8; break;  // control fields of MARC-8 records
            case Text::marc8: same = out == Out::marc8; break;
        }
        if (same && (f.control || canonical_data_field(f))) {
            b.append(f.raw());
            return;
        }
        if (f.text == Text::marc8 && out == Out::utf8 && canonical_data_field(f)) {
            // MARC-8 to UTF-8 natively, subfield by subfield, without Python objects.
            const auto v = f.view();
            std::string utf8(v.indicator_bytes());
            bool ascii_codes = true;
            for (const auto& sf : v.subfields()) {
                ascii_codes = ascii_codes && static_cast<unsigned char>(sf.code) < 0x80;
                utf8.push_back(rapidmarc::kSubfieldDelimiter);
                utf8.push_back(sf.code);
                append_marc8(sf.value, utf8);
            }
            if (ascii_codes) {
                b.append(utf8);
                return;
            }
        }
        f.materialize();
    }
    if (f.control) {
        if (f.data.is_none()) b.append(std::string_view("None"));
        else encode(f.data, true);
        return;
    }
    nb::object ind = f.indicators;
    encode(ind.is_none() ? nb::object(make_str("")) : nb::object(ind[0]), true);
    encode(ind.is_none() ? nb::object(make_str("")) : nb::object(ind[1]), true);
    for (nb::handle item : nb::borrow<nb::list>(f.subfields)) {
        b.append(rapidmarc::kSubfieldDelimiter);
        encode(item[0], true);
        encode(item[1], false);
    }
}

// ---------------------------------------------------------------------------------------------
struct Record {
    nb::object raw;                  // original bytes (None for records built in Python)
    std::vector<FieldEntry> entries; // parsed directory, used until fields are materialised
    Text text = Text::utf8_strict;
    Text control_text = Text::utf8_strict;
    bool to_unicode = true;
    bool force_utf8 = false;
    nb::object fields;               // list of Field, once materialised
    nb::object leader;               // Leader object (or whatever the user assigned)

    nb::object& field_list() {
        if (!fields.is_valid()) {
            PyObject* list = PyList_New(static_cast<Py_ssize_t>(entries.size()));
            if (!list) throw nb::python_error();
            nb::object owned = nb::steal(list);
            auto* type = reinterpret_cast<PyTypeObject*>(types().field_type.ptr());
            Py_ssize_t i = 0;
            for (const FieldEntry& e : entries) {
                // The exact Field type is neither GC-tracked nor has a __dict__: its object needs
                // no zero-filling allocation (tp_alloc), only memory, a header and the Field
                // constructed in place. Field's tp_free (PyObject_Free) releases it.
                void* mem = PyObject_Malloc(sizeof(FieldObject));
                if (!mem) {
                    PyErr_NoMemory();
                    throw nb::python_error();
                }
                PyObject* obj = PyObject_Init(static_cast<PyObject*>(mem), type);
                new (&reinterpret_cast<FieldObject*>(obj)->field)
                    Field(e.tag_view(), raw, e.offset, e.length, e.ascii, text, control_text);
                PyList_SET_ITEM(list, i++, obj);
            }
            fields = std::move(owned);
            entries = {};
        }
        return fields;
    }

    nb::object& leader_obj() {
        if (!leader.is_valid()) {
            std::string_view bytes(PyBytes_AS_STRING(raw.ptr()), rapidmarc::kLeaderLength);
            leader = types().leader(decode(bytes, Text::latin1));
        }
        return leader;
    }
};

// Our Field behind `obj` (exact type checked first: the general check looks the type up), or null.
Field* as_field(nb::handle obj) {
    auto* type = reinterpret_cast<PyTypeObject*>(types().field_type.ptr());
    if (Py_TYPE(obj.ptr()) == type || PyObject_TypeCheck(obj.ptr(), type))
        return &reinterpret_cast<FieldObject*>(obj.ptr())->field;
    return nullptr;
}

// Tag of a field object, fast for our Field type.
bool tag_equals(nb::handle field, std::string_view tag) {
    if (Field* f = as_field(field)) return f->tag == tag;
    nb::object t = field.attr("tag");
    return nb::isinstance<nb::str>(t) && utf8_of(t) == tag;
}

nb::object record_get(Record& r, std::string_view tag, nb::handle dflt) {
    for (nb::handle f : nb::borrow<nb::list>(r.field_list()))
        if (tag_equals(f, tag)) return nb::borrow(f);
    return nb::borrow(dflt);
}

// pymarc's title rule for 245 and 222: $a, then " " and $b when both are non-empty. Native
// because `record.title` sits on the hot path of most scripts.
nb::object title_of(Record& r, std::string_view tag) {
    if (!r.fields.is_valid() && r.raw.is_valid() && !rapidmarc::is_control_tag(tag)) {
        // Fields not created yet: answer from the bytes, creating no Field object.
        const std::string_view bytes(PyBytes_AS_STRING(r.raw.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(r.raw.ptr())));
        for (const FieldEntry& e : r.entries) {
            if (e.tag_view() != tag) continue;
            const rapidmarc::FieldView v(tag, bytes.substr(e.offset, e.length));
            std::optional<std::string_view> a, b;
            for (const auto& sf : v.subfields()) {
                if (sf.code == 'a' && !a) a = sf.value;
                else if (sf.code == 'b' && !b) b = sf.value;
            }
            if (!a) return nb::none();
            if (r.text == Text::utf8_strict || r.text == Text::latin1) {
                // Here a value is empty exactly when its bytes are: join the bytes, decode once.
                if (a->empty() || !b || b->empty()) return decode_known(*a, r.text, e.ascii);
                Scratch joined;
                joined.append(*a);
                joined.push_back(' ');
                joined.append(*b);
                return decode_known(joined.view(), r.text, e.ascii);
            }
            nb::object title = decode_known(*a, r.text, e.ascii);
            if (!nb::bool_(title) || !b) return title;
            nb::object subtitle = decode_known(*b, r.text, e.ascii);
            if (!nb::bool_(subtitle)) return title;
            return title + (make_str(" ") + subtitle);
        }
        return nb::none();
    }
    nb::object field = record_get(r, tag, nb::none());
    if (field.is_none()) return nb::none();
    nb::object title, subtitle;
    if (Field* fp = as_field(field)) {
        Field& f = *fp;
        title = field_find(f, "a");
        if (!title.is_valid()) return nb::none();
        if (!nb::bool_(title)) return title;
        subtitle = field_find(f, "b");
    } else {
        title = field.attr("get")("a");
        if (!nb::bool_(title)) return title;
        subtitle = field.attr("get")("b");
    }
    if (!subtitle.is_valid() || !nb::bool_(subtitle)) return title;
    return title + (make_str(" ") + nb::str(subtitle));
}

// MARC-in-JSON / MARCXML of a record written natively from its bytes (export.hpp), or None when
// only the Python path can write it exactly: fields already created (they may have been edited),
// to_unicode=False (pymarc cannot write bytes as JSON either), or a value that does not convert
// (the Python path then raises what pymarc raises).
template <typename Write>
nb::object record_export(Record& r, bool as_bytes, Write&& write) {
    if (!r.raw.is_valid() || r.fields.is_valid()) return nb::none();
    rapidmarc::ExportOptions options;
    switch (r.text) {
        case Text::utf8_strict:
        case Text::utf8_replace:
        case Text::utf8_ignore: options.encoding = rapidmarc::TextEncoding::utf8; break;
        case Text::marc8: options.encoding = rapidmarc::TextEncoding::marc8; break;
        case Text::latin1: options.encoding = rapidmarc::TextEncoding::latin1; break;
        case Text::bytes: return nb::none();
    }
    // export.hpp decodes control fields of UTF-8 records as UTF-8 and all others as ISO 8859-1.
    const Text control = options.encoding == rapidmarc::TextEncoding::utf8 ? Text::utf8_strict : Text::latin1;
    if (r.control_text != control) return nb::none();
    nb::object leader;  // keeps the leader text alive while it is written
    if (r.leader.is_valid()) {  // the Leader object exists and may have been changed
        leader = nb::str(r.leader);
        options.leader = utf8_of(leader);
        if (options.leader.empty()) return nb::none();
    }
    const std::string_view bytes(PyBytes_AS_STRING(r.raw.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(r.raw.ptr())));
    std::string out;
    if (write(rapidmarc::RecordView(bytes, r.entries), options, out) != ErrorCode::ok) return nb::none();
    if (as_bytes) return nb::bytes(out.data(), out.size());
    return make_str(out);
}

// pymarc's as_marc(): with to_unicode the leader says UTF-8 and UTF-8 is written. rapidmarc adds
// encoding="utf-8" / "marc8" to write a record in that encoding whatever it was read as.
nb::bytes record_as_marc(Record& r, nb::object encoding) {
    nb::object& leader = r.leader_obj();
    std::optional<Out> forced;
    if (!encoding.is_none()) {
        std::string e = nb::cast<std::string>(encoding);
        for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (e == "marc8" || e == "marc-8") forced = Out::marc8;
        else if (e == "utf-8" || e == "utf8") forced = Out::utf8;
        else throw nb::value_error("as_marc(encoding=...) takes 'utf-8' or 'marc8'");
    }
    if ((r.to_unicode && !forced) || forced) {
        const char* scheme = forced == Out::marc8 ? " " : "a";
        if (nb::isinstance(leader, types().leader)) {
            leader.attr("coding_scheme") = scheme;
        } else {
            nb::object s = nb::str(leader);
            leader = py_slice(s, 0, 9) + make_str(scheme) + py_slice(s, 10, PY_SSIZE_T_MAX);
        }
    }
    std::string leader_text(utf8_of(nb::str(leader)));
    const Out target = forced ? *forced
                    : (leader_text.size() > 9 && leader_text[9] == 'a') || r.force_utf8 ? Out::utf8
                                                                                       : Out::latin1;
    rapidmarc::RecordBuilder b;
    b.reset(leader_text);
    for (nb::handle h : nb::borrow<nb::list>(r.field_list())) {
        Field* fp = as_field(h);
        if (!fp) throw nb::type_error("Record.fields must hold rapidmarc.Field objects");
        nb::ft_object_guard field_guard(h);
        Field& f = *fp;
        const auto digit = [](char c) { return c >= '0' && c <= '9'; };
        std::string t;
        if (f.tag.size() == 3 && std::all_of(f.tag.begin(), f.tag.end(), digit)) {
            t = f.tag;  // what pymarc's "{:03d}".format(int(tag)) gives for three digits
        } else {
            nb::object tag = f.tag_str();
            t = utf8_of(tag);
            if (!t.empty() && std::all_of(t.begin(), t.end(), digit)) {
                t = utf8_of(nb::str("{:03d}").format(nb::int_(tag)));
            } else if (t.size() < 3) {
                t.insert(0, 3 - t.size(), '0');
            }
        }
        b.begin_field(t);
        encode_field(b, f, target);
        b.end_field();
    }
    std::string out, detail;
    if (ErrorCode rc = b.finish(out, &detail); rc != ErrorCode::ok) throw nb::value_error(detail.c_str());
    return nb::bytes(out.data(), out.size());
}

// ---------------------------------------------------------------------------------------------
// Decoding options shared by Record(data=...) and the reader.
struct DecodeOptions {
    bool to_unicode = true;
    bool force_utf8 = false;
    rapidmarc::Utf8Handling handling = rapidmarc::Utf8Handling::strict;
    std::string encoding = "iso8859-1";
    bool latin1_encoding = true;  // file_encoding is iso8859-1 (pymarc: MARC-8 conversion applies)
    bool detect_encoding = false; // encoding="auto": trust the bytes over leader/09

    static DecodeOptions make(bool to_unicode, bool force_utf8, std::string_view handling, std::string encoding) {
        DecodeOptions o;
        o.to_unicode = to_unicode;
        o.force_utf8 = force_utf8;
        if (handling == "strict") o.handling = rapidmarc::Utf8Handling::strict;
        else if (handling == "replace") o.handling = rapidmarc::Utf8Handling::replace;
        else if (handling == "ignore") o.handling = rapidmarc::Utf8Handling::ignore;
        else throw nb::value_error("utf8_handling must be 'strict', 'replace' or 'ignore'");
        o.latin1_encoding = encoding == "iso8859-1";
        o.encoding = std::move(encoding);
        return o;
    }
    rapidmarc::ParseOptions parse_options() const {
        rapidmarc::ParseOptions po;
        po.validate_text = to_unicode;
        po.force_utf8 = force_utf8;
        po.utf8_handling = handling;
        po.validate_marc8 = to_unicode && latin1_encoding;
        po.detect_encoding = detect_encoding;
        return po;
    }
};

nb::object make_error(ErrorCode code, const std::string& detail, std::uint64_t index, std::uint64_t offset,
                      std::string_view culprit) {
    // Details may quote bad input bytes; never let describing an error raise another one.
    PyObject* text = PyUnicode_DecodeUTF8(detail.data(), static_cast<Py_ssize_t>(detail.size()), "backslashreplace");
    if (!text) throw nb::python_error();
    return types().make_error(std::string(rapidmarc::error_name(code)), nb::steal(text), index, offset,
                              nb::bytes(culprit.data(), culprit.size()));
}

// Builds a Record object from a parsed record. Records whose bytes need Python's help (a codec
// other than UTF-8/Latin-1, or non-ASCII subfield codes) are decoded eagerly here, so that any
// decoding error surfaces while reading, as in pymarc.
nb::object build_record(std::string_view bytes, rapidmarc::ParsedRecord& parsed, const DecodeOptions& o) {
    // Constructed in place in a new instance of the cached type (nb::cast would look the type up
    // and move a Record in); marked ready at once so that its destructor runs whatever happens.
    nb::object obj = nb::inst_alloc(types().record_type);
    Record& r = *new (nb::inst_ptr<Record>(obj)) Record();
    nb::inst_mark_ready(obj);
    r.raw = nb::bytes(bytes.data(), bytes.size());
    if (parsed.encoding_corrected) {
        // encoding="auto" overruled leader/09: the record says what it really is from now on.
        PyBytes_AS_STRING(r.raw.ptr())[9] = parsed.utf8 ? 'a' : ' ';
    }
    r.to_unicode = o.to_unicode;
    r.force_utf8 = o.force_utf8;
    const bool python_codec = o.to_unicode && !parsed.utf8 && !o.latin1_encoding;
    if (!o.to_unicode) {
        r.text = r.control_text = Text::bytes;
    } else if (parsed.utf8) {
        r.control_text = Text::utf8_strict;
        r.text = o.handling == rapidmarc::Utf8Handling::strict    ? Text::utf8_strict
                 : o.handling == rapidmarc::Utf8Handling::replace ? Text::utf8_replace
                                                                   : Text::utf8_ignore;
    } else {
        // pymarc: subfields through marc8_to_unicode, control fields as ISO 8859-1.
        r.control_text = Text::latin1;
        r.text = o.latin1_encoding ? Text::marc8 : Text::latin1;
    }
    // Copied, not moved: the parsed slot keeps its capacity for the next batch, and the allocation
    // happens (and is later freed) on this thread rather than the parse-ahead worker.
    r.entries.assign(parsed.entries.begin(), parsed.entries.end());
    if (!python_codec && !parsed.bad_subfield_code) return obj;

    // Slow path: decode every field now with Python's codecs.
    Record& rec = r;
    nb::str encoding = make_str(parsed.utf8 ? "utf-8" : o.encoding);
    const char* errors = rec.text == Text::utf8_replace ? "replace" : rec.text == Text::utf8_ignore ? "ignore" : "strict";
    auto decode_value = [&](std::string_view v, bool control) -> nb::object {
        if (!o.to_unicode) return decode(v, Text::bytes);
        if (!control && rec.text == Text::marc8) return decode(v, Text::marc8);
        nb::bytes b(v.data(), v.size());
        return b.attr("decode")(encoding, control ? "strict" : errors);
    };
    for (nb::handle h : nb::borrow<nb::list>(rec.field_list())) as_field(h)->materialize_with(decode_value);
    return obj;
}

// ---------------------------------------------------------------------------------------------
// A Python source (path, bytes-like object or binary file object) as a native batch stream.
enum SourceKind { kPath = 0, kBytes = 1, kFile = 2 };

struct NativeInput {
    nb::object keep;                     // the bytes object or file object the stream reads
    std::unique_ptr<std::string> owned;  // a copy of a mutable buffer
    std::unique_ptr<rapidmarc::BatchStream> stream;
};

[[noreturn]] void raise_os_error(const std::system_error& e, const std::string& path) {
    errno = e.code().value();
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
    throw nb::python_error();
}

// The bytes of a bytes-like object, to be read without the GIL: a bytes object's own buffer (it
// is immutable; the caller keeps the object alive), or a copy in `owned` of a mutable buffer,
// taken while the buffer is still exported, since other threads could resize it once the GIL goes.
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

// workers == 0: one stream, read and parsed in the caller's thread (the GIL released while native
// code runs): what a thread pool of readers wants. workers == 1: parsed one batch ahead on a worker
// thread (paths and bytes). workers > 1 or < 0 (one per core): a ParallelReader over byte ranges,
// for paths and bytes. A file object cannot be read at random places and is always read in the
// caller's thread.
NativeInput open_input(nb::object source, int kind, int workers, const rapidmarc::ReaderOptions& ro,
                       const rapidmarc::ParseOptions& po, std::function<void(rapidmarc::Batch&)> process = {}) {
    NativeInput in;
    const bool parallel = (workers < 0 || workers > 1) && kind != kFile;
    rapidmarc::BatchOptions bo;
    bo.background = kind != kFile && workers != 0;
    bo.process = process;
    rapidmarc::ParallelOptions pa;
    pa.workers = workers < 0 ? 0u : static_cast<unsigned>(workers);
    pa.reader = ro;
    pa.parse = po;
    pa.process = std::move(process);
    if (kind == kPath) {
        std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            if (parallel) {
                in.stream = std::make_unique<rapidmarc::ParallelReader>(rapidmarc::RangeInput::file(path), pa);
            } else {
                in.stream = std::make_unique<rapidmarc::BatchReader>(std::make_unique<rapidmarc::FileSource>(path), ro,
                                                                     po, bo);
            }
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
        return in;
    }
    if (kind == kBytes) {  // borrowed, kept alive by holding the object
        in.keep = source;
        in.owned = std::make_unique<std::string>();  // at a stable address: the streams point into it
        const std::string_view bytes = borrow_bytes(source, *in.owned);
        if (parallel) {
            in.stream = std::make_unique<rapidmarc::ParallelReader>(rapidmarc::RangeInput::memory(bytes), pa);
        } else {
            in.stream = std::make_unique<rapidmarc::BatchReader>(std::make_unique<rapidmarc::MemorySource>(bytes), ro,
                                                                 po, bo);
        }
        return in;
    }
    // A binary file object: read under the GIL, in the consumer's thread.
    in.keep = source;
    nb::object readinto = nb::getattr(source, "readinto", nb::none());
    nb::object read = source.attr("read");
    auto src = std::make_unique<rapidmarc::CallbackSource>([readinto, read](char* dst, std::size_t n) -> std::size_t {
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
    in.stream = std::make_unique<rapidmarc::BatchReader>(std::move(src), ro, po, bo);
    return in;
}

// The error a record of a batch carries (framing or parsing), or an invalid object if none.
nb::object batch_error(const rapidmarc::Batch& batch, std::size_t i) {
    const rapidmarc::FramedRecord& fr = batch.frames[i];
    const rapidmarc::ParsedRecord& pr = batch.parsed[i];
    if (fr.error != ErrorCode::ok) return make_error(fr.error, fr.detail, fr.index, fr.offset, {});
    if (pr.error != ErrorCode::ok)
        return make_error(pr.error, pr.detail, fr.index, fr.offset, batch.record(i).substr(pr.error_offset, pr.error_length));
    return nb::object();
}

bool batch_ok(const rapidmarc::Batch& batch, std::size_t i) {
    return batch.frames[i].error == ErrorCode::ok && batch.parsed[i].error == ErrorCode::ok;
}

// How the native bulk paths decode a parsed record's text, as MARCReader does with the default
// file_encoding: bytes as they are without to_unicode, else UTF-8 or MARC-8 by the record.
rapidmarc::TextEncoding text_encoding(const rapidmarc::ParsedRecord& pr, bool to_unicode) noexcept {
    if (!to_unicode) return rapidmarc::TextEncoding::bytes;
    return pr.utf8 ? rapidmarc::TextEncoding::utf8 : rapidmarc::TextEncoding::marc8;
}

// A record MARCReader yields as a Record: parsed, and (rarely checked) every non-ASCII subfield
// code normalises as pymarc's rule needs (else the reader yields None with pymarc's IndexError).
bool batch_readable(const rapidmarc::Batch& batch, std::size_t i) {
    if (!batch_ok(batch, i)) return false;
    return !batch.parsed[i].bad_subfield_code ||
           rapidmarc::subfield_codes_readable(rapidmarc::RecordView(batch.record(i), batch.parsed[i].entries));
}

[[noreturn]] void raise_error_object(nb::handle err) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(err.ptr())), err.ptr());
    throw nb::python_error();
}

// Fork detection without a system call per record: the child side of every fork bumps a
// counter (registered once with pthread_atfork at import). It is process-wide by nature: a fork
// duplicates the whole process and only the calling thread survives.
std::atomic<unsigned> g_fork_generation{0};

void note_fork_in_child() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// ---------------------------------------------------------------------------------------------
class Reader {
public:
    Reader(nb::object source, int kind, bool to_unicode, bool force_utf8, std::string utf8_handling,
           std::string file_encoding, bool strict, bool recover, int workers, bool detect_encoding)
        : options_(DecodeOptions::make(to_unicode, force_utf8, utf8_handling, std::move(file_encoding))),
          strict_(strict) {
        options_.detect_encoding = detect_encoding;
        rapidmarc::ReaderOptions ro;
        ro.recover = recover;
        input_ = open_input(std::move(source), kind, workers, ro, options_.parse_options());
    }

    ~Reader() {
        if (forked()) {
            // In a forked child the worker thread does not exist: joining it would hang. The
            // parent's reader state is abandoned in the child instead.
            (void)input_.stream.release();
            return;
        }
        // Stopping the workers never needs the GIL, so joining them here cannot deadlock.
        input_.stream.reset();
    }

    nb::object next() {
        if (forked())
            throw std::runtime_error(
                "this MARCReader was opened before os.fork(); open a new reader in the child process");
        std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
        if (!lock.owns_lock()) {
            // Another thread is reading (possibly without the GIL): wait without holding it.
            nb::gil_scoped_release release;
            lock.lock();
        }
        if (!batch_ || pos_ >= batch_->size()) {
            if (finished_ || !refill()) {
                finished_ = true;
                throw nb::stop_iteration();
            }
        }
        const std::size_t i = pos_++;
        const rapidmarc::FramedRecord& fr = batch_->frames[i];
        std::string_view bytes = batch_->record(i);
        rapidmarc::ParsedRecord& pr = batch_->parsed[i];
        nb::object err = batch_error(*batch_, i);
        if (!err.is_valid()) {
            try {
                nb::object rec = build_record(bytes, pr, options_);
                if (pr.encoding_corrected) corrected_.append(fr.index);
                current_chunk_ = nb::inst_ptr<Record>(rec)->raw;
                current_exception_ = nb::none();
                current_offset_ = fr.offset;
                return rec;
            } catch (nb::python_error& e) {
                err = nb::borrow(e.value());
                err.attr("record_index") = fr.index;
                err.attr("byte_offset") = fr.offset;
            }
        }
        current_chunk_ = nb::bytes(bytes.data(), bytes.size());
        current_exception_ = err;
        current_offset_ = fr.offset;
        if (strict_) raise_error_object(err);
        return nb::none();
    }

    nb::list corrected() const {
        PyObject* copy = PySequence_List(corrected_.ptr());
        if (!copy) throw nb::python_error();
        return nb::steal<nb::list>(copy);
    }
    nb::object current_chunk() const { return current_chunk_.is_valid() ? current_chunk_ : nb::none(); }
    nb::object current_exception() const { return current_exception_.is_valid() ? current_exception_ : nb::none(); }
    nb::object current_offset() const { return current_offset_ ? nb::object(nb::int_(*current_offset_)) : nb::none(); }

private:
    bool refill() {
        pos_ = 0;
        nb::gil_scoped_release release;
        input_.stream->recycle(std::move(batch_));
        batch_ = input_.stream->next();
        return batch_ != nullptr;
    }

    DecodeOptions options_;
    bool strict_;
    NativeInput input_;
    unsigned fork_generation_ = g_fork_generation.load(std::memory_order_relaxed);
    bool forked() const noexcept { return g_fork_generation.load(std::memory_order_relaxed) != fork_generation_; }
    std::unique_ptr<rapidmarc::Batch> batch_;
    std::size_t pos_ = 0;
    bool finished_ = false;
    std::mutex mutex_;
    nb::object current_chunk_;
    nb::object current_exception_;
    std::optional<std::uint64_t> current_offset_;  // stream offset of the item last returned
    nb::list corrected_;  // indexes of records whose leader/09 encoding="auto" overruled
};

// ---------------------------------------------------------------------------------------------
// Bulk operations: the records are read, parsed and (for extract) mined on native threads; Python
// objects are made only for results, at the end.

// Hands every batch of `in` to on_batch(batch) without the GIL. In strict mode, stops at the first
// bad record (before handing out its batch) and raises its exception.
template <typename OnBatch>
void drain_batches(NativeInput& in, bool strict, OnBatch&& on_batch) {
    std::unique_ptr<rapidmarc::Batch> bad;  // the batch holding the first bad record
    std::size_t bad_at = 0;
    {
        nb::gil_scoped_release release;
        while (auto batch = in.stream->next()) {
            if (strict) {
                std::size_t i = 0;
                while (i < batch->size() && batch_ok(*batch, i)) ++i;
                if (i < batch->size()) {
                    bad_at = i;
                    bad = std::move(batch);
                    break;
                }
            }
            on_batch(*batch);
            in.stream->recycle(std::move(batch));
        }
    }
    if (bad) raise_error_object(batch_error(*bad, bad_at));
}

std::uint64_t bulk_count(nb::object source, int kind, int workers, bool to_unicode, bool force_utf8,
                         std::string utf8_handling, bool strict, bool recover) {
    const DecodeOptions o = DecodeOptions::make(to_unicode, force_utf8, utf8_handling, "iso8859-1");
    rapidmarc::ReaderOptions ro;
    ro.recover = recover;
    NativeInput in = open_input(std::move(source), kind, workers, ro, o.parse_options());
    std::uint64_t good = 0;
    drain_batches(in, strict, [&](const rapidmarc::Batch& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) good += batch_readable(batch, i);
    });
    return good;
}

// Field specs (select.hpp) from Python strings; a malformed one is a ValueError naming it.
std::vector<rapidmarc::FieldSpec> parse_specs(const std::vector<std::string>& texts) {
    std::vector<rapidmarc::FieldSpec> specs;
    for (const auto& t : texts) {
        try {
            specs.push_back(rapidmarc::parse_field_spec(t));
        } catch (const std::invalid_argument& e) {
            throw nb::value_error(e.what());
        }
    }
    return specs;
}

// Values extracted from one batch: for each good record and each spec, a count of values; the
// values themselves back to back in `arena`.
struct ExtractPayload final : rapidmarc::BatchPayload {
    std::string arena;
    std::vector<std::size_t> ends;       // end offset of each value in arena
    std::vector<std::uint32_t> counts;   // per good record, per spec
};

nb::object bulk_extract(nb::object source, int kind, std::vector<std::string> spec_texts, int workers,
                        bool to_unicode, bool force_utf8, std::string utf8_handling, std::string file_encoding,
                        bool strict, bool recover) {
    const DecodeOptions o = DecodeOptions::make(to_unicode, force_utf8, utf8_handling, file_encoding);
    if (to_unicode && !o.latin1_encoding)
        throw nb::value_error("extract() converts MARC-8 and UTF-8 records; file_encoding must be 'iso8859-1'");
    const std::vector<rapidmarc::FieldSpec> specs = parse_specs(spec_texts);
    auto process = [&specs, to_unicode](rapidmarc::Batch& batch) {
        auto payload = std::make_unique<ExtractPayload>();
        std::string scratch;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch_readable(batch, i)) continue;
            const rapidmarc::ParsedRecord& pr = batch.parsed[i];
            const rapidmarc::TextEncoding enc = text_encoding(pr, to_unicode);
            const rapidmarc::RecordView view(batch.record(i), pr.entries);
            for (const auto& spec : specs) {
                std::uint32_t n = 0;
                rapidmarc::for_each_value(view, spec, enc, scratch, [&](std::string_view v) {
                    payload->arena.append(v);
                    payload->ends.push_back(payload->arena.size());
                    ++n;
                });
                payload->counts.push_back(n);
            }
        }
        batch.payload = std::move(payload);
    };
    rapidmarc::ReaderOptions ro;
    ro.recover = recover;
    NativeInput in = open_input(std::move(source), kind, workers, ro, o.parse_options(), process);
    std::vector<std::unique_ptr<rapidmarc::BatchPayload>> payloads;
    drain_batches(in, strict, [&](rapidmarc::Batch& batch) { payloads.push_back(std::move(batch.payload)); });

    const char* errors = o.handling == rapidmarc::Utf8Handling::replace  ? "replace"
                         : o.handling == rapidmarc::Utf8Handling::ignore ? "ignore"
                                                                         : "strict";
    std::size_t records = 0;
    for (const auto& p : payloads) records += static_cast<const ExtractPayload&>(*p).counts.size() / std::max<std::size_t>(specs.size(), 1);
    std::vector<nb::list> columns;
    nb::dict result;
    for (const auto& spec : specs) {
        PyObject* list = PyList_New(static_cast<Py_ssize_t>(records));
        if (!list) throw nb::python_error();
        columns.push_back(nb::steal<nb::list>(list));
        result[spec.text.c_str()] = columns.back();
    }
    std::size_t row = 0;
    for (const auto& p : payloads) {
        const auto& payload = static_cast<const ExtractPayload&>(*p);
        std::size_t value = 0, begin = 0;
        for (std::size_t c = 0; c < payload.counts.size(); ++c) {
            const std::size_t s = c % specs.size();
            PyObject* cell = PyList_New(payload.counts[c]);
            if (!cell) throw nb::python_error();
            PyList_SET_ITEM(columns[s].ptr(), static_cast<Py_ssize_t>(row), cell);
            for (std::uint32_t k = 0; k < payload.counts[c]; ++k, ++value) {
                const std::size_t end = payload.ends[value];
                const char* data = payload.arena.data() + begin;
                const auto len = static_cast<Py_ssize_t>(end - begin);
                PyObject* v = to_unicode ? PyUnicode_DecodeUTF8(data, len, errors) : PyBytes_FromStringAndSize(data, len);
                if (!v) throw nb::python_error();
                PyList_SET_ITEM(cell, static_cast<Py_ssize_t>(k), v);
                begin = end;
            }
            if (s + 1 == specs.size()) ++row;
        }
    }
    return result;
}

// read_range(): the records that start in bytes [start, end) of a path or bytes object
// (parallel.hpp's byte-range seam), for partitioned readers such as Dask's. Bad records are None
// with their exception in "errors"; "start" / "end" / "clean" let a coordinator check that the
// ranges it read chain into the whole input.
nb::dict bulk_read_range(nb::object source, int kind, std::uint64_t start, std::uint64_t end, bool to_unicode,
                         bool force_utf8, std::string utf8_handling, std::string file_encoding) {
    const DecodeOptions o = DecodeOptions::make(to_unicode, force_utf8, utf8_handling, file_encoding);
    rapidmarc::Batch batch;
    rapidmarc::RangeInfo info;
    std::string owned;
    if (kind == kPath) {
        const std::string path = nb::cast<std::string>(source);
        try {
            nb::gil_scoped_release release;
            info = rapidmarc::read_range(rapidmarc::RangeInput::file(path), start, end, {}, o.parse_options(), batch);
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
    } else if (kind == kBytes) {
        const std::string_view bytes = borrow_bytes(source, owned);  // `source` keeps a bytes object alive
        nb::gil_scoped_release release;
        info = rapidmarc::read_range(rapidmarc::RangeInput::memory(bytes), start, end, {}, o.parse_options(), batch);
    } else {
        throw nb::type_error("read_range() needs a path or a bytes-like object (file objects cannot seek natively)");
    }
    nb::list records, errors;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        nb::object err = batch_error(batch, i);
        if (!err.is_valid()) {
            try {
                records.append(build_record(batch.record(i), batch.parsed[i], o));
                continue;
            } catch (nb::python_error& e) {
                err = nb::borrow(e.value());
                err.attr("record_index") = batch.frames[i].index;
                err.attr("byte_offset") = batch.frames[i].offset;
            }
        }
        records.append(nb::none());
        errors.append(err);
    }
    nb::dict out;
    out["records"] = records;
    out["errors"] = errors;
    out["start"] = info.start == rapidmarc::RangeInfo::none ? nb::object(nb::none()) : nb::object(nb::int_(info.start));
    out["end"] = info.end;
    out["clean"] = info.clean;
    return out;
}

// extract_arrow(): the values extract() selects, as Arrow columns (arrow.hpp) built on the threads
// that parse, handed to Python consumers through the Arrow PyCapsule interface: no Python object
// per value, and no copy on the way to pyarrow, polars or DuckDB.
// How extract_arrow reads: kept by a lazy ArrowColumns to read its file again for each stream.
struct ColumnsRecipe {
    std::string path;
    std::vector<rapidmarc::FieldSpec> specs;
    DecodeOptions options;
    int workers = 1;
    bool to_unicode = true;
    bool strict = false;
    bool recover = false;
};

struct ArrowColumns {
    std::shared_ptr<const rapidmarc::ColumnBatches> batches;  // eager: every batch, built already
    std::shared_ptr<const ColumnsRecipe> recipe;              // lazy: read on demand, per stream
    std::vector<std::string> names;
    bool binary = false;
    std::size_t rows = 0;  // eager only
};

struct ColumnsPayload final : rapidmarc::BatchPayload {
    std::shared_ptr<rapidmarc::ColumnBatch> columns;
};

// The process hook that turns each parsed batch into Arrow columns, on the thread that parsed it.
std::function<void(rapidmarc::Batch&)> columns_hook(std::shared_ptr<const ColumnsRecipe> r) {
    return [r = std::move(r)](rapidmarc::Batch& batch) {
        auto payload = std::make_unique<ColumnsPayload>();
        payload->columns = std::make_shared<rapidmarc::ColumnBatch>(r->specs.size());
        std::string scratch;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch_readable(batch, i)) continue;
            const rapidmarc::ParsedRecord& pr = batch.parsed[i];
            const rapidmarc::TextEncoding enc = text_encoding(pr, r->to_unicode);
            payload->columns->append_row(rapidmarc::RecordView(batch.record(i), pr.entries), r->specs, enc, scratch);
        }
        batch.payload = std::move(payload);
    };
}

NativeInput open_columns_input(nb::object source, int kind, const ColumnsRecipe& r,
                               std::function<void(rapidmarc::Batch&)> hook) {
    rapidmarc::ReaderOptions ro;
    ro.recover = r.recover;
    return open_input(std::move(source), kind, r.workers, ro, r.options.parse_options(), std::move(hook));
}

ArrowColumns bulk_extract_arrow(nb::object source, int kind, std::vector<std::string> spec_texts, int workers,
                                bool to_unicode, bool force_utf8, bool strict, bool recover, bool lazy) {
    auto recipe = std::make_shared<ColumnsRecipe>();
    recipe->specs = parse_specs(spec_texts);
    recipe->options = DecodeOptions::make(to_unicode, force_utf8, "strict", "iso8859-1");
    recipe->workers = workers;
    recipe->to_unicode = to_unicode;
    recipe->strict = strict;
    recipe->recover = recover;
    ArrowColumns out;
    out.names = std::move(spec_texts);
    out.binary = !to_unicode;
    if (lazy) {
        if (kind != kPath) throw nb::value_error("extract_arrow(lazy=True) reads a path (it reads it again per stream)");
        recipe->path = nb::cast<std::string>(source);
        // Fail now, not in the consumer, if the file cannot be opened.
        open_columns_input(source, kind, *recipe, columns_hook(recipe));
        out.recipe = std::move(recipe);
        return out;
    }
    NativeInput in = open_columns_input(std::move(source), kind, *recipe, columns_hook(recipe));
    auto batches = std::make_shared<rapidmarc::ColumnBatches>();
    std::size_t rows = 0;
    drain_batches(in, strict, [&](rapidmarc::Batch& batch) {
        auto& columns = static_cast<ColumnsPayload&>(*batch.payload).columns;
        if (columns->rows() == 0) return;
        rows += columns->rows();
        batches->push_back(std::move(columns));
    });
    out.batches = std::move(batches);
    out.rows = rows;
    return out;
}

// The next non-empty batch of columns from a lazy reader, or null at the end. Runs on the Arrow
// consumer's thread, possibly without the GIL: only native code. In strict mode the first bad
// record ends the stream with its error (the consumer raises it).
std::shared_ptr<const rapidmarc::ColumnBatch> next_columns(NativeInput& in, bool strict) {
    while (auto batch = in.stream->next()) {
        if (strict) {
            for (std::size_t i = 0; i < batch->size(); ++i) {
                if (batch_readable(*batch, i)) continue;
                const rapidmarc::FramedRecord& fr = batch->frames[i];
                const rapidmarc::ParsedRecord& pr = batch->parsed[i];
                rapidmarc::Error e;
                e.code = fr.error != ErrorCode::ok ? fr.error : pr.error;
                e.record_index = fr.index;
                e.byte_offset = fr.offset;
                e.detail = fr.error != ErrorCode::ok ? fr.detail : pr.detail;
                if (e.code == ErrorCode::ok) e.detail = "a subfield code that is not ASCII folds to no ASCII character";
                throw rapidmarc::ParseError(std::move(e));
            }
        }
        std::shared_ptr<const rapidmarc::ColumnBatch> columns =
            std::move(static_cast<ColumnsPayload&>(*batch->payload).columns);
        in.stream->recycle(std::move(batch));
        if (columns && columns->rows() > 0) return columns;
    }
    return nullptr;
}

void release_stream_capsule(PyObject* capsule) noexcept {
    auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule, "arrow_array_stream"));
    if (!stream) {  // cannot happen for our capsules; never leave an error set in a destructor
        PyErr_Clear();
        return;
    }
    std::unique_ptr<ArrowArrayStream> owned(stream);
    if (owned->release) owned->release(owned.get());  // a consumer that took the stream nulls this
}

// The Arrow PyCapsule interface: a new stream over the same (shared, immutable) batches each call.
nb::object arrow_c_stream(const ArrowColumns& columns, nb::object /*requested_schema: ours is the only one*/) {
    auto stream = std::make_unique<ArrowArrayStream>();
    if (columns.recipe) {  // lazy: a new reader of the file for this stream, pulled batch by batch
        auto in = std::make_shared<NativeInput>(
            open_columns_input(nb::str(columns.recipe->path.c_str()), kPath, *columns.recipe, columns_hook(columns.recipe)));
        const bool strict = columns.recipe->strict;
        rapidmarc::export_stream([in, strict] { return next_columns(*in, strict); }, columns.names, columns.binary,
                                 stream.get());
    } else {
        rapidmarc::export_stream(columns.batches, columns.names, columns.binary, stream.get());
    }
    PyObject* capsule = PyCapsule_New(stream.get(), "arrow_array_stream", &release_stream_capsule);
    if (!capsule) {
        stream->release(stream.get());
        throw nb::python_error();
    }
    stream.release();  // owned by the capsule
    return nb::steal(capsule);
}

// convert(): every good record written as MARC-in-JSON, MARCXML or ISO 2709, as pymarc's
// JSONWriter, XMLWriter and MARCWriter would write the records MARCReader yields. Records are
// converted on the thread that parsed them (BatchOptions::process); the consumer only writes the
// batches' text in order, to a file opened natively or, holding the GIL per batch, to a binary
// file object.
enum class ConvertFormat { json, xml, marc };

struct ConvertPayload final : rapidmarc::BatchPayload {
    std::string text;              // each JSON record preceded by ","
    std::uint64_t written = 0;     // records converted
    std::uint64_t unconvertible = 0;  // good records whose text did not convert (skipped)
};

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

nb::dict bulk_convert(nb::object source, int kind, nb::object destination, std::string format, int workers,
                      bool force_utf8, bool strict, bool recover, nb::object progress) {
    ConvertFormat fmt;
    if (format == "json") fmt = ConvertFormat::json;
    else if (format == "xml") fmt = ConvertFormat::xml;
    else if (format == "marc") fmt = ConvertFormat::marc;
    else throw nb::value_error("convert() writes 'json', 'xml' or 'marc'");
    const DecodeOptions o = DecodeOptions::make(true, force_utf8, "strict", "iso8859-1");
    auto process = [fmt](rapidmarc::Batch& batch) {
        auto payload = std::make_unique<ConvertPayload>();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch_readable(batch, i)) continue;
            const rapidmarc::ParsedRecord& pr = batch.parsed[i];
            const std::string_view bytes = batch.record(i);
            if (fmt == ConvertFormat::marc) {
                payload->text.append(bytes);
                ++payload->written;
                continue;
            }
            rapidmarc::ExportOptions eo;
            eo.encoding = text_encoding(pr, true);
            const rapidmarc::RecordView view(bytes, pr.entries);
            const std::size_t mark = payload->text.size();
            ErrorCode rc;
            if (fmt == ConvertFormat::json) {
                payload->text.push_back(',');
                rc = rapidmarc::append_json(view, eo, rapidmarc::JsonStyle::compact, payload->text);
            } else {
                rc = rapidmarc::append_marcxml(view, eo, rapidmarc::XmlCharset::utf8, payload->text);
            }
            if (rc == ErrorCode::ok) {
                ++payload->written;
            } else {
                payload->text.resize(mark);
                ++payload->unconvertible;
            }
        }
        batch.payload = std::move(payload);
    };

    // The destination: a path opened here, or a binary file object written with the GIL held.
    // The input is opened first: a missing input leaves no output behind.
    rapidmarc::ReaderOptions ro;
    ro.recover = recover;
    NativeInput in = open_input(std::move(source), kind, workers, ro, o.parse_options(), process);

    // A path is written to "<path>.partial" and renamed over the destination only once everything
    // is written: an error, a strict-mode exception or an interrupt never leaves half a document
    // (or a truncated input, when someone converts a file onto itself) under the real name.
    std::unique_ptr<std::FILE, FileCloser> file;
    std::string path, partial;
    bool committed = false;
    struct RemovePartial {
        const std::string& name;
        const bool& committed;
        ~RemovePartial() {
            if (!name.empty() && !committed) std::remove(name.c_str());
        }
    } remove_partial{partial, committed};
    nb::object write_method;
    if (PyUnicode_Check(destination.ptr())) {
        path = nb::cast<std::string>(destination);
        partial = path + ".partial";
        file.reset(std::fopen(partial.c_str(), "wb"));
        if (!file) {
            PyErr_SetFromErrnoWithFilename(PyExc_OSError, partial.c_str());
            partial.clear();
            throw nb::python_error();
        }
    } else {
        write_method = destination.attr("write");
    }
    int write_errno = 0;
    bool first = true;
    // Runs without the GIL (drain_batches); returns false after a write error. A file object's
    // write() may take less than it is given (raw files, pipes): the rest is offered again.
    auto emit = [&](std::string_view text) -> bool {
        if (text.empty() || write_errno) return write_errno == 0;
        if (file) {
            if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) write_errno = errno ? errno : EIO;
            return write_errno == 0;
        }
        nb::gil_scoped_acquire acquire;
        while (!text.empty()) {
            nb::object n = write_method(nb::bytes(text.data(), text.size()));
            if (n.is_none()) break;  // file objects that do not report a count write everything
            const auto done = nb::cast<std::size_t>(n);
            if (done == 0) throw nb::value_error("convert(): the destination's write() accepted nothing");
            text.remove_prefix(std::min(done, text.size()));
        }
        return true;
    };

    const std::string_view head = fmt == ConvertFormat::json  ? std::string_view("[")
                                  : fmt == ConvertFormat::xml ? rapidmarc::kMarcXmlCollectionStart
                                                              : std::string_view();
    const std::string_view tail = fmt == ConvertFormat::json  ? std::string_view("]")
                                  : fmt == ConvertFormat::xml ? rapidmarc::kMarcXmlCollectionEnd
                                                              : std::string_view();
    std::uint64_t written = 0, unconvertible = 0, bad = 0;
    {
        nb::gil_scoped_release release;
        emit(head);
    }
    drain_batches(in, strict, [&](rapidmarc::Batch& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) bad += !batch_readable(batch, i);
        const auto& payload = static_cast<const ConvertPayload&>(*batch.payload);
        written += payload.written;
        unconvertible += payload.unconvertible;
        std::string_view text = payload.text;
        if (fmt == ConvertFormat::json && first && !text.empty()) text.remove_prefix(1);  // no "," before the first
        if (!text.empty()) first = false;
        emit(text);
        if (!progress.is_none() && batch.size() > 0) {  // input bytes consumed so far
            const rapidmarc::FramedRecord& last = batch.frames.back();
            nb::gil_scoped_acquire acquire;
            progress(last.offset + last.size);
        }
    });
    {
        nb::gil_scoped_release release;
        emit(tail);
        if (file) {
            if (std::fflush(file.get()) != 0 && !write_errno) write_errno = errno ? errno : EIO;
            if (std::fclose(file.release()) != 0 && !write_errno) write_errno = errno ? errno : EIO;
            if (!write_errno && std::rename(partial.c_str(), path.c_str()) != 0) write_errno = errno ? errno : EIO;
            committed = write_errno == 0;
        }
    }
    if (write_errno) {
        errno = write_errno;
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
        throw nb::python_error();
    }
    nb::dict result;
    result["records"] = written;
    result["bad"] = bad;
    result["unconvertible"] = unconvertible;
    return result;
}

// Records of raw data: one stream of records (bytes) or one record per item (a list of bytes).
nb::list bulk_parse(nb::object data, int workers, bool to_unicode, bool force_utf8, std::string utf8_handling,
                    std::string file_encoding, bool strict) {
    const DecodeOptions o = DecodeOptions::make(to_unicode, force_utf8, utf8_handling, std::move(file_encoding));
    nb::list out;
    auto emit = [&](std::string_view bytes, rapidmarc::ParsedRecord& pr, nb::object err, std::uint64_t index,
                    std::uint64_t offset) {
        if (!err.is_valid()) {
            try {
                out.append(build_record(bytes, pr, o));
                return;
            } catch (nb::python_error& e) {
                err = nb::borrow(e.value());
                err.attr("record_index") = index;
                err.attr("byte_offset") = offset;
            }
        }
        if (strict) raise_error_object(err);
        out.append(nb::none());
    };
    if (!nb::isinstance<nb::list>(data) && !nb::isinstance<nb::tuple>(data)) {
        NativeInput in = open_input(std::move(data), kBytes, workers, {}, o.parse_options());
        for (;;) {
            std::unique_ptr<rapidmarc::Batch> batch;
            {
                nb::gil_scoped_release release;
                batch = in.stream->next();
            }
            if (!batch) break;
            for (std::size_t i = 0; i < batch->size(); ++i)
                emit(batch->record(i), batch->parsed[i], batch_error(*batch, i), batch->frames[i].index,
                     batch->frames[i].offset);
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
    std::vector<rapidmarc::ParsedRecord> parsed(n);
    const rapidmarc::ParseOptions po = o.parse_options();
    {
        nb::gil_scoped_release release;
        const unsigned threads = workers < 0 ? 0u : std::max(1u, static_cast<unsigned>(workers));  // 0: per core
        rapidmarc::parallel_for(n, threads, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) rapidmarc::parse_record(views[i], po, parsed[i]);
        });
    }
    std::uint64_t offset = 0;
    for (std::size_t i = 0; i < n; ++i) {
        rapidmarc::ParsedRecord& pr = parsed[i];
        nb::object err;
        if (pr.error != ErrorCode::ok)
            err = make_error(pr.error, pr.detail, i, offset, views[i].substr(pr.error_offset, pr.error_length));
        emit(views[i], pr, err, i, offset);
        offset += views[i].size();
    }
    return out;
}

// Garbage-collector support for Record: its field list is user-visible and may end up holding the
// record itself. Fields are not tracked (they hold no user-settable object that could refer back
// to them in normal use), which keeps creating one per field cheap.
int record_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    if (!nb::inst_ready(self)) return 0;
    const Record& r = *nb::inst_ptr<Record>(self);
    Py_VISIT(r.fields.ptr());
    Py_VISIT(r.leader.ptr());
    return 0;
}
int record_clear(PyObject* self) {
    Record& r = *nb::inst_ptr<Record>(self);
    r.fields.reset();
    r.leader.reset();
    return 0;
}
PyType_Slot record_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(record_traverse)},
                              {Py_tp_clear, reinterpret_cast<void*>(record_clear)},
                              {0, nullptr}};

// ---------------------------------------------------------------------------------------------
// rapidmarc._core.Field, written against the C API rather than with nanobind: records create one
// per field, so what creating, calling and freeing one costs matters. A FieldObject is a plain
// Python object holding a Field; methods are direct C calls (no overload resolution, no instance
// registry).
// Sets the Python error for the C++ exception being handled.
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

// Runs fn() on `self` and hands its object to Python, or turns its exception into a Python error.
// On a free-threaded interpreter the field is locked for the call (a per-object critical section:
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

PyObject* field_new(PyTypeObject* type, PyObject*, PyObject*) {
    PyObject* self = type->tp_alloc(type, 0);
    if (!self) return nullptr;
    new (&field_of(self)) Field();
    return self;
}

void field_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    field_of(self).~Field();
    type->tp_free(self);
    Py_DECREF(type);  // instances of heap types own a reference to their type
}

int field_init(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* names[] = {"tag", "indicators", "subfields", "data", nullptr};
    PyObject *tag = nullptr, *indicators = Py_None, *subfields = Py_None, *data = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOO:Field", const_cast<char**>(names), &tag, &indicators,
                                     &subfields, &data))
        return -1;
    return guarded_int(self, [&] {
        Field& f = field_of(self);
        f = Field();
        f.tag = normalize_tag(tag, f.tag_obj);
        nb::handle subs(subfields);
        if (!subs.is_none() && nb::len(subs) > 0 && nb::isinstance<nb::str>(subs[0]))
            throw nb::value_error("The subfield input no longer accepts strings, and should use Subfield. "
                                  "Please consult the documentation for details.");
        f.control = rapidmarc::is_control_tag(f.tag);
        if (f.control) {
            f.data = nb::borrow(data);
            f.indicators = nb::none();
            f.subfields = nb::list();
            return 0;
        }
        f.data = nb::none();
        f.subfields = (subs.is_none() || !nb::bool_(subs)) ? nb::object(nb::list()) : nb::borrow(subs);
        f.indicators = types().indicators(" ", " ");
        nb::handle ind(indicators);
        if (!ind.is_none() && nb::bool_(ind)) set_indicators(f, ind);
        return 0;
    });
}

// ---- attributes
// Field attributes can be set but not deleted (as pymarc's, which always exist).
bool refuse_delete(PyObject* value, const char* name) {
    if (value) return false;
    PyErr_Format(PyExc_AttributeError, "cannot delete Field.%s", name);
    return true;
}

PyObject* field_get_tag(PyObject* self, void*) { return guarded(self, [&] { return field_of(self).tag_str(); }); }
int field_set_tag(PyObject* self, PyObject* value, void*) {
    if (refuse_delete(value, "tag")) return -1;
    return guarded_int(self, [&] {
        Field& f = field_of(self);
        f.tag_obj = nb::str(nb::handle(value));
        f.tag = std::string(utf8_of(f.tag_obj));
        return 0;
    });
}
PyObject* field_get_control(PyObject* self, void*) { return PyBool_FromLong(field_of(self).control); }

// data, subfields, indicators: pymarc's plain attributes, materialised on first use.
template <nb::object Field::*Member>
PyObject* field_get_member(PyObject* self, void*) {
    return guarded(self, [&] {
        Field& f = field_of(self);
        f.materialize();
        return f.*Member;
    });
}
template <nb::object Field::*Member>
int field_set_member(PyObject* self, PyObject* value, void* name) {
    if (refuse_delete(value, static_cast<const char*>(name))) return -1;
    return guarded_int(self, [&] {
        Field& f = field_of(self);
        f.materialize();
        f.*Member = nb::borrow(value);
        return 0;
    });
}
int field_set_indicators(PyObject* self, PyObject* value, void*) {
    if (refuse_delete(value, "indicators")) return -1;
    return guarded_int(self, [&] {
        set_indicators(field_of(self), value);
        return 0;
    });
}
template <int Which>
PyObject* field_get_indicator(PyObject* self, void*) {
    return guarded(self, [&] { return field_indicator(field_of(self), Which); });
}
template <int Which>
int field_set_indicator(PyObject* self, PyObject* value, void*) {
    if (refuse_delete(value, Which == 0 ? "indicator1" : "indicator2")) return -1;
    return guarded_int(self, [&] {
        Field& f = field_of(self);
        f.materialize();
        if (f.control || f.indicators.is_none()) throw nb::attribute_error("a control field has no indicators");
        nb::handle v(value);
        f.indicators = Which == 0 ? types().indicators(v, f.indicators[1]) : types().indicators(f.indicators[0], v);
        return 0;
    });
}

// ---- methods
PyObject* field_is_control(PyObject* self, PyObject*) { return PyBool_FromLong(field_of(self).control); }
PyObject* field_value_m(PyObject* self, PyObject*) { return guarded(self, [&] { return field_value(field_of(self)); }); }
PyObject* field_format_m(PyObject* self, PyObject*) { return guarded(self, [&] { return field_format(field_of(self)); }); }
PyObject* field_is_lazy(PyObject* self, PyObject*) { return PyBool_FromLong(field_of(self).is_raw()); }
PyObject* field_str_slot(PyObject* self) { return guarded(self, [&] { return field_str(field_of(self)); }); }

PyObject* field_get_m(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static constexpr std::array<const char*, 2> names{"code", "default"};
    std::array<PyObject*, 2> a{};
    if (!parse_args("get", args, nargs, kwnames, names, 1, a)) return nullptr;
    return guarded(self, [&] { return field_get(field_of(self), a[0], a[1] ? nb::handle(a[1]) : nb::handle(Py_None)); });
}

PyObject* field_get_subfields_m(PyObject* self, PyObject* const* codes, Py_ssize_t ncodes) {
    return guarded(self, [&]() -> nb::object {
        nb::list out;
        if (ncodes == 0) return out;
        for_each_subfield(field_of(self), [&](std::string_view c, auto value) {
            for (Py_ssize_t i = 0; i < ncodes; ++i)
                if (code_matches(c, codes[i])) {
                    out.append(value());
                    break;
                }
            return true;
        });
        return out;
    });
}

PyObject* field_subscript(PyObject* self, PyObject* code) {
    return guarded(self, [&] {
        nb::object v = field_get(field_of(self), code, nb::handle());
        if (!v.is_valid()) {
            PyErr_SetObject(PyExc_KeyError, code);
            throw nb::python_error();
        }
        return v;
    });
}

int field_contains(PyObject* self, PyObject* code) {
    return guarded_int(self, [&] {
        bool found = false;
        for_each_subfield(field_of(self), [&](std::string_view c, auto) { return !(found = code_matches(c, code)); });
        return found ? 1 : 0;
    });
}

PyObject* field_iter(PyObject* self) {
    return guarded(self, [&] {
        Field& f = field_of(self);
        f.materialize();
        return nb::iter(f.control ? nb::object(nb::list()) : f.subfields);
    });
}

PyMethodDef field_methods[] = {
    {"is_control_field", field_is_control, METH_NOARGS, "True for control fields (tags 001-009)."},
    {"value", field_value_m, METH_NOARGS, "The data of a control field, or the subfield values, each stripped, joined by spaces."},
    {"format_field", field_format_m, METH_NOARGS, "Like value(), but without $6 and with ' -- ' before subject subdivisions."},
    {"get", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(field_get_m)), METH_FASTCALL | METH_KEYWORDS,
     "get(code, default=None): the first value of subfield `code`."},
    {"get_subfields", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(field_get_subfields_m)), METH_FASTCALL,
     "get_subfields(*codes): the values of the subfields with these codes, in field order."},
    {"_is_lazy", field_is_lazy, METH_NOARGS, "True while the field is still a view of the record's bytes."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef field_getset[] = {
    {"tag", field_get_tag, field_set_tag, "The three-character tag.", nullptr},
    {"control_field", field_get_control, nullptr, "True for control fields (tags 001-009).", nullptr},
    {"data", field_get_member<&Field::data>, field_set_member<&Field::data>, "A control field's data (None otherwise).",
     const_cast<char*>("data")},
    {"subfields", field_get_member<&Field::subfields>, field_set_member<&Field::subfields>,
     "List of Subfield(code, value).", const_cast<char*>("subfields")},
    {"indicators", field_get_member<&Field::indicators>, field_set_indicators, "Indicators(first, second), or None.", nullptr},
    {"indicator1", field_get_indicator<0>, field_set_indicator<0>, "The first indicator.", nullptr},
    {"indicator2", field_get_indicator<1>, field_set_indicator<1>, "The second indicator.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

void create_field_type(nb::module_& m) {
    static PyType_Slot slots[] = {
        {Py_tp_new, reinterpret_cast<void*>(field_new)},
        {Py_tp_init, reinterpret_cast<void*>(field_init)},
        {Py_tp_dealloc, reinterpret_cast<void*>(field_dealloc)},
        {Py_tp_str, reinterpret_cast<void*>(field_str_slot)},
        {Py_tp_iter, reinterpret_cast<void*>(field_iter)},
        {Py_tp_methods, field_methods},
        {Py_tp_getset, field_getset},
        {Py_mp_subscript, reinterpret_cast<void*>(field_subscript)},
        {Py_sq_contains, reinterpret_cast<void*>(field_contains)},
        {Py_tp_doc, const_cast<char*>("A MARC field, as pymarc's Field (lazy: a view of the record's bytes until changed).")},
        {0, nullptr}};
    static PyType_Spec spec = {"rapidmarc._core.Field", sizeof(FieldObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                               slots};
    PyObject* type = PyType_FromSpec(&spec);
    if (!type) throw nb::python_error();
    py_types().field_type = nb::steal(type);
    m.attr("Field") = py_types().field_type;
}

}  // namespace

NB_MODULE(_core, m) {
    static const int atfork_registered = ::pthread_atfork(nullptr, nullptr, &note_fork_in_child);
    (void)atfork_registered;
    m.doc() = "Native core of rapidmarc (see the rapidmarc package for the public API).";
    // Records that user code leaves in reference cycles at interpreter exit are not collected by
    // CPython; nanobind would report them as leaks although nothing is wrong.
    nb::set_leak_warnings(false);

    m.def("_register", [](nb::object subfield, nb::object indicators, nb::object leader, nb::object make_error_fn,
                          nb::object subfield_code) {
        PyTypes& t = py_types();
        t.subfield = std::move(subfield);
        t.indicators = std::move(indicators);
        t.leader = std::move(leader);
        t.make_error = std::move(make_error_fn);
        t.subfield_code = std::move(subfield_code);
        t.ready = true;
    });
    // Drops the registered classes at interpreter exit so that nothing outlives the module.
    m.def("_unregister", [] {
        PyTypes& t = py_types();
        t.ready = false;
        t.subfield.reset();
        t.indicators.reset();
        t.leader.reset();
        t.make_error.reset();
        t.subfield_code.reset();
    });

    create_field_type(m);

    nb::class_<Record>(m, "Record", nb::type_slots(record_slots))
        .def("__init__",
             [](Record* self, nb::object data, nb::object fields, bool to_unicode, bool force_utf8, bool /*hide_utf8_warnings*/,
                std::string utf8_handling, nb::object leader, std::string file_encoding) {
                 new (self) Record();
                 self->to_unicode = to_unicode;
                 self->force_utf8 = force_utf8;
                 nb::object l = nb::str(leader);
                 nb::object lead = py_slice(l, 0, 10) + make_str("22") + py_slice(l, 12, 20) + make_str("4500");
                 self->leader = types().leader(lead);
                 if (!fields.is_none() && nb::bool_(fields)) {
                     self->fields = fields;
                     return;
                 }
                 if (!data.is_none() && nb::len(data) > 0) {
                     if (!PyBytes_Check(data.ptr())) data = nb::bytes(nb::bytes(data));
                     auto opts = DecodeOptions::make(to_unicode, force_utf8, utf8_handling, file_encoding);
                     std::string_view bytes(PyBytes_AS_STRING(data.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr())));
                     rapidmarc::ParsedRecord parsed;
                     if (rapidmarc::parse_record(bytes, opts.parse_options(), parsed) != ErrorCode::ok) {
                         nb::object err = make_error(parsed.error, parsed.detail, 0, 0,
                                                     bytes.substr(parsed.error_offset, parsed.error_length));
                         PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(err.ptr())), err.ptr());
                         throw nb::python_error();
                     }
                     nb::object built = build_record(bytes, parsed, opts);
                     Record& src = *nb::inst_ptr<Record>(built);
                     self->raw = src.raw;
                     self->entries = std::move(src.entries);
                     self->text = src.text;
                     self->control_text = src.control_text;
                     self->fields = src.fields;
                     self->leader = nb::object();  // from the data
                     return;
                 }
                 self->fields = nb::list();
                 if (force_utf8) self->leader.attr("coding_scheme") = "a";
             },
             "data"_a = nb::bytes("", 0), "fields"_a = nb::none(), "to_unicode"_a = true, "force_utf8"_a = false,
             "hide_utf8_warnings"_a = false, "utf8_handling"_a = "strict", "leader"_a = std::string(24, ' '),
             "file_encoding"_a = "iso8859-1")
        .def_prop_rw(
            "fields",
            [](nb::handle self) {
                nb::ft_object_guard guard(self);
                return nb::inst_ptr<Record>(self)->field_list();
            },
            [](nb::handle self, nb::object v) {
                nb::ft_object_guard guard(self);
                Record& r = *nb::inst_ptr<Record>(self);
                r.entries = {};
                r.fields = std::move(v);
            })
        .def_prop_rw(
            "leader",
            [](nb::handle self) {
                nb::ft_object_guard guard(self);
                return nb::inst_ptr<Record>(self)->leader_obj();
            },
            [](nb::handle self, nb::object v) {
                nb::ft_object_guard guard(self);
                nb::inst_ptr<Record>(self)->leader = std::move(v);
            })
        .def_prop_rw(
            "to_unicode", [](Record& r) { return r.to_unicode; }, [](Record& r, bool v) { r.to_unicode = v; })
        .def_prop_rw(
            "force_utf8", [](Record& r) { return r.force_utf8; }, [](Record& r, bool v) { r.force_utf8 = v; })
        .def("get",
             [](Record& r, nb::object tag, nb::object dflt) {
                 return nb::isinstance<nb::str>(tag) ? record_get(r, utf8_of(tag), dflt) : nb::object(dflt);
             },
             "tag"_a, "default"_a = nb::none(), nb::lock_self())
        .def("__getitem__",
             [](Record& r, nb::object tag) {
                 nb::object f = nb::isinstance<nb::str>(tag) ? record_get(r, utf8_of(tag), nb::handle()) : nb::object();
                 if (!f.is_valid()) throw nb::key_error();
                 return f;
             },
             nb::lock_self())
        .def("__contains__",
             [](Record& r, nb::object tag) {
                 return nb::isinstance<nb::str>(tag) && record_get(r, utf8_of(tag), nb::handle()).is_valid();
             },
             nb::lock_self())
        .def("__iter__", [](Record& r) { return nb::iter(r.field_list()); }, nb::lock_self())
        .def("get_fields",
             [](Record& r, nb::args tags) -> nb::object {
                 nb::object& all = r.field_list();
                 if (nb::len(tags) == 0) return all;
                 std::vector<std::string> wanted;
                 for (nb::handle t : tags)
                     if (nb::isinstance<nb::str>(t)) wanted.emplace_back(utf8_of(t));
                 nb::list out;
                 for (nb::handle f : nb::borrow<nb::list>(all))
                     for (const auto& w : wanted)
                         if (tag_equals(f, w)) {
                             out.append(f);
                             break;
                         }
                 return out;
             },
             nb::lock_self())
        .def("add_field",
             [](Record& r, nb::args fields) {
                 nb::list list = nb::borrow<nb::list>(r.field_list());
                 for (nb::handle f : fields) list.append(f);
             },
             nb::lock_self())
        .def_prop_ro(
            "title",
            [](nb::handle self) {
                nb::ft_object_guard guard(self);
                return title_of(*nb::inst_ptr<Record>(self), "245");
            },
            "245 $a, followed by $b when present.")
        .def_prop_ro(
            "issn_title",
            [](nb::handle self) {
                nb::ft_object_guard guard(self);
                return title_of(*nb::inst_ptr<Record>(self), "222");
            },
            "The key title: 222 $a, followed by $b when present.")
        .def("as_marc", &record_as_marc, "encoding"_a = nb::none(), nb::lock_self())
        .def("as_marc21", &record_as_marc, "encoding"_a = nb::none(), nb::lock_self())
        .def(
            "_export_json",
            [](Record& r, bool compact) {
                const auto style = compact ? rapidmarc::JsonStyle::compact : rapidmarc::JsonStyle::spaced;
                return record_export(r, false, [&](const rapidmarc::RecordView& v, const rapidmarc::ExportOptions& o,
                                                   std::string& out) { return rapidmarc::append_json(v, o, style, out); });
            },
            "compact"_a, nb::lock_self())
        .def(
            "_export_xml",
            [](Record& r, bool utf8, bool xml_namespace) {
                const auto charset = utf8 ? rapidmarc::XmlCharset::utf8 : rapidmarc::XmlCharset::ascii;
                return record_export(r, true, [&](const rapidmarc::RecordView& v, rapidmarc::ExportOptions o,
                                                  std::string& out) {
                    o.xml_namespace = xml_namespace;
                    return rapidmarc::append_marcxml(v, o, charset, out);
                });
            },
            "utf8"_a, "namespace"_a, nb::lock_self())
        .def("_raw_bytes", [](Record& r) { return r.raw.is_valid() ? r.raw : nb::none(); })
        .def("_is_lazy", [](Record& r) { return !r.fields.is_valid(); });

    m.def(
        "marc8_to_unicode",
        [](nb::bytes data, bool) {
            return decode(std::string_view(data.c_str(), data.size()), Text::marc8);
        },
        "marc8"_a, "hide_utf8_warnings"_a = false);
    m.def(
        "unicode_to_marc8",
        [](std::string_view text, bool lossy) {
            rapidmarc::marc8::EncodeOptions eo;
            eo.unmappable = lossy ? rapidmarc::marc8::Unmappable::lossy : rapidmarc::marc8::Unmappable::ncr;
            std::string out;
            rapidmarc::marc8::encode(text, out, eo);
            return nb::bytes(out.data(), out.size());
        },
        "text"_a, "lossy"_a = false);
    m.def(
        "decode_ncr",
        [](nb::str text) -> nb::object {
            std::string_view in = utf8_of(text);
            if (!rapidmarc::marc8::contains_ncr(in)) return text;
            std::string out;
            rapidmarc::marc8::decode_ncr(in, out);
            return make_str(out);
        },
        "text"_a);
    m.def("count", &bulk_count, "source"_a, "kind"_a, "workers"_a, "to_unicode"_a, "force_utf8"_a, "utf8_handling"_a,
          "strict"_a, "recover"_a);
    m.def("extract", &bulk_extract, "source"_a, "kind"_a, "specs"_a, "workers"_a, "to_unicode"_a, "force_utf8"_a,
          "utf8_handling"_a, "file_encoding"_a, "strict"_a, "recover"_a);
    m.def("convert", &bulk_convert, "source"_a, "kind"_a, "destination"_a, "format"_a, "workers"_a, "force_utf8"_a,
          "strict"_a, "recover"_a, "progress"_a = nb::none());
    m.def("parse_records", &bulk_parse, "data"_a, "workers"_a, "to_unicode"_a, "force_utf8"_a, "utf8_handling"_a,
          "file_encoding"_a, "strict"_a);
    py_types().record_type = m.attr("Record");

    m.def(
        "normalize_subfield_code",
        [](nb::bytes piece) {
            rapidmarc::NormalizedCode n;
            if (!rapidmarc::normalize_subfield_code(std::string_view(piece.c_str(), piece.size()), n))
                throw nb::index_error("string index out of range");  // what pymarc's rule raises
            return nb::make_tuple(make_str({&n.code, 1}), n.skip);
        },
        "piece"_a);
    m.def("read_range", &bulk_read_range, "source"_a, "kind"_a, "start"_a, "end"_a, "to_unicode"_a, "force_utf8"_a,
          "utf8_handling"_a, "file_encoding"_a);
    m.def("extract_arrow", &bulk_extract_arrow, "source"_a, "kind"_a, "specs"_a, "workers"_a, "to_unicode"_a,
          "force_utf8"_a, "strict"_a, "recover"_a, "lazy"_a = false);
    nb::class_<ArrowColumns>(m, "ArrowColumns")
        .def("__arrow_c_stream__", &arrow_c_stream, "requested_schema"_a = nb::none())
        .def_prop_ro("lazy", [](const ArrowColumns& c) { return static_cast<bool>(c.recipe); })
        .def_prop_ro("num_rows",
                     [](const ArrowColumns& c) -> nb::object {
                         return c.recipe ? nb::none() : nb::object(nb::int_(c.rows));  // unknown until read
                     })
        .def_prop_ro("column_names", [](const ArrowColumns& c) { return c.names; })
        .def_prop_ro("num_batches",
                     [](const ArrowColumns& c) -> nb::object {
                         return c.recipe ? nb::none() : nb::object(nb::int_(c.batches->size()));
                     })
        .def("__len__", [](const ArrowColumns& c) {
            if (c.recipe) throw nb::type_error("a lazy ArrowColumns has no length before it is read");
            return c.rows;
        });

    nb::class_<Reader>(m, "Reader")
        .def(nb::init<nb::object, int, bool, bool, std::string, std::string, bool, bool, int, bool>(),
             "source"_a, "kind"_a, "to_unicode"_a, "force_utf8"_a, "utf8_handling"_a, "file_encoding"_a, "strict"_a,
             "recover"_a, "workers"_a = 1, "detect_encoding"_a = false)
        .def_prop_ro("corrected_records", &Reader::corrected,
                     "Indexes of the records whose leader/09 encoding='auto' overruled (a copy).")
        .def("__iter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__next__", &Reader::next)
        .def_prop_ro("current_chunk", &Reader::current_chunk)
        .def_prop_ro("current_exception", &Reader::current_exception)
        .def_prop_ro("current_offset", &Reader::current_offset);
}
