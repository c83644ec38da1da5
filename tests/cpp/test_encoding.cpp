// Record-level character set handling: MARC-8 validation at parse time, opt-in encoding detection,
// and MARC-8 text conversion with NFC.
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

std::string with_coding(std::string record, char scheme) {
    record[9] = scheme;
    return record;
}

}  // namespace

TEST(Marc8Validation, ACutOffEscapeIsAnErrorNamingTheSubfield) {
    const std::string record = with_coding(make_record({{"001", "x"}, {"245", "10\x1f" "aok\x1f" "bbad\x1b"}}), ' ');
    ParseOptions po;
    po.validate_marc8 = true;
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(record, po, parsed), ErrorCode::invalid_marc8);
    EXPECT_NE(parsed.detail.find("$b"), std::string::npos) << parsed.detail;
    EXPECT_EQ(record.substr(parsed.error_offset, parsed.error_length), "bad\x1b");
    po.validate_marc8 = false;  // pymarc with to_unicode=False never converts
    EXPECT_EQ(parse_record(record, po, parsed), ErrorCode::ok);
    // The same bytes in a UTF-8 record are not MARC-8 at all.
    po.validate_marc8 = true;
    EXPECT_EQ(parse_record(with_coding(record, 'a'), po, parsed), ErrorCode::ok);
}

TEST(EncodingDetection, Utf8BytesUnderAMarc8LeaderAreReadAsUtf8) {
    const std::string record = with_coding(make_record({{"245", "10\x1f" "aCaf\xc3\xa9"}}), ' ');
    ParseOptions po;
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(record, po, parsed), ErrorCode::ok);
    EXPECT_FALSE(parsed.utf8);  // the default never guesses
    po.detect_encoding = true;
    ASSERT_EQ(parse_record(record, po, parsed), ErrorCode::ok);
    EXPECT_TRUE(parsed.utf8);
    EXPECT_TRUE(parsed.encoding_corrected);
}

TEST(EncodingDetection, AsciiAndEscapesKeepTheLeadersWord) {
    ParseOptions po;
    po.detect_encoding = true;
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(with_coding(make_record({{"245", "10\x1f" "aplain"}}), ' '), po, parsed), ErrorCode::ok);
    EXPECT_FALSE(parsed.encoding_corrected);
    // Valid UTF-8 in bytes, but an escape sequence says MARC-8.
    const std::string greek = with_coding(make_record({{"245", "10\x1f" "a\x1bgabc\x1bs \xc3\xa9"}}), ' ');
    ASSERT_EQ(parse_record(greek, po, parsed), ErrorCode::ok);
    EXPECT_FALSE(parsed.utf8);
    EXPECT_FALSE(parsed.encoding_corrected);
}

TEST(EncodingDetection, InvalidUtf8ThatIsCleanMarc8IsReadAsMarc8) {
    const std::string record = make_record({{"245", "10\x1f" "a\xb9" "0.75"}});  // ANSEL pound sign
    ParseOptions po;
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(record, po, parsed), ErrorCode::invalid_utf8);
    po.detect_encoding = true;
    ASSERT_EQ(parse_record(record, po, parsed), ErrorCode::ok);
    EXPECT_FALSE(parsed.utf8);
    EXPECT_TRUE(parsed.encoding_corrected);
    po.force_utf8 = true;  // forcing UTF-8 wins over detection
    EXPECT_EQ(parse_record(record, po, parsed), ErrorCode::invalid_utf8);
}

TEST(Marc8Text, ConvertedAndComposed) {
    std::string out;
    EXPECT_TRUE(append_text("caf\xe2" "e", TextEncoding::marc8, out));  // acute before its base
    EXPECT_EQ(out, "caf\xc3\xa9");                                      // NFC: U+00E9
    out.clear();
    EXPECT_TRUE(append_text("plain text", TextEncoding::marc8, out));
    EXPECT_EQ(out, "plain text");
    out.clear();
    EXPECT_FALSE(append_text("x\x1b", TextEncoding::marc8, out));
}
