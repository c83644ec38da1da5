// One text-encoding vocabulary (text.hpp, parser.hpp's text_encoding) and everything that follows
// from it: lossy UTF-8 in append_text, export, selection and Arrow columns; the leader/09 that
// detect_encoding corrected, written into batches and through to conversion; the framing error a
// byte range stopped at (RangeInfo::stop); and convert_hook honouring the parse options.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

using namespace std::literals;
using namespace rapidmarc;
using rapidmarc::test::make_record;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;
using rapidmarc::test::split_on_terminator;

namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string lossy(std::string_view raw, Utf8Errors errors) {
    std::string out;
    append_utf8_lossy(raw, errors, out);
    return out;
}

std::string text_of(std::string_view raw, TextEncoding encoding) {
    std::string out;
    EXPECT_TRUE(append_text(raw, encoding, out));
    return out;
}

std::size_t count_of(std::string_view haystack, std::string_view needle) {
    std::size_t n = 0;
    for (std::size_t at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

const std::filesystem::path kInvalidUtf8 = shared_data() / "edge" / "invalid_utf8_383.mrc";
const std::filesystem::path kMislabelled = shared_data() / "edge" / "mislabelled_utf8_as_marc8_52.mrc";

// A record parsed without text validation (so invalid UTF-8 parses), viewable.
struct Parsed {
    std::string bytes;
    ParsedRecord parsed;
    RecordView view() const { return {bytes, parsed.entries}; }
};

Parsed parse_unvalidated(std::string bytes) {
    Parsed p{std::move(bytes), {}};
    ParseOptions options;
    options.validate_text = false;
    EXPECT_EQ(parse_record(p.bytes, options, p.parsed), ErrorCode::ok);
    return p;
}

// Every printable ASCII character as subfield codes: a spec selecting every subfield.
std::string all_codes() {
    std::string codes;
    for (char c = 0x21; c < 0x7f; ++c) codes.push_back(c);
    return codes;
}

}  // namespace

// ---- text.hpp: append_text, control_encoding --------------------------------------------------

TEST(TextEncoding, LossyUtf8InAppendTextOnHandPickedInputs) {
    // Expected values are CPython's bytes.decode("utf-8", "replace" / "ignore").encode().
    struct Case {
        std::string_view in, replace, ignore;
    };
    const Case cases[] = {
        {"a\xff" "b"sv, "a\xef\xbf\xbd" "b"sv, "ab"sv},
        {"\xe2\x82"sv, "\xef\xbf\xbd"sv, ""sv},                                      // cut 3-byte: one error
        {"\xed\xa0\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},          // surrogate: three errors
        {"\xc0\xaf" "x"sv, "\xef\xbf\xbd\xef\xbf\xbd" "x"sv, "x"sv},                // overlong
        {"caf\xc3\xa9 \xe2\x82" "!"sv, "caf\xc3\xa9 \xef\xbf\xbd!"sv, "caf\xc3\xa9 !"sv},
        {"\xf4\x90\x80\x80"sv, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"sv, ""sv},  // > U+10FFFF
    };
    for (const Case& c : cases) {
        EXPECT_EQ(text_of(c.in, TextEncoding::utf8_replace), c.replace);
        EXPECT_EQ(text_of(c.in, TextEncoding::utf8_ignore), c.ignore);
    }
    // Strict utf8 copies whatever it is given (the parser validated it).
    EXPECT_EQ(text_of("a\xff" "b"sv, TextEncoding::utf8), "a\xff" "b"sv);
}

TEST(TextEncoding, LossyUtf8InAppendTextIsAppendUtf8Lossy) {
    std::mt19937 rng(2026);
    std::size_t changed = 0;
    for (int i = 0; i < 5000; ++i) {
        const std::string in = test::random_utf8_edge_bytes(rng);
        const std::string rep = text_of(in, TextEncoding::utf8_replace);
        const std::string ign = text_of(in, TextEncoding::utf8_ignore);
        ASSERT_EQ(rep, lossy(in, Utf8Errors::replace));
        ASSERT_EQ(ign, lossy(in, Utf8Errors::ignore));
        ASSERT_TRUE(is_valid_utf8(rep));
        ASSERT_TRUE(is_valid_utf8(ign));
        if (rep != in) ++changed;
    }
    EXPECT_GT(changed, 1000u);  // the inputs do exercise the error handling
}

TEST(TextEncoding, LossyUtf8CopiesValidTextAndAppends) {
    const std::string valid = "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd plain";
    for (TextEncoding e : {TextEncoding::utf8_replace, TextEncoding::utf8_ignore}) {
        EXPECT_EQ(text_of(valid, e), valid);
        std::string out = "kept:";
        EXPECT_TRUE(append_text("x\xff", e, out));
        EXPECT_EQ(out, e == TextEncoding::utf8_replace ? "kept:x\xef\xbf\xbd"s : "kept:x"s);
    }
}

TEST(TextEncoding, ControlEncodingForEveryEnumerator) {
    EXPECT_EQ(control_encoding(TextEncoding::utf8), TextEncoding::utf8);
    EXPECT_EQ(control_encoding(TextEncoding::utf8_replace), TextEncoding::utf8);
    EXPECT_EQ(control_encoding(TextEncoding::utf8_ignore), TextEncoding::utf8);
    EXPECT_EQ(control_encoding(TextEncoding::latin1), TextEncoding::latin1);
    EXPECT_EQ(control_encoding(TextEncoding::marc8), TextEncoding::latin1);
    EXPECT_EQ(control_encoding(TextEncoding::bytes), TextEncoding::bytes);
}

TEST(TextEncoding, TextEncodingOfAParsedRecord) {
    const Utf8Handling handlings[] = {Utf8Handling::strict, Utf8Handling::replace, Utf8Handling::ignore};
    ParsedRecord utf8_record, marc8_record;
    utf8_record.utf8 = true;
    marc8_record.utf8 = false;
    for (Utf8Handling h : handlings) {
        ParseOptions o;
        o.utf8_handling = h;
        o.validate_text = false;  // to_unicode=False: bytes, whatever the record and the handling
        EXPECT_EQ(text_encoding(utf8_record, o), TextEncoding::bytes) << int(h);
        EXPECT_EQ(text_encoding(marc8_record, o), TextEncoding::bytes) << int(h);
        o.validate_text = true;
        EXPECT_EQ(text_encoding(marc8_record, o), TextEncoding::marc8) << int(h);
    }
    ParseOptions o;
    o.utf8_handling = Utf8Handling::strict;
    EXPECT_EQ(text_encoding(utf8_record, o), TextEncoding::utf8);
    o.utf8_handling = Utf8Handling::replace;
    EXPECT_EQ(text_encoding(utf8_record, o), TextEncoding::utf8_replace);
    o.utf8_handling = Utf8Handling::ignore;
    EXPECT_EQ(text_encoding(utf8_record, o), TextEncoding::utf8_ignore);
    // The defaults: validated strict UTF-8.
    EXPECT_EQ(text_encoding(utf8_record, ParseOptions{}), TextEncoding::utf8);
}

TEST(TextEncoding, TextEncodingFollowsWhatTheParserDecided) {
    // force_utf8 and detect_encoding change ParsedRecord::utf8, and text_encoding follows it.
    std::string marc8_leader = make_record({{"245", "10\x1f" "aCaf\xc3\xa9 \xff"}});
    marc8_leader[9] = ' ';
    ParseOptions o;
    o.utf8_handling = Utf8Handling::replace;
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(marc8_leader, o, parsed), ErrorCode::ok);
    EXPECT_EQ(text_encoding(parsed, o), TextEncoding::marc8);
    o.force_utf8 = true;
    ASSERT_EQ(parse_record(marc8_leader, o, parsed), ErrorCode::ok);  // replace: subfields not validated
    EXPECT_EQ(text_encoding(parsed, o), TextEncoding::utf8_replace);
}

// ---- export.hpp: invalid UTF-8 in a subfield ---------------------------------------------------

TEST(TextEncodingExport, InvalidUtf8SubfieldStrictReplaceIgnore) {
    const Parsed p = parse_unvalidated(make_record({{"001", "id1"}, {"245", "10\x1f" "aT\xff" "x\xe2\x82\x1f" "b\xc3\xa9"}}));
    std::string out;
    ExportOptions o;

    o.encoding = TextEncoding::utf8;
    EXPECT_EQ(append_json(p.view(), o, JsonStyle::compact, out), ErrorCode::invalid_utf8);
    out.clear();
    EXPECT_EQ(append_marcxml(p.view(), o, XmlCharset::ascii, out), ErrorCode::invalid_utf8);
    out.clear();
    EXPECT_EQ(append_marcxml(p.view(), o, XmlCharset::utf8, out), ErrorCode::invalid_utf8);

    // replace: each invalid sequence is one U+FFFD, written ASCII-escaped in JSON.
    o.encoding = TextEncoding::utf8_replace;
    out.clear();
    ASSERT_EQ(append_json(p.view(), o, JsonStyle::compact, out), ErrorCode::ok);
    const std::string leader = p.bytes.substr(0, 24);
    EXPECT_EQ(out, "{\"leader\":\"" + leader +
                       "\",\"fields\":[{\"001\":\"id1\"},{\"245\":{\"ind1\":\"1\",\"ind2\":\"0\",\"subfields\":"
                       "[{\"a\":\"T\\ufffdx\\ufffd\"},{\"b\":\"\\u00e9\"}]}}]}");
    std::string escaped;
    append_json_escaped(kFffd, escaped);
    EXPECT_EQ(escaped, "\\ufffd");
    out.clear();
    ASSERT_EQ(append_marcxml(p.view(), o, XmlCharset::ascii, out), ErrorCode::ok);
    EXPECT_NE(out.find("<subfield code=\"a\">T&#65533;x&#65533;</subfield><subfield code=\"b\">&#233;</subfield>"),
              std::string::npos)
        << out;
    out.clear();
    ASSERT_EQ(append_marcxml(p.view(), o, XmlCharset::utf8, out), ErrorCode::ok);
    EXPECT_TRUE(is_valid_utf8(out));
    EXPECT_NE(out.find("<subfield code=\"a\">T\xef\xbf\xbdx\xef\xbf\xbd</subfield>"), std::string::npos) << out;

    // ignore: the bad bytes are gone.
    o.encoding = TextEncoding::utf8_ignore;
    out.clear();
    ASSERT_EQ(append_json(p.view(), o, JsonStyle::spaced, out), ErrorCode::ok);
    EXPECT_NE(out.find("\"subfields\": [{\"a\": \"Tx\"}, {\"b\": \"\\u00e9\"}]"), std::string::npos) << out;
    EXPECT_EQ(out.find("\\ufffd"), std::string::npos);
    out.clear();
    ASSERT_EQ(append_marcxml(p.view(), o, XmlCharset::utf8, out), ErrorCode::ok);
    EXPECT_TRUE(is_valid_utf8(out));
    EXPECT_NE(out.find("<subfield code=\"a\">Tx</subfield><subfield code=\"b\">\xc3\xa9</subfield>"),
              std::string::npos)
        << out;
}

TEST(TextEncodingExport, LossyEncodingsLeaveValidRecordsAsStrictWrites) {
    const Parsed p = parse_unvalidated(make_record(
        {{"001", "x\xc3\xa9"}, {"245", "10\x1f" "aCaf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\x1f" "bplain"}}));
    for (TextEncoding e : {TextEncoding::utf8_replace, TextEncoding::utf8_ignore}) {
        ExportOptions strict, lossy_options;
        lossy_options.encoding = e;
        std::string want, got;
        ASSERT_EQ(append_json(p.view(), strict, JsonStyle::spaced, want), ErrorCode::ok);
        ASSERT_EQ(append_json(p.view(), lossy_options, JsonStyle::spaced, got), ErrorCode::ok);
        EXPECT_EQ(got, want);
        want.clear();
        got.clear();
        ASSERT_EQ(append_marcxml(p.view(), strict, XmlCharset::utf8, want), ErrorCode::ok);
        ASSERT_EQ(append_marcxml(p.view(), lossy_options, XmlCharset::utf8, got), ErrorCode::ok);
        EXPECT_EQ(got, want);
    }
}

TEST(TextEncodingExport, ControlFieldsStayStrict) {
    // pymarc decodes control fields strictly whatever utf8_handling says: invalid UTF-8 there is
    // an error under every UTF-8 encoding, not a U+FFFD.
    const Parsed p = parse_unvalidated(make_record({{"001", "id\xff"}, {"245", "10\x1f" "aok"}}));
    for (TextEncoding e : {TextEncoding::utf8, TextEncoding::utf8_replace, TextEncoding::utf8_ignore}) {
        ExportOptions o;
        o.encoding = e;
        std::string out;
        EXPECT_EQ(append_json(p.view(), o, JsonStyle::compact, out), ErrorCode::invalid_utf8) << int(e);
        out.clear();
        EXPECT_EQ(append_marcxml(p.view(), o, XmlCharset::utf8, out), ErrorCode::invalid_utf8) << int(e);
    }
    // And such a record does not parse, even with replace: the parser validates control fields.
    ParseOptions po;
    po.utf8_handling = Utf8Handling::replace;
    ParsedRecord parsed;
    EXPECT_EQ(parse_record(p.bytes, po, parsed), ErrorCode::invalid_utf8);
}

TEST(TextEncodingExport, RealRecordsWithInvalidUtf8) {
    // Every record of the damaged file that parses with replace exports with replace and ignore;
    // those that strict parsing rejects fail strict export and carry U+FFFD with replace.
    const std::string data = read_file(kInvalidUtf8);
    ParseOptions replace_options;
    replace_options.utf8_handling = Utf8Handling::replace;
    std::size_t damaged = 0, parsed_count = 0;
    ParsedRecord parsed, strict_parsed;
    for (const std::string& bytes : split_on_terminator(data)) {
        if (parse_record(bytes, replace_options, parsed) != ErrorCode::ok) continue;
        ++parsed_count;
        const RecordView view(bytes, parsed.entries);
        const bool strict_ok = parse_record(bytes, ParseOptions{}, strict_parsed) == ErrorCode::ok;
        ExportOptions o;
        o.encoding = text_encoding(parsed, replace_options);
        ASSERT_EQ(o.encoding, TextEncoding::utf8_replace);
        std::string json, xml;
        ASSERT_EQ(append_json(view, o, JsonStyle::compact, json), ErrorCode::ok);
        ASSERT_EQ(append_marcxml(view, o, XmlCharset::utf8, xml), ErrorCode::ok);
        EXPECT_TRUE(is_valid_utf8(xml));
        const bool raw_has_fffd = bytes.find(kFffd) != std::string::npos;
        if (!strict_ok) {
            ++damaged;
            EXPECT_NE(json.find("\\ufffd"), std::string::npos);
            EXPECT_NE(xml.find(kFffd), std::string::npos);
            ExportOptions strict;
            std::string out;
            EXPECT_EQ(append_json(view, strict, JsonStyle::compact, out), ErrorCode::invalid_utf8);
        }
        o.encoding = TextEncoding::utf8_ignore;
        json.clear();
        xml.clear();
        ASSERT_EQ(append_json(view, o, JsonStyle::compact, json), ErrorCode::ok);
        ASSERT_EQ(append_marcxml(view, o, XmlCharset::utf8, xml), ErrorCode::ok);
        EXPECT_TRUE(is_valid_utf8(xml));
        if (!raw_has_fffd) {
            EXPECT_EQ(xml.find(kFffd), std::string::npos);
            EXPECT_EQ(json.find("\\ufffd"), std::string::npos);
        }
    }
    EXPECT_GT(parsed_count, 300u);
    EXPECT_GT(damaged, 0u);
}

// ---- select.hpp / arrow.hpp: lossy values are valid UTF-8 --------------------------------------

TEST(TextEncodingSelect, ForEachValueDecodesLossily) {
    const Parsed p = parse_unvalidated(
        make_record({{"001", "id1"}, {"245", "10\x1f" "a T\xff" "x \x1f" "b\xe2\x82" "c\xc3\xa9"}, {"650", " 0\x1f" "a\xc0\xaf"}}));
    const auto values = [&](std::string_view spec, TextEncoding e) {
        std::vector<std::string> out;
        std::string scratch;
        for_each_value(p.view(), parse_field_spec(spec), e, scratch, [&](std::string_view v) { out.emplace_back(v); });
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(values("245$ab", TextEncoding::utf8_replace), (V{" T\xef\xbf\xbdx ", "\xef\xbf\xbd" "c\xc3\xa9"}));
    EXPECT_EQ(values("245$ab", TextEncoding::utf8_ignore), (V{" Tx ", "c\xc3\xa9"}));
    EXPECT_EQ(values("650$a", TextEncoding::utf8_replace), (V{"\xef\xbf\xbd\xef\xbf\xbd"}));
    EXPECT_EQ(values("650$a", TextEncoding::utf8_ignore), (V{""}));
    // Field.value(): decoded, stripped, joined.
    EXPECT_EQ(values("245", TextEncoding::utf8_replace), (V{"T\xef\xbf\xbdx \xef\xbf\xbd" "c\xc3\xa9"}));
    EXPECT_EQ(values("245", TextEncoding::utf8_ignore), (V{"Tx c\xc3\xa9"}));
    EXPECT_EQ(values("001", TextEncoding::utf8_replace), (V{"id1"}));
    for (TextEncoding e : {TextEncoding::utf8_replace, TextEncoding::utf8_ignore})
        for (const std::string& v : values("XXX", e)) EXPECT_TRUE(is_valid_utf8(v)) << v;
}

TEST(TextEncodingSelect, RealRecordsSelectAndColumnsAreValidUtf8) {
    const std::string data = read_file(kInvalidUtf8);
    const FieldSpec every_subfield = parse_field_spec("XXX$" + all_codes());
    const FieldSpec every_field = parse_field_spec("XXX");
    const std::vector<FieldSpec> specs = {every_subfield, every_field};
    for (Utf8Handling h : {Utf8Handling::replace, Utf8Handling::ignore}) {
        ParseOptions po;
        po.utf8_handling = h;
        const Utf8Errors errors = h == Utf8Handling::replace ? Utf8Errors::replace : Utf8Errors::ignore;
        ColumnBatch batch(specs.size());
        std::string scratch;
        std::size_t changed = 0, rows = 0;
        ParsedRecord parsed;
        for (const std::string& bytes : split_on_terminator(data)) {
            if (parse_record(bytes, po, parsed) != ErrorCode::ok) continue;
            const RecordView view(bytes, parsed.entries);
            const TextEncoding e = text_encoding(parsed, po);
            ASSERT_EQ(e, h == Utf8Handling::replace ? TextEncoding::utf8_replace : TextEncoding::utf8_ignore);
            // The oracle: the raw values (strict utf8 copies them), each decoded by append_utf8_lossy.
            std::vector<std::string> raw, got;
            for_each_value(view, every_subfield, TextEncoding::utf8, scratch,
                           [&](std::string_view v) { raw.emplace_back(v); });
            for_each_value(view, every_subfield, e, scratch, [&](std::string_view v) { got.emplace_back(v); });
            ASSERT_EQ(got.size(), raw.size());
            for (std::size_t i = 0; i < raw.size(); ++i) {
                EXPECT_EQ(got[i], lossy(raw[i], errors));
                EXPECT_TRUE(is_valid_utf8(got[i]));
                if (got[i] != raw[i]) ++changed;
            }
            for_each_value(view, every_field, e, scratch, [&](std::string_view v) { EXPECT_TRUE(is_valid_utf8(v)); });
            batch.append_row(view, specs, e, scratch);
            ++rows;
        }
        EXPECT_GT(changed, 0u) << "no invalid UTF-8 was selected";
        EXPECT_EQ(batch.rows(), rows);
        for (std::size_t c = 0; c < batch.columns(); ++c) {
            const ColumnBatch::Column& col = batch.column(c);
            EXPECT_TRUE(is_valid_utf8(col.data)) << "column " << c;
            for (std::size_t v = 0; v + 1 < col.value_offsets.size(); ++v) {
                const std::string_view value(col.data.data() + col.value_offsets[v],
                                             static_cast<std::size_t>(col.value_offsets[v + 1] - col.value_offsets[v]));
                ASSERT_TRUE(is_valid_utf8(value)) << "column " << c << " value " << v;
            }
        }
        if (h == Utf8Handling::replace) {
            EXPECT_NE(batch.column(0).data.find(kFffd), std::string::npos);
            EXPECT_NE(batch.column(1).data.find(kFffd), std::string::npos);
        }
    }
}

TEST(TextEncodingSelect, ColumnBatchOfADamagedRecord) {
    const Parsed p = parse_unvalidated(make_record({{"001", "id"}, {"245", "10\x1f" "aA\xff" "B\x1f" "b\xed\xa0\x80"}}));
    const std::vector<FieldSpec> specs = {parse_field_spec("245$a"), parse_field_spec("245$b"), parse_field_spec("245")};
    std::string scratch;
    ColumnBatch replace(specs.size()), ignore(specs.size());
    replace.append_row(p.view(), specs, TextEncoding::utf8_replace, scratch);
    ignore.append_row(p.view(), specs, TextEncoding::utf8_ignore, scratch);
    EXPECT_EQ(replace.column(0).data, "A\xef\xbf\xbd" "B");
    EXPECT_EQ(replace.column(1).data, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(replace.column(2).data, "A\xef\xbf\xbd" "B \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_EQ(ignore.column(0).data, "AB");
    EXPECT_EQ(ignore.column(1).data, "");
    EXPECT_EQ(ignore.column(1).value_offsets, (std::vector<std::int32_t>{0, 0}));  // one empty value
    EXPECT_EQ(ignore.column(2).data, "AB ");
    for (std::size_t c = 0; c < specs.size(); ++c) {
        EXPECT_TRUE(is_valid_utf8(replace.column(c).data));
        EXPECT_TRUE(is_valid_utf8(ignore.column(c).data));
    }
}

// ---- batch.hpp: Batch::parse writes the corrected leader/09 ------------------------------------

namespace {

struct Seen {
    std::vector<std::string> records;  // batch.record(i) of every framed record
    std::vector<bool> corrected;       // ParsedRecord::encoding_corrected
    std::vector<bool> utf8;            // ParsedRecord::utf8
};

Seen collect(BatchStream& stream) {
    Seen out;
    drain(stream, false, [&](Batch& b) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            out.records.emplace_back(b.record(i));
            out.corrected.push_back(b.parsed[i].encoding_corrected);
            out.utf8.push_back(b.parsed[i].utf8);
        }
    });
    return out;
}

// The file's records with leader/09 set to `scheme`.
std::vector<std::string> relabelled(const std::string& data, char scheme) {
    std::vector<std::string> records = split_on_terminator(data);
    for (std::string& r : records) r[9] = scheme;
    return records;
}

}  // namespace

TEST(TextEncodingBatch, DetectEncodingWritesTheCorrectedLeaderIntoTheBatch) {
    const std::string data = read_file(kMislabelled);
    const std::vector<std::string> original = split_on_terminator(data);
    ASSERT_EQ(original.size(), 52u);
    for (const std::string& r : original) ASSERT_EQ(r[9], ' ');
    const std::vector<std::string> as_utf8 = relabelled(data, 'a');
    for (int workers : {0, 1, 2}) {
        ReadOptions options;
        options.workers = workers;
        const std::string what = "workers=" + std::to_string(workers);

        auto plain_stream = open_batches(kMislabelled, options);
        const Seen plain = collect(*plain_stream);
        EXPECT_EQ(plain.records, original) << what << ": without detect_encoding the bytes are untouched";
        for (std::size_t i = 0; i < plain.corrected.size(); ++i) EXPECT_FALSE(plain.corrected[i]) << what;

        options.parse.detect_encoding = true;
        auto stream = open_batches(kMislabelled, options);
        const Seen detected = collect(*stream);
        ASSERT_EQ(detected.records.size(), 52u) << what;
        for (std::size_t i = 0; i < detected.records.size(); ++i) {
            EXPECT_TRUE(detected.corrected[i]) << what << " record " << i;
            EXPECT_TRUE(detected.utf8[i]) << what << " record " << i;
            EXPECT_EQ(detected.records[i][9], 'a') << what << " record " << i;
        }
        EXPECT_EQ(detected.records, as_utf8) << what << ": only leader/09 changes";
    }
}

TEST(TextEncodingBatch, ACorrectionToMarc8WritesABlank) {
    // Flagged UTF-8, not valid UTF-8, clean MARC-8 (ANSEL pound sign): detected as MARC-8.
    const std::string marc8 = make_record({{"001", "m"}, {"245", "10\x1f" "a\xb9" "0.75"}});
    const std::string utf8 = make_record({{"001", "u"}, {"245", "10\x1f" "aCaf\xc3\xa9"}});
    std::string mislabelled = utf8;
    mislabelled[9] = ' ';
    const std::string data = marc8 + utf8 + mislabelled;
    ASSERT_EQ(marc8[9], 'a');
    for (int workers : {0, 1, 2}) {
        ReadOptions options;
        options.workers = workers;
        options.parse.detect_encoding = true;
        auto stream = open_batches_memory(data, options);
        const Seen seen = collect(*stream);
        ASSERT_EQ(seen.records.size(), 3u);
        EXPECT_TRUE(seen.corrected[0]);
        EXPECT_FALSE(seen.utf8[0]);
        EXPECT_EQ(seen.records[0][9], ' ') << workers;
        EXPECT_FALSE(seen.corrected[1]);
        EXPECT_EQ(seen.records[1], utf8) << workers;
        EXPECT_TRUE(seen.corrected[2]);
        EXPECT_EQ(seen.records[2][9], 'a') << workers;
        EXPECT_EQ(seen.records[0].substr(10), marc8.substr(10));
        EXPECT_EQ(seen.records[0].substr(0, 9), marc8.substr(0, 9));
    }
}

TEST(TextEncodingBatch, BatchParseDirectly) {
    std::string record = make_record({{"245", "10\x1f" "aCaf\xc3\xa9"}});
    record[9] = ' ';
    for (bool detect : {false, true}) {
        Batch batch;
        FramedRecord junk;  // a framing error's chunk is never parsed or patched
        junk.size = 4;
        junk.error = ErrorCode::record_length_invalid;
        batch.append(std::move(junk), "junk");
        FramedRecord second;
        second.size = record.size();
        batch.append(std::move(second), record);
        ParseOptions po;
        po.detect_encoding = detect;
        batch.parse(po);
        EXPECT_EQ(batch.record(0), "junk");
        EXPECT_EQ(batch.parsed[1].encoding_corrected, detect);
        EXPECT_EQ(batch.record(1)[9], detect ? 'a' : ' ');
        EXPECT_EQ(batch.record(1).substr(10), std::string_view(record).substr(10));
        // Parsing again changes nothing more: the record now says UTF-8, so nothing is corrected.
        batch.parse(po);
        EXPECT_FALSE(batch.parsed[1].encoding_corrected);
        EXPECT_TRUE(batch.parsed[1].utf8 == detect);
        EXPECT_EQ(batch.record(1)[9], detect ? 'a' : ' ');
    }
}

TEST(TextEncodingBatch, OnlyACorrectionChangesTheLeader) {
    // force_utf8 reads a MARC-8-labelled record as UTF-8 without correcting its leader, and a
    // leader/09 that is neither 'a' nor ' ' stays as it is: only encoding_corrected rewrites byte 9.
    std::string blank = make_record({{"245", "10\x1f" "aCaf\xc3\xa9"}});
    blank[9] = ' ';
    std::string odd = make_record({{"245", "10\x1f" "aplain"}});
    odd[9] = 'z';
    std::string odd_utf8 = make_record({{"245", "10\x1f" "aCaf\xc3\xa9"}});
    odd_utf8[9] = 'z';
    for (bool force : {false, true}) {
        for (bool detect : {false, true}) {
            Batch batch;
            for (const std::string* r : {&blank, &odd, &odd_utf8}) {
                FramedRecord f;
                f.size = r->size();
                batch.append(std::move(f), *r);
            }
            ParseOptions po;
            po.force_utf8 = force;
            po.detect_encoding = detect;
            batch.parse(po);
            const bool corrects = detect && !force;  // detection is ignored with force_utf8
            EXPECT_EQ(batch.parsed[0].utf8, force || detect) << force << detect;
            EXPECT_EQ(batch.record(0)[9], corrects ? 'a' : ' ') << force << detect;
            EXPECT_EQ(batch.record(1)[9], 'z') << force << detect;  // ASCII only: never corrected
            EXPECT_EQ(batch.record(2)[9], corrects ? 'a' : 'z') << force << detect;
        }
    }
}

TEST(TextEncodingBatch, ReadRangeCarriesTheCorrectedLeader) {
    const std::string data = read_file(kMislabelled);
    const std::vector<std::string> as_utf8 = relabelled(data, 'a');
    const std::vector<std::string> original = split_on_terminator(data);
    for (const RangeInput& input : {RangeInput::memory(data), RangeInput::file(kMislabelled)}) {
        for (bool detect : {false, true}) {
            ParseOptions po;
            po.detect_encoding = detect;
            Batch batch;
            const RangeInfo info = read_range(input, 0, input.size(), {}, po, batch);
            EXPECT_TRUE(info.clean);
            ASSERT_EQ(batch.size(), 52u);
            for (std::size_t i = 0; i < batch.size(); ++i) {
                EXPECT_EQ(batch.parsed[i].encoding_corrected, detect) << i;
                EXPECT_EQ(std::string(batch.record(i)), detect ? as_utf8[i] : original[i]) << i;
            }
            // A range that starts in the middle of the file.
            const std::uint64_t mid = data.size() / 2;
            read_range(input, mid, input.size(), {}, po, batch);
            ASSERT_GT(batch.size(), 0u);
            ASSERT_LT(batch.size(), 52u);
            const std::size_t first = 52 - batch.size();
            for (std::size_t i = 0; i < batch.size(); ++i)
                EXPECT_EQ(std::string(batch.record(i)), detect ? as_utf8[first + i] : original[first + i]) << i;
        }
    }
}

// ---- parallel.hpp: RangeInfo::stop -------------------------------------------------------------

TEST(RangeStop, SetExactlyWhenARangeIsUnclean) {
    const std::string file = read_file(shared_data() / "real" / "traject_30.mrc");
    const std::vector<std::string> records = split_on_terminator(file);
    ASSERT_GT(records.size(), 5u);
    const std::size_t junk_at = records[0].size() + records[1].size() + records[2].size();
    const std::string junk = "garbage bytes here";
    ASSERT_EQ(junk.size(), 18u);
    std::string data = file;
    data.insert(junk_at, junk);

    // What a sequential reader reports for the frame at the junk.
    RecordReader reader(std::make_unique<MemorySource>(data));
    FramedRecord frame;
    Error want;
    std::size_t framed = 0;
    while (reader.next(frame)) {
        if (frame.error != ErrorCode::ok) {
            want = reader.error_of(frame);
            break;
        }
        ++framed;
    }
    ASSERT_EQ(framed, 3u);
    ASSERT_NE(want.code, ErrorCode::ok);
    ASSERT_EQ(want.byte_offset, junk_at);

    for (const RangeInput& input : {RangeInput::memory(data)}) {
        Batch batch;
        const RangeInfo info = read_range(input, 0, input.size(), {}, {}, batch);
        EXPECT_FALSE(info.clean);
        EXPECT_EQ(info.start, 0u);
        EXPECT_EQ(info.end, junk_at);
        EXPECT_EQ(batch.size(), 3u);
        EXPECT_EQ(info.stop.code, want.code);
        EXPECT_EQ(info.stop.code, ErrorCode::record_length_invalid);
        EXPECT_EQ(info.stop.byte_offset, junk_at);
        EXPECT_EQ(info.stop.detail, want.detail);
        EXPECT_FALSE(info.stop.detail.empty());
        EXPECT_EQ(info.stop.record_index, 3u);  // within the range

        // A range that starts at record 1: the index counts within the range, the offset is the input's.
        const std::uint64_t second = records[0].size();
        const RangeInfo later = read_range(input, second, input.size(), {}, {}, batch);
        EXPECT_FALSE(later.clean);
        EXPECT_EQ(later.start, second);
        EXPECT_EQ(batch.size(), 2u);
        EXPECT_EQ(later.stop.code, want.code);
        EXPECT_EQ(later.stop.byte_offset, junk_at);
        EXPECT_EQ(later.stop.detail, want.detail);
        EXPECT_EQ(later.stop.record_index, 2u);  // records 1 and 2 are the range's 0 and 1

        // Ranges that end before the junk are clean, and their stop is empty.
        const RangeInfo before = read_range(input, 0, junk_at, {}, {}, batch);
        EXPECT_TRUE(before.clean);
        EXPECT_EQ(before.stop.code, ErrorCode::ok);
        EXPECT_FALSE(static_cast<bool>(before.stop));
        EXPECT_EQ(before.stop.byte_offset, 0u);
        EXPECT_TRUE(before.stop.detail.empty());
        EXPECT_EQ(batch.size(), 3u);

        // A range starting inside the junk begins at the first record after a terminator (record
        // 4: record 3 follows the junk, not a terminator) and reads cleanly to the end.
        const RangeInfo after = read_range(input, junk_at + 1, input.size(), {}, {}, batch);
        EXPECT_TRUE(after.clean);
        EXPECT_EQ(after.stop.code, ErrorCode::ok);
        EXPECT_EQ(after.start, junk_at + junk.size() + records[3].size());
        EXPECT_EQ(batch.size(), records.size() - 4);
    }
    // The untouched file read as one range is clean.
    Batch batch;
    const RangeInfo whole = read_range(RangeInput::memory(file), 0, file.size(), {}, {}, batch);
    EXPECT_TRUE(whole.clean);
    EXPECT_EQ(whole.stop.code, ErrorCode::ok);
    EXPECT_EQ(batch.size(), records.size());
}

TEST(RangeStop, EachFramingErrorIsTheSequentialReadersError) {
    // Truncation and a wrong length, too: the stop is the sequential reader's error, at its offset.
    const std::string file = read_file(shared_data() / "real" / "traject_30.mrc");
    const std::vector<std::string> records = split_on_terminator(file);
    const std::size_t third = records[0].size() + records[1].size();
    std::string wrong_length = file;
    wrong_length[third + 4] = static_cast<char>(wrong_length[third + 4] == '9' ? '8' : wrong_length[third + 4] + 1);
    const std::string truncated = file.substr(0, third + records[2].size() - 10);
    for (const std::string& data : {wrong_length, truncated}) {
        RecordReader reader(std::make_unique<MemorySource>(data));
        FramedRecord frame;
        Error want;
        while (reader.next(frame))
            if (frame.error != ErrorCode::ok) {
                want = reader.error_of(frame);
                break;
            }
        ASSERT_NE(want.code, ErrorCode::ok);
        ASSERT_EQ(want.byte_offset, third);
        Batch batch;
        const RangeInfo info = read_range(RangeInput::memory(data), 0, data.size(), {}, {}, batch);
        EXPECT_FALSE(info.clean);
        EXPECT_EQ(info.stop.code, want.code) << error_name(want.code);
        EXPECT_EQ(info.stop.byte_offset, want.byte_offset);
        EXPECT_EQ(info.stop.detail, want.detail);
        EXPECT_EQ(info.stop.record_index, want.record_index);
        EXPECT_EQ(batch.size(), 2u);
    }
}

// ---- convert.hpp: convert_hook honours the parse options ---------------------------------------

namespace {

struct Converted {
    std::string text;
    ConvertResult result;
};

Converted convert_with(const std::filesystem::path& path, ConvertFormat format, const ReadOptions& options) {
    Converted out;
    auto stream = open_batches(path, options, convert_hook(format, options.parse));
    out.result = convert_stream(*stream, format, false, [&](std::string_view t) { out.text += t; });
    return out;
}

Converted convert_memory(std::string_view data, ConvertFormat format, const ReadOptions& options) {
    Converted out;
    auto stream = open_batches_memory(data, options, convert_hook(format, options.parse));
    out.result = convert_stream(*stream, format, false, [&](std::string_view t) { out.text += t; });
    return out;
}

// The leader strings of a JSONWriter document.
std::vector<std::string> json_leaders(const std::string& json) {
    std::vector<std::string> out;
    constexpr std::string_view key = "{\"leader\":\"";
    for (std::size_t at = json.find(key); at != std::string::npos; at = json.find(key, at + 1))
        out.push_back(json.substr(at + key.size(), 24));
    return out;
}

std::string joined(const std::vector<std::string>& records) {
    std::string out;
    for (const std::string& r : records) out += r;
    return out;
}

}  // namespace

TEST(TextEncodingConvert, ReplaceAndIgnoreConvertWhatStrictRejects) {
    for (int workers : {0, 2}) {
        for (ConvertFormat format : {ConvertFormat::json, ConvertFormat::xml}) {
            const std::string what = std::string(format == ConvertFormat::json ? "json" : "xml") +
                                     " workers=" + std::to_string(workers);
            ReadOptions options;
            options.workers = workers;
            const Converted strict = convert_with(kInvalidUtf8, format, options);
            EXPECT_GT(strict.result.bad + strict.result.unconvertible, 0u) << what;
            EXPECT_EQ(strict.result.records + strict.result.bad + strict.result.unconvertible, 383u) << what;

            options.parse.utf8_handling = Utf8Handling::replace;
            const Converted replace = convert_with(kInvalidUtf8, format, options);
            EXPECT_EQ(replace.result.unconvertible, 0u) << what;
            EXPECT_LT(replace.result.bad, strict.result.bad + strict.result.unconvertible) << what;
            EXPECT_EQ(replace.result.records + replace.result.bad, 383u) << what;
            EXPECT_GT(replace.result.records, strict.result.records) << what;
            if (format == ConvertFormat::json) {
                EXPECT_GT(count_of(replace.text, "\\ufffd"), count_of(strict.text, "\\ufffd")) << what;
                EXPECT_EQ(json_leaders(replace.text).size(), replace.result.records) << what;
            } else {
                EXPECT_TRUE(is_valid_utf8(replace.text)) << what;
                EXPECT_GT(count_of(replace.text, kFffd), count_of(strict.text, kFffd)) << what;
            }
            EXPECT_TRUE(is_valid_utf8(replace.text)) << what;

            options.parse.utf8_handling = Utf8Handling::ignore;
            const Converted ignore = convert_with(kInvalidUtf8, format, options);
            EXPECT_EQ(ignore.result.unconvertible, 0u) << what;
            EXPECT_EQ(ignore.result.records, replace.result.records) << what;
            EXPECT_EQ(ignore.result.bad, replace.result.bad) << what;
            EXPECT_TRUE(is_valid_utf8(ignore.text)) << what;
            EXPECT_LT(ignore.text.size(), replace.text.size()) << what;
            EXPECT_EQ(count_of(ignore.text, format == ConvertFormat::json ? "\\ufffd"sv : kFffd),
                      count_of(strict.text, format == ConvertFormat::json ? "\\ufffd"sv : kFffd))
                << what << ": ignore adds no U+FFFD";
        }
    }
}

TEST(TextEncodingConvert, ReplaceMatchesARecordByRecordLoop) {
    // The reference: every record parsed with replace, exported with text_encoding's choice.
    const std::string data = read_file(kInvalidUtf8);
    ReadOptions options;
    options.workers = 0;
    options.parse.utf8_handling = Utf8Handling::replace;
    std::string want = "[";
    std::uint64_t records = 0;
    ParsedRecord parsed;
    for (const std::string& bytes : split_on_terminator(data)) {
        if (parse_record(bytes, options.parse, parsed) != ErrorCode::ok ||
            !subfield_codes_readable(RecordView(bytes, parsed.entries)))
            continue;
        ExportOptions eo;
        eo.encoding = parsed.utf8 ? TextEncoding::utf8_replace : TextEncoding::marc8;
        std::string one;
        ASSERT_EQ(append_json(RecordView(bytes, parsed.entries), eo, JsonStyle::compact, one), ErrorCode::ok);
        if (records++) want += ',';
        want += one;
    }
    want += ']';
    const Converted got = convert_memory(data, ConvertFormat::json, options);
    EXPECT_EQ(got.result.records, records);
    EXPECT_TRUE(got.text == want) << got.text.size() << " vs " << want.size() << " bytes";
}

TEST(TextEncodingConvert, ConvertFileHonoursTheParseOptions) {
    const auto file_text = [](ConvertFormat format, const ReadOptions& options) {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::tmpfile(), &std::fclose);
        EXPECT_TRUE(out);
        const ConvertResult r = convert_file(kInvalidUtf8, out.get(), format, options);
        std::rewind(out.get());
        Converted c;
        c.result = r;
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out.get())) > 0;) c.text.append(buf, n);
        return c;
    };
    ReadOptions options;
    options.parse.utf8_handling = Utf8Handling::replace;
    const Converted got = file_text(ConvertFormat::xml, options);
    const Converted want = convert_with(kInvalidUtf8, ConvertFormat::xml, options);
    EXPECT_EQ(got.result.unconvertible, 0u);
    EXPECT_EQ(got.result.records, want.result.records);
    EXPECT_TRUE(got.text == want.text);
    EXPECT_NE(got.text.find(kFffd), std::string::npos);
    options.parse = ReadOptions{}.parse;
    options.parse.validate_text = false;
    EXPECT_THROW(file_text(ConvertFormat::json, options), std::invalid_argument);
}

