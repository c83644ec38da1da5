// rapidmarc._core.Field, written against the C API rather than with nanobind: records create one
// per field, so what creating, calling and freeing one costs matters. A PyFieldObject is a plain
// Python object holding a PyField; methods are direct C calls (no overload resolution, no instance
// registry). The semantics live in field.cpp; this file only adapts them to the C API.
#include "capi.hpp"
#include "field.hpp"

namespace rapidmarc::binding {

namespace {

PyObject* field_new(PyTypeObject* type, PyObject*, PyObject*) {
    PyObject* self = type->tp_alloc(type, 0);
    if (!self) return nullptr;
    new (&field_of(self)) PyField();
    return self;
}

void field_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    field_of(self).~PyField();
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
        PyField& f = field_of(self);
        f = PyField();
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
bool refuse_delete(PyObject* value, const char* name) { return deletion_refused(value, "Field", name); }

PyObject* field_get_tag(PyObject* self, void*) { return guarded(self, [&] { return field_of(self).tag_str(); }); }
int field_set_tag(PyObject* self, PyObject* value, void*) {
    if (refuse_delete(value, "tag")) return -1;
    return guarded_int(self, [&] {
        PyField& f = field_of(self);
        f.tag_obj = nb::str(nb::handle(value));
        f.tag = std::string(utf8_of(f.tag_obj));
        return 0;
    });
}
PyObject* field_get_control(PyObject* self, void*) {
    return guarded(self, [&] { return nb::bool_(field_of(self).control); });
}

// data, subfields, indicators: pymarc's plain attributes, materialised on first use.
template <nb::object PyField::*Member>
PyObject* field_get_member(PyObject* self, void*) {
    return guarded(self, [&] {
        PyField& f = field_of(self);
        f.materialize();
        return f.*Member;
    });
}
template <nb::object PyField::*Member>
int field_set_member(PyObject* self, PyObject* value, void* name) {
    if (refuse_delete(value, static_cast<const char*>(name))) return -1;
    return guarded_int(self, [&] {
        PyField& f = field_of(self);
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
        PyField& f = field_of(self);
        f.materialize();
        if (f.control || f.indicators.is_none()) throw nb::attribute_error("a control field has no indicators");
        nb::handle v(value);
        f.indicators = Which == 0 ? types().indicators(v, f.indicators[1]) : types().indicators(f.indicators[0], v);
        return 0;
    });
}

// ---- methods
PyObject* field_is_control(PyObject* self, PyObject*) {
    return guarded(self, [&] { return nb::bool_(field_of(self).control); });
}
PyObject* field_value_m(PyObject* self, PyObject*) { return guarded(self, [&] { return field_value(field_of(self)); }); }
PyObject* field_format_m(PyObject* self, PyObject*) { return guarded(self, [&] { return field_format(field_of(self)); }); }
PyObject* field_is_lazy(PyObject* self, PyObject*) {
    return guarded(self, [&] { return nb::bool_(field_of(self).is_raw()); });
}
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
        PyField& f = field_of(self);
        f.materialize();
        return nb::iter(f.control ? nb::object(nb::list()) : f.subfields);
    });
}

PyMethodDef field_methods[] = {
    {"is_control_field", field_is_control, METH_NOARGS, "is_control_field($self, /)\n--\n\nTrue for control fields (tags 001-009)."},
    {"value", field_value_m, METH_NOARGS, "value($self, /)\n--\n\nThe data of a control field, or the subfield values, each stripped, joined by spaces."},
    {"format_field", field_format_m, METH_NOARGS, "format_field($self, /)\n--\n\nLike value(), but without $6 and with ' -- ' before subject subdivisions."},
    {"get", cfunction(field_get_m), METH_FASTCALL | METH_KEYWORDS,
     "get($self, /, code, default=None)\n--\n\nThe first value of subfield `code`, or `default`."},
    {"get_subfields", cfunction(field_get_subfields_m), METH_FASTCALL,
     "get_subfields($self, /, *codes)\n--\n\nThe values of the subfields with these codes, in field order."},
    {"_is_lazy", field_is_lazy, METH_NOARGS, "True while the field is still a view of the record's bytes."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef field_getset[] = {
    {"tag", field_get_tag, field_set_tag, "The three-character tag.", nullptr},
    {"control_field", field_get_control, nullptr, "True for control fields (tags 001-009).", nullptr},
    {"data", field_get_member<&PyField::data>, field_set_member<&PyField::data>, "A control field's data (None otherwise).",
     const_cast<char*>("data")},
    {"subfields", field_get_member<&PyField::subfields>, field_set_member<&PyField::subfields>,
     "List of Subfield(code, value).", const_cast<char*>("subfields")},
    {"indicators", field_get_member<&PyField::indicators>, field_set_indicators, "Indicators(first, second), or None.", nullptr},
    {"indicator1", field_get_indicator<0>, field_set_indicator<0>, "The first indicator.", nullptr},
    {"indicator2", field_get_indicator<1>, field_set_indicator<1>, "The second indicator.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

}  // namespace

// Creates the type and registers it (types().field_type) for the code that creates fields.
void bind_field(nb::module_& m) {
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
        {Py_tp_doc, const_cast<char*>("Field(tag, indicators=None, subfields=None, data=None)\n--\n\n"
                                      "A MARC field, as pymarc's Field (lazy: a view of the record's bytes until changed).")},
        {0, nullptr}};
    static PyType_Spec spec = {"rapidmarc._core.Field", sizeof(PyFieldObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                               slots};
    PyObject* type = PyType_FromSpec(&spec);
    if (!type) throw nb::python_error();
    py_types().field_type = nb::steal(type);
    m.attr("Field") = py_types().field_type;

    // pymarc's RawField: the fields of a record read with to_unicode=False, whose values are the
    // record's bytes. The same object layout as Field (no __dict__, no GC), so records create either
    // the same way; its Python methods are in python/rapidmarc/field.py.
    static PyType_Slot raw_slots[] = {
        {Py_tp_doc, const_cast<char*>("RawField(tag, indicators=None, subfields=None, data=None)\n--\n\n"
                                      "A MARC field whose values are the record's undecoded bytes, as pymarc's RawField.")},
        {0, nullptr}};
    static PyType_Spec raw_spec = {"rapidmarc._core.RawField", sizeof(PyFieldObject), 0,
                                   Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, raw_slots};
    PyObject* raw = PyType_FromSpecWithBases(&raw_spec, py_types().field_type.ptr());
    if (!raw) throw nb::python_error();
    py_types().raw_field_type = nb::steal(raw);
    m.attr("RawField") = py_types().raw_field_type;
}

}  // namespace rapidmarc::binding
