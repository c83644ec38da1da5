// marcspec.hpp: the MARCspec parser and selection, against hand-built records, the spec's own
// examples and test-suite vectors (https://github.com/MARCspec/MARCspec-Test-Suite, transcribed by
// hand), and the real corpus (the plain and the general paths must agree on every record).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapidmarc/marcspec.hpp"
#include "rapidmarc/parser.hpp"
#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;
using V = std::vector<std::string>;

namespace {

V select(const std::string& record, const MarcSpec& spec, TextEncoding enc = TextEncoding::utf8) {
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(record, {}, parsed), ErrorCode::ok);
    V out;
    std::string scratch;
    for_each_value(RecordView(record, parsed.entries), spec, enc, scratch,
                   [&](std::string_view v) { out.emplace_back(v); });
    return out;
}

V values(const std::string& record, std::string_view spec, TextEncoding enc = TextEncoding::utf8) {
    return select(record, parse_marcspec(spec), enc);
}

// The spec with its plain path switched off: the general selector does all the work.
MarcSpec general(std::string_view text) {
    MarcSpec spec = parse_marcspec(text);
    spec.plain.reset();
    return spec;
}

std::size_t error_position(std::string_view text) {
    try {
        parse_marcspec(text);
    } catch (const MarcSpecError& e) {
        return e.position();
    }
    ADD_FAILURE() << "no error for " << text;
    return std::string::npos;
}

const std::string kRecord = make_record({
    {"001", "ocm123"},
    {"008", "850101s1851    nyu           000 1 eng d"},
    {"020", "  \x1f" "a0394170660\x1f" "qRandom House\x1f" "qpaperback\x1f" "c$4.95"},
    {"020", "  \x1f" "a0394502884\x1f" "qRandom House\x1f" "qhardcover\x1f" "c$12.50"},
    {"100", "1 \x1f" "6880-01\x1f" "aZilbershtain, Yitshak ben David Yosef."},
    {"245", "10\x1f" "aMoby Dick /\x1f" "cHerman Melville."},
    {"650", " 0\x1f" "aWhales\x1f" "xFiction."},
    {"650", " 7\x1f" "aWhaling\x1f" "2fast"},
    {"880", "1 \x1f" "6100-01/(2/r\x1f" "a, \xd7\x99\xd7\xa6\xd7\x97\xd7\xa7 \xd7\x99\xd7\x95\xd7\xa1\xd7\xa3."},
});

}  // namespace

// ---- parsing -------------------------------------------------------------------------------------

TEST(MarcSpecParse, TheSpecsExamplesParse) {
    for (const char* s :
         {"LDR", "00.", "7..", "100", "LDR/0-4", "LDR/6", "007/0", "007/1-#", "007/#", "245$a/#-1", "245$a",
          "245$a$b$c", "245$a-c", "...$_$$", "300[0]", "300[1]", "300[0-2]", "300[1-#]", "300[#]", "300[#-1]",
          "300[0]$a", "300$a[0]", "300$a[#]", "300$a[#-1]", "880^1", "880[1]^2", "020$c{?020$a}",
          "020$c{020$c?020$a}", "020$z{!020$a}", "020$z{020$z!020$a}", "008/18{LDR/6=\\t}",
          "245$b{007/0=\\a|007/0=\\t}", "008/18{LDR/6=\\a}{LDR/7=\\a|LDR/7=\\c|LDR/7=\\d|LDR/7=\\m}",
          "880$a{100$6~$6/3-5}{100$6~\\880}", "007[1]/3{/0=\\v}", "007[1]/3{007[1]/0=\\v}", "020$c{$a}",
          "020$c{020$a}", "245$a{/#=\\/}", "245$a{245$a/#=\\/}", "800[0]{$a~\\Poe}{^2=\\1}", "245$a{/0-2=\\The}",
          "020$q{$c}", "020$c{$q=\\paperback}", "...[2]{[1]}", "...[1]{/0-3}", "...[1]{^1}", ".../0-7{[0]}",
          ".../0-7{/0=\\2}", "...$a[0]{[1]}", "...$a[0]{/0}", "...$a/1{[1]}", "...$a/1{[1]/1}", "...$a/1{/0}",
          "...$a{^2=\\0}", "...^1{^1!=\\_}", "...^2{^1!=\\_}", "...^2{[1]}", "...^2{[1]$a}", "...^2{[1]^1=\\_}"}) {
        EXPECT_NO_THROW(parse_marcspec(s)) << s;
    }
}

