// The ISO 2709 record builder the MARCXML and MARC-in-JSON readers share (src/core/iso_builder.hpp):
// exact bytes of small records, records parsed back, the over-99,999-byte rule, fields over 9,999
// bytes, saturated directory numbers, stubs, and reuse between records.
#include <gtest/gtest.h>

#include <string>

#include "../../src/core/iso_builder.hpp"
#include "rapidmarc/parser.hpp"

using namespace rapidmarc;
using rapidmarc::detail::IsoRecordBuilder;

namespace {

constexpr std::string_view kLeader = "01234cam  2200000   4500";

ParsedRecord parse(std::string_view record) {
    ParseOptions options;
    ParsedRecord parsed;
    parse_record(record, options, parsed);
    return parsed;
}

}  // namespace

TEST(IsoRecordBuilder, BuildsTheExactBytesOfASmallRecord) {
    IsoRecordBuilder iso;
    iso.add_control("001", "ocm1");
    iso.begin_data('1', '0');
    iso.add_subfield('a', "Title");
    iso.add_subfield('b', "rest");
    iso.end_field("245");
    EXPECT_EQ(iso.fields(), 2u);
    std::string out = "x";  // appended to, never replaced
    const auto done = iso.finish(out, kLeader, nullptr);
    EXPECT_EQ(done.stub, nullptr);
    EXPECT_TRUE(done.leader_changed);  // length, base address and leader/09 differ from the given leader
    // base address 24 + 24 + 1 = 49; length 49 + 21 bytes of data + 1 = 71
    EXPECT_EQ(out, std::string("x" "00071cam a2200049   4500" "001000500000" "245001600005" "\x1e"
                               "ocm1\x1e" "10\x1f" "aTitle\x1f" "brest\x1e" "\x1d"));
    EXPECT_EQ(iso.fields(), 0u);  // ready for the next record
}

TEST(IsoRecordBuilder, KeepsAGivenLeaderThatIsAlreadyRight) {
    IsoRecordBuilder iso;
    iso.add_control("001", "a");
    std::string first;
    iso.finish(first, kLeader, nullptr);
    const std::string leader = first.substr(0, 24);  // the computed leader, given again
    iso.add_control("001", "a");
    std::string second;
    EXPECT_FALSE(iso.finish(second, leader, nullptr).leader_changed);
    EXPECT_EQ(first, second);
}

TEST(IsoRecordBuilder, ParsesBackFieldForField) {
    IsoRecordBuilder iso;
    iso.add_control("008", std::string(40, 'x'));
    for (int i = 0; i < 30; ++i) {
        iso.begin_data(' ', '4');
        iso.add_subfield('a', "value " + std::to_string(i));
        iso.end_field("650");
    }
    std::string out;
    iso.finish(out, kLeader, nullptr);
    const ParsedRecord parsed = parse(out);
    ASSERT_EQ(parsed.error, ErrorCode::ok) << parsed.detail;
    ASSERT_EQ(parsed.entries.size(), 31u);
    EXPECT_EQ(parsed.entries[0].tag_view(), "008");
    EXPECT_EQ(parsed.entries[30].tag_view(), "650");
    EXPECT_TRUE(parsed.utf8);  // leader/09 'a'
}

TEST(IsoRecordBuilder, PadsAShortTagAndCutsALongOne) {
    IsoRecordBuilder iso;
    iso.add_control("1", "a");
    iso.add_control("12345", "b");
    std::string out;
    iso.finish(out, kLeader, nullptr);
    EXPECT_EQ(out.substr(24, 24), "1  000200000" "123000200002");
}

TEST(IsoRecordBuilder, AFieldOver9999BytesInARecordUnder100000IsAStub) {
    IsoRecordBuilder iso;
    iso.begin_data(' ', ' ');
    iso.add_subfield('a', std::string(9995, 'x'));  // 2 + 2 + 9995 + terminator = 10000 bytes
    iso.end_field("500");
    EXPECT_TRUE(iso.long_field());
    std::string out;
    const auto done = iso.finish(out, kLeader, nullptr);
    ASSERT_NE(done.stub, nullptr);
    EXPECT_STREQ(done.stub, IsoRecordBuilder::kLongField);
    EXPECT_EQ(out, "00022field>9999 bytes\x1d");
    EXPECT_EQ(parse(out).error, ErrorCode::leader_invalid);
}

TEST(IsoRecordBuilder, AFieldOf9999BytesIsWritten) {
    IsoRecordBuilder iso;
    iso.begin_data(' ', ' ');
    iso.add_subfield('a', std::string(9994, 'x'));  // exactly 9999 bytes with its terminator
    iso.end_field("500");
    EXPECT_FALSE(iso.long_field());
    std::string out;
    EXPECT_EQ(iso.finish(out, kLeader, nullptr).stub, nullptr);
    EXPECT_EQ(out.substr(24, 12), "500999900000");
    EXPECT_EQ(parse(out).error, ErrorCode::ok);
}

