#include <gtest/gtest.h>

#include <rapidmarc/marc8.hpp>
#include <rapidmarc/unicode.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace rapidmarc;
using marc8::DecodeOptions;
using marc8::Profile;

namespace {

struct Decoded {
    std::string text;
    marc8::DecodeResult result;
};

Decoded dec(std::string_view in, Profile profile = Profile::lc) {
    Decoded d;
    d.result = marc8::decode(in, d.text, DecodeOptions{profile});
    return d;
}

std::string enc(std::string_view utf8, marc8::EncodeOptions opts = {}) {
    std::string out;
    marc8::encode(utf8, out, opts);
    return out;
}

std::string nfc(std::string_view s) {
    std::string out;
    unicode::append_nfc(s, out);
    return out;
}

std::string u8(char32_t cp) {
    std::string s;
    unicode::append_utf8(cp, s);
    return s;
}

// Every character the LC tables can produce, found by decoding every code of every set.
struct Repertoire {
    std::vector<std::string> bases;  // decode of one code, not combining
    std::vector<std::string> marks;  // combining marks (decoded after a base "a")
};

const Repertoire& repertoire() {
    static const Repertoire rep = [] {
        Repertoire r;
        std::set<std::string> seen_b, seen_m;
        const std::string sets = "BE234NQSgbp";
        for (char f : sets) {
            for (int b = 0x21; b <= 0xFE; ++b) {
                if (b > 0x7E && b < 0xA1) continue;
                std::string in = std::string("\x1b(") + f;
                if (b >= 0xA1) in = std::string("\x1b)") + f;
                // As a base: the character alone; as a mark it needs a following base.
                Decoded alone = dec(in + static_cast<char>(b));
                Decoded with_base = dec(in + static_cast<char>(b) + "\x1b(Ba");
                if (alone.result.warnings || with_base.result.warnings) continue;
                if (!alone.text.empty()) {
                    if (seen_b.insert(alone.text).second) r.bases.push_back(alone.text);
                } else if (with_base.text.size() > 1 && with_base.text[0] == 'a') {
                    std::string mark = with_base.text.substr(1);
                    if (seen_m.insert(mark).second) r.marks.push_back(mark);
                }
            }
        }
        for (int b1 = 0x21; b1 <= 0x7E; ++b1)
            for (int b2 = 0x20; b2 <= 0x7E; ++b2)
                for (int b3 = 0x20; b3 <= 0x7E; ++b3) {
                    const char code[] = {static_cast<char>(b1), static_cast<char>(b2), static_cast<char>(b3)};
                    Decoded d = dec(std::string("\x1b$1") + std::string(code, 3));
                    if (d.result.warnings || d.text.empty()) continue;
                    // pymarc's ODD_MAP extras (III codes) are decoded but never encoded.
                    if (d.text == u8(0x2026) || d.text == u8(0x201C)) continue;
                    if (seen_b.insert(d.text).second) r.bases.push_back(d.text);
                }
        return r;
    }();
    return rep;
}

}  // namespace

TEST(Marc8Decode, EmptyAndAsciiFastPath) {
    EXPECT_EQ(dec("").text, "");
    std::string ascii;
    for (int i = 0; i < 300; ++i) ascii += static_cast<char>(0x20 + i % 95);
    Decoded d = dec(ascii);
    EXPECT_EQ(d.text, ascii);
    EXPECT_TRUE(d.result.ok);
    EXPECT_FALSE(d.result.needs_normalization);
    EXPECT_EQ(d.result.warnings, 0u);
    // Runs broken by every kind of non-printable byte at every position of an 8-byte block.
    for (std::size_t pos = 0; pos < 17; ++pos) {
        std::string s(20, 'x');
        s[pos] = '\x7f';  // DEL: unmapped, becomes a space with a warning (pymarc)
        std::string expect = s;
        expect[pos] = ' ';
        Decoded dd = dec(s);
        EXPECT_EQ(dd.text, expect);
        EXPECT_EQ(dd.result.warnings, 1u);
        s[pos] = '\x01';  // C0 control: dropped
        EXPECT_EQ(dec(s).text, std::string(19, 'x'));
    }
    // Appends, never clears.
    std::string out = "keep:";
    marc8::decode("abc", out);
    EXPECT_EQ(out, "keep:abc");
}

TEST(Marc8Decode, CombiningMarksFollowTheirBase) {
    Decoded d = dec("Caf\xE2" "e");
    EXPECT_EQ(d.text, "Cafe\xCC\x81");  // un-normalised: e + U+0301
    EXPECT_TRUE(d.result.needs_normalization);
    EXPECT_EQ(nfc(d.text), "Caf\xC3\xA9");
    // Several marks keep their order and all go after the base.
    EXPECT_EQ(dec("\xE2\xE3" "a").text, "a" + u8(0x301) + u8(0x302));
    // Marks wait across escape sequences and dropped controls.
    EXPECT_EQ(dec("\xE2\x1b(Ba\x01").text, "a" + u8(0x301));
    // A mark with no base before the end is dropped (pymarc never emits leftovers).
    Decoded t = dec("a\xE2");
    EXPECT_EQ(t.text, "a");
    EXPECT_EQ(t.result.dropped, 1u);
    // An unmapped character becomes a SPACE base and takes the marks.
    EXPECT_EQ(dec("\xE2\x1b)Z\xC1").text, " " + u8(0x301));
}