TEST(MarcSpecParse, TestSuiteValidVectors) {
    // Field tags, positions and ranges, indexes, indicators, subfield tags and ranges, subspecs,
    // comparison strings, each combined with the tag "..." as the suite's wildCombination files do.
    for (const char* s : {"...", "..0", ".00", "1.0", "20.", "2..", "300", "LDR", "ABC", "..C", ".BC", "A.C", "abc"})
        EXPECT_NO_THROW(parse_marcspec(s)) << s;
    for (const char* p : {"#", "0", "9", "10", "100", "0-1", "0-#", "0-0", "#-#", "#-0", "#-1"}) {
        const std::string pos(p);
        for (const std::string& s : {".../" + pos, "...[" + pos + "]", "...[" + pos + "]/" + pos,
                                     "...[" + pos + "]^1", "...$a[" + pos + "]", "...$a/" + pos})
            EXPECT_NO_THROW(parse_marcspec(s)) << s;
    }
    for (const char* c : {"a", "z", "0", "9", "!", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".",
                          "/", ":", ";", "<", "=", ">", "?", "[", "\\", "]", "^", "_", "`", "{", "}", "~"}) {
        const std::string s = std::string("...$") + c;
        EXPECT_NO_THROW(parse_marcspec(s)) << s;
    }
    for (const char* s : {"...$a-z", "...$0-9", "...$a-z$a-z", "...$a-z$0-9", "...^1", "...^2"})
        EXPECT_NO_THROW(parse_marcspec(s)) << s;
    for (const char* sub : {"{245$a}", "{$a}", "{?$a}", "{!$a}", "{$a=$b}", "{$a!=$b}", "{$a~\\Poe}", "{$a!~\\Poe}",
                            "{/#=\\/}", "{$a|$b}{$c}", "{$a}{$b|$c}", "{$a|$b}{$c|$d}", "{$a=\\test\\$}",
                            "{$a=\\test\\{}", "{$a=\\te\\}st}", "{$a=\\test\\!}", "{$a=\\\\=test}", "{$a=\\test\\~}",
                            "{$a=\\test\\?}", "{$a=\\tes\\st\\|}"}) {
        for (const std::string& s : {std::string("...") + sub, std::string("...[#]") + sub,
                                     std::string("...$a-z") + sub, std::string("...$a") + sub + "$b" + sub})
            EXPECT_NO_THROW(parse_marcspec(s)) << s;
    }
}

TEST(MarcSpecParse, TestSuiteInvalidVectors) {
    for (const char* s :
         {"....", "?00", "24#", "24 ", "2 5", " 45", ".../", ".../1- 2", ".../1-2-", ".../-2", ".../1-X", ".../#-",
          ".../2-1", ".../?", ".../#^1", ".../0-1^2", "...[]", "...[1- 2]", "...[1-2-]", "...[-2]", "...[1-X]",
          "...[#-]", "...[2-1]", "...[?]", "...^12", "...^3", "...^", "...$a-9", "...$0-a", "...$1-0", "...$z-a",
          "...$A-Z", "...$ a", "...$\xc3\x9f", "...{$a=\\te st}", "...{$a=\\test$}", "...{$a=\\te}st}",
          "...{$a=\\ test}",
          "...{$a=\\test{}", "...{$a=\\test~}", "...{$a=\\test?}"}) {
        EXPECT_THROW(parse_marcspec(s), MarcSpecError) << s;
    }
}

