// Tests for rapidmarc::unicode (NFC / NFD).  Expected values come from Python's
// unicodedata.normalize (the oracle the tables are generated from).  The exhaustive check over every
// code point plus random strings is done with `python tools/gen_unicode_tables.py --emit-tests FILE`
// and a driver; these are the representative cases.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "rapidmarc/unicode.hpp"

namespace uni = rapidmarc::unicode;

namespace {

std::string utf8(std::u32string_view s) {
    std::string out;
    for (char32_t c : s) uni::append_utf8(c, out);
    return out;
}

std::string nfc(std::string_view s) {
    std::string out;
    uni::append_nfc(s, out);
    return out;
}

std::string nfd(std::string_view s) {
    std::string out;
    uni::append_nfd(s, out);
    return out;
}

struct Case {
    const char* what;
    std::u32string in, nfc, nfd;
};

const Case kCases[] = {
    {"ascii", U"Hello, world", U"Hello, world", U"Hello, world"},
    {"precomposed latin", U"Beyonc\u00E9 M\u00FCller", U"Beyonc\u00E9 M\u00FCller", U"Beyonce\u0301 Mu\u0308ller"},
    {"decomposed latin", U"Beyonce\u0301 Mu\u0308ller", U"Beyonc\u00E9 M\u00FCller", U"Beyonce\u0301 Mu\u0308ller"},
    {"reorder 230 before 220", U"a\u0301\u0316", U"\u00E1\u0316", U"a\u0316\u0301"},
    {"reorder three classes", U"q\u0307\u0323\u031B", U"q\u031B\u0323\u0307", U"q\u031B\u0323\u0307"},
    {"compose across reordered mark", U"\u1E0B\u0323", U"\u1E0D\u0307", U"d\u0323\u0307"},
    {"two-step composition", U"e\u0306\u0327", U"\u1E1D", U"e\u0327\u0306"},
    {"greek four-part", U"\u03B1\u0345\u0313\u0300", U"\u1F82", U"\u03B1\u0313\u0300\u0345"},
    {"blocked by same class", U"a\u0305\u0301", U"a\u0305\u0301", U"a\u0305\u0301"},
    {"blocked by starter", U"A\u00AD\u030A", U"A\u00AD\u030A", U"A\u00AD\u030A"},
    {"second mark of same class not composed", U"a\u0301\u0301", U"\u00E1\u0301", U"a\u0301\u0301"},
    {"singleton angstrom", U"\u212B", U"\u00C5", U"A\u030A"},
    {"singleton ohm", U"\u2126", U"\u03A9", U"\u03A9"},
    {"singleton kelvin", U"\u212A", U"K", U"K"},
    {"cjk compatibility singleton", U"\uF900", U"\u8C48", U"\u8C48"},
    {"composition exclusion devanagari", U"\u0958", U"\u0915\u093C", U"\u0915\u093C"},
    {"exclusion stays decomposed", U"\u0915\u093C", U"\u0915\u093C", U"\u0915\u093C"},
    {"composition exclusion hebrew", U"\uFB2A", U"\u05E9\u05C1", U"\u05E9\u05C1"},
    {"non-starter decomposition", U"\u0344", U"\u0308\u0301", U"\u0308\u0301"},
    {"non-starter decomposition tibetan", U"\u0F73", U"\u0F71\u0F72", U"\u0F71\u0F72"},
    {"leading combining mark", U"\u0301e", U"\u0301e", U"\u0301e"},
    {"starter+starter composition", U"\u0B47\u0B3E", U"\u0B4B", U"\u0B47\u0B3E"},
    {"hangul LV", U"\u1100\u1161", U"\uAC00", U"\u1100\u1161"},
    {"hangul LVT", U"\u1100\u1161\u11A8", U"\uAC01", U"\u1100\u1161\u11A8"},
    {"hangul LV+T", U"\uAC00\u11A8", U"\uAC01", U"\u1100\u1161\u11A8"},
    {"hangul last syllable", U"\uD7A3", U"\uD7A3", U"\u1112\u1175\u11C2"},
    {"hangul TBase is not a T", U"\uAC00\u11A7", U"\uAC00\u11A7", U"\u1100\u1161\u11A7"},
    {"hangul LVT + T does not compose", U"\uAC01\u11A8", U"\uAC01\u11A8", U"\u1100\u1161\u11A8\u11A8"},
    {"hangul L L V", U"\u1100\u1100\u1161", U"\u1100\uAC00", U"\u1100\u1100\u1161"},
    {"hangul with mark between", U"\u1100\u0301\u1161", U"\u1100\u0301\u1161", U"\u1100\u0301\u1161"},
    {"supplementary plane", U"\U0001D15E", U"\U0001D157\U0001D165", U"\U0001D157\U0001D165"},
    {"supplementary composition", U"\U00011099\U000110BA", U"\U0001109A", U"\U00011099\U000110BA"},
    {"mixed", U"Ko\u0308nig \u212B \uAC00\u11A8 x\u0323\u0302",
     U"K\u00F6nig \u00C5 \uAC01 x\u0323\u0302", U"Ko\u0308nig A\u030A \u1100\u1161\u11A8 x\u0323\u0302"},
};

}  // namespace

