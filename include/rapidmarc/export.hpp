// MARC-in-JSON and MARCXML text of one record, written straight from its bytes.
//
// The output is byte for byte what pymarc writes for the same record, so that the Python package
// can use these functions behind its pymarc-named API and tools can compare files with `cmp`:
//   append_json(..., JsonStyle::spaced)    == Record.as_json()            (json.dumps defaults)
//   append_json(..., JsonStyle::compact)   == one record of JSONWriter    (separators "," and ":")
//   append_marcxml(..., XmlCharset::ascii) == record_to_xml(record)       (ET.tostring: us-ascii)
//   append_marcxml(..., XmlCharset::utf8)  == one record of XMLWriter     (ET.tostring: utf-8)
// Text is decoded as pymarc's reader decodes it: subfields in the record's encoding, control
// fields of MARC-8 records as ISO 8859-1 (see text.hpp, append_text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rapidmarc/error.hpp"
#include "rapidmarc/record_view.hpp"
#include "rapidmarc/text.hpp"

namespace rapidmarc {

enum class JsonStyle : std::uint8_t {
    spaced,   // ", " between items and ": " after keys (json.dumps defaults)
    compact,  // "," and ":"
};

enum class XmlCharset : std::uint8_t {
    ascii,  // characters beyond ASCII as decimal references (&#233;)
    utf8,   // characters beyond ASCII as UTF-8
};

struct ExportOptions {
    // Encoding of subfield text: utf8, marc8 or latin1. Text formats need text: bytes throws
    // std::invalid_argument.
    TextEncoding encoding = TextEncoding::utf8;
    // The leader to write, as UTF-8 text; empty means the record's own 24 bytes (ISO 8859-1).
    std::string_view leader;
    // MARCXML only: the MARC 21 slim namespace and schema location on <record>, as pymarc's
    // record_to_xml(namespace=True) writes them.
    bool xml_namespace = false;
};

// Appends the record's MARC-in-JSON object to `out`. Returns ErrorCode::ok, or invalid_utf8 /
// invalid_marc8 when a value cannot be converted to text (`out` then holds a partial object and
// should be cut back by the caller).
ErrorCode append_json(const RecordView& record, const ExportOptions& options, JsonStyle style, std::string& out);

// Appends the record's MARCXML <record> element to `out`; errors as append_json.
ErrorCode append_marcxml(const RecordView& record, const ExportOptions& options, XmlCharset charset,
                         std::string& out);

// What pymarc's XMLWriter writes before the first and after the last record.
inline constexpr std::string_view kMarcXmlCollectionStart =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><collection xmlns=\"http://www.loc.gov/MARC21/slim\">";
inline constexpr std::string_view kMarcXmlCollectionEnd = "</collection>";

// String escaping, exposed for writers of other record sources (and tested on their own).
// JSON string contents as Python's json.dumps(ensure_ascii=True) writes them. `utf8` must be valid.
void append_json_escaped(std::string_view utf8, std::string& out);
// XML character data (ElementTree's rules: & < > only) and attribute values (also " CR LF TAB).
void append_xml_text(std::string_view utf8, XmlCharset charset, std::string& out);
void append_xml_attribute(std::string_view utf8, XmlCharset charset, std::string& out);

}  // namespace rapidmarc