TEST(MarcSpecParse, ErrorsNameThePositionAndTheReason) {
    EXPECT_EQ(error_position("245$a[x]"), 6u);
    EXPECT_EQ(error_position("LDR$a"), 3u);
    EXPECT_EQ(error_position("LDR^1"), 3u);
    EXPECT_EQ(error_position("245 $a"), 3u);
    EXPECT_EQ(error_position("24"), 2u);
    EXPECT_EQ(error_position(""), 0u);
    EXPECT_EQ(error_position("008/10-7"), 4u);
    EXPECT_EQ(error_position("008/07"), 4u);
    EXPECT_EQ(error_position("245$a{$b="), 9u);
    EXPECT_EQ(error_position("245$a{$b"), 8u);
    EXPECT_EQ(error_position("008/0-3{^1}"), 8u);
    EXPECT_EQ(error_position("245^1{/0}"), 6u);
    EXPECT_EQ(error_position("008/0$a"), 5u);
    EXPECT_EQ(error_position("245$z-a"), 4u);
    try {
        parse_marcspec("245$a[x]");
        FAIL();
    } catch (const MarcSpecError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("'245$a[x]' at position 6"), std::string::npos) << what;
        EXPECT_NE(what.find("a number or '#'"), std::string::npos) << what;
    }
}

TEST(MarcSpecParse, StructureOfASpec) {
    const MarcSpec s = parse_marcspec("6XX[0-1]$a-c[#]/1-#{^2=\\0|$2~\\fast}{!$x}$x");
    EXPECT_EQ(s.kind, SpecKind::subfield);
    EXPECT_EQ(s.tag, "6..");
    EXPECT_EQ(s.index, (PositionRange{{false, 0}, {false, 1}}));
    ASSERT_EQ(s.subfields.size(), 2u);
    EXPECT_EQ(s.subfields[0].selector.code_list, "abc");
    EXPECT_EQ(s.subfields[0].selector.index, (PositionRange{{true, 0}, {true, 0}}));
    EXPECT_EQ(s.subfields[0].selector.chars, (PositionRange{{false, 1}, {true, 0}}));
    ASSERT_EQ(s.subfields[0].subspecs.size(), 2u);
    ASSERT_EQ(s.subfields[0].subspecs[0].any_of.size(), 2u);
    ASSERT_TRUE(s.subfields[0].subspecs[0].any_of[0].left.has_value());
    EXPECT_EQ(s.subfields[0].subspecs[0].any_of[0].left->kind, TermKind::indicator);  // ^2 of this field
    EXPECT_EQ(s.subfields[0].subspecs[0].any_of[0].right.literal, "0");
    EXPECT_EQ(s.subfields[0].subspecs[0].any_of[0].op, SpecOperator::equal);
    EXPECT_EQ(s.subfields[0].subspecs[0].any_of[1].op, SpecOperator::includes);
    EXPECT_EQ(s.subfields[0].subspecs[1].any_of[0].op, SpecOperator::not_exists);
    EXPECT_FALSE(s.plain.has_value());
    EXPECT_EQ(s.subfields[1].selector.code_list, "x");
}

TEST(MarcSpecParse, EarlierFormsTakeThePlainPath) {
    for (const char* s : {"LDR", "001", "245", "245$a", "650$axz", "6XX$a", "6xx$a", "6..$ax", "245$a$b", "245$a-c"}) {
        const MarcSpec spec = parse_marcspec(s);
        ASSERT_TRUE(spec.plain.has_value()) << s;
    }
    EXPECT_EQ(parse_marcspec("650$axz").plain->codes, "axz");
    EXPECT_EQ(parse_marcspec("245$a-c").plain->codes, "abc");
    EXPECT_EQ(parse_marcspec("6xx$a").plain->tag, "6XX");
    EXPECT_TRUE(parse_marcspec("LDR").plain->leader);
    for (const char* s : {"LDR/6", "245^1", "650[0]", "650$a[0]", "650$a{^2=\\0}", "650{^2=\\0}$a"})
        EXPECT_FALSE(parse_marcspec(s).plain.has_value()) << s;
}