TEST(TextEncodingConvert, TextFormatsNeedText) {
    ParseOptions no_text;
    no_text.validate_text = false;
    EXPECT_THROW(convert_hook(ConvertFormat::json, no_text), std::invalid_argument);
    EXPECT_THROW(convert_hook(ConvertFormat::xml, no_text), std::invalid_argument);
    EXPECT_NO_THROW(convert_hook(ConvertFormat::marc, no_text));
    EXPECT_NO_THROW(convert_hook(ConvertFormat::json, ParseOptions{}));

    // marc without text validation: the damaged records are readable and copied unchanged.
    const std::string data = read_file(kInvalidUtf8);
    ReadOptions options;
    options.workers = 0;
    const Converted strict = convert_memory(data, ConvertFormat::marc, options);
    options.parse.validate_text = false;
    const Converted raw = convert_memory(data, ConvertFormat::marc, options);
    EXPECT_EQ(raw.result.unconvertible, 0u);
    EXPECT_GT(raw.result.records, strict.result.records);
    EXPECT_EQ(raw.result.records + raw.result.bad, 383u);
    std::string want;
    ParsedRecord parsed;
    for (const std::string& r : split_on_terminator(data))
        if (parse_record(r, options.parse, parsed) == ErrorCode::ok && subfield_codes_readable(RecordView(r, parsed.entries)))
            want += r;
    EXPECT_TRUE(raw.text == want);
}

