// MARC-in-JSON and MARCXML output (byte-exact comparison with pymarc is in tests/python/test_export.py).
#include <gtest/gtest.h>

#include <stdexcept>

#include "rapidmarc/export.hpp"
#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

struct Parsed {
    std::string bytes;
    ParsedRecord parsed;
    RecordView view() const { return {bytes, parsed.entries}; }
};

Parsed parse(std::string bytes, bool utf8 = true) {
    if (!utf8) bytes[9] = ' ';
    Parsed p{std::move(bytes), {}};
    ParseOptions options;
    options.validate_text = false;
    EXPECT_EQ(parse_record(p.bytes, options, p.parsed), ErrorCode::ok);
    return p;
}

std::string json(const Parsed& p, JsonStyle style = JsonStyle::spaced, TextEncoding enc = TextEncoding::utf8) {
    std::string out;
    ExportOptions options;
    options.encoding = enc;
    EXPECT_EQ(append_json(p.view(), options, style, out), ErrorCode::ok);
    return out;
}

std::string xml(const Parsed& p, XmlCharset charset = XmlCharset::ascii, TextEncoding enc = TextEncoding::utf8,
                bool ns = false) {
    std::string out;
    ExportOptions options;
    options.encoding = enc;
    options.xml_namespace = ns;
    EXPECT_EQ(append_marcxml(p.view(), options, charset, out), ErrorCode::ok);
    return out;
}

std::string escaped_json(std::string_view s) {
    std::string out;
    append_json_escaped(s, out);
    return out;
}

}  // namespace

TEST(Export, JsonEscapesAsPythonEnsureAscii) {
    EXPECT_EQ(escaped_json("plain text ~"), "plain text ~");
    EXPECT_EQ(escaped_json("\"\\\n\r\t\b\f"), "\\\"\\\\\\n\\r\\t\\b\\f");
    EXPECT_EQ(escaped_json(std::string_view("\x00\x1f\x7f", 3)), "\\u0000\\u001f\\u007f");
    EXPECT_EQ(escaped_json("caf\xc3\xa9 \xe2\x82\xac"), "caf\\u00e9 \\u20ac");
    EXPECT_EQ(escaped_json("\xf0\x9f\x98\x80"), "\\ud83d\\ude00");  // astral: a surrogate pair
}

TEST(Export, XmlEscapesAsElementTree) {
    std::string text, attr, utf8;
    append_xml_text("a<b>&\"'\r\n\t\xc3\xa9", XmlCharset::ascii, text);
    EXPECT_EQ(text, "a&lt;b&gt;&amp;\"'\r\n\t&#233;");
    append_xml_attribute("a<b>&\"'\r\n\t\xf0\x9f\x98\x80", XmlCharset::ascii, attr);
    EXPECT_EQ(attr, "a&lt;b&gt;&amp;&quot;'&#13;&#10;&#09;&#128512;");
    append_xml_text("\xc3\xa9<", XmlCharset::utf8, utf8);
    EXPECT_EQ(utf8, "\xc3\xa9&lt;");
}

TEST(Export, JsonRecordInBothStyles) {
    const Parsed p = parse(make_record({{"001", "ocm1"}, {"245", "10\x1f" "aMoby \"Dick\"\x1f" "c\xc3\xa9"}, {"500", "  "}}));
    const std::string leader = p.bytes.substr(0, 24);
    EXPECT_EQ(json(p), "{\"leader\": \"" + leader +
                           "\", \"fields\": [{\"001\": \"ocm1\"}, {\"245\": {\"ind1\": \"1\", \"ind2\": \"0\", "
                           "\"subfields\": [{\"a\": \"Moby \\\"Dick\\\"\"}, {\"c\": \"\\u00e9\"}]}}, "
                           "{\"500\": {\"ind1\": \" \", \"ind2\": \" \", \"subfields\": []}}]}");
    EXPECT_EQ(json(p, JsonStyle::compact),
              "{\"leader\":\"" + leader +
                  "\",\"fields\":[{\"001\":\"ocm1\"},{\"245\":{\"ind1\":\"1\",\"ind2\":\"0\","
                  "\"subfields\":[{\"a\":\"Moby \\\"Dick\\\"\"},{\"c\":\"\\u00e9\"}]}},"
                  "{\"500\":{\"ind1\":\" \",\"ind2\":\" \",\"subfields\":[]}}]}");
}

TEST(Export, MarcXmlRecordWithEmptyElements) {
    const Parsed p = parse(make_record({{"001", ""}, {"245", "1 \x1f" "aA & B\x1f" "b\x1f" "c\xc3\xa9"}, {"500", "  "}}));
    const std::string leader = p.bytes.substr(0, 24);
    EXPECT_EQ(xml(p), "<record><leader>" + leader +
                          "</leader><controlfield tag=\"001\" /><datafield ind1=\"1\" ind2=\" \" tag=\"245\">"
                          "<subfield code=\"a\">A &amp; B</subfield><subfield code=\"b\" />"
                          "<subfield code=\"c\">&#233;</subfield></datafield>"
                          "<datafield ind1=\" \" ind2=\" \" tag=\"500\" /></record>");
    EXPECT_NE(xml(p, XmlCharset::utf8).find("<subfield code=\"c\">\xc3\xa9</subfield>"), std::string::npos);
    EXPECT_EQ(xml(p, XmlCharset::ascii, TextEncoding::utf8, true)
                  .rfind("<record xmlns=\"http://www.loc.gov/MARC21/slim\" xmlns:xsi=", 0),
              0u);
}

TEST(Export, Marc8SubfieldsConvertAndControlFieldsAreLatin1) {
    // ANSEL 0xE2 (acute) before 'e'; in a control field the same byte is ISO 8859-1 'â'.
    const Parsed p = parse(make_record({{"001", "x\xe2"}, {"245", "00\x1f" "a\xe2" "e"}}), false);
    const std::string out = json(p, JsonStyle::compact, TextEncoding::marc8);
    EXPECT_NE(out.find("{\"001\":\"x\\u00e2\"}"), std::string::npos) << out;
    EXPECT_NE(out.find("{\"a\":\"\\u00e9\"}"), std::string::npos) << out;  // NFC: e + acute = U+00E9
}

TEST(Export, ConversionErrorsAreReported) {
    const Parsed bad_utf8 = parse(make_record({{"245", "00\x1f" "a\xff"}}));
    std::string out;
    EXPECT_EQ(append_json(bad_utf8.view(), {}, JsonStyle::spaced, out), ErrorCode::invalid_utf8);
    const Parsed bad_marc8 = parse(make_record({{"245", "00\x1f" "aabc\x1b"}}), false);
    ExportOptions marc8;
    marc8.encoding = TextEncoding::marc8;
    out.clear();
    EXPECT_EQ(append_marcxml(bad_marc8.view(), marc8, XmlCharset::ascii, out), ErrorCode::invalid_marc8);
    ExportOptions bytes;
    bytes.encoding = TextEncoding::bytes;
    EXPECT_THROW(append_json(bad_utf8.view(), bytes, JsonStyle::spaced, out), std::invalid_argument);
}

TEST(Export, LeaderOverride) {
    const Parsed p = parse(make_record({{"001", "1"}}));
    ExportOptions options;
    const std::string leader = "01234cam a2200000 a 4500";
    options.leader = leader;
    std::string out;
    ASSERT_EQ(append_json(p.view(), options, JsonStyle::compact, out), ErrorCode::ok);
    EXPECT_EQ(out.rfind("{\"leader\":\"" + leader + "\"", 0), 0u);
}
