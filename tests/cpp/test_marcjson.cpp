// marcjson.hpp: MARC-in-JSON read as the ISO 2709 bytes of its records.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <rapidmarc/marcjson.hpp>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;

namespace {

std::vector<std::string> records_of(BatchStream& stream) {
    std::vector<std::string> out;
    drain(stream, false, [&](Batch& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (batch.readable(i)) out.emplace_back(batch.record(i));
            else {
                std::string name = "!";  // appended, not "!" + ...: GCC 12 warns (-Wrestrict) falsely on that
                name += error_name(batch.error(i).code);
                out.push_back(std::move(name));
            }
        }
    });
    return out;
}

// Hands out one byte per read: every state of the tokenizer meets the end of a chunk.
class OneByteSource final : public ByteSource {
public:
    explicit OneByteSource(std::string_view bytes) : bytes_(bytes) {}
    std::size_t read(char* dst, std::size_t n) override {
        if (bytes_.empty() || n == 0) return 0;
        *dst = bytes_.front();
        bytes_.remove_prefix(1);
        return 1;
    }

private:
    std::string_view bytes_;
};

std::vector<std::string> read_json(std::string_view json, std::size_t chunk = 1 << 16, MarcJsonOptions jo = {}) {
    jo.chunk_size = chunk;
    ReadOptions ro;
    ro.workers = 0;
    auto stream = open_marcjson_batches_memory(json, ro, {}, jo);
    return records_of(*stream);
}

std::vector<std::string> read_json_bytewise(std::string_view json) {
    ReadOptions ro;
    ro.workers = 0;
    auto stream = open_marcjson_batches(std::make_unique<OneByteSource>(json), ro);
    return records_of(*stream);
}

// A file's readable records as MARC-in-JSON objects (our writer: JSONWriter's compact style).
std::vector<std::string> export_json(std::string_view data) {
    std::vector<std::string> out;
    ReadOptions ro;
    ro.workers = 0;
    auto stream = open_batches_memory(data, ro);
    drain(*stream, false, [&](Batch& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch.readable(i)) continue;
            ExportOptions eo;
            eo.encoding = text_encoding(batch.parsed[i], ro.parse);
            std::string json;
            if (append_json(RecordView(batch.record(i), batch.parsed[i].entries), eo, JsonStyle::compact, json) !=
                ErrorCode::ok)
                continue;
            out.push_back(std::move(json));
        }
    });
    return out;
}

std::string joined(const std::vector<std::string>& objects, std::string_view open, std::string_view sep,
                   std::string_view close) {
    std::string out(open);
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (i) out += sep;
        out += objects[i];
    }
    return out += close;
}

std::string json_of(std::string_view record) {
    ParsedRecord parsed;
    ParseOptions po;
    po.force_utf8 = true;
    EXPECT_EQ(parse_record(record, po, parsed), ErrorCode::ok);
    std::string json;
    EXPECT_EQ(append_json(RecordView(record, parsed.entries), ExportOptions{}, JsonStyle::compact, json), ErrorCode::ok);
    return json;
}

// JSON with the leader's record length, leader/09 and base address blanked.
std::string without_lengths(std::string json) {
    const std::size_t at = json.find("\"leader\":\"");
    if (at != std::string::npos && json.size() >= at + 10 + 24) {
        json.replace(at + 10, 5, "?????");
        json.replace(at + 10 + 12, 5, "?????");
        json[at + 10 + 9] = '?';
    }
    return json;
}

std::vector<std::filesystem::path> real_files() {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(shared_data() / "real"))
        if (entry.path().extension() == ".mrc") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

const std::vector<std::string> kUtf8Files = {"loc_386.mrc", "auth_1066.mrc", "nepali_96.mrc", "traject_30.mrc"};

// The output of a shell command ("" if it could not run).
std::string run(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    ::pclose(pipe);
    return out;
}

// A JsonError's (line, column, reason) or {0, 0, ""} when reading succeeded.
struct Where {
    std::uint64_t line = 0, column = 0;
    std::string reason;
    std::uint64_t record = 0;
    std::size_t delivered = 0;
};

