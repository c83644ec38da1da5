#include "rapidmarc/export.hpp"

#include <stdexcept>

#include "rapidmarc/parser.hpp"
#include "rapidmarc/unicode.hpp"

namespace rapidmarc {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::uint32_t unit, std::string& out) {
    const char buf[6] = {'\\', 'u', kHex[(unit >> 12) & 0xF], kHex[(unit >> 8) & 0xF], kHex[(unit >> 4) & 0xF],
                         kHex[unit & 0xF]};
    out.append(buf, sizeof buf);
}

void append_char_ref(char32_t cp, std::string& out) {
    out += "&#";
    out += std::to_string(static_cast<std::uint32_t>(cp));
    out += ';';
}

// Calls plain(run) for each run of bytes that need no escaping and special(cp, bytes) for every
// other character. `keep(c)` says which ASCII bytes pass unchanged; non-ASCII always goes to
// special. The input is valid UTF-8 (checked or produced by the caller).
template <class Keep, class Special>
void scan(std::string_view s, std::string& out, Keep&& keep, Special&& special) {
    std::size_t run = 0, i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80 && keep(c)) {
            ++i;
            continue;
        }
        out.append(s.data() + run, i - run);
        char32_t cp = c;
        std::size_t n = 1;
        if (c >= 0x80) {
            n = unicode::decode_utf8(s.substr(i), cp);
            if (n == 0) {  // cannot happen for valid input; keep the byte's value rather than loop
                cp = c;
                n = 1;
            }
        }
        special(cp, s.substr(i, n));
        i += n;
        run = i;
    }
    out.append(s.data() + run, s.size() - run);
}

// Text of one value (record bytes in `encoding`) as UTF-8: a view of the bytes when they already
// are valid UTF-8, else converted into `scratch`. Returns ok or the conversion error.
ErrorCode as_utf8(std::string_view raw, TextEncoding encoding, bool ascii, std::string& scratch,
                  std::string_view& text) {
    switch (encoding) {
        case TextEncoding::utf8:
            if (!ascii && !is_valid_utf8(raw)) return ErrorCode::invalid_utf8;
            text = raw;
            return ErrorCode::ok;
        case TextEncoding::utf8_replace:
        case TextEncoding::utf8_ignore:
            if (ascii || is_valid_utf8(raw)) {
                text = raw;
                return ErrorCode::ok;
            }
            scratch.clear();
            append_text(raw, encoding, scratch);
            text = scratch;
            return ErrorCode::ok;
        case TextEncoding::latin1:
        case TextEncoding::marc8:
        case TextEncoding::marc8_pymarc:
            if (ascii && encoding == TextEncoding::latin1) {
                text = raw;
                return ErrorCode::ok;
            }
            scratch.clear();
            if (!append_text(raw, encoding, scratch)) return ErrorCode::invalid_marc8;
            text = scratch;
            return ErrorCode::ok;
        case TextEncoding::bytes: break;
    }
    throw std::invalid_argument("MARC-in-JSON and MARCXML need text: TextEncoding::bytes cannot be exported");
}

// The leader as text: the caller's override, or the record's bytes as ISO 8859-1.
std::string_view leader_text(const RecordView& record, const ExportOptions& options, std::string& scratch) {
    if (!options.leader.empty()) return options.leader;
    scratch.clear();
    append_text(record.leader(), TextEncoding::latin1, scratch);
    return scratch;
}

}  // namespace

void append_json_escaped(std::string_view utf8, std::string& out) {
    scan(
        utf8, out, [](unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; },
        [&](char32_t cp, std::string_view) {
            switch (cp) {
                case '"': out += "\\\""; return;
                case '\\': out += "\\\\"; return;
                case '\n': out += "\\n"; return;
                case '\r': out += "\\r"; return;
                case '\t': out += "\\t"; return;
                case '\b': out += "\\b"; return;
                case '\f': out += "\\f"; return;
                default: break;
            }
            if (cp >= 0x10000) {  // a surrogate pair, as Python writes astral characters
                const std::uint32_t v = static_cast<std::uint32_t>(cp) - 0x10000;
                append_u_escape(0xD800 | (v >> 10), out);
                append_u_escape(0xDC00 | (v & 0x3FF), out);
            } else {
                append_u_escape(static_cast<std::uint32_t>(cp), out);
            }
        });
}

namespace {

// ElementTree's escaping: & < > everywhere; in attributes also " and the three whitespace controls,
// as character references.
void append_xml_escaped(std::string_view utf8, XmlCharset charset, bool attribute, std::string& out) {
    const auto keep = [attribute](unsigned char c) {
        if (c == '&' || c == '<' || c == '>') return false;
        return !attribute || (c != '"' && c != '\r' && c != '\n' && c != '\t');
    };
    scan(utf8, out, keep, [&](char32_t cp, std::string_view bytes) {
        switch (cp) {
            case '&': out += "&amp;"; return;
            case '<': out += "&lt;"; return;
            case '>': out += "&gt;"; return;
            case '"': out += "&quot;"; return;  // reached in attributes only (text keeps them)
            case '\r': out += "&#13;"; return;
            case '\n': out += "&#10;"; return;
            case '\t': out += "&#09;"; return;
            default: break;
        }
        if (charset == XmlCharset::ascii) append_char_ref(cp, out);
        else out.append(bytes);
    });
}

}  // namespace

