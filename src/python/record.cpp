// PyRecord: fields created lazily, the hot getters (get, title), native JSON/MARCXML export, and
// the one way records are built from parsed bytes. The Record type itself is in record_type.cpp.
#include "record.hpp"

#include <optional>

#include <nanobind/stl/string.h>

#include "field.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

nb::object& PyRecord::field_list() {
    if (!fields.is_valid()) {
        // Allocating the list may run the garbage collector, and with it a __del__ that asks for
        // this record's fields: if that built them, theirs stand. Nothing below runs Python code.
        PyObject* list = PyList_New(static_cast<Py_ssize_t>(entries.size()));
        if (!list) throw nb::python_error();
        nb::object owned = nb::steal(list);
        if (fields.is_valid()) return fields;
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
        if (!raw.is_valid()) {
            // A record whose __init__ never ran (Record.__new__, a subclass that skips it): what
            // pymarc's slotted Record raises for an attribute never set.
            PyErr_SetString(PyExc_AttributeError, "'Record' object has no attribute 'leader'");
            throw nb::python_error();
        }
        std::string_view bytes(PyBytes_AS_STRING(raw.ptr()), kLeaderLength);
        nb::object made = types().leader(decode(bytes, TextEncoding::latin1));
        if (!leader.is_valid()) leader = std::move(made);  // Leader() is Python: it may have set one
    }
    return leader;
}

namespace {

// Tag of a field object, read directly for our Field and RawField types (a subclass may override
// `tag`: it is asked). The field is locked while its tag is read: on a free-threaded Python
// another thread may be assigning field.tag (field_type.cpp locks it too).
bool tag_equals(nb::handle field, std::string_view tag) {
    const PyTypes& registered = types();
    if (Py_TYPE(field.ptr()) == reinterpret_cast<PyTypeObject*>(registered.field_type.ptr()) ||
        Py_TYPE(field.ptr()) == reinterpret_cast<PyTypeObject*>(registered.raw_field_type.ptr())) {
        nb::ft_object_guard guard(field);  // a subclass may override `tag`: it is asked below
        return field_of(field.ptr()).tag == tag;
    }
    nb::object t = field.attr("tag");
    return nb::isinstance<nb::str>(t) && utf8_of(t) == tag;
}

}  // namespace

nb::object record_get(nb::handle fields, std::string_view tag, nb::handle dflt) {
    nb::object found;
    for_each_item(fields, [&](nb::handle f) {
        if (!tag_equals(f, tag)) return true;
        found = nb::borrow(f);
        return false;
    });
    return found.is_valid() ? found : nb::borrow(dflt);
}

// pymarc's title rule for 245 and 222: $a, then " " and $b when both are non-empty. Native
// because `record.title` sits on the hot path of most scripts.
nb::object record_title(PyRecord& r, nb::handle fields, std::string_view tag) {
    if (!fields.is_valid() && !r.fields.is_valid() && r.raw.is_valid() && !is_control_tag(tag)) {
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
    nb::object field = record_get(fields.is_valid() ? nb::object(nb::borrow(fields)) : nb::object(r.field_list()), tag, nb::none());
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

namespace {

// MARC-in-JSON / MARCXML of a record written natively from its bytes (export.hpp), or None when
// only the Python path can write it exactly: fields already created (they may have been edited),
// to_unicode=False (pymarc cannot write bytes as JSON either), or a value that does not convert
// (the Python path then raises what pymarc raises).
template <typename Write>
nb::object record_export(PyRecord& r, bool as_bytes, Write&& write) {
    ExportOptions options;
    nb::object leader;  // keeps the leader text alive while it is written
    if (r.leader.is_valid()) {  // the Leader object exists and may have been changed
        leader = nb::str(r.leader);  // Python code: checked before anything else is looked at
        options.leader = utf8_of(leader);
        if (options.leader.empty()) return nb::none();
    }
    if (!r.raw.is_valid() || r.fields.is_valid()) return nb::none();
    if (r.text == TextEncoding::bytes) return nb::none();
    options.encoding = r.text;  // control fields by control_encoding(r.text), which is r.control_text
    const nb::object raw = r.raw;  // from here on only native code runs
    const std::string_view bytes(PyBytes_AS_STRING(raw.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(raw.ptr())));
    std::string out;
    if (write(RecordView(bytes, r.entries), options, out) != ErrorCode::ok) return nb::none();
    if (as_bytes) return nb::bytes(out.data(), out.size());
    return make_str(out);
}

}  // namespace

nb::object build_record(std::string_view bytes, const ParsedRecord& parsed, const PyReadOptions& o) {
    nb::object obj = new_record();
    PyRecord& r = record_of(obj.ptr());
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

// Record(data=..., fields=..., leader=...), as pymarc's constructor. hide_utf8_warnings is
// accepted and has no effect, as in pymarc 5.
void record_init(PyRecord& target, nb::handle data_arg, nb::handle fields, bool to_unicode, bool force_utf8,
                 std::string utf8_handling, nb::handle leader, std::string file_encoding) {
    // Built aside and swapped in at the end: the Python code this runs (str(leader), Leader(),
    // codecs) may read the record, and an error must leave it as it was.
    PyRecord r;
    r.to_unicode = to_unicode;
    r.force_utf8 = force_utf8;
    nb::object l = nb::str(leader);
    nb::object lead = py_slice(l, 0, 10) + make_str("22") + py_slice(l, 12, 20) + make_str("4500");
    r.leader = types().leader(lead);
    nb::object data = nb::borrow(data_arg);
    if (!fields.is_none() && nb::bool_(fields)) {
        r.fields = nb::borrow(fields);
    } else if (data.is_none() || nb::len(data) == 0) {
        r.fields = nb::list();
        if (force_utf8) r.leader.attr("coding_scheme") = "a";
    } else {
        if (!PyBytes_Check(data.ptr())) data = nb::bytes(nb::bytes(data));
        const PyReadOptions options = decode_options(to_unicode, force_utf8, utf8_handling, std::move(file_encoding));
        const std::string_view bytes(PyBytes_AS_STRING(data.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr())));
        ParsedRecord parsed;
        parse_record(bytes, options.core.parse, parsed);
        RecordOrError built = record_or_error(bytes, parsed, 0, 0, options);
        if (!built.record.is_valid()) raise_error_object(built.error);
        PyRecord& src = record_of(built.record.ptr());
        r.raw = src.raw;
        r.entries = std::move(src.entries);
        r.text = src.text;
        r.control_text = src.control_text;
        r.fields = src.fields;
        r.leader = nb::object();  // from the data
    }
    std::swap(target, r);  // no reference is dropped here: the old state goes when `r` does
}

nb::object record_get_fields(nb::handle fields, PyObject* const* tags, Py_ssize_t ntags) {
    if (ntags == 0) return nb::borrow(fields);
    std::vector<std::string> wanted;
    for (Py_ssize_t i = 0; i < ntags; ++i)
        if (nb::isinstance<nb::str>(tags[i])) wanted.emplace_back(utf8_of(tags[i]));
    nb::list out;
    for_each_item(fields, [&](nb::handle f) {
        for (const auto& w : wanted)
            if (tag_equals(f, w)) {
                out.append(f);
                break;
            }
        return true;
    });
    return out;
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

}  // namespace rapidmarc::binding