Where error_of(std::string_view json) {
    Where w;
    auto source = marcjson_source(std::make_unique<MemorySource>(json));
    std::string out;
    char buf[256];
    try {
        for (std::size_t n; (n = source->read(buf, sizeof buf)) > 0;) out.append(buf, n);
    } catch (const JsonError& e) {
        w.line = e.line();
        w.column = e.column();
        w.reason = e.reason();
        w.record = e.record_index();
    }
    w.delivered = static_cast<std::size_t>(std::count(out.begin(), out.end(), '\x1d'));
    return w;
}

const std::string kR1 = R"({"leader":"00000nam a2200000 a 4500","fields":[{"001":"id1"},)"
                        R"({"245":{"ind1":"1","ind2":"0","subfields":[{"a":"Title"}]}}]})";

std::string want_r1() { return make_record({{"001", "id1"}, {"245", "10\x1f" "aTitle"}}); }

}  // namespace

TEST(MarcJson, LooksLikeJson) {
    EXPECT_TRUE(looks_like_json("[{"));
    EXPECT_TRUE(looks_like_json("\xEF\xBB\xBF \n{\"leader\""));
    EXPECT_FALSE(looks_like_json("00714cam"));
    EXPECT_FALSE(looks_like_json("<record>"));
    EXPECT_FALSE(looks_like_json("  "));
}

TEST(MarcJson, RealFilesRoundTripInEveryLayout) {
    for (const auto& path : real_files()) {
        SCOPED_TRACE(path.filename().string());
        const std::vector<std::string> objects = export_json(read_file(path));
        ASSERT_FALSE(objects.empty());
        const std::vector<std::string> docs = {
            joined(objects, "[", ",", "]"),         // JSONWriter, rapidmarc.convert
            joined(objects, "", "\n", "\n"),        // JSON Lines
            joined(objects, " ", "", ""),           // concatenated, nothing between
            joined(objects, "\xEF\xBB\xBF[\n  ", ",\r\n  ", "\n]\n"),  // BOM, CRLF, indentation
        };
        for (const auto& doc : docs) {
            for (std::size_t chunk : {std::size_t{1} << 16, std::size_t{4096}, std::size_t{7}}) {
                const std::vector<std::string> got = read_json(doc, chunk);
                ASSERT_EQ(got.size(), objects.size());
                for (std::size_t i = 0; i < got.size(); ++i) {
                    ASSERT_NE(got[i][0], '!') << "record " << i << ": " << got[i];
                    // The same record: written again as JSON it is the same text, but for the
                    // record length and base address (MARC-8 records grow in UTF-8) and leader/09.
                    ASSERT_EQ(without_lengths(json_of(got[i])), without_lengths(objects[i])) << "record " << i;
                }
            }
        }
    }
}

TEST(MarcJson, Utf8FilesGiveTheSameBytes) {
    for (const auto& name : kUtf8Files) {
        SCOPED_TRACE(name);
        const std::string data = read_file(shared_data() / "real" / name);
        const std::vector<std::string> got = read_json(joined(export_json(data), "[", ",", "]"));
        ReadOptions ro;
        ro.workers = 0;
        auto stream = open_batches_memory(data, ro);
        const std::vector<std::string> want = records_of(*stream);
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            if (name == "nepali_96.mrc" && i == 15) {  // a directory length one byte long (as test_marcxml)
                EXPECT_EQ(got[i].size() + 1, want[i].size());
                continue;
            }
            EXPECT_EQ(got[i], want[i]) << "record " << i;
        }
    }
}

