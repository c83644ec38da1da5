// PyRecord: fields created lazily, the hot getters (get, title), native JSON/MARCXML export, the
// one way records are built from parsed bytes, and the Record class.
#include "record.hpp"

#include <optional>

#include <nanobind/stl/string.h>

#include "field.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

nb::object& PyRecord::field_list() {
    if (!fields.is_valid()) {
        PyObject* list = PyList_New(static_cast<Py_ssize_t>(entries.size()));
        if (!list) throw nb::python_error();
        nb::object owned = nb::steal(list);
        // pymarc makes every field of a record read with to_unicode=False a RawField.
        auto* type = reinterpret_cast<PyTypeObject*>(to_unicode ? types().field_type.ptr() : types().raw_field_type.ptr());
        Py_ssize_t i = 0;
        for (const FieldEntry& e : entries) {
            // The exact Field type is neither GC-tracked nor has a __dict__: its object needs
            // no zero-filling allocation (tp_alloc), only memory, a header and the PyField
            // constructed in place. Field's tp_free (PyObject_Free) releases it.
            void* mem = PyObject_Malloc(sizeof(PyFieldObject));
            if (!mem) {
                PyErr_NoMemory();
                throw nb::python_error();
            }
            PyObject* obj = PyObject_Init(static_cast<PyObject*>(mem), type);
            new (&reinterpret_cast<PyFieldObject*>(obj)->field)
                PyField(e.tag_view(), raw, e.offset, e.length, e.ascii, text, control_text);
            PyList_SET_ITEM(list, i++, obj);
        }
        fields = std::move(owned);
        entries = {};
    }
    return fields;
}

nb::object& PyRecord::leader_obj() {
    if (!leader.is_valid()) {
        std::string_view bytes(PyBytes_AS_STRING(raw.ptr()), kLeaderLength);
        leader = types().leader(decode(bytes, TextEncoding::latin1));
    }
    return leader;
}