TEST(MarcSpecParse, PositionRangesResolve) {
    auto range = [](std::string_view text, std::size_t count) {
        const MarcSpec s = parse_marcspec("008/" + std::string(text));
        std::size_t a = 0, b = 0;
        if (!s.chars->resolve(count, a, b)) return std::string("none");
        return std::to_string(a) + "-" + std::to_string(b);
    };
    EXPECT_EQ(range("3", 10), "3-3");
    EXPECT_EQ(range("#", 10), "9-9");
    EXPECT_EQ(range("#-1", 10), "8-9");
    EXPECT_EQ(range("#-0", 10), "9-9");
    EXPECT_EQ(range("#-#", 10), "9-9");
    EXPECT_EQ(range("#-20", 10), "0-9");
    EXPECT_EQ(range("2-#", 10), "2-9");
    EXPECT_EQ(range("8-12", 10), "8-9");
    EXPECT_EQ(range("10-12", 10), "none");
    EXPECT_EQ(range("0", 0), "none");
    EXPECT_EQ(range("#", 0), "none");
}

// ---- selection ---------------------------------------------------------------------------------

TEST(MarcSpecSelect, CharacterPositionsOfTheLeaderAndControlFields) {
    EXPECT_EQ(values(kRecord, "LDR/6"), V{"a"});
    EXPECT_EQ(values(kRecord, "LDR/5-7"), V{"nam"});
    EXPECT_EQ(values(kRecord, "LDR[0]/6"), V{"a"});
    EXPECT_TRUE(values(kRecord, "LDR[1]").empty());
    EXPECT_EQ(values(kRecord, "008/7-10"), V{"1851"});
    EXPECT_EQ(values(kRecord, "008/35-37"), V{"eng"});
    EXPECT_EQ(values(kRecord, "008/35-#"), V{"eng d"});
    EXPECT_EQ(values(kRecord, "008/#"), V{"d"});
    EXPECT_EQ(values(kRecord, "008/#-1"), V{" d"});
    EXPECT_TRUE(values(kRecord, "008/40").empty());  // past the end: no value
    EXPECT_EQ(values(kRecord, "008/38-45"), V{" d"});  // cut at the end
    EXPECT_EQ(values(kRecord, "00./0-2"), (V{"ocm", "850"}));
    EXPECT_EQ(values(kRecord, "245/0-3"), V{"Moby"});  // a data field's value()
}

TEST(MarcSpecSelect, CharacterPositionsCountCharactersNotBytes) {
    EXPECT_EQ(values(kRecord, "880$a/2-5"), V{"\xd7\x99\xd7\xa6\xd7\x97\xd7\xa7"});
    EXPECT_EQ(values(kRecord, "880$a/#"), V{"."});
    // Bytes are counted as bytes.
    EXPECT_EQ(values(kRecord, "880$a/2-3", TextEncoding::bytes), V{"\xd7\x99"});
}

TEST(MarcSpecSelect, IndicatorsAsValues) {
    EXPECT_EQ(values(kRecord, "245^1"), V{"1"});
    EXPECT_EQ(values(kRecord, "245^2"), V{"0"});
    EXPECT_EQ(values(kRecord, "650^2"), (V{"0", "7"}));
    EXPECT_EQ(values(kRecord, "650^1"), (V{" ", " "}));
    EXPECT_EQ(values(kRecord, "650[#]^2"), V{"7"});
    EXPECT_TRUE(values(kRecord, "001^1").empty());  // control fields have none
}

TEST(MarcSpecSelect, FieldAndSubfieldIndexes) {
    EXPECT_EQ(values(kRecord, "650[0]$a"), V{"Whales"});
    EXPECT_EQ(values(kRecord, "650[#]$a"), V{"Whaling"});
    EXPECT_EQ(values(kRecord, "650[0-1]$a"), (V{"Whales", "Whaling"}));
    EXPECT_EQ(values(kRecord, "650[1-#]$a"), V{"Whaling"});
    EXPECT_TRUE(values(kRecord, "650[2]$a").empty());
    EXPECT_EQ(values(kRecord, "6..[0]"), V{"Whales Fiction."});
    EXPECT_EQ(values(kRecord, "020$q"), (V{"Random House", "paperback", "Random House", "hardcover"}));
    EXPECT_EQ(values(kRecord, "020$q[0]"), (V{"Random House", "Random House"}));
    EXPECT_EQ(values(kRecord, "020$q[#]"), (V{"paperback", "hardcover"}));
    EXPECT_EQ(values(kRecord, "020[1]$q[#-1]"), (V{"Random House", "hardcover"}));
}

