// The pymarc semantics of a field (value, format_field, str, get, indicators, the tag rule),
// answered from the record's bytes while the field is raw and from its Python objects after.
#include "field.hpp"

#include <iterator>

namespace rapidmarc::binding {

namespace {

// The stacklevel that attributes a warning to the user's line: warnings.warn counts from the
// innermost Python frame, and frames of rapidmarc's own Python code (bulk.py calling the native
// parse_records, say) lie between the user and the native code that warns.
int user_stacklevel() {
    const std::string& package = types().package_dir;
    int level = 1;
    nb::object held;  // keeps the frame being looked at alive
    PyFrameObject* frame = PyEval_GetFrame();  // borrowed
    while (frame && !package.empty()) {
        nb::object code = nb::steal(reinterpret_cast<PyObject*>(PyFrame_GetCode(frame)));
        nb::object file = code.attr("co_filename");
        if (!nb::isinstance<nb::str>(file) || !utf8_of(file).starts_with(package)) break;
        ++level;
        frame = PyFrame_GetBack(frame);  // a new reference, or null
        held = nb::steal(reinterpret_cast<PyObject*>(frame));
    }
    return level;
}

}  // namespace

std::pair<nb::object, std::string_view> normalized_subfield(const SubfieldView& sf) {
    // pymarc warns for every such code (BadSubfieldCodeWarning(piece)), then applies its rule
    // (which the subfield iterator has applied already), raising IndexError when it finds no code.
    // Warned through warnings.warn's C implementation, at the user's line.
    const PyTypes& t = types();
    const std::string_view piece = sf.piece();
    t.warn(t.bad_code_warning(nb::bytes(piece.data(), piece.size())), nb::arg("stacklevel") = user_stacklevel());
    if (!sf.normalized) {  // what pymarc's rule raises; a Python error, so that readers report it per record
        PyErr_SetString(PyExc_IndexError, "string index out of range");
        throw nb::python_error();
    }
    return {make_str({&sf.code, 1}), sf.value};
}

bool code_matches(std::string_view sub_code, nb::handle wanted) {
    if (!nb::isinstance<nb::str>(wanted)) return false;
    return sub_code == utf8_of(wanted);
}

// First value of subfield `code`, or an invalid object.
nb::object field_find(PyField& f, std::string_view code) {
    nb::object found;
    for_each_subfield(f, [&](std::string_view c, auto value) {
        if (c != code) return true;
        found = value();
        return false;
    });
    return found;
}

nb::object field_get(PyField& f, nb::handle code, nb::handle dflt) {
    nb::object found = nb::isinstance<nb::str>(code) ? field_find(f, utf8_of(code)) : nb::object();
    return found.is_valid() ? found : nb::borrow(dflt);
}

// value(): subfield values, each stripped, joined by one space.
nb::object field_value(PyField& f) {
    if (f.control) {
        if (f.is_raw()) return decode_known(f.raw(), f.text, f.ascii);
        return f.data.is_none() ? nb::object(make_str("")) : f.data;
    }
    if (f.is_raw() && f.ascii && !is_marc8(f.text) && f.text != TextEncoding::bytes) {
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
    if (f.is_raw() && is_marc8(f.text)) {
        // Each subfield is its own MARC-8 string (fresh escape state), as pymarc decodes them.
        std::string joined, piece;
        bool first = true;
        for (const auto& sf : f.view().subfields()) {
            piece.clear();
            append_marc8(sf.value, piece, f.text);
            if (!first) joined.push_back(' ');
            first = false;
            joined.append(rapidmarc::strip_python_whitespace(piece));
        }
        return decode(joined, TextEncoding::utf8);
    }
    if (f.is_raw() && f.text != TextEncoding::bytes) {
        // The first piece is only copied once a second one appears: a single subfield (the common
        // case) is decoded straight from the record's bytes.
        Scratch buf;
        std::string_view first;
        std::size_t count = 0;
        bool exact = true;
        for (const auto& sf : f.view().subfields()) {
            // Validated UTF-8 is stripped exactly as str.strip() would; other text only of ASCII
            // whitespace, leaving non-ASCII edges to the Python path.
            std::string_view v = f.text == TextEncoding::utf8 ? rapidmarc::strip_python_whitespace(sf.value)
                                                             : strip_ascii(sf.value);
            if (f.text != TextEncoding::utf8 && edges_uncertain(v, f.text)) {
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
    for_each_item(f.subfields, [&](nb::handle item) {
        parts.append(call_strip(item[1]));
        return true;
    });
    return make_str(" ").attr("join")(parts);
}

// format_field(): like value() but skips $6, puts " -- " before subject subdivisions and strips
// only the ends.
nb::object field_format(PyField& f) {
    if (f.control) return field_value(f);
    const bool subject = !f.tag.empty() && f.tag[0] == '6';
    auto is_subdivision = [](std::string_view c) { return c == "v" || c == "x" || c == "y" || c == "z"; };
    if (f.is_raw() && is_marc8(f.text)) {
        std::string buf;
        for (const auto& sf : f.view().subfields()) {
            std::string_view c(&sf.code, 1);
            if (c == "6") continue;
            buf.append(subject && is_subdivision(c) ? " -- " : " ");
            append_marc8(sf.value, buf, f.text);
        }
        return decode(rapidmarc::strip_python_whitespace(buf), TextEncoding::utf8);
    }
    if (f.is_raw() && f.text != TextEncoding::bytes) {
        Scratch buf;
        for (const auto& sf : f.view().subfields()) {
            std::string_view c(&sf.code, 1);
            if (c == "6") continue;
            buf.append(subject && is_subdivision(c) ? " -- " : " ");
            buf.append(sf.value);
        }
        if (f.text == TextEncoding::utf8) return decode_known(rapidmarc::strip_python_whitespace(buf.view()), f.text, f.ascii);
        std::string_view s = strip_ascii(buf.view());
        if (!edges_uncertain(s, f.text)) return decode(s, f.text);
    }
    f.materialize();
    nb::list parts;
    for_each_item(f.subfields, [&](nb::handle item) {
        nb::object code = item[0];
        std::string_view c = nb::isinstance<nb::str>(code) ? utf8_of(code) : std::string_view{};
        if (c == "6") return true;
        parts.append(make_str(subject && is_subdivision(c) ? " -- " : " "));
        parts.append(item[1]);
        return true;
    });
    return call_strip(make_str("").attr("join")(parts));
}

// str(field): MARCMaker-style text, blanks shown as backslashes.
nb::object field_str(PyField& f) {
    if (f.is_raw() && f.text != TextEncoding::bytes) {
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
                if (is_marc8(f.text)) {
                    std::string piece;
                    append_marc8(sf.value, piece, f.text);
                    buf.append(piece);
                } else {
                    buf.append(sf.value);
                }
            }
        }
        // The prefix is ASCII, so decoding the whole text equals decoding the data alone.
        return decode(buf.view(), is_marc8(f.text) ? TextEncoding::utf8 : f.text);
    }
    f.materialize();
    nb::object tag = f.tag_str();
    if (f.control) {
        // pymarc: empty (or None) data is "", whatever its type (b"" of a to_unicode=False record).
        nb::object d = !nb::bool_(f.data) ? nb::object(make_str("")) : f.data.attr("replace")(" ", "\\");
        return nb::str("={}  {}").format(tag, d);
    }
    nb::list parts;
    for (nb::handle ind : f.indicators) {
        nb::object s = nb::str(ind);
        std::string_view sv = utf8_of(s);
        parts.append(sv == " " || sv == "\\" ? nb::object(make_str("\\")) : s);
    }
    for_each_item(f.subfields, [&](nb::handle item) {
        parts.append(nb::str("${}{}").format(item[0], item[1]));
        return true;
    });
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

void set_indicators(PyField& f, nb::handle value) {
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

nb::object field_indicator(PyField& f, int which) {
    if (f.control) return make_str("");
    if (f.is_raw()) {
        char c = which == 0 ? f.view().indicator1() : f.view().indicator2();
        return make_str({&c, 1});
    }
    if (f.indicators.is_none()) return make_str("");
    return f.indicators[which];
}

}  // namespace rapidmarc::binding