void append_xml_text(std::string_view utf8, XmlCharset charset, std::string& out) {
    append_xml_escaped(utf8, charset, false, out);
}

void append_xml_attribute(std::string_view utf8, XmlCharset charset, std::string& out) {
    append_xml_escaped(utf8, charset, true, out);
}

ErrorCode append_json(const RecordView& record, const ExportOptions& options, JsonStyle style, std::string& out) {
    const std::string_view item = style == JsonStyle::spaced ? ", " : ",";
    const std::string_view colon = style == JsonStyle::spaced ? ": " : ":";
    std::string scratch;
    std::string_view text;

    out += "{\"leader\"";
    out += colon;
    out += '"';
    append_json_escaped(leader_text(record, options, scratch), out);
    out += '"';
    out += item;
    out += "\"fields\"";
    out += colon;
    out += '[';
    const auto entries = record.entries();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const FieldView f = record.field(i);
        const bool ascii = entries[i].ascii;
        if (i) out += item;
        out += "{\"";
        append_json_escaped(f.tag(), out);
        out += '"';
        out += colon;
        if (f.is_control()) {
            if (ErrorCode rc = as_utf8(f.data(), control_encoding(options.encoding), ascii, scratch, text);
                rc != ErrorCode::ok)
                return rc;
            out += '"';
            append_json_escaped(text, out);
            out += "\"}";
            continue;
        }
        const char ind[2] = {f.indicator1(), f.indicator2()};
        for (int k = 0; k < 2; ++k) {
            out += k == 0 ? "{\"ind1\"" : "\"ind2\"";
            out += colon;
            out += '"';
            append_json_escaped({&ind[k], 1}, out);
            out += '"';
            out += item;
        }
        out += "\"subfields\"";
        out += colon;
        out += '[';
        bool first = true;
        for (const SubfieldView& sf : f.subfields()) {
            if (ErrorCode rc = as_utf8(sf.value, options.encoding, ascii, scratch, text); rc != ErrorCode::ok)
                return rc;
            if (!first) out += item;
            first = false;
            out += "{\"";
            append_json_escaped({&sf.code, 1}, out);
            out += '"';
            out += colon;
            out += '"';
            append_json_escaped(text, out);
            out += "\"}";
        }
        out += "]}}";
    }
    out += "]}";
    return ErrorCode::ok;
}

ErrorCode append_marcxml(const RecordView& record, const ExportOptions& options, XmlCharset charset,
                         std::string& out) {
    std::string scratch;
    std::string_view text;
    // ElementTree writes an element without text or children as <name attrs />.
    auto element_text = [&](std::string_view close) {
        if (text.empty()) {
            out += " />";
        } else {
            out += '>';
            append_xml_text(text, charset, out);
            out += close;
        }
    };

    out += "<record";
    if (options.xml_namespace) {
        out += " xmlns=\"http://www.loc.gov/MARC21/slim\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
               " xsi:schemaLocation=\"http://www.loc.gov/MARC21/slim"
               " http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd\"";
    }
    out += "><leader";
    std::string leader_scratch;
    text = leader_text(record, options, leader_scratch);
    element_text("</leader>");
    const auto entries = record.entries();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const FieldView f = record.field(i);
        const bool ascii = entries[i].ascii;
        if (f.is_control()) {
            if (ErrorCode rc = as_utf8(f.data(), control_encoding(options.encoding), ascii, scratch, text);
                rc != ErrorCode::ok)
                return rc;
            out += "<controlfield tag=\"";
            append_xml_attribute(f.tag(), charset, out);
            out += '"';
            element_text("</controlfield>");
            continue;
        }
        const char ind1 = f.indicator1(), ind2 = f.indicator2();
        out += "<datafield ind1=\"";
        append_xml_attribute({&ind1, 1}, charset, out);
        out += "\" ind2=\"";
        append_xml_attribute({&ind2, 1}, charset, out);
        out += "\" tag=\"";
        append_xml_attribute(f.tag(), charset, out);
        out += '"';
        bool any = false;
        for (const SubfieldView& sf : f.subfields()) {
            if (ErrorCode rc = as_utf8(sf.value, options.encoding, ascii, scratch, text); rc != ErrorCode::ok)
                return rc;
            if (!any) out += '>';
            any = true;
            out += "<subfield code=\"";
            append_xml_attribute({&sf.code, 1}, charset, out);
            out += '"';
            element_text("</subfield>");
        }
        out += any ? "</datafield>" : " />";
    }
    out += "</record>";
    return ErrorCode::ok;
}

}  // namespace rapidmarc