TEST(Marc8Decode, DoubleDiacriticsProfiles) {
    // LC: first half -> U+0361 after the first letter, second half -> nothing.
    EXPECT_EQ(dec("\xEBt\xECs").text, "t" + u8(0x361) + "s");
    EXPECT_EQ(dec("\xFAn\xFBg").text, "n" + u8(0x360) + "g");
    // pymarc: LC's discouraged half marks U+FE20/U+FE21.
    EXPECT_EQ(dec("\xEBt\xECs", Profile::pymarc).text, "t" + u8(0xFE20) + "s" + u8(0xFE21));
    EXPECT_EQ(dec("\xFAn\xFBg", Profile::pymarc).text, "n" + u8(0xFE22) + "g" + u8(0xFE23));
}

TEST(Marc8Decode, EscapeForms) {
    // ESC ( F and ESC , F designate G0; ESC ) F and ESC - F designate G1.
    EXPECT_EQ(dec("\x1b(2\x60\x1b(B!").text, u8(0x5D0) + "!");
    EXPECT_EQ(dec("\x1b,2\x60").text, u8(0x5D0));
    EXPECT_EQ(dec("\x1b)Q\xC1").text, u8(0x452));
    EXPECT_EQ(dec("\x1b-Q\xC1").text, u8(0x452));
    // ESC $ 1 and ESC $ , 1 select EACC.
    EXPECT_EQ(dec("\x1b$1\x21\x30\x21\x1b(B.").text, u8(0x4E00) + ".");
    EXPECT_EQ(dec("\x1b$,1\x21\x30\x21").text, u8(0x4E00));
    // Technique 1: ESC g / ESC b / ESC p, back with ESC s.
    EXPECT_EQ(dec("\x1bg\x61\x1bs").text, u8(0x3B1));
    EXPECT_EQ(dec("H\x1b" "b2\x1bsO").text, "H" + u8(0x2082) + "O");
    EXPECT_EQ(dec("x\x1bp2\x1bs").text, "x" + u8(0xB2));
    // pymarc takes the byte after a technique-1 escape as a character without checking for ESC:
    // "ESC s ESC ( B" drops the second ESC and keeps "(B".
    EXPECT_EQ(dec("\x1bs\x1b(Bx").text, "(Bx");
    // Unknown final after ESC: the ESC is a control (dropped), the rest is text.
    Decoded u = dec("a\x1bZb");
    EXPECT_EQ(u.text, "aZb");
    EXPECT_TRUE(u.result.ok);
    // Too short for a designation: the ESC itself is kept.
    EXPECT_EQ(dec("ab\x1b(").text, "ab\x1b(");
    // An ESC s at the very end ends the text.
    EXPECT_EQ(dec("ab\x1bs").text, "ab");
    // G0 designated to a set pymarc does not know: every character is unmapped.
    Decoded z = dec("\x1b(Zab");
    EXPECT_EQ(z.text, "  ");
    EXPECT_EQ(z.result.warnings, 2u);
    ASSERT_TRUE(z.result.problem);
    EXPECT_EQ(z.result.problem->what, "Unable to parse character 0x61 in g0=90 g1=69");
    EXPECT_EQ(z.result.problem->offset, 3u);
}

TEST(Marc8Decode, StateCarriesFromOneCallToTheNext) {
    // The sets designated where one piece of text ends are where the next begins, when the caller
    // carries them (pymarc's MARC8ToUnicode object does).
    std::string out;
    marc8::DecodeResult first = marc8::decode("\x1b(N\x41\x1b)Qx", out);
    EXPECT_TRUE(first.ok);
    EXPECT_EQ(first.g0, 0x4E);
    EXPECT_EQ(first.g1, 0x51);
    marc8::DecodeOptions carried;
    carried.g0 = first.g0;
    carried.g1 = first.g1;
    std::string next;
    marc8::DecodeResult second = marc8::decode("\x41\xC1", next, carried);
    EXPECT_EQ(next, u8(0x430) + u8(0x452));  // Basic Cyrillic in G0, Extended Cyrillic in G1
    EXPECT_EQ(second.g0, 0x4E);
    EXPECT_EQ(second.g1, 0x51);
    // By default every call starts with Basic Latin and ANSEL, and says so.
    std::string plain;
    marc8::DecodeResult fresh = marc8::decode("A", plain);
    EXPECT_EQ(plain, "A");
    EXPECT_EQ(fresh.g0, 0x42);
    EXPECT_EQ(fresh.g1, 0x45);
    // An unknown set is kept as given and maps nothing.
    marc8::DecodeOptions unknown;
    unknown.g0 = 0x5A;
    std::string none;
    marc8::DecodeResult z = marc8::decode("ab", none, unknown);
    EXPECT_EQ(none, "  ");
    EXPECT_EQ(z.g0, 0x5A);
}

