// rapidmarc._core.Record, written against the C API rather than with nanobind: a reader creates one
// per record, so what creating, calling and freeing one costs matters (no instance registry, no
// overload resolution). A PyRecordObject is a plain Python object holding a PyRecord. The
// semantics live in record.cpp and as_marc.cpp; this file only adapts them to the C API.
#include "capi.hpp"
#include "record.hpp"

namespace rapidmarc::binding {

namespace {

PyObject* record_new(PyTypeObject* type, PyObject*, PyObject*) {
    PyObject* self = type->tp_alloc(type, 0);  // tracked by the collector
    if (!self) return nullptr;
    new (&record_of(self)) PyRecord();
    return self;
}

void record_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    // A long chain of records (one's leader or attribute holding the next) is freed iteratively.
    Py_TRASHCAN_BEGIN(self, record_dealloc)
    record_of(self).~PyRecord();
    type->tp_free(self);
    Py_DECREF(type);  // instances of heap types own a reference to their type
    Py_TRASHCAN_END
}

// Garbage-collector support: the field list and the leader are user-visible and may end up
// holding the record itself. Fields are not tracked (they hold no
// user-settable object that could refer back to them in normal use), which keeps them cheap.
int record_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    const PyRecord& r = record_of(self);
    Py_VISIT(r.fields.ptr());
    Py_VISIT(r.leader.ptr());
    return 0;
}

int record_clear(PyObject* self) {
    // As Py_CLEAR: the member is empty before the reference goes (its finalizer may look).
    PyRecord& r = record_of(self);
    nb::object fields = std::move(r.fields);
    nb::object leader = std::move(r.leader);
    return 0;
}

// Does `self`'s class override `fields` (a subclass with its own property)? Then pymarc's methods,
// which go through self.fields, see what that gives, and so do ours.
bool fields_overridden(PyObject* self) {
    auto* base = reinterpret_cast<PyTypeObject*>(types().record_type.ptr());
    if (Py_TYPE(self) == base) return false;
    nb::object attr = nb::steal(PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(self)), "fields"));
    if (!attr.is_valid()) throw nb::python_error();
    return !attr.is(types().record_fields);
}

// What an overriding subclass's `fields` gives.
nb::object overriding_fields(PyObject* self) {
    nb::object fields = nb::steal(PyObject_GetAttrString(self, "fields"));
    if (!fields.is_valid()) throw nb::python_error();
    return fields;
}

// The record's fields as its methods see them: the record's own list (created on first use), or
// what an overriding subclass's `fields` gives.
nb::object fields_of(PyObject* self) {
    return fields_overridden(self) ? overriding_fields(self) : nb::object(record_of(self).field_list());
}

// A str argument as UTF-8, or TypeError naming the parameter.
std::string str_argument(PyObject* value, const char* name) {
    if (!PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "Record() argument '%s' must be str, not %.100s", name, Py_TYPE(value)->tp_name);
        throw nb::python_error();
    }
    return std::string(utf8_of(value));
}

// A truth value, as pymarc takes its flags (any object).
bool truth(PyObject* value) {
    const int t = PyObject_IsTrue(value);
    if (t < 0) throw nb::python_error();
    return t != 0;
}

int record_init_slot(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* names[] = {"data",          "fields", "to_unicode", "force_utf8", "hide_utf8_warnings",
                                  "utf8_handling", "leader", "file_encoding", nullptr};
    PyObject *data = nullptr, *fields = Py_None, *to_unicode = Py_True, *force_utf8 = Py_False,
             *hide_utf8_warnings = Py_False, *utf8_handling = nullptr, *leader = nullptr, *file_encoding = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOOOOO:Record", const_cast<char**>(names), &data, &fields,
                                     &to_unicode, &force_utf8, &hide_utf8_warnings, &utf8_handling, &leader,
                                     &file_encoding))
        return -1;
    return guarded_int(self, [&] {
        (void)truth(hide_utf8_warnings);  // accepted and ignored, as pymarc 5 does
        const std::string handling = utf8_handling ? str_argument(utf8_handling, "utf8_handling") : "strict";
        std::string codec = file_encoding ? str_argument(file_encoding, "file_encoding") : "iso8859-1";
        nb::object blank_leader;
        if (!leader) blank_leader = make_str(std::string(kLeaderLength, ' '));
        record_init(record_of(self), data ? nb::handle(data) : nb::handle(Py_None), fields, truth(to_unicode),
                    truth(force_utf8), handling, leader ? nb::handle(leader) : blank_leader, std::move(codec));
        return 0;
    });
}

// ---- attributes
bool refuse_delete(PyObject* value, const char* name) { return deletion_refused(value, "Record", name); }

PyObject* record_get_fields_attr(PyObject* self, void*) {
    return guarded(self, [&] { return record_of(self).field_list(); });
}
int record_set_fields_attr(PyObject* self, PyObject* value, void*) {
    if (refuse_delete(value, "fields")) return -1;
    return guarded_int(self, [&] {
        PyRecord& r = record_of(self);
        r.entries = {};
        r.fields = nb::borrow(value);
        return 0;
    });
}