TEST(IsoRecordBuilder, ARecordOver99999BytesIsWrittenWholeWithSaturatedNumbers) {
    IsoRecordBuilder iso;
    for (int i = 0; i < 12; ++i) {  // 12 fields of 9,000 bytes: 108,000 bytes of data
        iso.begin_data(' ', ' ');
        iso.add_subfield('a', std::string(8995, static_cast<char>('a' + i)));
        iso.end_field("500");
    }
    iso.begin_data(' ', ' ');
    iso.add_subfield('a', std::string(20000, 'z'));  // a field over 9,999 bytes: allowed in such a record
    iso.end_field("520");
    std::string out;
    const auto done = iso.finish(out, kLeader, nullptr);
    EXPECT_EQ(done.stub, nullptr);
    EXPECT_GT(out.size(), 99999u);
    EXPECT_EQ(out.substr(0, 5), "99999");
    // Directory: the last entries' start saturates at 99999, the long field's length at 9999.
    const std::string_view directory(out.data() + 24, 13 * 12);
    EXPECT_EQ(directory.substr(11 * 12, 12), "500900099000");
    EXPECT_EQ(directory.substr(12 * 12, 12), "520999999999");
    EXPECT_EQ(out.back(), '\x1d');
    const ParsedRecord parsed = parse(out);
    ASSERT_EQ(parsed.error, ErrorCode::ok) << parsed.detail;
    EXPECT_TRUE(parsed.resequenced);
    ASSERT_EQ(parsed.entries.size(), 13u);
    EXPECT_EQ(parsed.entries[12].length, 20004u);  // found by the field terminators (without its own)
}

TEST(IsoRecordBuilder, ADirectoryOver99999BytesSaturatesTheBaseAddress) {
    IsoRecordBuilder iso;
    for (int i = 0; i < 8500; ++i) iso.add_control("001", "");  // 8,500 entries: a 102,000-byte directory
    std::string out;
    EXPECT_EQ(iso.finish(out, kLeader, nullptr).stub, nullptr);
    EXPECT_EQ(out.substr(0, 5), "99999");
    EXPECT_EQ(out.substr(12, 5), "99999");
    EXPECT_EQ(out.size(), 24 + 8500 * 12 + 1 + 8500 + 1);
}

TEST(IsoRecordBuilder, AProblemGivenIsAStubWithItsReasonCut) {
    IsoRecordBuilder iso;
    iso.add_control("001", "a");
    std::string out = "before";
    const auto done = iso.finish(out, kLeader, "a reason longer than seventeen bytes");
    EXPECT_STREQ(done.stub, "a reason longer than seventeen bytes");
    EXPECT_FALSE(done.leader_changed);
    EXPECT_EQ(out, "before" "00023a reason longer t\x1d");
    EXPECT_EQ(out.size() - 6, 23u);
    // The reason given wins over a field too long.
    iso.begin_data(' ', ' ');
    iso.add_subfield('a', std::string(10000, 'x'));
    iso.end_field("500");
    out.clear();
    EXPECT_STREQ(iso.finish(out, kLeader, "bad tag").stub, "bad tag");
    EXPECT_EQ(out, "00013bad tag\x1d");
}

TEST(IsoRecordBuilder, ALeaderThatIsNot24BytesIsAStubNotAnOverrun) {
    IsoRecordBuilder iso;
    iso.add_control("001", "a");
    std::string out;
    EXPECT_STREQ(iso.finish(out, "short", nullptr).stub, IsoRecordBuilder::kBadLeader);
    EXPECT_EQ(out, "00016bad leader\x1d");
}

TEST(IsoRecordBuilder, ARecordWithoutFieldsIsALeaderAndTwoTerminators) {
    IsoRecordBuilder iso;
    std::string out;
    EXPECT_EQ(iso.finish(out, kLeader, nullptr).stub, nullptr);
    EXPECT_EQ(out, "00026cam a2200025   4500\x1e\x1d");
}

TEST(IsoRecordBuilder, ClearDropsAHalfBuiltRecord) {
    IsoRecordBuilder iso;
    iso.begin_data(' ', ' ');
    iso.add_subfield('a', std::string(20000, 'x'));
    iso.end_field("500");
    iso.clear();
    EXPECT_EQ(iso.fields(), 0u);
    EXPECT_FALSE(iso.long_field());
    iso.add_control("001", "a");
    std::string out;
    EXPECT_EQ(iso.finish(out, kLeader, nullptr).stub, nullptr);
    EXPECT_EQ(out.substr(24, 12), "001000200000");
}

TEST(IsoRecordBuilder, PutNumberSaturates) {
    char buf[5];
    IsoRecordBuilder::put_number(buf, 4, 42);
    EXPECT_EQ(std::string_view(buf, 4), "0042");
    IsoRecordBuilder::put_number(buf, 4, 10000);
    EXPECT_EQ(std::string_view(buf, 4), "9999");
    IsoRecordBuilder::put_number(buf, 5, 123456);
    EXPECT_EQ(std::string_view(buf, 5), "99999");
}