TEST(Marc8Decode, EscapesPymarcRejects) {
    for (std::string_view bad : {std::string_view("abc\x1b"), std::string_view("\x1b)"), std::string_view("x\x1b-"),
                                 std::string_view("\x1b$,"), std::string_view("\x1bg"), std::string_view("a\x1b" "b")}) {
        Decoded d = dec(bad);
        EXPECT_FALSE(d.result.ok) << bad;
        ASSERT_TRUE(d.result.problem);
    }
    Decoded d = dec("abc\x1b");
    EXPECT_EQ(d.text, "abc");
    EXPECT_EQ(d.result.problem->offset, 3u);
}

TEST(Marc8Decode, ScriptSamples) {
    EXPECT_EQ(dec("\x1b(S\x41\x42").text, u8(0x391) + u8(0x392));                 // Basic Greek
    EXPECT_EQ(dec("\x1b(N\x41\x42").text, u8(0x430) + u8(0x431));                 // Basic Cyrillic
    EXPECT_EQ(dec("\x1b)Q\xC0\xE4").text, u8(0x491) + u8(0x401));                 // Extended Cyrillic
    EXPECT_EQ(dec("\x1b(2\x60\x61").text, u8(0x5D0) + u8(0x5D1));                 // Basic Hebrew
    EXPECT_EQ(dec("\x1b(3\x47\x48").text, u8(0x627) + u8(0x628));                 // Basic Arabic
    EXPECT_EQ(dec("\x1b)4\xA9").text, u8(0x67E));                                 // Extended Arabic
    EXPECT_EQ(dec("\x1b" "b0\x1bs").text, u8(0x2080));                            // Subscripts
    EXPECT_EQ(dec("\x1bp0\x1bs").text, u8(0x2070));                               // Superscripts
    EXPECT_EQ(dec("\x1bg\x62\x63").text, u8(0x3B2) + u8(0x3B3));                  // Greek symbols
    EXPECT_EQ(dec("\xA1\xB0").text, u8(0x141) + u8(0x2BB));                       // ANSEL
    EXPECT_EQ(dec("\x1b$1\x21\x30\x21\x21\x30\x22").text, u8(0x4E00) + u8(0x4E01));  // EACC
    // Hebrew points are combining and follow their letter.
    EXPECT_EQ(dec("\x1b(2\x40\x60").text, u8(0x5D0) + u8(0x5B7));
}

TEST(Marc8Decode, SetsOutsideTheirUsualHalf) {
    // LC: a 94-character set means the same in G0 and G1.  pymarc keys its tables by the byte it
    // expects, so these become SPACE with a warning there.
    EXPECT_EQ(dec("\x1b)2\xE0").text, u8(0x5D0));
    EXPECT_EQ(dec("\x1b(Q\x41").text, u8(0x452));
    EXPECT_EQ(dec("\x1b(E\x21").text, u8(0x141));
    Decoded p = dec("\x1b)2\xE0", Profile::pymarc);
    EXPECT_EQ(p.text, " ");
    EXPECT_EQ(p.result.warnings, 1u);
    EXPECT_EQ(dec("\x1b(Q\x41", Profile::pymarc).text, " ");
}

TEST(Marc8Decode, TruncatedMultibyte) {
    Decoded d = dec("\x1b$1\x21\x30");
    EXPECT_TRUE(d.result.ok);
    EXPECT_EQ(d.text, " ");
    EXPECT_EQ(d.result.warnings, 2u);  // pymarc: "Multi-byte position..." then "Unable to parse 0x20"
    ASSERT_TRUE(d.result.problem);
    EXPECT_EQ(d.result.problem->what, "Multi-byte position 6 exceeds length of marc8 string 5");
    // Technique-1 ESC 1 at the very end is a truncated multibyte character, not an error.
    Decoded e = dec("a\x1b" "1");
    EXPECT_TRUE(e.result.ok);
    EXPECT_EQ(e.text, "a ");
}