PyObject* record_get_leader(PyObject* self, void*) {
    return guarded(self, [&] { return record_of(self).leader_obj(); });
}
int record_set_leader(PyObject* self, PyObject* value, void*) {
    if (refuse_delete(value, "leader")) return -1;
    return guarded_int(self, [&] {
        record_of(self).leader = nb::borrow(value);
        return 0;
    });
}

template <bool PyRecord::*Flag>
PyObject* record_get_flag(PyObject* self, void*) {
    return guarded(self, [&] { return nb::bool_(record_of(self).*Flag); });
}
template <bool PyRecord::*Flag>
int record_set_flag(PyObject* self, PyObject* value, void* name) {
    if (refuse_delete(value, static_cast<const char*>(name))) return -1;
    return guarded_int(self, [&] {
        record_of(self).*Flag = truth(value);
        return 0;
    });
}

template <int Tag>
PyObject* record_get_title(PyObject* self, void*) {
    return guarded(self, [&] {
        const std::string_view tag = Tag == 245 ? "245" : "222";
        // The record's own fields may be answered from its bytes, without creating Field objects.
        if (!fields_overridden(self)) return record_title(record_of(self), nb::handle(), tag);
        return record_title(record_of(self), overriding_fields(self), tag);
    });
}

// ---- methods
PyObject* record_get_m(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static constexpr std::array<const char*, 2> names{"tag", "default"};
    std::array<PyObject*, 2> a{};
    if (!parse_args("get", args, nargs, kwnames, names, 1, a)) return nullptr;
    return guarded(self, [&] {
        nb::handle dflt = a[1] ? nb::handle(a[1]) : nb::handle(Py_None);
        return PyUnicode_Check(a[0]) ? record_get(fields_of(self), utf8_of(a[0]), dflt) : nb::borrow(dflt);
    });
}

PyObject* record_subscript(PyObject* self, PyObject* tag) {
    return guarded(self, [&] {
        nb::object f = PyUnicode_Check(tag) ? record_get(fields_of(self), utf8_of(tag), nb::handle()) : nb::object();
        if (!f.is_valid()) {  // KeyError() with no argument, as pymarc raises it
            PyErr_SetNone(PyExc_KeyError);
            throw nb::python_error();
        }
        return f;
    });
}

int record_contains(PyObject* self, PyObject* tag) {
    return guarded_int(self, [&] {
        return PyUnicode_Check(tag) && record_get(fields_of(self), utf8_of(tag), nb::handle()).is_valid() ? 1 : 0;
    });
}

PyObject* record_iter(PyObject* self) {
    return guarded(self, [&] { return nb::iter(fields_of(self)); });
}

PyObject* record_get_fields_m(PyObject* self, PyObject* const* tags, Py_ssize_t ntags) {
    return guarded(self, [&] { return record_get_fields(fields_of(self), tags, ntags); });
}

PyObject* record_add_field_m(PyObject* self, PyObject* const* fields, Py_ssize_t nfields) {
    return guarded(self, [&] {
        nb::object list = fields_of(self);
        for (Py_ssize_t i = 0; i < nfields; ++i) {
            if (PyList_CheckExact(list.ptr())) {
                if (PyList_Append(list.ptr(), fields[i]) < 0) throw nb::python_error();
            } else {
                list.attr("append")(nb::handle(fields[i]));  // as pymarc's self.fields.append
            }
        }
        return nb::none();
    });
}

PyObject* record_as_marc_m(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static constexpr std::array<const char*, 1> names{"encoding"};
    std::array<PyObject*, 1> a{};
    if (!parse_args("as_marc", args, nargs, kwnames, names, 0, a)) return nullptr;
    return guarded(self, [&] {
        return record_as_marc(record_of(self), fields_of(self), nb::borrow(a[0] ? a[0] : Py_None));
    });
}

PyObject* record_export_json_m(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static constexpr std::array<const char*, 1> names{"compact"};
    std::array<PyObject*, 1> a{};
    if (!parse_args("_export_json", args, nargs, kwnames, names, 1, a)) return nullptr;
    return guarded(self, [&] {
        // A subclass's own `fields` is written by the Python path, which goes through it.
        return fields_overridden(self) ? nb::none() : record_export_json(record_of(self), truth(a[0]));
    });
}

PyObject* record_export_xml_m(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static constexpr std::array<const char*, 2> names{"utf8", "namespace"};
    std::array<PyObject*, 2> a{};
    if (!parse_args("_export_xml", args, nargs, kwnames, names, 2, a)) return nullptr;
    return guarded(self, [&] {
        return fields_overridden(self) ? nb::none() : record_export_xml(record_of(self), truth(a[0]), truth(a[1]));
    });
}