TEST(MarcSpecSelect, SubfieldRangesAndSetsKeepFieldOrder) {
    EXPECT_EQ(values(kRecord, "245$a-c"), (V{"Moby Dick /", "Herman Melville."}));
    EXPECT_EQ(values(kRecord, "245$c$a"), (V{"Moby Dick /", "Herman Melville."}));
    EXPECT_EQ(values(kRecord, "650$a$x"), (V{"Whales", "Fiction.", "Whaling"}));
    EXPECT_EQ(values(kRecord, "650$0-9"), V{"fast"});
    EXPECT_EQ(values(kRecord, "650$a/0-3$x/#"), (V{"Whal", ".", "Whal"}));
}

TEST(MarcSpecSelect, ConditionsFromTheSpec) {
    // "020$c{$q=\paperback}": the $c of the 020 that has a $q equal to "paperback".
    EXPECT_EQ(values(kRecord, "020$c{$q=\\paperback}"), V{"$4.95"});
    EXPECT_EQ(values(kRecord, "020$q{$c}"), (V{"Random House", "paperback", "Random House", "hardcover"}));
    EXPECT_TRUE(values(kRecord, "020$c{!020$a}").empty());
    EXPECT_EQ(values(kRecord, "020$c{?020$a}"), (V{"$4.95", "$12.50"}));
    EXPECT_EQ(values(kRecord, "880$a{100$6~$6/3-5}{100$6~\\880}").size(), 1u);
    EXPECT_TRUE(values(kRecord, "880$a{100$6~$6/0-2}").empty());  // "100" is not in "880-01"
    EXPECT_EQ(values(kRecord, "245$a{/#=\\/}"), V{"Moby Dick /"});
    EXPECT_TRUE(values(kRecord, "245$c{/#=\\/}").empty());
    EXPECT_EQ(values(kRecord, "008/15-17{LDR/6=\\a}"), V{"nyu"});
    EXPECT_TRUE(values(kRecord, "008/15-17{LDR/6=\\t}").empty());
    EXPECT_EQ(values(kRecord, "245$a{LDR/6=\\t|LDR/6=\\a}"), V{"Moby Dick /"});
    EXPECT_TRUE(values(kRecord, "245$a{LDR/6=\\a}{LDR/7=\\s}").empty());  // AND of subspecs
    EXPECT_EQ(values(kRecord, "245$a{LDR/6=\\a}{LDR/7=\\m}"), V{"Moby Dick /"});
}

TEST(MarcSpecSelect, IndicatorConditions) {
    EXPECT_EQ(values(kRecord, "650$a{^2=\\0}"), V{"Whales"});
    EXPECT_EQ(values(kRecord, "650{^2=\\0}$a"), V{"Whales"});  // the same, written on the field
    EXPECT_EQ(values(kRecord, "650$a{^2!=\\0}"), V{"Whaling"});
    EXPECT_EQ(values(kRecord, "650$a{^1=\\\\s}"), (V{"Whales", "Whaling"}));  // "\\s": a blank
    EXPECT_TRUE(values(kRecord, "650$a{^1=\\s}").empty());                      // "\s": the letter s
    EXPECT_EQ(values(kRecord, "650{^2=\\7}"), V{"Whaling fast"});
    EXPECT_EQ(values(kRecord, "650^2{^2!=\\0}"), V{"7"});
}

TEST(MarcSpecSelect, OperatorsFollowTheValidationTable) {
    // right is null: = false, != true, ~ false, !~ true, ? false, ! true.
    EXPECT_TRUE(values(kRecord, "245$a{$a=$z}").empty());
    EXPECT_EQ(values(kRecord, "245$a{$a!=$z}").size(), 1u);
    EXPECT_TRUE(values(kRecord, "245$a{$a~$z}").empty());
    EXPECT_EQ(values(kRecord, "245$a{$a!~$z}").size(), 1u);
    EXPECT_TRUE(values(kRecord, "245$a{?$z}").empty());
    EXPECT_EQ(values(kRecord, "245$a{!$z}").size(), 1u);
    // left is null: false for the comparisons.
    EXPECT_TRUE(values(kRecord, "245$a{$z!=\\x}").empty());
    EXPECT_TRUE(values(kRecord, "245$a{$z!~\\x}").empty());
    // includes / not includes; escapes in comparison strings.
    EXPECT_EQ(values(kRecord, "245$a{~\\Dick}").size(), 1u);
    EXPECT_TRUE(values(kRecord, "245$a{!~\\Dick}").size() == 0u);
    EXPECT_EQ(values(kRecord, "245$a{=\\Moby\\sDick\\s/}").size(), 1u);
    EXPECT_EQ(values(kRecord, "020$c{=\\\\$4.95}"), V{"$4.95"});
}