TEST(MarcJson, YazMarcdumpJsonReadsAsTheIsoRecords) {
    if (run("command -v yaz-marcdump").empty()) GTEST_SKIP() << "yaz-marcdump is not installed";
    for (const auto& path : real_files()) {
        const std::string name = path.filename().string();
        SCOPED_TRACE(name);
        const bool utf8 = std::find(kUtf8Files.begin(), kUtf8Files.end(), name) != kUtf8Files.end();
        const std::string json =
            run("yaz-marcdump " + std::string(utf8 ? "" : "-f marc8 -t utf8 ") + "-i marc -o json '" + path.string() + "'");
        ASSERT_FALSE(json.empty());
        const std::vector<std::string> objects = export_json(read_file(path));
        const std::vector<std::string> got = read_json(json);
        ASSERT_EQ(got.size(), objects.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_NE(got[i][0], '!') << "record " << i << ": " << got[i];
            // yaz converts MARC-8 itself: only the UTF-8 files are compared value for value; and it
            // writes leader/20-23 as "4500" whatever the record said.
            if (utf8) {
                std::string ours = without_lengths(objects[i]);
                const std::size_t at = ours.find("\"leader\":\"") + 10 + 20;
                ours.replace(at, 4, "4500");
                ASSERT_EQ(without_lengths(json_of(got[i])), ours) << "record " << i;
            }
        }
        if (name == "loc_386.mrc") {  // yaz indents: long
            EXPECT_EQ(read_json_bytewise(json), got);
        }
    }
}

TEST(MarcJson, ReadingOneByteAtATime) {
    const std::string data = read_file(shared_data() / "real" / "loc_386.mrc");
    const std::vector<std::string> objects = export_json(data);
    for (const auto& doc : {joined(objects, "[", ",", "]"), joined(objects, "", "\n", "\n")}) {
        EXPECT_EQ(read_json_bytewise(doc), read_json(doc));
    }
    EXPECT_EQ(read_json_bytewise("\xEF\xBB\xBF" + kR1), std::vector<std::string>{want_r1()});
}

TEST(MarcJson, SyntaxVariants) {
    const std::vector<std::string> docs = {
        kR1,
        "[" + kR1 + "]",
        "\xEF\xBB\xBF \t\r\n[ \n" + kR1 + " \n] \n",
        // other members ignored, members in any order, escapes
        R"({"id":[1,2.5e3,-0.5,true,false,null,{"x":"y"}],"fields":[{"001":"\u0069d1"},)"
        R"({"245":{"subfields":[{"a":"T\u0069tle"}],"ind2":"0","extra":NaN,"ind1":"1"}}],)"
        R"("leader":"00000nam a2200000 a 4500"})",
        R"({ "leader" : "00000nam a2200000 a 4500" , "fields" : [ { "001" : "id1" } , { "245" : { "ind1" : "1" ,)"
        R"( "ind2" : "0" , "subfields" : [ { "a" : "Title" } ] } } ] })",
    };
    for (const auto& doc : docs) {
        SCOPED_TRACE(doc);
        for (std::size_t chunk : {std::size_t{1} << 16, std::size_t{1}}) {
            EXPECT_EQ(read_json(doc, chunk), std::vector<std::string>{want_r1()});
        }
        EXPECT_EQ(read_json_bytewise(doc), std::vector<std::string>{want_r1()});
    }
    EXPECT_TRUE(read_json("").empty());
    EXPECT_TRUE(read_json(" \n ").empty());
    EXPECT_TRUE(read_json("[]").empty());
    EXPECT_TRUE(read_json("\xEF\xBB\xBF[ ]\n").empty());
    // three objects: JSON Lines, concatenated, pretty-printed one after another
    const auto three = read_json(kR1 + "\n" + kR1 + kR1 + "\n\n");
    EXPECT_EQ(three, (std::vector<std::string>(3, want_r1())));
}

TEST(MarcJson, EscapesAndSurrogates) {
    const std::string doc = R"({"leader":"00000nam a2200000 a 4500","fields":[{"245":{"ind1":" ","ind2":" ",)"
                            R"("subfields":[{"a":"\"\\\/\b\f\n\r\t\u00e9\u20AC\ud834\udd1e\u0041"},)"
                            "{\"b\":\"raw \x01 \xC3\xA9 \xF0\x9D\x84\x9E\"}]}}]}";
    const auto got = read_json(doc);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], make_record({{"245", "  \x1f" "a\"\\/\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E" "A"
                                           "\x1f" "braw \x01 \xC3\xA9 \xF0\x9D\x84\x9E"}}));
    // A lone surrogate cannot be UTF-8: a bad record in its place, its JSON logged.
    auto originals = std::make_shared<XmlLeaderLog>();
    MarcJsonOptions jo;
    jo.originals = originals;
    const std::string lone = R"({"leader":"00000nam a2200000 a 4500","fields":[{"001":"\ud800x"}]})";
    const auto bad = read_json(kR1 + lone + kR1, 1 << 16, jo);
    EXPECT_EQ(bad, (std::vector<std::string>{want_r1(), "!leader_invalid", want_r1()}));
    EXPECT_EQ(originals->take(1), lone);
}

