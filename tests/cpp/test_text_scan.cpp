// The parser's byte scans (src/core/text_scan.hpp): each fast scan against its scalar reference and
// against answers that do not come from either (Python's decoder's rules, written out by hand).
// tests/fuzz/fuzz_text_scan.cpp compares them on arbitrary bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../../src/core/text_scan.hpp"

using namespace std::literals;
namespace d = rapidmarc::detail;

namespace {

// Every way to be right or wrong, each at every position of a block and across block ends.
const std::vector<std::pair<std::string, bool>>& utf8_cases() {
    static const std::vector<std::pair<std::string, bool>> cases = {
        {"", true},
        {"plain ASCII", true},
        {"\xC3\xA9", true},                      // é
        {"\xE0\xA4\xA8", true},                  // न (3 bytes)
        {"\xF0\x9F\x98\x80", true},              // U+1F600 (4 bytes)
        {"\xF4\x8F\xBF\xBF", true},              // U+10FFFF, the largest
        {"\xED\x9F\xBF", true},                  // U+D7FF, just below the surrogates
        {"\xEE\x80\x80", true},                  // U+E000, just above
        {"\xC2\x80", true},                      // the smallest 2-byte
        {"\xE0\xA0\x80", true},                  // the smallest 3-byte
        {"\xF0\x90\x80\x80", true},              // the smallest 4-byte
        {"\x80", false},                         // a continuation alone
        {"a\xBF", false},                        // ASCII then a continuation
        {"\xC3", false},                         // cut off
        {"\xC3" "a", false},                     // lead then ASCII
        {"\xE0\xA4", false},                     // 3-byte cut off after 2
        {"\xF0\x9F\x98", false},                 // 4-byte cut off after 3
        {"\xC0\x80", false},                     // overlong 2
        {"\xC1\xBF", false},
        {"\xE0\x80\x80", false},                 // overlong 3
        {"\xE0\x9F\xBF", false},
        {"\xF0\x80\x80\x80", false},             // overlong 4
        {"\xF0\x8F\xBF\xBF", false},
        {"\xED\xA0\x80", false},                 // surrogates
        {"\xED\xBF\xBF", false},
        {"\xF4\x90\x80\x80", false},             // above U+10FFFF
        {"\xF5\x80\x80\x80", false},
        {"\xF7\xBF\xBF\xBF", false},
        {"\xF8\x88\x80\x80\x80", false},         // 5-byte forms
        {"\xFF", false},
        {"\xFE", false},
        {"\xC3\xA9\xA9", false},                 // one continuation too many
        {"\xE0\xA4\xA8\xA8", false},
        {"\xF0\x9F\x98\x80\x80", false},
        {"\xE0\xA4" "a", false},                 // 3-byte broken by ASCII
        {"\xF0\x9F" "a\x80", false},
        {"\xC3\xC3\xA9", false},                 // lead followed by lead
    };
    return cases;
}

}  // namespace

TEST(TextScan, Utf8CasesAtEveryPosition) {
    for (const auto& [piece, valid] : utf8_cases()) {
        for (std::size_t before = 0; before <= 40; ++before) {
            for (std::size_t after : {0, 1, 2, 3, 15, 16, 17, 33}) {
                for (const char* fill : {"x", "\xC3\xA9", "\xE0\xA4\xA8"}) {
                    std::string text;
                    while (text.size() < before) text += fill;
                    text += piece;
                    for (std::size_t k = 0; k < after; ++k) text += 'y';
                    SCOPED_TRACE(testing::Message() << "before=" << before << " after=" << after << " piece=" << testing::PrintToString(piece));
                    EXPECT_EQ(d::utf8_valid_scalar(text), valid);
                    EXPECT_EQ(d::utf8_valid(text), valid);
                    EXPECT_EQ(d::utf8_valid_blocks(text), valid);
                }
            }
        }
    }
}

