#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace rapidmarc;

// Writing a record's fields back through RecordBuilder reproduces every real record exactly;
// the owned model does too, except where it normalises (empty subfields and indicators beyond two are dropped, as pymarc does).
TEST(Writer, RealRecordsRoundTripByteForByte) {
    const char* files[] = {"uva_2000.mrc", "jazz_1k.mrc", "lul_fre_500.mrc", "hebrew_20.mrc", "solrmarc_spec_76.mrc",
                           "auth_1066.mrc", "nepali_96.mrc", "loc_386.mrc", "traject_30.mrc"};
    std::size_t total = 0, normalised = 0;
    for (const char* name : files) {
        std::string data = rapidmarc::test::read_file(rapidmarc::test::shared_data() / "real" / name);
        if (data.empty()) GTEST_SKIP() << "shared data not found";
        ParsedRecord parsed;
        for (const std::string& rec : rapidmarc::test::split_on_terminator(data)) {
            ASSERT_EQ(parse_record(rec, {false, false, Utf8Handling::strict}, parsed), ErrorCode::ok) << name;
            RecordView view(rec, parsed.entries);
            RecordBuilder builder;
            builder.reset(view.leader());
            bool canonical = true;
            for (std::size_t i = 0; i < view.size(); ++i) {
                std::string_view d = view.field(i).data();
                builder.add_field(view.field(i).tag(), d);
                const bool odd_indicators = !view.field(i).is_control() && view.field(i).indicator_bytes().size() != 2;
                if (odd_indicators || d.find("\x1f\x1f") != std::string_view::npos ||
                    (!d.empty() && d.back() == kSubfieldDelimiter))
                    canonical = false;
            }
            std::string out;
            ASSERT_EQ(builder.finish(out), ErrorCode::ok);
            ASSERT_EQ(out, rec) << name << " record " << total;
            if (canonical) {
                ASSERT_EQ(Record::from_view(view).to_marc(), rec) << name << " record " << total;
            } else {
                ++normalised;
            }
            ++total;
        }
    }
    EXPECT_EQ(total, 5174u);
    EXPECT_LT(normalised, 20u);
}

TEST(Writer, ComputesLengthBaseAddressAndDirectory) {
    Record r;
    r.leader = "xxxxxnam a22xxxxx a 4500";
    r.fields.push_back({"001", ' ', ' ', {}, "id"});
    r.fields.push_back({"245", '1', '0', {{'a', "T"}}, ""});
    std::string out = r.to_marc();
    EXPECT_EQ(out.substr(0, 5), std::to_string(out.size()).insert(0, 5 - std::to_string(out.size()).size(), '0'));
    EXPECT_EQ(out.substr(12, 5), "00049");
    EXPECT_EQ(out.substr(24, 24), "001000300000245000600003");
    EXPECT_EQ(out.back(), kRecordTerminator);
}

TEST(Writer, RefusesWhatIso2709CannotHold) {
    Record big_field;
    big_field.fields.push_back({"500", ' ', ' ', {{'a', std::string(10000, 'x')}}, ""});
    EXPECT_THROW(big_field.to_marc(), ParseError);
    Record big_record;
    for (int i = 0; i < 12; ++i) big_record.fields.push_back({"500", ' ', ' ', {{'a', std::string(9000, 'x')}}, ""});
    try {
        big_record.to_marc();
        FAIL() << "no exception";
    } catch (const ParseError& e) {
        EXPECT_EQ(e.error().code, ErrorCode::record_too_long);
    }
    Record bad_tag;
    bad_tag.fields.push_back({"24", ' ', ' ', {}, ""});
    EXPECT_THROW(bad_tag.to_marc(), ParseError);
}

// What a reader would misframe or refuse is not written: a delimiter or terminator in a value,
// control data, an indicator, a code or a tag, and a leader that is not ASCII.
TEST(RecordBuilderValidation, StructuralBytesInValuesAreRefusedNamingTheField) {
    for (char bad : {'\x1d', '\x1e', '\x1f'}) {
        RecordBuilder b;
        b.reset("00000nam a2200000 a 4500");
        b.begin_field("245");
        b.append_value("10");
        b.append_subfield("a", std::string("Title ") + bad + "rest");
        b.end_field();
        std::string out = "untouched", detail;
        EXPECT_EQ(b.finish(out, &detail), ErrorCode::field_data_invalid);
        EXPECT_EQ(out, "untouched");
        EXPECT_NE(detail.find("field 245"), std::string::npos) << detail;

        Record r;
        r.leader = "00000nam a2200000 a 4500";
        Field control;
        control.tag = "001";
        control.data = std::string("id") + bad;
        r.fields.push_back(control);
        EXPECT_THROW(r.to_marc(), ParseError);
    }
}

TEST(RecordBuilderValidation, TagsAndLeadersAReaderCouldNotRead) {
    RecordBuilder b;
    b.reset("00000nam a2200000 a 4500");
    b.begin_field("24\x1e");
    b.append_value("x");
    b.end_field();
    std::string out, detail;
    EXPECT_EQ(b.finish(out, &detail), ErrorCode::tag_invalid);

    b.reset("0000\xc3\xa9""am a2200000 a 4500");  // "0000éam a2200000 a 4500" in UTF-8: 25 bytes
    b.add_field("001", "x");
    EXPECT_EQ(b.finish(out, &detail), ErrorCode::leader_not_ascii);
    EXPECT_NE(detail.find("0xC3"), std::string::npos) << detail;

    b.reset("00000nam a2200000 a 4500");  // a valid record still writes, and reads back
    b.begin_field("245");
    b.append_value("10");
    b.append_subfield("a", "Title");
    b.end_field();
    ASSERT_EQ(b.finish(out, &detail), ErrorCode::ok) << detail;
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(out, {}, parsed), ErrorCode::ok);
}