TEST(MarcJson, LeaderLogKeepsTheJsonLeader) {
    auto log = std::make_shared<XmlLeaderLog>();
    MarcJsonOptions jo;
    jo.leaders = log;
    const auto got = read_json("[" + kR1 + "," + R"({"leader":"01234cam  2200289 a 4500","fields":[{"001":"x"}]})" + "]",
                               1 << 16, jo);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(log->take(0), "00000nam a2200000 a 4500");
    EXPECT_EQ(log->take(1), "01234cam  2200289 a 4500");
    EXPECT_EQ(got[1].substr(0, 24), "00040cam a2200037 a 4500");
}

TEST(MarcJson, RecordsRapidmarcDoesNotBuildAreBadRecordsInPlace) {
    const std::string big(10000, 'x');
    const std::string L = R"("leader":"00000nam a2200000 a 4500")";
    const std::vector<std::string> values = {
        "5",
        "\"text\"",
        "[1]",
        "{" + L + "}",                                                   // no fields
        R"({"fields":[{"001":"a"}]})",                                   // no leader
        R"({"leader":"short","fields":[{"001":"a"}]})",
        R"({"leader":5,"fields":[{"001":"a"}]})",
        "{" + L + R"(,"fields":{"001":"a"}})",
        "{" + L + R"(,"fields":[{}]})",                                  // pymarc: IndexError
        "{" + L + R"(,"fields":["001"]})",
        "{" + L + R"(,"fields":[{"001":"a","002":"b"}]})",
        "{" + L + R"(,"fields":[{"245":5}]})",                           // pymarc: TypeError
        "{" + L + R"(,"fields":[{"245":null}]})",
        "{" + L + R"(,"fields":[{"245":"text"}]})",
        "{" + L + R"(,"fields":[{"001":{"ind1":" ","ind2":" ","subfields":[]}}]})",
        "{" + L + R"(,"fields":[{"24":"a"}]})",
        "{" + L + R"(,"fields":[{"245":{"subfields":[{"a":"x"}]}}]})",  // pymarc: KeyError
        "{" + L + R"(,"fields":[{"245":{"ind1":"12","ind2":" ","subfields":[{"a":"x"}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":1,"ind2":" ","subfields":[{"a":"x"}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":"ab"}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"a":5}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"ab":"x"}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"a":"x","a":"y"}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"a":"x\u001fy"}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"a":")" + big + R"("}]}}]})",
        "{" + L + "," + L + R"(,"fields":[{"001":"a"}]})",
    };
    for (const auto& value : values) {
        SCOPED_TRACE(value.substr(0, 100));
        auto originals = std::make_shared<XmlLeaderLog>();
        MarcJsonOptions jo;
        jo.originals = originals;
        const auto got = read_json("[" + kR1 + "," + value + "," + kR1 + "]", 1 << 16, jo);
        ASSERT_EQ(got.size(), 3u);
        EXPECT_EQ(got[0], want_r1());
        EXPECT_EQ(got[2], want_r1());
        EXPECT_TRUE(got[1] == "!leader_invalid" || got[1] == "!no_fields_found") << got[1];
        EXPECT_EQ(originals->take(1), value);  // for a consumer that builds it as pymarc does
    }
    // Without fields: the ISO record without fields (NoFieldsFound), not a stub.
    EXPECT_EQ(read_json(R"({"leader":"00000nam a2200000 a 4500","fields":[]})"),
              std::vector<std::string>{"!no_fields_found"});
}

TEST(MarcJson, OversizeRecordsReadAsOversizeIsoRecords) {
    std::string fields;
    for (int i = 0; i < 12; ++i)
        fields += R"({"500":{"ind1":" ","ind2":" ","subfields":[{"a":")" + std::string(9000, 'a' + i) + "\"}]}},";
    fields += R"({"520":{"ind1":" ","ind2":" ","subfields":[{"a":")" + std::string(12000, 'z') + "\"}]}}";
    const auto got = read_json(R"([{"leader":"00000nam a2200000 a 4500","fields":[)" + fields + "]}," + kR1 + "]");
    ASSERT_EQ(got.size(), 2u);
    ASSERT_NE(got[0][0], '!') << got[0];
    EXPECT_EQ(got[0].substr(0, 5), "99999");
    ParsedRecord parsed;
    ASSERT_EQ(parse_record(got[0], ParseOptions{}, parsed), ErrorCode::ok);
    EXPECT_EQ(parsed.entries.size(), 13u);
    EXPECT_EQ(got[1], want_r1());
}