TEST(TextScan, Utf8EveryTwoAndThreeByteCombination) {
    // Every byte pair and a sample of triples, at a block boundary and inside a block, agree with
    // the scalar rules (which test_utf8.cpp checks against CPython's decoder).
    std::string prefix(14, 'a');
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            std::string text = prefix;
            text += static_cast<char>(a);
            text += static_cast<char>(b);
            text += "\xE0\xA4\xA8zz";
            const bool want = d::utf8_valid_scalar(text);
            ASSERT_EQ(d::utf8_valid_blocks(text), want) << a << " " << b;
            ASSERT_EQ(d::utf8_valid(text), want) << a << " " << b;
            text = text.substr(1);
            ASSERT_EQ(d::utf8_valid_blocks(text), d::utf8_valid_scalar(text)) << a << " " << b;
        }
    }
}

TEST(TextScan, Utf8RandomAgainstScalar) {
    std::mt19937 rng(20261201);
    const std::vector<std::string> atoms = {"a", " ", "\xC3\xA9", "\xE0\xA4\xA8", "\xF0\x9F\x98\x80", "\x80", "\xC3",
                                            "\xE0\xA4", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"};
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        const int n = static_cast<int>(rng() % 40);
        for (int k = 0; k < n; ++k) text += atoms[rng() % (round % 3 == 0 ? atoms.size() : 5)];
        ASSERT_EQ(d::utf8_valid(text), d::utf8_valid_scalar(text)) << testing::PrintToString(text);
        ASSERT_EQ(d::utf8_valid_blocks(text), d::utf8_valid_scalar(text)) << testing::PrintToString(text);
    }
}

TEST(TextScan, AsciiOnlyAtEveryLengthAndPosition) {
    for (std::size_t n = 0; n <= 150; ++n) {
        std::string text(n, 'q');
        EXPECT_TRUE(d::ascii_only(text)) << n;
        for (std::size_t at = 0; at < n; ++at) {
            text[at] = '\x80';
            EXPECT_FALSE(d::ascii_only(text)) << n << " " << at;
            EXPECT_EQ(d::skip_ascii(reinterpret_cast<const unsigned char*>(text.data()), 0, n), at);
            text[at] = '\x7F';
            EXPECT_TRUE(d::ascii_only(text)) << n << " " << at;
            text[at] = 'q';
        }
        EXPECT_EQ(d::skip_ascii(reinterpret_cast<const unsigned char*>(text.data()), 0, n), n);
    }
    // A view into a larger buffer: bytes outside it never count.
    const std::string outside = "\xFF" "abcdefghijklmnopqrstuvwxyz" "\xFF";
    EXPECT_TRUE(d::ascii_only(std::string_view(outside).substr(1, 26)));
    EXPECT_TRUE(d::ascii_only(std::string_view(outside).substr(1, 5)));
}

TEST(TextScan, DirectoryNumbers) {
    std::int64_t length = -1, position = -1;
    ASSERT_TRUE(d::directory_numbers("245001200345", length, position));
    EXPECT_EQ(length, 12);
    EXPECT_EQ(position, 345);
    ASSERT_TRUE(d::directory_numbers("001999999999", length, position));
    EXPECT_EQ(length, 9999);
    EXPECT_EQ(position, 99999);
    ASSERT_TRUE(d::directory_numbers("XYZ000000000", length, position));
    EXPECT_EQ(length, 0);
    EXPECT_EQ(position, 0);
    // Any non-digit among the nine, including the characters next to '0' and '9'.
    for (int at = 3; at < 12; ++at) {
        for (char c : {'/', ':', ' ', '\0', '\x80', 'a', '+', '_', '\xB0', 'I'}) {
            std::string entry = "245123456789";
            entry[static_cast<std::size_t>(at)] = c;
            EXPECT_FALSE(d::directory_numbers(entry.data(), length, position)) << at << " " << int(c);
            EXPECT_FALSE(d::directory_numbers_scalar(entry.data(), length, position)) << at << " " << int(c);
        }
    }
    std::mt19937 rng(7);
    for (int round = 0; round < 100000; ++round) {
        char entry[12];
        for (char& c : entry) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : '0' + rng() % 10);
        std::int64_t l1 = -1, p1 = -1, l2 = -2, p2 = -2;
        const bool a = d::directory_numbers(entry, l1, p1);
        const bool b = d::directory_numbers_scalar(entry, l2, p2);
        ASSERT_EQ(a, b) << std::string(entry, 12);
        if (a) {
            ASSERT_EQ(l1, l2);
            ASSERT_EQ(p1, p2);
        }
    }
}
