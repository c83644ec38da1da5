// Record.as_marc(): a record written back to ISO 2709. Fields still raw are copied as bytes where
// those bytes are what pymarc would write (or converted natively from MARC-8), the others are
// encoded from their Python objects.
#include <algorithm>
#include <cctype>
#include <optional>

#include "field.hpp"
#include "record.hpp"
#include "rapidmarc/marc8.hpp"

#include <nanobind/stl/string.h>

namespace rapidmarc::binding {

namespace {

// The character encoding a record is written in.
enum class Out : std::uint8_t { latin1, utf8, marc8 };

bool canonical_data_field(const PyField& f) {
    // Bytes are copied unchanged only when they are what pymarc would write back: exactly two
    // indicators and no empty subfields.
    const auto v = f.view();
    const std::string_view data = f.raw();
    return v.indicator_bytes().size() == 2 && data.find("\x1f\x1f") == std::string_view::npos &&
           (data.empty() || data.back() != '\x1f');
}

// Encodes one field's data (without its terminator) into the builder, copying bytes unchanged
// where the raw bytes already are what would be written.
void encode_field(RecordBuilder& b, PyField& f, std::string_view tag, Out out) {
    // An indicator or a subfield code is one byte in ISO 2709 and the reader (as pymarc's) takes
    // it as ASCII: anything else would be written (pymarc writes it) and read back as a bad or
    // different record, so it is refused, naming the field.
    auto one_ascii = [&](nb::handle value, const char* what) {
        std::string text;
        if (PyBytes_Check(value.ptr())) {
            text.assign(PyBytes_AS_STRING(value.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(value.ptr())));
        } else {
            text = utf8_of(nb::str(value));
        }
        if (text.size() == 1 && static_cast<unsigned char>(text[0]) < 0x80) {
            b.append_value(text);  // refuses 0x1D/0x1E/0x1F with the builder's message
            return;
        }
        std::string message = "field " + std::string(tag) + ": " + what + " is " +
                              std::string(utf8_of(nb::repr(value))) +
                              ", not one ASCII character, and would read back as a different record";
        throw nb::value_error(message.c_str());
    };
    auto encode = [&](nb::handle value, bool control) {
        // Values from Python objects go through append_value: a delimiter or terminator in one is
        // refused (as_marc raises ValueError naming the field) instead of writing another record.
        if (PyBytes_Check(value.ptr())) {  // to_unicode=False values are written as they are
            b.append_value(std::string_view(PyBytes_AS_STRING(value.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(value.ptr()))));
            return;
        }
        nb::object s = nb::str(value);
        if (out == Out::utf8) {
            b.append_value(utf8_of(s));
        } else if (out == Out::marc8 && !control) {
            std::string m;
            marc8::encode(utf8_of(s), m);
            b.append_value(m);
        } else {
            PyObject* enc = PyUnicode_AsLatin1String(s.ptr());
            if (!enc) throw nb::python_error();
            nb::object e = nb::steal(enc);
            b.append_value(std::string_view(PyBytes_AS_STRING(enc), static_cast<std::size_t>(PyBytes_GET_SIZE(enc))));
        }
    };
    if (f.is_raw()) {
        bool same = false;
        switch (f.text) {
            case TextEncoding::bytes: same = true; break;
            case TextEncoding::utf8: same = out == Out::utf8; break;
            case TextEncoding::utf8_replace:
            case TextEncoding::utf8_ignore: same = out == Out::utf8 && is_valid_utf8(f.raw()); break;
            case TextEncoding::latin1: same = out != Out::utf8; break;  // control fields of MARC-8 records
            case TextEncoding::marc8:
            case TextEncoding::marc8_pymarc: same = out == Out::marc8; break;
        }
        if (same && (f.control || canonical_data_field(f))) {
            b.append(f.raw());
            return;
        }
        if (is_marc8(f.text) && out == Out::utf8 && canonical_data_field(f)) {
            // MARC-8 to UTF-8 natively, subfield by subfield, without Python objects.
            const auto v = f.view();
            std::string utf8(v.indicator_bytes());
            bool ascii_codes = true;
            for (const auto& sf : v.subfields()) {
                ascii_codes = ascii_codes && static_cast<unsigned char>(sf.code) < 0x80;
                utf8.push_back(kSubfieldDelimiter);
                utf8.push_back(sf.code);
                append_marc8(sf.value, utf8, f.text);
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
    if (!ind.is_none()) {  // None: no indicator bytes, as pymarc writes (read back as blanks)
        one_ascii(ind[0], "indicator 1");
        one_ascii(ind[1], "indicator 2");
    }
    for_each_item(f.subfields, [&](nb::handle item) {
        b.append(kSubfieldDelimiter);
        one_ascii(item[0], "a subfield code");
        encode(item[1], false);
        return true;
    });
}

}  // namespace

// pymarc's as_marc(): with to_unicode the leader says UTF-8 and UTF-8 is written. rapidmarc adds
// encoding="utf-8" / "marc8" to write a record in that encoding whatever it was read as.
nb::bytes record_as_marc(PyRecord& r, nb::handle fields, nb::object encoding) {
    std::optional<Out> forced;
    if (!encoding.is_none()) {
        if (!PyUnicode_Check(encoding.ptr())) throw nb::type_error("as_marc(encoding=...) takes 'utf-8' or 'marc8'");
        std::string e(utf8_of(encoding));
        for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (e == "marc8" || e == "marc-8") forced = Out::marc8;
        else if (e == "utf-8" || e == "utf8") forced = Out::utf8;
        else throw nb::value_error("as_marc(encoding=...) takes 'utf-8' or 'marc8'");
    }
    nb::object leader = r.leader_obj();  // held: the code below may run Python code that replaces it
    if ((r.to_unicode && !forced) || forced) {
        const char* scheme = forced == Out::marc8 ? " " : "a";
        if (nb::isinstance(leader, types().leader)) {
            leader.attr("coding_scheme") = scheme;
        } else {
            // pymarc: self.leader = self.leader[0:9] + "a" + self.leader[10:] (TypeError for a
            // leader that cannot be sliced, such as None)
            leader = py_slice(leader, 0, 9) + make_str(scheme) + py_slice(leader, 10, PY_SSIZE_T_MAX);
            r.leader = leader;
        }
    }
    std::string leader_text(utf8_of(nb::str(leader)));
    const Out target = forced ? *forced
                    : (leader_text.size() > 9 && leader_text[9] == 'a') || r.force_utf8 ? Out::utf8
                                                                                       : Out::latin1;
    RecordBuilder b;
    b.reset(leader_text);
    for_each_item(fields, [&](nb::handle h) {
        PyField* fp = as_field(h);
        if (!fp) throw nb::type_error("Record.fields must hold rapidmarc.Field objects");
        nb::ft_object_guard field_guard(h);
        PyField& f = *fp;
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
        encode_field(b, f, t, target);
        b.end_field();
        return true;
    });
    std::string out, detail;
    if (ErrorCode rc = b.finish(out, &detail); rc != ErrorCode::ok) throw nb::value_error(detail.c_str());
    return nb::bytes(out.data(), out.size());
}

}  // namespace rapidmarc::binding