TEST(TextEncodingConvert, DetectEncodingCorrectsTheConvertedLeader) {
    const std::string data = read_file(kMislabelled);
    const std::string as_utf8 = joined(relabelled(data, 'a'));
    for (int workers : {0, 1, 2}) {
        const std::string what = "workers=" + std::to_string(workers);
        ReadOptions options;
        options.workers = workers;

        // Without detection the leaders say MARC-8, as the file does.
        const Converted plain_json = convert_with(kMislabelled, ConvertFormat::json, options);
        ASSERT_EQ(plain_json.result.records, 52u) << what;
        for (const std::string& leader : json_leaders(plain_json.text)) EXPECT_EQ(leader[9], ' ') << what;
        const Converted plain_marc = convert_with(kMislabelled, ConvertFormat::marc, options);
        EXPECT_TRUE(plain_marc.text == data) << what;

        options.parse.detect_encoding = true;
        const Converted json = convert_with(kMislabelled, ConvertFormat::json, options);
        EXPECT_EQ(json.result.records, 52u) << what;
        const std::vector<std::string> leaders = json_leaders(json.text);
        ASSERT_EQ(leaders.size(), 52u) << what;
        for (const std::string& leader : leaders) EXPECT_EQ(leader[9], 'a') << what;
        const Converted marc = convert_with(kMislabelled, ConvertFormat::marc, options);
        EXPECT_EQ(marc.result.records, 52u) << what;
        EXPECT_TRUE(marc.text == as_utf8) << what;
        for (const std::string& r : split_on_terminator(marc.text)) EXPECT_EQ(r[9], 'a') << what;

        // And the whole document is what the correctly labelled file converts to.
        ReadOptions labelled;
        labelled.workers = 0;
        EXPECT_TRUE(json.text == convert_memory(as_utf8, ConvertFormat::json, labelled).text) << what;
        const Converted xml = convert_with(kMislabelled, ConvertFormat::xml, options);
        EXPECT_TRUE(xml.text == convert_memory(as_utf8, ConvertFormat::xml, labelled).text) << what;
        EXPECT_NE(xml.text.find("<leader>" + relabelled(data, 'a')[0].substr(0, 24) + "</leader>"), std::string::npos)
            << what;
    }
}
