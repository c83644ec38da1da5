// append_utf8_lossy must give exactly CPython's bytes.decode("utf-8", "replace" / "ignore") text,
// since pymarc's utf8_handling decodes that way. Every expected output here was produced by python3,
// never derived from the C++ rules under test.
#include <gtest/gtest.h>

#include <rapidmarc/parser.hpp>
#include <rapidmarc/unicode.hpp>
#include <rapidmarc/utf8.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "test_support.hpp"

using namespace std::literals;
namespace test = rapidmarc::test;
using rapidmarc::append_utf8_lossy;
using rapidmarc::Utf8Errors;

namespace {

std::string lossy(std::string_view raw, Utf8Errors errors) {
    std::string out;
    append_utf8_lossy(raw, errors, out);
    return out;
}

std::string hex(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
        out += ' ';
    }
    return out;
}

struct Case {
    std::string_view name;
    std::string_view in, replace, ignore;
};

// One or more cases per lead-byte class (ASCII, 80..BF, C0..C1, C2..DF, E0, E1..EC, ED, EE..EF, F0,
// F1..F3, F4, F5..FF) and per truncation point, from python3:
//   x.decode("utf-8", "replace").encode(), x.decode("utf-8", "ignore").encode()
constexpr Case kHandPicked[] = {
    {"empty", ""sv, ""sv, ""sv},
    {"ascii", "A"sv, "A"sv, "A"sv},
    {"nul", "\x00"sv, "\x00"sv, "\x00"sv},
    {"ascii run", "Long ASCII run, past 8 bytes."sv, "Long ASCII run, past 8 bytes."sv, "Long ASCII run, past 8 bytes."sv},
    {"2-byte valid", "\xc3\xa9"sv, "\xc3\xa9"sv, "\xc3\xa9"sv},
    {"2-byte min", "\xc2\x80"sv, "\xc2\x80"sv, "\xc2\x80"sv},
    {"2-byte max", "\xdf\xbf"sv, "\xdf\xbf"sv, "\xdf\xbf"sv},
    {"2-byte cut at end", "\xc3"sv, "\xef\xbf\xbd"sv, ""sv},
    {"2-byte bad 2nd", "\xc3" "A"sv, "\xef\xbf\xbd" "A"sv, "A"sv},
    {"2-byte lead before valid", "\xc3\xc3\xa9"sv, "\xef\xbf\xbd\xc3\xa9"sv, "\xc3\xa9"sv},
    {"C0 overlong", "\xc0\xaf"sv, "\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"C1 overlong", "\xc1\xbf"sv, "\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"C0 alone", "\xc0"sv, "\xef\xbf\xbd"sv, ""sv},
    {"lone continuation 80", "\x80"sv, "\xef\xbf\xbd"sv, ""sv},
    {"lone continuation BF", "\xbf"sv, "\xef\xbf\xbd"sv, ""sv},
    {"continuation run", "\x80\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"E0 valid min", "\xe0\xa0\x80"sv, "\xe0\xa0\x80"sv, "\xe0\xa0\x80"sv},
    {"E0 overlong 80", "\xe0\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"E0 overlong 9F", "\xe0\x9f\xbf"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"E0 cut after lead", "\xe0"sv, "\xef\xbf\xbd"sv, ""sv},
    {"E0 cut after 2nd", "\xe0\xa0"sv, "\xef\xbf\xbd"sv, ""sv},
    {"E0 bad 3rd", "\xe0\xa0" "A"sv, "\xef\xbf\xbd" "A"sv, "A"sv},
    {"E2 valid", "\xe2\x82\xac"sv, "\xe2\x82\xac"sv, "\xe2\x82\xac"sv},
    {"E2 cut after lead", "\xe2"sv, "\xef\xbf\xbd"sv, ""sv},
    {"E2 cut after 2nd", "\xe2\x82"sv, "\xef\xbf\xbd"sv, ""sv},
    {"E2 bad 3rd", "\xe2\x82" "A"sv, "\xef\xbf\xbd" "A"sv, "A"sv},
    {"E2 bad 2nd", "\xe2" "A"sv, "\xef\xbf\xbd" "A"sv, "A"sv},
    {"E2 cut then valid", "\xe2\x82\xe2\x82\xac"sv, "\xef\xbf\xbd\xe2\x82\xac"sv, "\xe2\x82\xac"sv},
    {"E2 two cuts", "\xe2\x82\xe2\x82"sv, "\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"ED max", "\xed\x9f\xbf"sv, "\xed\x9f\xbf"sv, "\xed\x9f\xbf"sv},
    {"ED surrogate min", "\xed\xa0\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"ED surrogate max", "\xed\xbf\xbf"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"ED cut", "\xed\x9f"sv, "\xef\xbf\xbd"sv, ""sv},
    {"ED surrogate cut", "\xed\xa0"sv, "\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"EF max", "\xef\xbf\xbf"sv, "\xef\xbf\xbf"sv, "\xef\xbf\xbf"sv},
    {"EF literal FFFD", "\xef\xbf\xbd"sv, "\xef\xbf\xbd"sv, "\xef\xbf\xbd"sv},
    {"EE cut", "\xee\x80"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F0 valid min", "\xf0\x90\x80\x80"sv, "\xf0\x90\x80\x80"sv, "\xf0\x90\x80\x80"sv},
    {"F0 overlong 80", "\xf0\x80\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"F0 overlong 8F", "\xf0\x8f\xbf\xbf"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"F0 cut after lead", "\xf0"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F0 cut after 2nd", "\xf0\x90"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F0 cut after 3rd", "\xf0\x90\x80"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F0 bad 4th", "\xf0\x90\x80" "A"sv, "\xef\xbf\xbd" "A"sv, "A"sv},
    {"F0 bad 3rd", "\xf0\x90" "A\x80"sv, "\xef\xbf\xbd" "A\xef\xbf\xbd"sv, "A"sv},
    {"F3 max", "\xf3\xbf\xbf\xbf"sv, "\xf3\xbf\xbf\xbf"sv, "\xf3\xbf\xbf\xbf"sv},
    {"F1 cut after 3rd", "\xf1\x80\x80"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F1 bad 3rd", "\xf1\x80" "A"sv, "\xef\xbf\xbd" "A"sv, "A"sv},
    {"F4 max", "\xf4\x8f\xbf\xbf"sv, "\xf4\x8f\xbf\xbf"sv, "\xf4\x8f\xbf\xbf"sv},
    {"F4 above max", "\xf4\x90\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"F4 cut after 3rd", "\xf4\x8f\xbf"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F4 alone", "\xf4"sv, "\xef\xbf\xbd"sv, ""sv},
    {"F5 lead", "\xf5\x80\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"F8 5-byte form", "\xf8\x88\x80\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"FC 6-byte form", "\xfc\x84\x80\x80\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},
    {"FE", "\xfe"sv, "\xef\xbf\xbd"sv, ""sv},
    {"FF", "\xff"sv, "\xef\xbf\xbd"sv, ""sv},
    {"error inside ASCII run", "abcdefgh\xffijklmnop"sv, "abcdefgh\xef\xbf\xbdijklmnop"sv, "abcdefghijklmnop"sv},
    {"cut after ASCII run", "0123456789\xe2\x82"sv, "0123456789\xef\xbf\xbd"sv, "0123456789"sv},
    {"error after valid and ASCII", "\xc3\xa9" "abcdefghij\x80"sv, "\xc3\xa9" "abcdefghij\xef\xbf\xbd"sv, "\xc3\xa9" "abcdefghij"sv},
};

// {input, replace, ignore}: random edge-biased inputs, from tools/gen_utf8_vectors.py.
struct Vector {
    std::string_view in, replace, ignore;
};
constexpr Vector kGenerated[] = {
#include "utf8_vectors.inc"
};

// Valid UTF-8 from random scalar values of every encoded length (surrogates skipped), with ASCII
// runs long enough for the 8-byte fast path.
std::string random_valid(std::mt19937& rng) {
    std::uniform_int_distribution<int> len(0, 30), kind(0, 4);
    std::uniform_int_distribution<char32_t> ascii(0, 0x7F), two(0x80, 0x7FF), three(0x800, 0xFFFF),
        four(0x10000, 0x10FFFF);
    std::string s;
    for (int n = len(rng); n > 0; --n) {
        char32_t cp = 0;
        switch (kind(rng)) {
            case 0: cp = two(rng); break;
            case 1:
                do cp = three(rng);
                while (cp >= 0xD800 && cp <= 0xDFFF);
                break;
            case 2: cp = four(rng); break;
            default: cp = ascii(rng); break;
        }
        char buf[4];
        s.append(buf, rapidmarc::unicode::encode_utf8(cp, buf));
    }
    return s;
}

std::string without_replacements(std::string s) {
    for (std::size_t at; (at = s.find("\xEF\xBF\xBD")) != std::string::npos;) s.erase(at, 3);
    return s;
}

}  // namespace

TEST(Utf8Lossy, MatchesCPythonOnHandPickedCases) {
    for (const Case& c : kHandPicked) {
        EXPECT_EQ(lossy(c.in, Utf8Errors::replace), c.replace) << c.name << ": " << hex(c.in);
        EXPECT_EQ(lossy(c.in, Utf8Errors::ignore), c.ignore) << c.name << ": " << hex(c.in);
    }
}

TEST(Utf8Lossy, MatchesCPythonOnGeneratedVectors) {
    ASSERT_GE(std::size(kGenerated), 300u);
    for (const Vector& v : kGenerated) {
        EXPECT_EQ(lossy(v.in, Utf8Errors::replace), v.replace) << hex(v.in);
        EXPECT_EQ(lossy(v.in, Utf8Errors::ignore), v.ignore) << hex(v.in);
    }
}

TEST(Utf8Lossy, AppendsWithoutClearing) {
    std::string out = "x\xff";  // whatever is already there is left alone, even if not UTF-8
    append_utf8_lossy("a\xe2\x82" "b", Utf8Errors::replace, out);
    EXPECT_EQ(out, "x\xff" "a\xef\xbf\xbd" "b");
    append_utf8_lossy("\xc0", Utf8Errors::ignore, out);
    append_utf8_lossy("", Utf8Errors::replace, out);
    EXPECT_EQ(out, "x\xff" "a\xef\xbf\xbd" "b");
}

TEST(Utf8Lossy, ValidInputNeedsNoAllocationBeyondOut) {
    const std::string valid = "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 plain ASCII tail";
    std::string out;
    out.reserve(valid.size());
    const char* const before = out.data();
    append_utf8_lossy(valid, Utf8Errors::replace, out);
    EXPECT_EQ(out, valid);
    EXPECT_EQ(out.data(), before);
}

TEST(Utf8Lossy, OutputIsAlwaysValidUtf8) {
    std::mt19937 rng(12345);
    for (int i = 0; i < 20000; ++i) {
        const std::string in = test::random_utf8_edge_bytes(rng);
        const std::string rep = lossy(in, Utf8Errors::replace);
        const std::string ign = lossy(in, Utf8Errors::ignore);
        ASSERT_TRUE(rapidmarc::is_valid_utf8(rep)) << hex(in);
        ASSERT_TRUE(rapidmarc::is_valid_utf8(ign)) << hex(in);
        // "ignore" drops exactly the sequences "replace" turns into U+FFFD.
        if (in.find("\xEF\xBF\xBD") == std::string::npos) {
            ASSERT_EQ(without_replacements(rep), ign) << hex(in);
        }
        if (rapidmarc::is_valid_utf8(in)) {
            ASSERT_EQ(rep, in) << hex(in);
        }
    }
}

TEST(Utf8Lossy, ValidInputIsUnchanged) {
    std::mt19937 rng(678);
    for (int i = 0; i < 5000; ++i) {
        const std::string in = random_valid(rng);
        ASSERT_TRUE(rapidmarc::is_valid_utf8(in)) << hex(in);
        ASSERT_EQ(lossy(in, Utf8Errors::replace), in) << hex(in);
        ASSERT_EQ(lossy(in, Utf8Errors::ignore), in) << hex(in);
    }
}
