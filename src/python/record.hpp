// PyRecord: a record as pymarc's Record. A record read from a file keeps its raw bytes (a Python
// bytes object) and the parser's directory entries; its Field objects are created only when
// Python first touches its fields. Building one (build_record) and turning a record that cannot be
// built into its exception (record_or_error) are the one way every reader makes records.
#pragma once

#include <vector>

#include "binding.hpp"
#include "options.hpp"
#include "text.hpp"

namespace rapidmarc::binding {

struct PyRecord {
    nb::object raw;                  // original bytes (None for records built in Python)
    std::vector<FieldEntry> entries; // parsed directory, used until fields are materialised
    TextEncoding text = TextEncoding::utf8;
    TextEncoding control_text = TextEncoding::utf8;
    bool to_unicode = true;
    bool force_utf8 = false;
    nb::object fields;               // list of Field, once materialised
    nb::object leader;               // Leader object (or whatever the user assigned)

    // The field list, creating the Field objects on first use.
    nb::object& field_list();
    // The Leader object, created from the bytes on first use.
    nb::object& leader_obj();
    // The record's bytes (raw must be valid).
    std::string_view bytes() const noexcept {
        return {PyBytes_AS_STRING(raw.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(raw.ptr()))};
    }
};

// The Python object of a PyRecord (the type is created at import: record_type.cpp). Like pymarc's
// records (a class with __slots__) it has no __dict__ and takes no weak references; a Python
// subclass without __slots__ gets a __dict__, as a subclass of pymarc's does.
struct PyRecordObject {
    PyObject_HEAD
    PyRecord record;
};

inline PyRecord& record_of(PyObject* self) noexcept { return reinterpret_cast<PyRecordObject*>(self)->record; }

// A new record object of the exact Record type, holding an empty PyRecord.
nb::object new_record();

// ---- pymarc's Record semantics (record.cpp), called by the type's slots and methods
// Record(data=..., fields=..., leader=..., ...), as pymarc's constructor.
void record_init(PyRecord& r, nb::handle data, nb::handle fields, bool to_unicode, bool force_utf8,
                 std::string utf8_handling, nb::handle leader, std::string file_encoding);
// The functions below take the record's fields as Python code sees them (a list, or whatever a user
// assigned, or what a subclass's `fields` property gives), as pymarc's methods go through
// self.fields.
// The first field with this tag, or `dflt` (which may be an invalid handle: then an invalid object).
nb::object record_get(nb::handle fields, std::string_view tag, nb::handle dflt);
// get_fields(*tags): all fields (the sequence itself) without tags, else a new list of those that match.
nb::object record_get_fields(nb::handle fields, PyObject* const* tags, Py_ssize_t ntags);
// pymarc's title rule for 245 (title) and 222 (issn_title). `fields` invalid: the record's own,
// answered from its bytes while no Field object exists.
nb::object record_title(PyRecord& r, nb::handle fields, std::string_view tag);
// MARC-in-JSON / MARCXML written natively from the record's bytes, or None when only the Python
// path can write it exactly.
nb::object record_export_json(PyRecord& r, bool compact);
nb::object record_export_xml(PyRecord& r, bool utf8, bool xml_namespace);

// A Record object from a parsed record. Records whose bytes need Python's help (a codec other than
// UTF-8/Latin-1, or non-ASCII subfield codes) are decoded eagerly here, so that any decoding error
// surfaces while reading, as in pymarc (it is raised as a Python exception).
nb::object build_record(std::string_view bytes, const ParsedRecord& parsed, const PyReadOptions& options);

// A record as MARCReader yields it, or the exception it yields None for: exactly one is valid.
struct RecordOrError {
    nb::object record;
    nb::object error;  // with record_index and byte_offset
};
// A record parsed on its own, at stream position `index`, `offset`.
RecordOrError record_or_error(std::string_view bytes, const ParsedRecord& parsed, std::uint64_t index,
                              std::uint64_t offset, const PyReadOptions& options);
// Record i of a batch (its framing and parse errors; building it finds the rest). Inline: it is
// on the path of every record MARCReader yields.
inline RecordOrError record_or_error(const Batch& batch, std::size_t i, const PyReadOptions& options) {
    const FramedRecord& fr = batch.frames[i];
    if (fr.error != ErrorCode::ok) return {{}, make_error(batch.error(i))};
    return record_or_error(batch.record(i), batch.parsed[i], fr.index, fr.offset, options);
}

// pymarc's as_marc(), with rapidmarc's encoding="utf-8" / "marc8" (as_marc.cpp), writing `fields`.
nb::bytes record_as_marc(PyRecord& r, nb::handle fields, nb::object encoding);

}  // namespace rapidmarc::binding