TEST(Marc8Decode, BytesPymarcDropsOrSpecialCases) {
    // C1 region: dropped by pymarc; the LC profile maps NSB/NSE/ZWJ/ZWNJ.
    EXPECT_EQ(dec("a\x8D" "b", Profile::pymarc).text, "ab");
    EXPECT_EQ(dec("a\x8D" "b").text, "a" + u8(0x200D) + "b");
    EXPECT_EQ(dec("\x88The \x89" "cat").text, u8(0x98) + "The " + u8(0x9C) + "cat");
    EXPECT_EQ(dec("a\x90" "b").text, "ab");
    // 0x80, 0xA0 and 0xFF are looked up and unmapped.
    Decoded d = dec("\x80\xA0\xFF");
    EXPECT_EQ(d.text, "   ");
    EXPECT_EQ(d.result.warnings, 3u);
    // pymarc's ODD_MAP (III extras in EACC mode) is emitted without releasing pending marks.
    EXPECT_EQ(dec("\x1b$1\x7f\x20\x14\x1b(Bx").text, u8(0x2014) + "x");
    EXPECT_EQ(dec("\xE2\x1b$1\x7f\x20\x14\x1b(Bx").text, u8(0x2014) + "x" + u8(0x301));
    // EACC codes where pymarc keeps older values.
    EXPECT_EQ(dec("\x1b$1\x21\x43\x39").text, u8(0x6674));
    EXPECT_EQ(dec("\x1b$1\x21\x43\x39", Profile::pymarc).text, u8(0xFA12));
    EXPECT_EQ(dec("\x1b$1\x21\x75\x59").text, u8(0x212C4));
    EXPECT_EQ(dec("\x1b$1\x21\x75\x59", Profile::pymarc).text, u8(0x3013));
}

TEST(Marc8Encode, Basics) {
    EXPECT_EQ(enc("plain ASCII"), "plain ASCII");
    EXPECT_EQ(enc("Caf\xC3\xA9"), "Caf\xE2" "e");          // NFD first, mark before base
    EXPECT_EQ(enc("Cafe\xCC\x81"), "Caf\xE2" "e");
    EXPECT_EQ(enc(u8(0x141) + "odz"), "\xA1odz");
    EXPECT_EQ(enc("H" + u8(0x2082) + "O"), "H\x1b" "b2\x1bsO");
    EXPECT_EQ(enc(u8(0x5D0) + u8(0x5D1) + " " + u8(0x5D2) + "."), "\x1b(2\x60\x61 \x62.\x1b(B");
    EXPECT_EQ(enc(u8(0x4E00) + " x"), "\x1b$1\x21\x30\x21\x1b(B x");
    EXPECT_EQ(enc(u8(0x491)), "\x1b)Q\xC0\x1b)E");
    EXPECT_EQ(enc("t" + u8(0x361) + "s"), "\xEBt\xECs");
    EXPECT_EQ(enc("t" + u8(0xFE20) + "s" + u8(0xFE21)), "\xEBt\xECs");
    EXPECT_EQ(enc(u8(0x200D)), "\x8D");
    // SPACE stays inside Hebrew/Cyrillic/... text but not inside a technique-1 set.
    EXPECT_EQ(enc("33" + u8(0xB9) + "/" + u8(0x2083) + " rpm"), "33\x1bp1\x1bs/\x1b" "b3\x1bs rpm");
    EXPECT_EQ(enc(u8(0x430) + " " + u8(0x431)), "\x1b(NA B\x1b(B");
}

TEST(Marc8Encode, UnmappableBecomeNcr) {
    std::string out;
    auto r = marc8::encode("a" + u8(0x263A) + "b" + u8(0x1F600), out);
    EXPECT_EQ(out, "a&#x263A;b&#x1F600;");
    EXPECT_EQ(r.unmappable, 2u);
    // From a non-ASCII set, the NCR is written in ASCII.
    EXPECT_EQ(enc(u8(0x5D0) + u8(0x263A)), "\x1b(2\x60\x1b(B&#x263A;");
    // Marks: an unmappable mark stays after its base; a mark with no base is unmappable.
    EXPECT_EQ(enc("a" + u8(0x301) + u8(0x350)), "\xE2" "a&#x0350;");
    EXPECT_EQ(enc(u8(0x301) + "a"), "&#x0301;a");
    EXPECT_EQ(enc(u8(0x263A) + u8(0x301)), "&#x263A;&#x0301;");
    EXPECT_EQ(enc("\x01"), "&#x0001;");
    // Ill-formed UTF-8.
    out.clear();
    r = marc8::encode("a\xFF" "b", out);
    EXPECT_EQ(out, "a&#xFFFD;b");
    EXPECT_EQ(r.invalid_utf8, 1u);
    // Lossy method.
    EXPECT_EQ(enc("a" + u8(0x263A), {marc8::Unmappable::lossy, true}), "a|");
    // The NCRs come back with decode_ncr.
    std::string back;
    marc8::decode_ncr(dec(enc("x" + u8(0x263A) + u8(0x1F600) + "y")).text, back);
    EXPECT_EQ(back, "x" + u8(0x263A) + u8(0x1F600) + "y");
}

TEST(Marc8Ncr, DecodeNcr) {
    auto run = [](std::string_view s) {
        std::string out;
        marc8::decode_ncr(s, out);
        return out;
    };
    EXPECT_EQ(run("a&#x263A;b"), "a" + u8(0x263A) + "b");
    EXPECT_EQ(run("&#x1f600;&#x41;"), u8(0x1F600) + "A");
    EXPECT_EQ(run("&amp; &#x; &#xZZ; &#x110000; &#xD800; &#x263A &#1234; &#x0000263A;"),
              "&amp; &#x; &#xZZ; &#x110000; &#xD800; &#x263A &#1234; &#x0000263A;");
    EXPECT_EQ(run("&&#x41;&"), "&A&");
    EXPECT_TRUE(marc8::contains_ncr("x&#x263A;"));
    EXPECT_FALSE(marc8::contains_ncr("x&#x263A"));
}

