#include <gtest/gtest.h>

#include "test_support.hpp"

// A private helper of the core, tested on its own (the reader and parser rely on its exact rules).
#include "../../src/core/python_int.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

TEST(Parser, ParsesFieldsAndSubfields) {
    std::string rec = make_record({{"001", "id1"}, {"245", "10\x1f" "aTitle :\x1f" "bsub"}});
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(rec, {}, parsed), ErrorCode::ok) << parsed.detail;
    RecordView view(rec, parsed.entries);
    ASSERT_EQ(view.size(), 2u);
    EXPECT_TRUE(view.field(0).is_control());
    EXPECT_EQ(view.field(0).data(), "id1");
    FieldView f = view.field(1);
    EXPECT_EQ(f.tag(), "245");
    EXPECT_EQ(f.indicator1(), '1');
    EXPECT_EQ(f.indicator2(), '0');
    std::vector<std::pair<char, std::string_view>> subs;
    for (const auto& sf : f.subfields()) subs.emplace_back(sf.code, sf.value);
    ASSERT_EQ(subs.size(), 2u);
    EXPECT_EQ(subs[0].first, 'a');
    EXPECT_EQ(subs[0].second, "Title :");
    EXPECT_EQ(subs[1].second, "sub");
}

TEST(Parser, EmptySubfieldsAreSkippedAndMissingIndicatorsAreBlank) {
    std::string rec = make_record({{"500", "\x1f\x1f" "anote\x1f"}});
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(rec, {}, parsed), ErrorCode::ok);
    FieldView f = RecordView(rec, parsed.entries).field(0);
    EXPECT_EQ(f.indicator1(), ' ');
    EXPECT_EQ(f.indicator2(), ' ');
    int n = 0;
    for (const auto& sf : f.subfields()) {
        EXPECT_EQ(sf.code, 'a');
        ++n;
    }
    EXPECT_EQ(n, 1);
}

TEST(Parser, ReportsStructuralErrors) {
    ParsedRecord parsed;
    EXPECT_EQ(parse_record("00010nam", {}, parsed), ErrorCode::leader_invalid);
    std::string rec = make_record({{"245", "10\x1f" "aT"}});
    std::string bad_base = rec;
    bad_base.replace(12, 5, "00000");
    EXPECT_EQ(parse_record(bad_base, {}, parsed), ErrorCode::base_address_not_found);
    std::string beyond = rec;
    beyond.replace(12, 5, "99998");
    EXPECT_EQ(parse_record(beyond, {}, parsed), ErrorCode::base_address_invalid);
    std::string letters = rec;
    letters.replace(12, 5, "0a0b0");
    EXPECT_EQ(parse_record(letters, {}, parsed), ErrorCode::base_address_not_numeric);
    std::string short_dir = rec;
    short_dir.replace(12, 5, "00036");  // directory of 11 bytes
    EXPECT_EQ(parse_record(short_dir, {}, parsed), ErrorCode::directory_invalid);
    std::string entry = rec;
    entry.replace(24 + 3, 4, "00x1");
    EXPECT_EQ(parse_record(entry, {}, parsed), ErrorCode::directory_entry_not_numeric);
    EXPECT_NE(parsed.detail.find("directory entry 0"), std::string::npos);
}

TEST(Parser, OutOfRangeEntriesAreClampedLikePythonSlices) {
    std::string rec = make_record({{"001", "id"}, {"245", "10\x1f" "aT"}});
    rec.replace(24 + 12 + 7, 5, "00900");  // second field starts far beyond the record
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(rec, {}, parsed), ErrorCode::ok);
    EXPECT_EQ(parsed.entries[1].length, 0u);
    EXPECT_LE(parsed.entries[1].offset, rec.size());
}

TEST(Parser, ValidatesUtf8OnlyWhenAsked) {
    std::string rec = make_record({{"245", "10\x1f" "a\xff\xfe"}});
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(rec, {}, parsed), ErrorCode::invalid_utf8);
    EXPECT_EQ(parse_record(rec, {false, false, Utf8Handling::strict}, parsed), ErrorCode::ok);
    EXPECT_EQ(parse_record(rec, {true, false, Utf8Handling::replace}, parsed), ErrorCode::ok);
    std::string marc8 = rec;
    marc8[9] = ' ';  // MARC-8 records are not UTF-8 checked
    EXPECT_EQ(parse_record(marc8, {}, parsed), ErrorCode::ok);
}

TEST(Parser, NonAsciiIndicatorsAndCodes) {
    ParsedRecord parsed;
    std::string ind = make_record({{"245", "\xc3\xa9\x1f" "aT"}});
    EXPECT_EQ(parse_record(ind, {}, parsed), ErrorCode::indicator_not_ascii);
    std::string code = make_record({{"245", "10\x1f\xc3\xa9T"}});
    EXPECT_EQ(parse_record(code, {}, parsed), ErrorCode::ok);
    EXPECT_TRUE(parsed.bad_subfield_code);
}