TEST(Unicode, Vectors) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.what);
        const std::string in = utf8(c.in), want_nfc = utf8(c.nfc), want_nfd = utf8(c.nfd);
        EXPECT_EQ(nfc(in), want_nfc);
        EXPECT_EQ(nfd(in), want_nfd);
        // Normal forms are stable and convertible into each other.
        EXPECT_EQ(nfc(want_nfc), want_nfc);
        EXPECT_EQ(nfd(want_nfd), want_nfd);
        EXPECT_EQ(nfc(want_nfd), want_nfc);
        EXPECT_EQ(nfd(want_nfc), want_nfd);
        // quick_nfc never claims "normalised" for text that is not.
        if (uni::quick_nfc(in)) {
            EXPECT_EQ(in, want_nfc);
        }
        // Context: surrounding ASCII does not change anything.
        EXPECT_EQ(nfc("<" + in + ">"), "<" + want_nfc + ">");
        EXPECT_EQ(nfd("<" + in + ">"), "<" + want_nfd + ">");
    }
}

TEST(Unicode, AppendsWithoutClearing) {
    std::string out = "prefix:";
    uni::append_nfc(utf8(U"e\u0301"), out);
    EXPECT_EQ(out, "prefix:" + utf8(U"\u00E9"));
    uni::append_nfd(utf8(U"\u00E9"), out);
    EXPECT_EQ(out, "prefix:" + utf8(U"\u00E9e\u0301"));
}

TEST(Unicode, EmptyInput) {
    std::string out = "x";
    uni::append_nfc("", out);
    uni::append_nfd("", out);
    EXPECT_EQ(out, "x");
    EXPECT_TRUE(uni::quick_nfc(""));
}

TEST(Unicode, AsciiFastPath) {
    std::string ascii;
    for (int i = 0; i < 1000; ++i) ascii.push_back(static_cast<char>(0x20 + i % 95));
    ascii += '\0';
    ascii += "\x1f\x1e\x7f";
    EXPECT_EQ(nfc(ascii), ascii);
    EXPECT_EQ(nfd(ascii), ascii);
    EXPECT_TRUE(uni::quick_nfc(ascii));
    // Non-ASCII at every offset relative to the 8/16-byte ASCII scan.
    for (std::size_t k = 0; k < 40; ++k) {
        const std::string s = std::string(k, 'a') + utf8(U"e\u0301") + std::string(k, 'b');
        EXPECT_EQ(nfc(s), std::string(k, 'a') + utf8(U"\u00E9") + std::string(k, 'b'));
        EXPECT_FALSE(uni::quick_nfc(s));
    }
}

TEST(Unicode, IllFormedPassThrough) {
    const std::string cases[] = {
        "\xFF",
        "a\xC0\x80z",             // overlong NUL
        "\xED\xA0\x80",           // encoded surrogate
        "\xF4\x90\x80\x80",       // > U+10FFFF
        "\xE2\x82",               // truncated at end
        "e\xCC",                  // truncated combining acute
        "\x80\x80\x80",           // stray continuation bytes
        "\xF8\x88\x80\x80\x80",   // 5-byte form
        "\xE0\x80\xAF",           // overlong 3-byte
        "\xF0\x80\x80\xAF",       // overlong 4-byte
    };
    for (const std::string& s : cases) {
        SCOPED_TRACE(testing::PrintToString(s));
        EXPECT_EQ(nfc(s), s);
        EXPECT_EQ(nfd(s), s);
        EXPECT_FALSE(uni::quick_nfc(s));
    }
    // Well-formed text around ill-formed bytes is still normalised; nothing composes across them.
    EXPECT_EQ(nfc("e\xFF" + utf8(U"\u0301") + "e" + utf8(U"\u0301")), "e\xFF" + utf8(U"\u0301\u00E9"));
    EXPECT_EQ(nfd(utf8(U"\u00E9") + "\xFF" + utf8(U"\u212B")), utf8(U"e\u0301") + "\xFF" + utf8(U"A\u030A"));
    EXPECT_EQ(nfc(utf8(U"a\u0301") + "\xC0" + utf8(U"\u0316")), utf8(U"\u00E1") + "\xC0" + utf8(U"\u0316"));
}