TEST(MarcSpecSelect, AbbreviatedIndexesInSubspecs) {
    // "...$a[0]{[1]}" is "...$a[0]{...$a[1]}": the first $q of each 020 that has a second one.
    EXPECT_EQ(values(kRecord, "020$q[0]{[1]}"), (V{"Random House", "Random House"}));
    EXPECT_TRUE(values(kRecord, "020$q[0]{[2]}").empty());
    // On a field spec "[i]" is the i-th field with the tag.
    EXPECT_EQ(values(kRecord, "650[0]{[1]^2=\\7}"), V{"Whales Fiction."});
    EXPECT_EQ(values(kRecord, "650[0]{[1]$2}"), V{"Whales Fiction."});
}

TEST(MarcSpecSelect, PlainAndGeneralPathsAgreeOnTheRealCorpus) {
    const std::vector<std::string> specs = {"LDR", "001", "008", "245", "245$a", "650$axz", "6XX$a", "1..", "9..$a",
                                            "260$a$b$c", "245$a-c", "0..$a", "XXX"};
    for (const char* file : {"loc_386.mrc", "lul_fre_500.mrc", "hebrew_20.mrc", "nepali_96.mrc", "auth_1066.mrc"}) {
        const std::string data = test::read_file(test::shared_data() / "real" / file);
        std::size_t records = 0, compared = 0;
        for (const std::string& bytes : test::split_on_terminator(data)) {
            ParsedRecord parsed;
            if (parse_record(bytes, {}, parsed) != ErrorCode::ok) continue;
            const TextEncoding enc = text_encoding(parsed, {});
            ++records;
            for (const std::string& s : specs) {
                const MarcSpec plain = parse_marcspec(s);
                ASSERT_TRUE(plain.plain) << s;
                const V a = select(bytes, plain, enc), b = select(bytes, general(s), enc);
                ASSERT_EQ(a, b) << file << " record " << records << " spec " << s;
                compared += a.size();
            }
        }
        EXPECT_GT(records, 10u) << file;
        EXPECT_GT(compared, records) << file;
    }
}

TEST(MarcSpecSelect, CharacterRangesAgreeWithSlicingOnTheRealCorpus) {
    // /a-b of a value is its code points a..b; checked against the whole value's code points.
    const std::string data = test::read_file(test::shared_data() / "real" / "hebrew_20.mrc");
    auto code_points = [](std::string_view s) {
        V out;
        for (std::size_t i = 0; i < s.size();) {
            std::size_t n = 1;
            while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
            out.emplace_back(s.substr(i, n));
            i += n;
        }
        return out;
    };
    std::size_t checked = 0;
    for (const std::string& bytes : test::split_on_terminator(data)) {
        ParsedRecord parsed;
        if (parse_record(bytes, {}, parsed) != ErrorCode::ok) continue;
        const TextEncoding enc = text_encoding(parsed, {});
        const V whole = select(bytes, parse_marcspec("880$a"), enc);
        const V part = select(bytes, parse_marcspec("880$a/2-5"), enc);
        V expected;
        for (const std::string& w : whole) {
            const V cps = code_points(w);
            if (cps.size() <= 2) continue;
            std::string e;
            for (std::size_t i = 2; i <= 5 && i < cps.size(); ++i) e += cps[i];
            expected.push_back(e);
        }
        EXPECT_EQ(part, expected);
        checked += part.size();
    }
    EXPECT_GT(checked, 5u);
}