TEST(Parser, PythonIntRules) {
    std::int64_t v = 0;
    EXPECT_TRUE(detail::parse_python_int("00123", v));
    EXPECT_EQ(v, 123);
    EXPECT_TRUE(detail::parse_python_int(" 12 ", v));
    EXPECT_EQ(v, 12);
    EXPECT_TRUE(detail::parse_python_int("1_2", v));
    EXPECT_EQ(v, 12);
    EXPECT_TRUE(detail::parse_python_int("-001", v));
    EXPECT_EQ(v, -1);
    EXPECT_FALSE(detail::parse_python_int("1__2", v));
    EXPECT_FALSE(detail::parse_python_int("12a", v));
    EXPECT_FALSE(detail::parse_python_int("", v));
    EXPECT_FALSE(detail::parse_python_int("_1", v));
}

TEST(Parser, LeaderNumbersAreParsedAsPythonIntParsesThem) {
    // The inline five-digit path gives parse_python_int's answer for every five characters drawn
    // from digits and the characters around them, and for the other forms int() accepts.
    const std::string alphabet = "0189/: _+-a";
    std::string text(5, '0');
    for (std::size_t k = 0; k < 161051; ++k) {  // 11^5
        std::size_t rest = k;
        for (char& c : text) {
            c = alphabet[rest % alphabet.size()];
            rest /= alphabet.size();
        }
        std::int64_t fast = -7, slow = -7;
        const bool a = detail::parse_leader_number(text, fast);
        const bool b = detail::parse_python_int(text, slow);
        ASSERT_EQ(a, b) << text;
        if (a) {
            ASSERT_EQ(fast, slow) << text;
        }
    }
    std::int64_t v = 0;
    EXPECT_TRUE(detail::parse_leader_number("99999", v));
    EXPECT_EQ(v, 99999);
    EXPECT_TRUE(detail::parse_leader_number("78612", v));
    EXPECT_EQ(v, 78612);
}

TEST(Parser, Utf8ValidatorFollowsPython) {
    EXPECT_TRUE(is_valid_utf8("plain ascii text, long enough for the fast path"));
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe0\xa4\x95 \xf0\x9f\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
    EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));       // truncated
}

TEST(Parser, RandomBytesNeverCrash) {
    std::uint32_t state = 12345;
    auto next = [&] { return state = state * 1664525u + 1013904223u; };
    ParsedRecord parsed;
    std::string rec = make_record({{"001", "id"}, {"245", "10\x1f" "aTitle"}, {"650", " 0\x1f" "aX\x1f" "xY"}});
    for (int i = 0; i < 20000; ++i) {
        std::string m = rec;
        for (int k = 0; k < 3; ++k) m[next() % m.size()] = static_cast<char>(next());
        if (next() % 4 == 0) m.resize(next() % m.size());
        if (parse_record(m, {}, parsed) == ErrorCode::ok) {
            RecordView view(m, parsed.entries);
            for (std::size_t f = 0; f < view.size(); ++f) {
                auto field = view.field(f);
                ASSERT_LE(field.data().data() + field.data().size(), m.data() + m.size());
                for (const auto& sf : field.subfields()) (void)sf;
            }
        }
    }
}

// The parser skips the checks of fields that lie wholly before the next non-ASCII byte it has
// found (text_scan.hpp): directory order need not be offset order, and a field before the last
// scan's start must be scanned again, never taken as ASCII unseen.
TEST(Parser, AsciiShortcutFollowsDirectoryOrderNotOffsets) {
    std::string rec = make_record({{"245", "10\x1f" "a\xff"}, {"500", "  \x1f" "aplain"}, {"650", " 0\x1f" "a\xc3\xa9"}});
    // Reverse the three directory entries: 650, 500, 245.
    std::string e0 = rec.substr(24, 12), e2 = rec.substr(48, 12);
    rec.replace(24, 12, e2);
    rec.replace(48, 12, e0);
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(rec, {}, parsed), ErrorCode::invalid_utf8);
    EXPECT_EQ(parsed.detail.substr(0, 9), "field 245");
    ASSERT_EQ(parse_record(rec, {true, false, Utf8Handling::replace}, parsed), ErrorCode::ok);
    ASSERT_EQ(parsed.entries.size(), 3u);
    EXPECT_FALSE(parsed.entries[0].ascii);  // 650
    EXPECT_TRUE(parsed.entries[1].ascii);   // 500
    EXPECT_FALSE(parsed.entries[2].ascii);  // 245
}

TEST(Parser, AsciiFlagsOfEveryRealRecordAreExact) {
    std::size_t fields = 0;
    for (const auto& entry : std::filesystem::directory_iterator(rapidmarc::test::shared_data() / "real")) {
        if (entry.path().extension() != ".mrc") continue;
        for (const std::string& rec : rapidmarc::test::split_on_terminator(rapidmarc::test::read_file(entry.path()))) {
            ParsedRecord parsed;
            if (parse_record(rec, {}, parsed) != ErrorCode::ok) continue;
            for (const auto& e : parsed.entries) {
                std::string_view data = std::string_view(rec).substr(e.offset, e.length);
                bool ascii = true;
                for (unsigned char c : data) ascii = ascii && c < 0x80;
                ASSERT_EQ(e.ascii, ascii) << entry.path() << " " << e.tag_view();
                ++fields;
            }
        }
    }
    EXPECT_GT(fields, 100000u);
}