// decode(encode(x)) == x for every character MARC-8 can represent (LC profile), alone and, for
// combining marks, on a base letter.
TEST(Marc8RoundTrip, EveryRepresentableCharacter) {
    const Repertoire& rep = repertoire();
    EXPECT_GT(rep.bases.size(), 15000u);
    EXPECT_GT(rep.marks.size(), 40u);
    std::size_t failures = 0;
    for (const std::string& c : rep.bases) {
        std::string m;
        auto r = marc8::encode(c, m, {marc8::Unmappable::ncr, false});
        Decoded back = dec(m);
        if (r.unmappable || back.text != c || !back.result.ok || back.result.warnings) {
            if (++failures < 10) ADD_FAILURE() << "base " << c << " -> " << m << " -> " << back.text;
        }
        // With NFD first the text may come back decomposed: equal after NFC.
        std::string m2 = enc(c);
        EXPECT_EQ(nfc(dec(m2).text), nfc(c)) << c;
    }
    for (const std::string& mark : rep.marks) {
        const std::string x = "a" + mark;
        Decoded back = dec(enc(x, {marc8::Unmappable::ncr, false}));
        if (back.text != x && ++failures < 10) ADD_FAILURE() << "mark U+" << x;
    }
    EXPECT_EQ(failures, 0u);
}

// The pymarc profile's single-byte output (incl. the U+FE20-FE23 half marks) also encodes back.
TEST(Marc8RoundTrip, PymarcProfileSingleByteSets) {
    const std::string sets = "BE234NQSgbp";
    std::size_t checked = 0;
    for (char f : sets)
        for (int b = 0x21; b <= 0xFE; ++b) {
            const std::string in = std::string(b >= 0xA1 ? "\x1b)" : "\x1b(") + f + static_cast<char>(b) + "\x1b(Ba";
            Decoded d = dec(in, Profile::pymarc);
            if (d.result.warnings) continue;
            EXPECT_EQ(dec(enc(d.text, {marc8::Unmappable::ncr, false}), Profile::pymarc).text, d.text);
            ++checked;
        }
    EXPECT_GT(checked, 500u);
}

// Every subfield of the real MARC-8 corpus decodes without error or warning, and re-encodes.
TEST(Marc8Corpus, RealRecordsDecode) {
    const char* files[] = {"uva_2000.mrc", "jazz_1k.mrc", "lul_fre_500.mrc", "hebrew_20.mrc", "solrmarc_spec_76.mrc"};
    std::size_t values = 0, non_ascii = 0, warnings = 0;
    for (const char* name : files) {
        std::string data = rapidmarc::test::read_file(rapidmarc::test::shared_data() / "real" / name);
        if (data.empty()) GTEST_SKIP() << "shared data not found";
        ParsedRecord parsed;
        for (const std::string& rec : rapidmarc::test::split_on_terminator(data)) {
            if (rec.size() < 24 || rec[9] == 'a') continue;
            ASSERT_EQ(parse_record(rec, {false, false, Utf8Handling::strict}, parsed), ErrorCode::ok) << name;
            RecordView view(rec, parsed.entries);
            for (std::size_t i = 0; i < view.size(); ++i) {
                FieldView f = view.field(i);
                if (f.is_control()) continue;
                for (const SubfieldView& sf : f.subfields()) {
                    std::string out;
                    auto r = marc8::decode(sf.value, out);
                    ASSERT_TRUE(r.ok) << name;
                    warnings += r.warnings;
                    non_ascii += r.needs_normalization;
                    ++values;
                    std::string again;
                    marc8::encode(nfc(out), again);
                    std::string back;
                    marc8::decode(again, back);
                    EXPECT_EQ(nfc(back), nfc(out));
                }
            }
        }
    }
    // One value in hebrew_20.mrc has a DEL (0x7F) inside Hebrew text: unmapped, a SPACE (as pymarc).
    EXPECT_EQ(warnings, 1u);
    EXPECT_GT(values, 50000u);
    EXPECT_GT(non_ascii, 100u);
}

// ---- Mixed-set strings (issue #11, item 3) ------------------------------------------------------