TEST(Unicode, QuickNfc) {
    EXPECT_TRUE(uni::quick_nfc("plain ASCII"));
    EXPECT_TRUE(uni::quick_nfc(utf8(U"Beyonc\u00E9 M\u00FCller")));
    EXPECT_TRUE(uni::quick_nfc(utf8(U"\uAC01\uD7A3")));                 // Hangul syllables
    EXPECT_TRUE(uni::quick_nfc(utf8(U"a\u0316\u0305")));                // ordered marks (220, 230)
    EXPECT_TRUE(uni::quick_nfc(utf8(U"\u05D0\u05B0\u05B8")));           // Hebrew points, ordered
    EXPECT_FALSE(uni::quick_nfc(utf8(U"a\u0305\u0316")));               // misordered, QC=Yes marks
    EXPECT_FALSE(uni::quick_nfc(utf8(U"\u0915\u093C")));                // U+093C can combine: Maybe
    EXPECT_TRUE(uni::quick_nfc(utf8(U"\u4E2D\u6587 \U0001F600")));
    EXPECT_FALSE(uni::quick_nfc(utf8(U"e\u0301")));                     // U+0301 is NFC_QC=Maybe
    EXPECT_FALSE(uni::quick_nfc(utf8(U"a\u0301\u0316")));               // misordered
    EXPECT_FALSE(uni::quick_nfc(utf8(U"\u212B")));                      // NFC_QC=No
    EXPECT_FALSE(uni::quick_nfc(utf8(U"\u0958")));                      // composition exclusion
    EXPECT_FALSE(uni::quick_nfc(utf8(U"\u1100\u1161")));                // V jamo is Maybe
    EXPECT_FALSE(uni::quick_nfc(utf8(U"\u0344")));
}

TEST(Unicode, CombiningClass) {
    EXPECT_EQ(uni::combining_class(U'a'), 0);
    EXPECT_EQ(uni::combining_class(0x0301), 230);
    EXPECT_EQ(uni::combining_class(0x0316), 220);
    EXPECT_EQ(uni::combining_class(0x0327), 202);
    EXPECT_EQ(uni::combining_class(0x0345), 240);
    EXPECT_EQ(uni::combining_class(0x05B0), 10);
    EXPECT_EQ(uni::combining_class(0x093C), 7);
    EXPECT_EQ(uni::combining_class(0x1E94A), 7);
    EXPECT_EQ(uni::combining_class(0xAC00), 0);
    EXPECT_EQ(uni::combining_class(0x10FFFF), 0);
    EXPECT_EQ(uni::combining_class(0x110000), 0);
    EXPECT_EQ(uni::combining_class(0xFFFFFFFF), 0);
}

TEST(Unicode, LongCombiningSequence) {
    // Longer than the inline segment buffer: exercises the heap fallback and the stable sort.
    std::u32string in = U"a", want_nfc = U"\u00E1", want_nfd = U"a";
    for (int i = 0; i < 300; ++i) in += U"\u0301\u0316";
    want_nfc += std::u32string(300, U'\u0316') + std::u32string(299, U'\u0301');
    want_nfd += std::u32string(300, U'\u0316') + std::u32string(300, U'\u0301');
    EXPECT_EQ(nfc(utf8(in)), utf8(want_nfc));
    EXPECT_EQ(nfd(utf8(in)), utf8(want_nfd));
}

TEST(Unicode, Utf8Helpers) {
    char32_t cp = 0;
    EXPECT_EQ(uni::decode_utf8("\xF0\x9F\x98\x80", cp), 4u);
    EXPECT_EQ(cp, 0x1F600u);
    EXPECT_EQ(uni::decode_utf8("\xC3\xA9", cp), 2u);
    EXPECT_EQ(cp, 0xE9u);
    EXPECT_EQ(uni::decode_utf8("", cp), 0u);
    EXPECT_EQ(uni::decode_utf8("\xC1\xBF", cp), 0u);
    std::string s;
    uni::append_utf8(0x10FFFF, s);
    EXPECT_EQ(s, "\xF4\x8F\xBF\xBF");
    EXPECT_NE(std::string_view(uni::unicode_version()), "");
}