TEST(MarcJson, MalformedJsonSaysWhereAfterTheRecordsBefore) {
    struct Case {
        std::string json;
        std::uint64_t line, column;
        std::string reason;
        std::size_t delivered;
    };
    const std::vector<Case> cases = {
        {"[" + kR1 + ",\n" + kR1 + "\n,]", 3, 2, "Illegal trailing comma before end of array", 2},
        {"[" + kR1 + " " + kR1 + "]", 1, static_cast<std::uint64_t>(kR1.size()) + 3, "Expecting ',' delimiter", 1},
        {"[" + kR1 + "] x", 1, static_cast<std::uint64_t>(kR1.size()) + 4, "Extra data", 1},
        {kR1 + "\n{\"leader\" \"x\"}", 2, 11, "Expecting ':' delimiter", 1},
        {kR1 + "\n{\"leader\":\"x}", 2, 11, "Unterminated string starting at", 1},
        {kR1 + "\n{\"a\":tru}", 2, 6, "Expecting value", 1},
        {kR1 + "\n{\"a\":\"\\x\"}", 2, 7, "Invalid \\escape", 1},
        {kR1 + "\n{\"a\":\"\\u12G4\"}", 2, 7, "Invalid \\uXXXX escape", 1},
        {kR1 + "\n{a:1}", 2, 2, "Expecting property name enclosed in double quotes", 1},
        {kR1 + "\n{\"a\":1,}", 2, 8, "Illegal trailing comma before end of object", 1},
        {kR1 + "\n{\"a\":\"\xC3\"}", 2, 7, "invalid UTF-8", 1},
        {kR1 + "\n{\"a\":\"\xC3\xA9\"} ,", 2, 11, "Expecting value", 2},  // columns count characters
        {"[" + kR1, 1, static_cast<std::uint64_t>(kR1.size()) + 2, "Expecting ',' delimiter", 1},
        {"[", 1, 2, "Expecting value", 0},
        {"[" + kR1 + ",", 1, static_cast<std::uint64_t>(kR1.size()) + 3, "Expecting value", 1},
        {"]", 1, 1, "Expecting value", 0},
        {std::string(600, '[') + std::string(600, ']'), 1, 514, "nesting too deep", 0},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.json.substr(0, 60) + "..." + c.json.substr(c.json.size() > 30 ? c.json.size() - 30 : 0));
        const Where w = error_of(c.json);
        EXPECT_EQ(w.reason, c.reason);
        EXPECT_EQ(w.line, c.line);
        EXPECT_EQ(w.column, c.column);
        EXPECT_EQ(w.delivered, c.delivered);
        EXPECT_EQ(w.record, c.delivered);
    }
}