namespace {

// Escape sequences the encoder wrote, in order, as (register, final): register '0' for G0 (ESC (,
// ESC $ 1 and technique 1), '1' for G1 (ESC )).  Fails the test on an ESC s followed by an ESC
// (pymarc and decode() read the byte after ESC s as a character), and on two designations of the
// same register with nothing between them (an escape that was not needed).
void check_escapes(const std::string& m, const std::string& context) {
    char last_reg = 0;
    std::size_t last_end = std::string::npos;
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] != '\x1b') continue;
        ASSERT_LT(i + 1, m.size()) << context;
        char reg;
        std::size_t len;
        const char nb = m[i + 1];
        if (nb == '(' || nb == ')') {
            reg = nb == '(' ? '0' : '1';
            len = 3;
        } else if (nb == '$') {
            reg = '0';
            len = 3;
        } else {
            reg = '0';
            len = 2;
            if (nb == 's') {
                EXPECT_FALSE(i + 2 < m.size() && m[i + 2] == '\x1b') << "ESC s ESC in " << context;
            }
        }
        EXPECT_FALSE(last_end == i && last_reg == reg) << "redundant escape at " << i << " in " << context;
        last_reg = reg;
        last_end = i + len;
        i += len - 1;
    }
}

std::string ncr(char32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "&#x%04X;", static_cast<unsigned>(cp));
    return buf;
}

// One sample of each MARC-8 set, as a base alone and with marks; `expect` has NCRs for what
// MARC-8 lacks; pymarc_same: false where the LC and pymarc mappings differ (docs/marc8.md:
// ligature halves, C1 controls).
struct Sample {
    const char* name;
    std::string text;
    bool pymarc_same = true;
    std::string expect = text;
};

const std::vector<Sample>& set_samples() {
    static const std::vector<Sample> samples = {
        {"EACC", u8(0x4E2D)},
        {"EACC+mark", u8(0x6587) + u8(0x301)},
        {"Hangul", u8(0xD55C)},
        {"ANSEL letter", u8(0x141)},
        {"ANSEL letter+mark", u8(0x1B0) + u8(0x301)},
        {"precomposed", u8(0xE9)},
        {"two marks", "a" + u8(0x323) + u8(0x302)},
        {"ligature", "t" + u8(0x361) + "s", false, "t" + u8(0x361) + "s"},
        {"ANSEL symbol", u8(0xA3)},
        {"ASCII", "x"},
        {"digit", "7"},
        {"space", " "},
        {"punctuation", "."},
        {"ampersand", "&"},
        {"Cyrillic", u8(0x431)},
        {"Cyrillic+mark", u8(0x430) + u8(0x301)},
        {"Extended Cyrillic", u8(0x491)},
        {"Greek", u8(0x3B1)},
        {"Greek+mark", u8(0x3B5) + u8(0x301)},
        {"Hebrew", u8(0x5D0)},
        {"Hebrew+point", u8(0x5D1) + u8(0x5B7)},
        {"Arabic", u8(0x628)},
        {"Arabic+mark", u8(0x628) + u8(0x64E)},
        {"Extended Arabic", u8(0x67E)},
        {"subscript", u8(0x2082)},
        {"superscript", u8(0xB2)},
        {"superscript+mark", u8(0x2075) + u8(0x301)},
        {"C1 ZWJ", u8(0x200D), false, u8(0x200D)},
        {"unmappable", u8(0x263A), true, ncr(0x263A)},
        {"unmappable mark", "a" + u8(0x350), true, "a" + ncr(0x350)},
    };
    return samples;
}

// Checks decode(encode(s)) == NFC(expect) (s with NCRs for what MARC-8 lacks), also followed by
// default-state text, and with pymarc's mappings when they are the same.
void check_round_trip(const std::string& s, const std::string& expect, bool pymarc_same, std::size_t& failures) {
    const std::string m = enc(s);
    const std::string want = nfc(expect);
    Decoded lc = dec(m);
    if (!lc.result.ok || lc.result.warnings || nfc(lc.text) != want) {
        if (++failures < 10) ADD_FAILURE() << "[" << s << "] -> [" << m << "] -> [" << lc.text << "]";
        return;
    }
    // The value ends in the default state: ASCII in G0, ANSEL in G1.
    if (nfc(dec(m + "x\xE2" "e").text) != nfc(expect + "x" + u8(0xE9)) && ++failures < 10)
        ADD_FAILURE() << "not in the default state at the end: [" << s << "] -> [" << m << "]";
    if (pymarc_same && nfc(dec(m, Profile::pymarc).text) != want && ++failures < 10)
        ADD_FAILURE() << "pymarc profile: [" << s << "] -> [" << m << "] -> [" << dec(m, Profile::pymarc).text << "]";
    check_escapes(m, s);
}

}  // namespace

