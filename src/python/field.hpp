// PyField: one field of a record, as pymarc's Field. It starts as a view of the record's bytes
// (owner, offset, length) that answers value(), get(), str() and friends straight from them; only
// when Python asks for the mutable parts (subfields, indicators, data) does it build Subfield
// tuples, and from then on those Python objects are the truth and are what as_marc() writes.
// The Python type (field_type.cpp) is a plain C-API object holding a PyField.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "binding.hpp"
#include "text.hpp"

namespace rapidmarc::binding {

struct PyField {
    std::string tag;    // UTF-8 copy for fast comparisons
    nb::object tag_obj; // cached Python str
    bool control = false;

    // Raw state: a view of the record's bytes.
    nb::object owner;   // bytes object; null once materialised
    std::uint32_t off = 0, len = 0;
    bool ascii = false;  // the raw bytes are all ASCII (from the parser)
    TextEncoding text = TextEncoding::utf8;

    // Materialised state (pymarc's attributes).
    nb::object subfields;   // list of Subfield
    nb::object indicators;  // Indicators, or None for control fields
    nb::object data;        // control data, or None

    PyField() = default;
    // A raw field: `len` bytes at `off` in the record's bytes `owner`.
    PyField(std::string_view tag_bytes, nb::handle owner_bytes, std::uint32_t offset, std::uint32_t length,
            bool all_ascii, TextEncoding record_text, TextEncoding control_text)
        : tag(tag_bytes),
          control(is_control_tag(tag_bytes)),
          owner(nb::borrow(owner_bytes)),
          off(offset),
          len(length),
          ascii(all_ascii),
          text(control ? control_text : record_text) {}

    bool is_raw() const noexcept { return owner.is_valid(); }
    std::string_view raw() const noexcept { return {PyBytes_AS_STRING(owner.ptr()) + off, len}; }
    FieldView view() const noexcept { return {tag, raw()}; }

    nb::object tag_str() {
        if (!tag_obj.is_valid()) tag_obj = make_str(tag);
        return tag_obj;
    }

    // Builds pymarc's Python objects from the bytes; decode_value(bytes, is_control) makes a value.
    // A non-ASCII subfield code is normalised (with a warning) as pymarc does.
    template <typename DecodeValue>
    void materialize_with(DecodeValue&& decode_value);

    void materialize() {
        materialize_with([this](std::string_view bytes, bool) { return decode_known(bytes, text, ascii); });
    }
};

// The Python object of a PyField (the type is created at import: field_type.cpp).
struct PyFieldObject {
    PyObject_HEAD
    PyField field;
};

inline PyField& field_of(PyObject* self) noexcept { return reinterpret_cast<PyFieldObject*>(self)->field; }

// Our PyField behind `obj` (exact type checked first: the general check looks the type up), or null.
inline PyField* as_field(nb::handle obj) {
    auto* type = reinterpret_cast<PyTypeObject*>(types().field_type.ptr());
    if (Py_TYPE(obj.ptr()) == type || PyObject_TypeCheck(obj.ptr(), type))
        return &reinterpret_cast<PyFieldObject*>(obj.ptr())->field;
    return nullptr;
}

// pymarc's value of a subfield code byte that is not ASCII (BadSubfieldCodeWarning, then its
// normalisation rule; IndexError when no code can be found): (code, value bytes).
std::pair<nb::object, std::string_view> normalized_subfield(const SubfieldView& sf);

template <typename DecodeValue>
void PyField::materialize_with(DecodeValue&& decode_value) {
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
            if (!sf.normalized && static_cast<unsigned char>(sf.code) < 0x80) {
                list.append(t.subfield(make_str({&sf.code, 1}), decode_value(sf.value, false)));
            } else {
                auto [code, value] = normalized_subfield(sf);
                list.append(t.subfield(code, decode_value(value, false)));
            }
        }
        indicators = t.indicators(make_str({&i1, 1}), make_str({&i2, 1}));
        subfields = std::move(list);
        data = nb::none();
    }
    owner.reset();
}

// Iterates (code, value) over either state; value objects are produced on demand. fn returns
// false to stop.
template <typename Fn>
void for_each_subfield(PyField& f, Fn&& fn) {
    if (f.control) return;
    if (f.is_raw()) {
        for (const auto& sf : f.view().subfields()) {
            if (!fn(std::string_view(&sf.code, 1), [&] { return decode_known(sf.value, f.text, f.ascii); })) return;
        }
        return;
    }
    nb::object subfields = f.subfields;  // held: fn may run code that replaces it
    for_each_item(subfields, [&](nb::handle item) {
        nb::object code = item[0];
        std::string_view c = nb::isinstance<nb::str>(code) ? utf8_of(code) : std::string_view{};
        nb::object value = item[1];
        return bool(fn(c, [&] { return value; }));
    });
}

bool code_matches(std::string_view sub_code, nb::handle wanted);
// First value of subfield `code`, or an invalid object.
nb::object field_find(PyField& f, std::string_view code);
nb::object field_get(PyField& f, nb::handle code, nb::handle dflt);
// value(): subfield values, each stripped, joined by one space.
nb::object field_value(PyField& f);
// format_field(): like value() but skips $6, puts " -- " before subject subdivisions and strips
// only the ends.
nb::object field_format(PyField& f);
// str(field): MARCMaker-style text, blanks shown as backslashes.
nb::object field_str(PyField& f);
// pymarc's tag rule: digit strings are zero-padded to three, others kept.
std::string normalize_tag(nb::handle tag, nb::object& tag_obj);
void set_indicators(PyField& f, nb::handle value);
nb::object field_indicator(PyField& f, int which);

}  // namespace rapidmarc::binding