TEST(MarcJson, TruncatedJsonIsAnErrorNeverASilentEnd) {
    const std::string objects = kR1 + "\n" + kR1 + "\n";
    const std::string array = "[" + kR1 + ",\n" + kR1 + "]";
    for (const std::string* doc : {&objects, &array}) {
        for (std::size_t cut = 1; cut < doc->size(); ++cut) {
            const std::string_view part = std::string_view(*doc).substr(0, cut);
            // a cut that falls after a complete record in JSON Lines is a shorter valid document
            if (doc == &objects && (cut == kR1.size() || cut == kR1.size() + 1 || cut == doc->size() - 1)) continue;
            SCOPED_TRACE(cut);
            const Where w = error_of(part);
            EXPECT_FALSE(w.reason.empty()) << "no error";
            EXPECT_LE(w.delivered, 2u);
            EXPECT_EQ(w.record, w.delivered);
        }
    }
}

TEST(MarcJson, PathsReadOnAnyThread) {
    const std::string data = read_file(shared_data() / "real" / "loc_386.mrc");
    const std::string json = joined(export_json(data), "[", ",", "]");
    const auto want = read_json(json);
    const auto dir = std::filesystem::temp_directory_path() / ("rapidmarc_json_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir / "a.json", std::ios::binary) << json;
    }
    for (int workers : {0, 1, 4}) {
        ReadOptions ro;
        ro.workers = workers;
        auto stream = open_marcjson_batches(dir / "a.json", ro);
        EXPECT_EQ(records_of(*stream), want);
    }
    std::filesystem::remove_all(dir);
}

namespace {

// What marcjson_source hands out for `json` (the ISO bytes), the error with its position, and the
// leader and original-text logs: everything a consumer can observe.
std::string observed(std::string_view json, bool fast, std::size_t chunk) {
    MarcJsonOptions jo;
    jo.fast_path = fast;
    jo.chunk_size = chunk;
    jo.leaders = std::make_shared<XmlLeaderLog>();
    jo.originals = std::make_shared<XmlLeaderLog>();
    auto source = marcjson_source(std::make_unique<MemorySource>(json), jo);
    std::string out;
    char buf[4096];
    try {
        while (const std::size_t k = source->read(buf, sizeof buf)) out.append(buf, k);
    } catch (const JsonError& e) {
        out += "\nerror: " + std::string(e.what()) + " @" + std::to_string(e.position());
    }
    const auto records = std::count(out.begin(), out.end(), kRecordTerminator);
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(records); ++i) {
        out += "\nleader " + std::to_string(i) + ": " + jo.leaders->take(i).value_or("-");
        out += "\noriginal " + std::to_string(i) + ": " + jo.originals->take(i).value_or("-");
    }
    return out;
}

}  // namespace