// The example: the ANSEL mark of "é" was written while G0 was still EACC, so every decoder
// took it as the first byte of a 3-byte character and lost the rest of the text.
TEST(Marc8Encode, CjkFollowedByAnsel) {
    const std::string s = u8(0x4E2D) + u8(0x6587) + u8(0xE9) + u8(0x4E2D) + u8(0x6587);
    EXPECT_EQ(enc(s), "\x1b$1!04!BX\x1b(B\xE2" "e\x1b$1!04!BX\x1b(B");
    EXPECT_EQ(nfc(dec(enc(s)).text), s);
    EXPECT_EQ(nfc(dec(enc(s), Profile::pymarc).text), s);
    // ANSEL letter, mark on an EACC base, C1 control, second ligature half after EACC.
    EXPECT_EQ(enc(u8(0x4E2D) + u8(0x141)), "\x1b$1!04\x1b(B\xA1");
    EXPECT_EQ(enc(u8(0x4E2D) + u8(0x6587) + u8(0x301)), "\x1b$1!04\x1b(B\xE2\x1b$1!BX\x1b(B");
    EXPECT_EQ(enc(u8(0x4E2D) + u8(0x200D) + u8(0x4E2D)), "\x1b$1!04\x1b(B\x8D\x1b$1!04\x1b(B");
    EXPECT_EQ(enc("t" + u8(0x361) + u8(0x4E2D)), "\xEBt\xEC\x1b$1!04\x1b(B");
    EXPECT_EQ(enc(u8(0x4E2D) + "t" + u8(0x361) + u8(0x4E2D)), "\x1b$1!04\x1b(B\xEBt\xEC\x1b$1!04\x1b(B");
    // Leaving EACC for a mark on a Cyrillic/Hebrew base designates that set at once.
    EXPECT_EQ(enc(u8(0x4E2D) + u8(0x430) + u8(0x301)), "\x1b$1!04\x1b(N\xE2" "A\x1b(B");
    EXPECT_EQ(enc(u8(0x4E2D) + u8(0x5D0) + u8(0x301)), "\x1b$1!04\x1b(2\xE2`\x1b(B");
    // Extended Cyrillic (G1) after EACC, and a G1 set left open with a technique-1 set: ESC s comes
    // last, since the byte after it is read as a character ("ESC s ESC ) E" decoded as ")E").
    EXPECT_EQ(enc(u8(0x4E2D) + u8(0x491)), "\x1b$1!04\x1b(B\x1b)Q\xC0\x1b)E");
    EXPECT_EQ(enc(u8(0x491) + u8(0x2082)), "\x1b)Q\xC0\x1b" "b2\x1b)E\x1bs");
    EXPECT_EQ(dec(enc(u8(0x491) + u8(0x2082))).text, u8(0x491) + u8(0x2082));
    EXPECT_EQ(dec(enc(u8(0x67E) + u8(0xB2)), Profile::pymarc).text, u8(0x67E) + u8(0xB2));
}

// Every ordered pair of sets (and the way back), each sample alone, with marks, and next to space
// and punctuation: decode(encode(a b a)) == NFC(a b a), escapes minimal, default state at the end.
TEST(Marc8RoundTrip, TransitionsBetweenEveryPairOfSets) {
    const auto& samples = set_samples();
    std::size_t failures = 0, checked = 0;
    for (const Sample& a : samples)
        for (const Sample& b : samples) {
            const bool same = a.pymarc_same && b.pymarc_same;
            check_round_trip(a.text + b.text, a.expect + b.expect, same, failures);
            check_round_trip(a.text + b.text + a.text, a.expect + b.expect + a.expect, same, failures);
            check_round_trip(a.text + " " + b.text + "." + a.text, a.expect + " " + b.expect + "." + a.expect, same,
                             failures);
            checked += 3;
        }
    EXPECT_EQ(failures, 0u);
    EXPECT_EQ(checked, 3 * samples.size() * samples.size());
}

