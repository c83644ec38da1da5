// Field specs and columnar value extraction.
#include <gtest/gtest.h>

#include <stdexcept>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

std::vector<std::string> values(const std::string& record, std::string_view spec_text,
                                TextEncoding enc = TextEncoding::utf8) {
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(record, {}, parsed), ErrorCode::ok);
    const FieldSpec spec = parse_field_spec(spec_text);
    std::vector<std::string> out;
    std::string scratch;
    for_each_value(RecordView(record, parsed.entries), spec, enc, scratch,
                   [&](std::string_view v) { out.emplace_back(v); });
    return out;
}

const std::string kRecord = make_record({
    {"001", "ocm123"},
    {"245", "10\x1f" "a  Moby Dick / \x1f" "cHerman Melville.\xc2\xa0"},
    {"650", " 0\x1f" "aWhales\x1f" "xFiction.\x1f" "zPacific"},
    {"651", " 0\x1f" "aNantucket"},
    {"650", " 0\x1f" "aSea stories"},
});

}  // namespace

TEST(FieldSpec, ParsesTagsCodesWildcardsAndTheLeader) {
    auto s = parse_field_spec("650$ax");
    EXPECT_EQ(s.tag, "650");
    EXPECT_EQ(s.codes, "ax");
    EXPECT_TRUE(parse_field_spec("6xx$a").matches("651"));
    EXPECT_FALSE(parse_field_spec("6XX").matches("700"));
    EXPECT_TRUE(parse_field_spec("LDR").leader);
    for (const char* bad : {"", "24", "2455", "245$", "LDR$a", "24 $a", "245$a b"})
        EXPECT_THROW(parse_field_spec(bad), std::invalid_argument) << bad;
}

TEST(Select, SubfieldsInFieldOrder) {
    EXPECT_EQ(values(kRecord, "650$a"), (std::vector<std::string>{"Whales", "Sea stories"}));
    EXPECT_EQ(values(kRecord, "650$zx"), (std::vector<std::string>{"Fiction.", "Pacific"}));
    EXPECT_EQ(values(kRecord, "6XX$a"), (std::vector<std::string>{"Whales", "Nantucket", "Sea stories"}));
    EXPECT_TRUE(values(kRecord, "700$a").empty());
}

TEST(Select, ControlFieldsLeaderAndWholeFieldValueLikePymarc) {
    EXPECT_EQ(values(kRecord, "001"), (std::vector<std::string>{"ocm123"}));
    EXPECT_TRUE(values(kRecord, "001$a").empty());
    EXPECT_EQ(values(kRecord, "LDR").at(0).size(), 24u);
    // pymarc's value(): each subfield stripped (Unicode whitespace too), joined by one space.
    EXPECT_EQ(values(kRecord, "245"), (std::vector<std::string>{"Moby Dick / Herman Melville."}));
}

TEST(Select, StripsPythonWhitespace) {
    EXPECT_EQ(strip_python_whitespace(" \x1c" "a b\xe3\x80\x80\t"), "a b");
    EXPECT_EQ(strip_python_whitespace("\xc2\xa0\xc2\xa0"), "");
    EXPECT_EQ(strip_python_whitespace("x\xff "), "x\xff");  // ill-formed bytes are kept
    EXPECT_EQ(strip_python_whitespace(""), "");
}

// Every ASCII character at either edge: str.isspace() is true for \t..\r, \x1c..\x1f and space
// only; the inline fast path and the general path must agree on all of them.
TEST(Select, StripsEveryAsciiEdgeLikePython) {
    for (int c = 0; c < 0x80; ++c) {
        const char ch = static_cast<char>(c);
        const bool space = (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
        const std::string alone{ch}, left{ch, 'x'}, right{'x', ch};
        EXPECT_EQ(strip_python_whitespace(alone), space ? "" : alone) << c;
        EXPECT_EQ(strip_python_whitespace(left), space ? "x" : left) << c;
        EXPECT_EQ(strip_python_whitespace(right), space ? "x" : right) << c;
    }
}

TEST(Select, Latin1TextBecomesUtf8) {
    std::string out;
    append_text("caf\xe9", TextEncoding::latin1, out);
    EXPECT_EQ(out, "caf\xc3\xa9");
}

// pymarc's normalize_subfield_code, on the cases its rule distinguishes.
TEST(SubfieldCodes, NonAsciiCodesNormaliseAsPymarc) {
    NormalizedCode n;
    ASSERT_TRUE(normalize_subfield_code("\xc3\xa9" "abc", n));  // é as UTF-8: 'e', skip the 2 bytes
    EXPECT_EQ(n.code, 'e');
    EXPECT_EQ(n.skip, 2u);
    ASSERT_TRUE(normalize_subfield_code("\xe9" "abc", n));  // not UTF-8: ISO 8859-1, one byte
    EXPECT_EQ(n.code, 'e');
    EXPECT_EQ(n.skip, 1u);
    ASSERT_TRUE(normalize_subfield_code("\xe2\x82\xac" "xyz", n));  // € has no ASCII: the code comes from the value
    EXPECT_EQ(n.code, 'x');
    EXPECT_EQ(n.skip, 3u);
    ASSERT_TRUE(normalize_subfield_code("\xef\xbc\xa1", n));  // fullwidth A: compatibility decomposition
    EXPECT_EQ(n.code, 'A');
    EXPECT_FALSE(normalize_subfield_code("\xe2\x82\xac\xe2\x82\xac", n));  // nothing ASCII: pymarc's IndexError
    // The iterator applies the rule, so selection sees pymarc's code and value.
    const std::string rec = make_record({{"245", "10\x1f\xc3\xa9" "abc\x1f" "bdef"}});
    EXPECT_EQ(values(rec, "245$e"), (std::vector<std::string>{"abc"}));
}