// The fast path (the usual record shape, parsed straight from the buffer) gives up on anything
// else; whatever it builds, the general parser builds byte for byte, with the same logs and errors.
TEST(MarcJson, FastPathBuildsWhatTheGeneralParserBuilds) {
    std::vector<std::string> docs;
    for (const auto& path : real_files()) {
        const std::vector<std::string> objects = export_json(read_file(path));
        docs.push_back(joined(objects, "[", ",", "]"));
        docs.push_back(joined(objects, "", "\n", "\n"));
        docs.push_back(joined(objects, "\xEF\xBB\xBF[\n  ", ",\r\n  ", "\n]\n"));
    }
    const std::string L = R"("leader":"00000nam a2200000 a 4500")";
    const std::string F = R"({"245":{"ind1":"1","ind2":"0","subfields":[{"a":"Title"},{"c":"x"}]}})";
    const std::vector<std::string> shapes = {
        "{" + L + R"(,"fields":[{"001":"a"},)" + F + "]}",
        R"({"fields":[{"001":"a"},)" + F + "]," + L + "}",  // members in the other order
        R"( { "leader" : "00000nam a2200000 a 4500" , "fields" : [ { "001" : "a" } , { "245" : { "subfields" : [ { "a" : "T" } ] , "ind2" : "0" , "ind1" : "1" } } ] } )",
        "{\n\t" + L + ",\r\n\"fields\":[]}",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"a":"x","b":"y"}]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"a":"x"}],"extra":[1,{"a":2}]}}]})",
        "{" + L + R"(,"fields":[{"001":"a"}],"extra":{"leader":"x"}})",
        "{" + L + R"(,"fields":[{"245":{"ind1":"\u0031","ind2":"\\","subfields":[{"\u0061":"x"}]}}]})",
        "{" + L + R"(,"fi\u0065lds":[{"00\u0031":"a"}]})",
        "{\"leader\":\"00000nam a2200000 a 4500\\u0020\",\"fields\":[{\"001\":\"a\"}]}",
        "{" + L + R"(,"fields":[{"001":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\ud83d\ude00"}]})",
        "{" + L + R"(,"fields":[{"001":"\ud83d"}]})",              // a lone high surrogate
        "{" + L + R"(,"fields":[{"001":"\ud83d\u0041"}]})",        // high surrogate, then not a low one
        "{" + L + R"(,"fields":[{"001":"\ude00"}]})",              // a lone low surrogate
        "{" + L + R"(,"fields":[{"001":"\u001e"}]})",              // an escaped terminator
        "{" + L + ",\"fields\":[{\"001\":\"raw\x01\x7f control\"}]}",
        "{" + L + ",\"fields\":[{\"001\":\"raw\x1f delimiter\"}]}",
        "{" + L + ",\"fields\":[{\"001\":\"caf\xC3\xA9 \xE2\x82\xAC\"}]}",
        "{" + L + ",\"fields\":[{\"001\":\"bad \xC3 utf8\"}]}",
        "{" + L + ",\"fields\":[{\"001\":\"bad \xED\xA0\x80 surrogate\"}]}",
        "{" + L + R"(,"fields":[{"001":"a\x"}]})",                 // an invalid escape
        "{" + L + R"(,"fields":[{"001":"\u12G4"}]})",
        "{" + L + R"(,"fields":[{"001":"a"},]})",
        "{" + L + R"(,"fields":[{"001":"a"}],})",
        "{" + L + R"(,"fields":[{"001":"a"}]]})",
        "{" + L + R"(,"fields":[{"001" "a"}]})",
        "{" + L + R"(,"fields":[{"001":"a"})",                      // cut off
        "{" + L + R"(,"fields":[{"001":"a)",
        "{\"leader\":\"0000\x1dnam a2200000 a 4500\",\"fields\":[{\"001\":\"a\"}]}",
        "{\"leader\":\"0000\xC3\xA9nam a2200000 a 450\",\"fields\":[{\"001\":\"a\"}]}",
        "{" + L + R"(,"fields":[{"0a1":"a"}]})",
        "{" + L + R"(,"fields":[{"2\u00e95":{"ind1":" ","ind2":" ","subfields":[]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind1":" ","ind2":" ","subfields":[]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":"","ind2":" ","subfields":[]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":"\u001f","ind2":" ","subfields":[]}}]})",
        "{" + L + R"(,"fields":[{"245":{"ind1":" ","ind2":" ","subfields":[{"\u00e9":"x"}]}}]})",
    };
    for (const auto& shape : shapes) {
        docs.push_back(shape);
        docs.push_back("[" + shape + "," + shape + "]");
        docs.push_back(shape + "\n" + shape + "\n");
    }
    // Special bytes at every offset of the eight-byte steps of the string scan.
    for (std::size_t at = 0; at < 17; ++at) {
        for (const std::string_view special : {"\\\"", "\\u00e9", "\xC3\xA9", "\x01", "\x1e"}) {
            std::string value(20, 'v');
            value.insert(at, special);
            docs.push_back("{" + L + R"(,"fields":[{"001":")" + value + "\"}]}");
        }
    }
    for (const auto& doc : docs) {
        SCOPED_TRACE(doc.substr(0, 120));
        const std::string general = observed(doc, false, 1 << 16);
        ASSERT_EQ(observed(doc, true, 1 << 16), general);
        if (doc.size() < 4096) {  // every chunk boundary the small ones can have
            ASSERT_EQ(observed(doc, true, 1), general);
            ASSERT_EQ(observed(doc, true, 7), general);
        } else {
            ASSERT_EQ(observed(doc, true, 4093), general);
        }
    }
}