namespace {

// Tag of a field object, fast for our Field type. The field is locked while its tag is read: on a
// free-threaded Python another thread may be assigning field.tag (field_type.cpp locks it too).
bool tag_equals(nb::handle field, std::string_view tag) {
    if (PyField* f = as_field(field)) {
        nb::ft_object_guard guard(field);
        return f->tag == tag;
    }
    nb::object t = field.attr("tag");
    return nb::isinstance<nb::str>(t) && utf8_of(t) == tag;
}

nb::object record_get(PyRecord& r, std::string_view tag, nb::handle dflt) {
    for (nb::handle f : nb::borrow<nb::list>(r.field_list()))
        if (tag_equals(f, tag)) return nb::borrow(f);
    return nb::borrow(dflt);
}

// pymarc's title rule for 245 and 222: $a, then " " and $b when both are non-empty. Native
// because `record.title` sits on the hot path of most scripts.
nb::object title_of(PyRecord& r, std::string_view tag) {
    if (!r.fields.is_valid() && r.raw.is_valid() && !is_control_tag(tag)) {
        // Fields not created yet: answer from the bytes, creating no Field object.
        const std::string_view bytes = r.bytes();
        for (const FieldEntry& e : r.entries) {
            if (e.tag_view() != tag) continue;
            const FieldView v(tag, bytes.substr(e.offset, e.length));
            std::optional<std::string_view> a, b;
            for (const auto& sf : v.subfields()) {
                if (sf.code == 'a' && !a) a = sf.value;
                else if (sf.code == 'b' && !b) b = sf.value;
            }
            if (!a) return nb::none();
            if (r.text == TextEncoding::utf8 || r.text == TextEncoding::latin1) {
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
    if (PyField* fp = as_field(field)) {
        nb::ft_object_guard field_guard(field);  // another thread may be materialising or editing it
        PyField& f = *fp;
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
nb::object record_export(PyRecord& r, bool as_bytes, Write&& write) {
    if (!r.raw.is_valid() || r.fields.is_valid()) return nb::none();
    if (r.text == TextEncoding::bytes) return nb::none();
    ExportOptions options;
    options.encoding = r.text;  // control fields by control_encoding(r.text), which is r.control_text
    nb::object leader;  // keeps the leader text alive while it is written
    if (r.leader.is_valid()) {  // the Leader object exists and may have been changed
        leader = nb::str(r.leader);
        options.leader = utf8_of(leader);
        if (options.leader.empty()) return nb::none();
    }
    const std::string_view bytes = r.bytes();
    std::string out;
    if (write(RecordView(bytes, r.entries), options, out) != ErrorCode::ok) return nb::none();
    if (as_bytes) return nb::bytes(out.data(), out.size());
    return make_str(out);
}

// Garbage-collector support for Record: its field list is user-visible and may end up holding the
// record itself. Fields are not tracked (they hold no user-settable object that could refer back
// to them in normal use), which keeps creating one per field cheap.
int record_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    if (!nb::inst_ready(self)) return 0;
    const PyRecord& r = *nb::inst_ptr<PyRecord>(self);
    Py_VISIT(r.fields.ptr());
    Py_VISIT(r.leader.ptr());
    return 0;
}
int record_clear(PyObject* self) {
    PyRecord& r = *nb::inst_ptr<PyRecord>(self);
    r.fields.reset();
    r.leader.reset();
    return 0;
}
PyType_Slot record_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(record_traverse)},
                              {Py_tp_clear, reinterpret_cast<void*>(record_clear)},
                              {0, nullptr}};

}  // namespace

nb::object build_record(std::string_view bytes, const ParsedRecord& parsed, const PyReadOptions& o) {
    // Constructed in place in a new instance of the cached type (nb::cast would look the type up
    // and move a record in); marked ready at once so that its destructor runs whatever happens.
    nb::object obj = nb::inst_alloc(types().record_type);
    PyRecord& r = *new (nb::inst_ptr<PyRecord>(obj)) PyRecord();
    nb::inst_mark_ready(obj);
    r.raw = nb::bytes(bytes.data(), bytes.size());
    if (parsed.encoding_corrected) {
        // encoding="auto" overruled leader/09: the record says what it really is from now on.
        PyBytes_AS_STRING(r.raw.ptr())[9] = parsed.utf8 ? 'a' : ' ';
    }
    r.to_unicode = o.to_unicode;
    r.force_utf8 = o.force_utf8;
    // pymarc: subfields of MARC-8 records through marc8_to_unicode, their control fields as ISO 8859-1.
    r.text = o.subfield_text(parsed);
    r.control_text = control_encoding(r.text);
    // Copied, not moved: the parsed slot keeps its capacity for the next batch, and the allocation
    // happens (and is later freed) on this thread rather than the parse-ahead worker.
    r.entries.assign(parsed.entries.begin(), parsed.entries.end());
    if (!o.python_codec(parsed.utf8) && !parsed.bad_subfield_code) return obj;

    // Slow path: decode every field now with Python's codecs.
    nb::str encoding = make_str(parsed.utf8 ? "utf-8" : o.file_encoding);
    // utf8_handling is for UTF-8 text only: a file_encoding codec decodes strictly, as in pymarc.
    const char* errors = parsed.utf8 ? o.utf8_errors() : "strict";
    auto decode_value = [&](std::string_view v, bool control) -> nb::object {
        if (!o.to_unicode) return decode(v, TextEncoding::bytes);
        if (!control && is_marc8(r.text)) return decode(v, r.text);
        nb::bytes b(v.data(), v.size());
        return b.attr("decode")(encoding, control ? "strict" : errors);
    };
    for (nb::handle h : nb::borrow<nb::list>(r.field_list())) as_field(h)->materialize_with(decode_value);
    return obj;
}

RecordOrError record_or_error(std::string_view bytes, const ParsedRecord& parsed, std::uint64_t index,
                              std::uint64_t offset, const PyReadOptions& options) {
    if (parsed.error != ErrorCode::ok)
        return {{}, make_error(parsed.error, parsed.detail, index, offset,
                               bytes.substr(parsed.error_offset, parsed.error_length))};
    try {
        return {build_record(bytes, parsed, options), {}};
    } catch (nb::python_error& e) {  // a decoding error, as pymarc raises it while reading
        // KeyboardInterrupt, SystemExit and their kind (say, from a warning handler) are not
        // about the record: they stop the reader instead of becoming its current_exception.
        if (!e.matches(PyExc_Exception)) throw;
        nb::object err = nb::borrow(e.value());
        err.attr("record_index") = index;
        err.attr("byte_offset") = offset;
        return {{}, std::move(err)};
    }
}

namespace {

// Record(data=..., fields=..., leader=...), as pymarc's constructor.
void record_init(PyRecord* self, nb::object data, nb::object fields, bool to_unicode, bool force_utf8,
                 bool /*hide_utf8_warnings*/, std::string utf8_handling, nb::object leader, std::string file_encoding) {
    new (self) PyRecord();
    self->to_unicode = to_unicode;
    self->force_utf8 = force_utf8;
    nb::object l = nb::str(leader);
    nb::object lead = py_slice(l, 0, 10) + make_str("22") + py_slice(l, 12, 20) + make_str("4500");
    self->leader = types().leader(lead);
    if (!fields.is_none() && nb::bool_(fields)) {
        self->fields = fields;
        return;
    }
    if (data.is_none() || nb::len(data) == 0) {
        self->fields = nb::list();
        if (force_utf8) self->leader.attr("coding_scheme") = "a";
        return;
    }
    if (!PyBytes_Check(data.ptr())) data = nb::bytes(nb::bytes(data));
    const PyReadOptions options = decode_options(to_unicode, force_utf8, utf8_handling, std::move(file_encoding));
    const std::string_view bytes(PyBytes_AS_STRING(data.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr())));
    ParsedRecord parsed;
    parse_record(bytes, options.core.parse, parsed);
    RecordOrError built = record_or_error(bytes, parsed, 0, 0, options);
    if (!built.record.is_valid()) raise_error_object(built.error);
    PyRecord& src = *nb::inst_ptr<PyRecord>(built.record);
    self->raw = src.raw;
    self->entries = std::move(src.entries);
    self->text = src.text;
    self->control_text = src.control_text;
    self->fields = src.fields;
    self->leader = nb::object();  // from the data
}

nb::object record_fields(nb::handle self) {
    nb::ft_object_guard guard(self);
    return nb::inst_ptr<PyRecord>(self)->field_list();
}

void record_set_fields(nb::handle self, nb::object v) {
    nb::ft_object_guard guard(self);
    PyRecord& r = *nb::inst_ptr<PyRecord>(self);
    r.entries = {};
    r.fields = std::move(v);
}

nb::object record_leader(nb::handle self) {
    nb::ft_object_guard guard(self);
    return nb::inst_ptr<PyRecord>(self)->leader_obj();
}

void record_set_leader(nb::handle self, nb::object v) {
    nb::ft_object_guard guard(self);
    nb::inst_ptr<PyRecord>(self)->leader = std::move(v);
}

nb::object record_get_m(PyRecord& r, nb::object tag, nb::object dflt) {
    return nb::isinstance<nb::str>(tag) ? record_get(r, utf8_of(tag), dflt) : dflt;
}

nb::object record_getitem(PyRecord& r, nb::object tag) {
    nb::object f = nb::isinstance<nb::str>(tag) ? record_get(r, utf8_of(tag), nb::handle()) : nb::object();
    if (!f.is_valid()) {  // KeyError() with no argument, as pymarc raises it
        PyErr_SetNone(PyExc_KeyError);
        throw nb::python_error();
    }
    return f;
}

bool record_contains(PyRecord& r, nb::object tag) {
    return nb::isinstance<nb::str>(tag) && record_get(r, utf8_of(tag), nb::handle()).is_valid();
}

nb::object record_get_fields(PyRecord& r, nb::args tags) {
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
}

void record_add_field(PyRecord& r, nb::args fields) {
    nb::list list = nb::borrow<nb::list>(r.field_list());
    for (nb::handle f : fields) list.append(f);
}

template <int Tag>
nb::object record_title(nb::handle self) {
    nb::ft_object_guard guard(self);
    return title_of(*nb::inst_ptr<PyRecord>(self), Tag == 245 ? "245" : "222");
}

nb::object record_export_json(PyRecord& r, bool compact) {
    const auto style = compact ? JsonStyle::compact : JsonStyle::spaced;
    return record_export(r, false, [&](const RecordView& v, const ExportOptions& o, std::string& out) {
        return append_json(v, o, style, out);
    });
}

nb::object record_export_xml(PyRecord& r, bool utf8, bool xml_namespace) {
    const auto charset = utf8 ? XmlCharset::utf8 : XmlCharset::ascii;
    return record_export(r, true, [&](const RecordView& v, ExportOptions o, std::string& out) {
        o.xml_namespace = xml_namespace;
        return append_marcxml(v, o, charset, out);
    });
}

}  // namespace

void bind_record(nb::module_& m) {
    nb::class_<PyRecord>(m, "Record", nb::type_slots(record_slots))
        .def("__init__", &record_init, "data"_a = nb::bytes("", 0), "fields"_a = nb::none(), "to_unicode"_a = true,
             "force_utf8"_a = false, "hide_utf8_warnings"_a = false, "utf8_handling"_a = "strict",
             "leader"_a = std::string(24, ' '), "file_encoding"_a = "iso8859-1")
        .def_prop_rw("fields", &record_fields, &record_set_fields)
        .def_prop_rw("leader", &record_leader, &record_set_leader)
        .def_rw("to_unicode", &PyRecord::to_unicode)
        .def_rw("force_utf8", &PyRecord::force_utf8)
        .def("get", &record_get_m, "tag"_a, "default"_a = nb::none(), nb::lock_self())
        .def("__getitem__", &record_getitem, "tag"_a, nb::lock_self())
        .def("__contains__", &record_contains, "tag"_a, nb::lock_self())
        .def("__iter__", [](PyRecord& r) { return nb::iter(r.field_list()); }, nb::lock_self())
        .def("get_fields", &record_get_fields, nb::lock_self())
        .def("add_field", &record_add_field, nb::lock_self())
        .def_prop_ro("title", &record_title<245>, "245 $a, followed by $b when present.")
        .def_prop_ro("issn_title", &record_title<222>, "The key title: 222 $a, followed by $b when present.")
        .def("as_marc", &record_as_marc, "encoding"_a = nb::none(), nb::lock_self())
        .def("as_marc21", &record_as_marc, "encoding"_a = nb::none(), nb::lock_self())
        .def("_export_json", &record_export_json, "compact"_a, nb::lock_self())
        .def("_export_xml", &record_export_xml, "utf8"_a, "namespace"_a, nb::lock_self())
        .def("_raw_bytes", [](PyRecord& r) { return r.raw.is_valid() ? r.raw : nb::none(); }, nb::lock_self())
        .def("_is_lazy", [](PyRecord& r) { return !r.fields.is_valid(); }, nb::lock_self());
    py_types().record_type = m.attr("Record");
}

}  // namespace rapidmarc::binding