// Random strings mixing every MARC-8 set (characters drawn from the decoded code tables, runs of
// one set, marks on some bases, characters MARC-8 lacks): decode(encode(s)) == NFC(s), NCRs for
// what MARC-8 lacks; with pymarc's mappings too when s has none of the characters they differ in.
TEST(Marc8RoundTrip, PropertyMixedSetStrings) {
    // Groups of characters by set, from decoding every code (as repertoire() does, but per set).
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    std::vector<std::string> marks;
    std::set<std::string> seen_marks;
    for (char f : std::string("BE234NQSgbp")) {
        std::vector<std::string> bases;
        for (int b = 0x21; b <= 0xFE; ++b) {
            if (b > 0x7E && b < 0xA1) continue;
            const std::string in = std::string(b >= 0xA1 ? "\x1b)" : "\x1b(") + f + static_cast<char>(b);
            Decoded alone = dec(in);
            Decoded with_base = dec(in + "\x1b(Ba");
            if (alone.result.warnings || with_base.result.warnings) continue;
            if (!alone.text.empty())
                bases.push_back(alone.text);
            else if (with_base.text.size() > 1 && with_base.text[0] == 'a' &&
                     seen_marks.insert(with_base.text.substr(1)).second)
                marks.push_back(with_base.text.substr(1));
        }
        if (!bases.empty()) groups.emplace_back(std::string(1, f), bases);
    }
    std::vector<std::string> eacc;
    for (int b1 = 0x21; b1 <= 0x7E; ++b1)
        for (int b2 = 0x21; b2 <= 0x7E; b2 += 3)  // a third of the pages is plenty
            for (int b3 = 0x21; b3 <= 0x7E; ++b3) {
                const char code[] = {static_cast<char>(b1), static_cast<char>(b2), static_cast<char>(b3)};
                Decoded d = dec(std::string("\x1b$1") + std::string(code, 3));
                if (d.result.warnings || d.text.empty() || d.text == u8(0x2026) || d.text == u8(0x201C)) continue;
                eacc.push_back(d.text);
            }
    groups.emplace_back("EACC", eacc);
    groups.emplace_back("space", std::vector<std::string>{" "});
    groups.emplace_back("punctuation", std::vector<std::string>{".", ",", ";", ":", "-", "(", ")", "/", "[", "]", "&"});
    groups.emplace_back("precomposed", std::vector<std::string>{u8(0xE9), u8(0xC7), u8(0xF1), u8(0x1EA5), u8(0x17E),
                                                                u8(0x1E6D), u8(0xE5), u8(0x16F), u8(0x119)});
    groups.emplace_back("C1", std::vector<std::string>{u8(0x98), u8(0x9C), u8(0x200D), u8(0x200C)});
    groups.emplace_back("unmappable", std::vector<std::string>{u8(0x263A), u8(0x1F600), u8(0xE01), u8(0x2603)});
    ASSERT_GT(eacc.size(), 4000u);
    ASSERT_GT(marks.size(), 50u);
    ASSERT_EQ(groups.size(), 17u);

    // docs/marc8.md: characters whose LC and pymarc mappings differ (1: ligature halves; 3: C1
    // controls; 5, 6: EACC codes pymarc maps to U+3013 or private use).  4 vanishes under NFC.
    const std::set<std::string> pymarc_differs = {u8(0x361),   u8(0x360),   u8(0x98),    u8(0x9C),
                                                  u8(0x200D),  u8(0x200C),  u8(0x212C4), u8(0x2251B),
                                                  u8(0x22C4D), u8(0x318D),  u8(0xC717)};
    const char32_t unmappable_marks[] = {0x350, 0x357};

    std::mt19937 rng(20240611);
    auto pick = [&rng](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    std::size_t failures = 0, pymarc_checked = 0;
    for (int iter = 0; iter < 5000; ++iter) {
        std::string s, expect;
        bool pymarc_same = true;
        const std::size_t runs = 1 + pick(10);
        for (std::size_t r = 0; r < runs; ++r) {
            const auto& [name, chars] = groups[pick(groups.size())];
            const std::size_t len = 1 + pick(4);
            for (std::size_t k = 0; k < len; ++k) {
                const std::string& c = chars[pick(chars.size())];
                s += c;
                pymarc_same = pymarc_same && !pymarc_differs.count(c);
                if (name == "unmappable") {
                    char32_t cp;
                    unicode::decode_utf8(c, cp);
                    expect += ncr(cp);
                    continue;
                }
                expect += c;
                if (name == "C1" || pick(5) != 0) continue;
                for (std::size_t nm = 1 + pick(3); nm > 0; --nm) {
                    const std::string& mk = marks[pick(marks.size())];
                    s += mk;
                    expect += mk;
                    pymarc_same = pymarc_same && !pymarc_differs.count(mk);
                }
                if (pick(10) == 0) {  // last: the marks before it stay on the base
                    const std::size_t u = pick(2);
                    s += u8(unmappable_marks[u]);
                    expect += ncr(unmappable_marks[u]);
                }
            }
        }
        check_round_trip(s, expect, pymarc_same, failures);
        pymarc_checked += pymarc_same;
    }
    EXPECT_EQ(failures, 0u);
    EXPECT_GT(pymarc_checked, 1000u);
}

TEST(Marc8Tables, CodeTablesAreWhatDecodeLooksUp) {
    // Every entry of a set's table decodes to its character when that set is designated.
    for (marc8::Profile profile : {marc8::Profile::lc, marc8::Profile::pymarc}) {
        const auto ansel = marc8::code_table(0x45, profile);
        ASSERT_FALSE(ansel.empty());
        std::size_t checked = 0;
        for (const marc8::CodeMapping& m : ansel) {
            if (m.code < 0xA1 || m.combining) continue;  // G1 graphics: decoded as they are
            std::string out;
            marc8::DecodeOptions options;
            options.profile = profile;
            marc8::decode(std::string(1, static_cast<char>(m.code)), out, options);
            EXPECT_EQ(out, u8(m.ucs)) << std::hex << m.code;
            ++checked;
        }
        EXPECT_GT(checked, 20u);
        const auto eacc = marc8::code_table(0x31, profile);
        EXPECT_GT(eacc.size(), 15000u);
        EXPECT_TRUE(std::is_sorted(eacc.begin(), eacc.end(),
                                   [](const auto& a, const auto& b) { return a.code < b.code; }));
    }
    EXPECT_TRUE(marc8::code_table(0x5A, marc8::Profile::lc).empty());  // no such set
    EXPECT_EQ(marc8::odd_codes().size(), 6u);
}