PyObject* record_raw_bytes_m(PyObject* self, PyObject*) {
    return guarded(self, [&] {
        const PyRecord& r = record_of(self);
        return r.raw.is_valid() ? r.raw : nb::none();
    });
}

PyObject* record_is_lazy_m(PyObject* self, PyObject*) {
    return guarded(self, [&] { return nb::bool_(!record_of(self).fields.is_valid()); });
}

PyMethodDef record_methods[] = {
    {"get", cfunction(record_get_m), METH_FASTCALL | METH_KEYWORDS,
     "get($self, /, tag, default=None)\n--\n\nThe first field with this tag, or `default`."},
    {"get_fields", cfunction(record_get_fields_m), METH_FASTCALL,
     "get_fields($self, /, *tags)\n--\n\nThe fields with these tags, in record order (all fields without tags)."},
    {"add_field", cfunction(record_add_field_m), METH_FASTCALL,
     "add_field($self, /, *fields)\n--\n\nAppends the fields to the record."},
    {"as_marc", cfunction(record_as_marc_m), METH_FASTCALL | METH_KEYWORDS,
     "as_marc($self, /, encoding=None)\n--\n\nThe record as ISO 2709 bytes (encoding='utf-8' or 'marc8' to choose)."},
    {"as_marc21", cfunction(record_as_marc_m), METH_FASTCALL | METH_KEYWORDS,
     "as_marc21($self, /, encoding=None)\n--\n\nThe same as as_marc()."},
    {"_export_json", cfunction(record_export_json_m), METH_FASTCALL | METH_KEYWORDS,
     "_export_json($self, /, compact)\n--\n\nMARC-in-JSON written natively, or None."},
    {"_export_xml", cfunction(record_export_xml_m), METH_FASTCALL | METH_KEYWORDS,
     "_export_xml($self, /, utf8, namespace)\n--\n\nMARCXML written natively, or None."},
    {"_raw_bytes", record_raw_bytes_m, METH_NOARGS,
     "_raw_bytes($self, /)\n--\n\nThe bytes the record was read from, or None."},
    {"_is_lazy", record_is_lazy_m, METH_NOARGS,
     "_is_lazy($self, /)\n--\n\nTrue while no Field object of the record has been created."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef record_getset[] = {
    {"fields", record_get_fields_attr, record_set_fields_attr, "The list of fields.", nullptr},
    {"leader", record_get_leader, record_set_leader, "The leader (a Leader).", nullptr},
    {"to_unicode", record_get_flag<&PyRecord::to_unicode>, record_set_flag<&PyRecord::to_unicode>,
     "Whether values are text (True) or bytes.", const_cast<char*>("to_unicode")},
    {"force_utf8", record_get_flag<&PyRecord::force_utf8>, record_set_flag<&PyRecord::force_utf8>,
     "Whether the record is read and written as UTF-8 whatever its leader says.", const_cast<char*>("force_utf8")},
    {"title", record_get_title<245>, nullptr, "245 $a, followed by $b when present.", nullptr},
    {"issn_title", record_get_title<222>, nullptr, "The key title: 222 $a, followed by $b when present.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

}  // namespace

nb::object new_record() {
    auto* type = reinterpret_cast<PyTypeObject*>(types().record_type.ptr());
    PyObject* self = record_new(type, nullptr, nullptr);
    if (!self) throw nb::python_error();
    return nb::steal(self);
}

// Creates the type and registers it (types().record_type) for the code that creates records.
void bind_record(nb::module_& m) {
    static PyType_Slot slots[] = {
        {Py_tp_new, reinterpret_cast<void*>(record_new)},
        {Py_tp_init, reinterpret_cast<void*>(record_init_slot)},
        {Py_tp_dealloc, reinterpret_cast<void*>(record_dealloc)},
        {Py_tp_traverse, reinterpret_cast<void*>(record_traverse)},
        {Py_tp_clear, reinterpret_cast<void*>(record_clear)},
        {Py_tp_iter, reinterpret_cast<void*>(record_iter)},
        {Py_tp_methods, record_methods},
        {Py_tp_getset, record_getset},
        {Py_mp_subscript, reinterpret_cast<void*>(record_subscript)},
        {Py_sq_contains, reinterpret_cast<void*>(record_contains)},
        {Py_tp_doc, const_cast<char*>(
                        "Record(data=b'', fields=None, to_unicode=True, force_utf8=False, hide_utf8_warnings=False, "
                        "utf8_handling='strict', leader='                        ', file_encoding='iso8859-1')\n--\n\n"
                        "A MARC record, as pymarc's Record (its fields are created when first used).")},
        {0, nullptr}};
    static PyType_Spec spec = {"rapidmarc._core.Record", sizeof(PyRecordObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, slots};
    PyObject* type = PyType_FromSpec(&spec);
    if (!type) throw nb::python_error();
    py_types().record_type = nb::steal(type);
    py_types().record_fields = py_types().record_type.attr("fields");
    m.attr("Record") = py_types().record_type;
}

}  // namespace rapidmarc::binding
