// marcxml_parallel.hpp: one MARCXML document read on a pool of threads gives exactly what the
// sequential reader gives (records, stubs, frame indexes and offsets, the leader log, the error
// and the records before it), on every real file converted to MARCXML and on documents built to
// mislead the split (comments, CDATA and processing instructions holding "<record>", prefixes,
// OAI-PMH envelopes, namespaces that change, broken and truncated documents), with ranges small
// enough that every record boundary and many bytes inside constructs become cut points.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::Delivered;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;

namespace {

const std::string kSlim = "http://www.loc.gov/MARC21/slim";

// Everything a consumer of a MARCXML batch stream can observe.
struct Outcome {
    std::vector<Delivered> records;
    std::vector<std::pair<std::uint64_t, std::string>> leaders;
    bool failed = false;
    std::string reason;
    std::uint64_t line = 0, column = 0, index = 0;
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    os << "{" << o.records.size() << " records, " << o.leaders.size() << " leaders";
    if (o.failed) os << ", error " << o.line << ":" << o.column << " " << o.reason << " (record " << o.index << ")";
    return os << "}";
}

Outcome observe(BatchStream& stream, XmlLeaderLog& log) {
    Outcome out;
    try {
        while (auto batch = stream.next()) {
            for (std::size_t i = 0; i < batch->size(); ++i) {
                const FramedRecord& f = batch->frames[i];
                const ParsedRecord& p = batch->parsed[i];
                const bool framed = f.error == ErrorCode::ok;
                out.records.push_back({f.index, f.offset, f.error, framed ? p.error : ErrorCode::ok,
                                       framed ? p.entries.size() : 0, std::string(batch->record(i))});
                if (auto leader = log.take(f.index)) out.leaders.emplace_back(f.index, std::move(*leader));
            }
            stream.recycle(std::move(batch));
        }
    } catch (const XmlError& e) {
        out.failed = true;
        out.reason = e.reason();
        out.line = e.line();
        out.column = e.column();
        out.index = e.record_index();
    }
    return out;
}

Outcome sequential(std::string_view doc, MarcXmlNames names = MarcXmlNames::marc) {
    MarcXmlOptions xo;
    xo.names = names;
    auto log = std::make_shared<XmlLeaderLog>();
    xo.leaders = log;
    ReadOptions ro;
    ro.workers = 1;
    auto stream = open_marcxml_batches_memory(doc, ro, {}, xo);
    return observe(*stream, *log);
}

Outcome parallel(std::string_view doc, std::size_t range_bytes, unsigned workers = 2,
                 MarcXmlNames names = MarcXmlNames::marc, MarcXmlParallelStats* stats = nullptr,
                 std::size_t chunk = 1 << 16) {
    MarcXmlOptions xo;
    xo.names = names;
    xo.chunk_size = chunk;
    auto log = std::make_shared<XmlLeaderLog>();
    xo.leaders = log;
    ReadOptions ro;
    ro.workers = static_cast<int>(workers);
    ParallelOptions po = parallel_options(ro, {});
    po.range_bytes = range_bytes;
    MarcXmlParallelReader reader(RangeInput::memory(doc), po, xo, "<MARCXML>");
    Outcome out = observe(reader, *log);
    if (stats) *stats = reader.stats();
    return out;
}

// The records of an ISO 2709 file as a MARCXML collection (our writer).
std::vector<std::string> xml_records(std::string_view data) {
    std::vector<std::string> out;
    ReadOptions ro;
    ro.workers = 0;
    auto stream = open_batches_memory(data, ro);
    drain(*stream, false, [&](Batch& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch.readable(i)) continue;
            ExportOptions eo;
            eo.encoding = text_encoding(batch.parsed[i], ro.parse);
            std::string xml;
            if (append_marcxml(RecordView(batch.record(i), batch.parsed[i].entries), eo, XmlCharset::utf8, xml) ==
                ErrorCode::ok)
                out.push_back(std::move(xml));
        }
    });
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep = "\n") {
    std::string out;
    for (const auto& p : parts) out.append(p).append(sep);
    return out;
}

std::string collection(const std::string& body) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"" + kSlim + "\">\n" + body +
           "</collection>\n";
}

// The first `n` records of a real file.
std::vector<std::string> some_records(const char* file, std::size_t n) {
    auto all = xml_records(read_file(shared_data() / "real" / file));
    all.resize(std::min(n, all.size()));
    return all;
}

std::vector<std::filesystem::path> real_files() {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(shared_data() / "real"))
        if (entry.path().extension() == ".mrc") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

// The parallel reader gives the sequential result with every range size and worker count given.
void expect_same(const std::string& doc, std::initializer_list<std::size_t> ranges,
                 MarcXmlNames names = MarcXmlNames::marc) {
    const Outcome want = sequential(doc, names);
    for (std::size_t range : ranges)
        for (unsigned workers : {2u, 3u}) {
            const Outcome got = parallel(doc, range, workers, names);
            ASSERT_EQ(got, want) << "range " << range << ", " << workers << " workers";
        }
}

}  // namespace

TEST(MarcXmlParallel, RealFilesAsTheSequentialReaderWithoutRescans) {
    ASSERT_TRUE(marcxml_supported());
    for (const auto& path : real_files()) {
        SCOPED_TRACE(path.filename().string());
        const std::string doc = collection(join(xml_records(read_file(path))));
        const Outcome want = sequential(doc);
        ASSERT_FALSE(want.failed);
        ASSERT_GT(want.records.size(), 10u);
        for (std::size_t range : {doc.size() / 3 + 1, std::size_t{65536}, std::size_t{4096}, std::size_t{997}}) {
            MarcXmlParallelStats stats;
            ASSERT_EQ(parallel(doc, range, 2, MarcXmlNames::marc, &stats), want) << "range " << range;
            // Read in parallel throughout: every range began where the one before it ended.
            EXPECT_FALSE(stats.sequential);
            EXPECT_EQ(stats.rescanned, 0u) << "range " << range;
            EXPECT_EQ(stats.ranges, (doc.size() - doc.find("<record") + range - 1) / range);
        }
    }
}

TEST(MarcXmlParallel, SmallChunksAndManyWorkers) {
    const std::string doc = collection(join(some_records("loc_386.mrc", 40)));
    const Outcome want = sequential(doc);
    for (std::size_t chunk : {std::size_t{4096}, std::size_t{1} << 16})
        for (unsigned workers : {2u, 5u, 8u})
            ASSERT_EQ(parallel(doc, 333, workers, MarcXmlNames::marc, nullptr, chunk), want) << workers;
}

TEST(MarcXmlParallel, RecordTextInCommentsCdataAndPisIsNoCut) {
    const auto recs = some_records("loc_386.mrc", 30);
    // Misleading "<record>" and "<marc:record>" text between records, and inside a record's text.
    for (const std::string& decoy :
         {std::string("<!-- <record> -->"), std::string("<?pi <record>?>"), std::string("<!-- <marc:record xmlns:marc=\"" + kSlim + "\"> -->"),
          std::string("<?x <record/> ?>")}) {
        std::string body;
        for (std::size_t i = 0; i < recs.size(); ++i) body += (i % 3 == 1 ? decoy : "") + recs[i] + "\n";
        SCOPED_TRACE(decoy);
        expect_same(collection(body), {61, 300, 2048});
    }
    // CDATA holding a record start tag inside a subfield's text.
    std::string body;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        std::string r = recs[i];
        const std::size_t at = r.find("</subfield>");
        if (i % 2 == 0 && at != std::string::npos) r.insert(at, "<![CDATA[ <record> <record><leader>x</leader> ]]>");
        body += r;
    }
    expect_same(collection(body), {61, 300, 2048});
    // A decoy that parses as a record start in the workers' context but is inside a comment: the
    // worker that starts there is wrong, the chain notices and the range is scanned again.
    std::string commented;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        std::string r = recs[i];
        for (std::size_t at; (at = r.find("--")) != std::string::npos;) r.replace(at, 2, "- ");  // not in a comment
        commented += (i % 4 == 2 ? "<!--" + r + "-->" : r) + "\n";
    }
    const std::string doc = collection(commented);
    const Outcome want = sequential(doc);
    ASSERT_FALSE(want.failed);
    for (std::size_t range : {61, 300, 2048}) {
        MarcXmlParallelStats stats;
        ASSERT_EQ(parallel(doc, range, 2, MarcXmlNames::marc, &stats), want) << range;
        EXPECT_FALSE(stats.sequential);
        EXPECT_GT(stats.rescanned, 0u) << range;
    }
}

TEST(MarcXmlParallel, PrefixesAndEnvelopes) {
    const auto recs = some_records("auth_1066.mrc", 25);
    // A prefix declared on the root: every record start tag needs it resolved.
    std::string prefixed = "<marc:collection xmlns:marc=\"" + kSlim + "\">";
    for (std::string r : recs) {
        std::string out;
        for (std::size_t i = 0; i < r.size(); ++i) {
            out += r[i];
            if (r[i] == '<' && i + 1 < r.size()) out += r[i + 1] == '/' ? (++i, "/marc:") : "marc:";
        }
        prefixed += out + "\n";
    }
    prefixed += "</marc:collection>";
    expect_same(prefixed, {50, 333, 4096});
    // The MARC namespace declared on each record, inside a root of another namespace.
    std::string per_record = "<collection xmlns=\"urn:other\">";
    for (const auto& r : recs) per_record += "<record xmlns=\"" + kSlim + "\"" + r.substr(std::string("<record").size());
    expect_same(per_record + "</collection>", {50, 333});
    // An OAI-PMH envelope: OAI's own record elements around the MARC ones, and a different
    // namespace declared on one metadata element (a context change mid-document).
    std::string oai = "<?xml version=\"1.0\"?><OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\"><ListRecords>";
    for (std::size_t i = 0; i < recs.size(); ++i) {
        std::string r = recs[i];
        r.replace(0, std::string("<record").size(), "<marc:record xmlns:marc=\"" + kSlim + "\"");
        std::string fixed;
        for (std::size_t j = 0; j < r.size(); ++j) {
            fixed += r[j];
            if (j > 0 && r[j] == '<' && j + 1 < r.size()) fixed += r[j + 1] == '/' ? (++j, "/marc:") : "marc:";
        }
        oai += std::string("<record><header><identifier>oai:x:") + std::to_string(i) + "</identifier></header>" +
               (i == 7 ? "<metadata xmlns:y=\"urn:y\">" : "<metadata>") + fixed + "</metadata></record>\n";
    }
    oai += "</ListRecords></OAI-PMH>";
    for (MarcXmlNames names : {MarcXmlNames::marc, MarcXmlNames::slim_only, MarcXmlNames::any}) {
        SCOPED_TRACE(int(names));
        expect_same(oai, {70, 500, 4096}, names);
    }
}

TEST(MarcXmlParallel, BrokenRecordsAndErrorsAnywhere) {
    const auto recs = some_records("loc_386.mrc", 20);
    // Stubs (a record ISO 2709 cannot hold), a record without fields, leaders that differ.
    std::string body;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        body += recs[i];
        if (i == 3) body += "<record><leader>short</leader><controlfield tag=\"001\">a</controlfield></record>";
        if (i == 8) body += "<record></record>";
        if (i == 12) body += "<record><controlfield tag=\"245\">x</controlfield></record>";
    }
    const std::string doc = collection(body);
    expect_same(doc, {57, 400, 3000});
    // The document cut at many lengths (truncated: an error after the complete records).
    for (std::size_t cut = 1; cut < doc.size(); cut += doc.size() / 37 + 1) {
        SCOPED_TRACE(cut);
        expect_same(doc.substr(0, cut), {97, 1500});
    }
    // One byte made wrong at many places: whatever the error, its line, column and record index
    // are the sequential reader's, after the same records.
    for (std::size_t at = 1; at < doc.size(); at += doc.size() / 41 + 1)
        for (char bad : {'<', '&', '\x01'}) {
            std::string broken = doc;
            broken[at] = bad;
            SCOPED_TRACE(std::to_string(at) + " " + std::to_string(int(bad)));
            expect_same(broken, {97, 1500});
        }
    // A nested record, a field without its tag, something the scanner leaves to expat (a DOCTYPE,
    // a reference it does not know) in the middle.
    for (const std::string& odd : {std::string("<record><record></record></record>"),
                                   std::string("<record><controlfield>x</controlfield></record>"),
                                   std::string("<record><controlfield tag=\"001\">&#1;</controlfield></record>"),
                                   std::string("<record><controlfield tag=\"001\">&#x10FFFF;&#233;</controlfield></record>"),
                                   std::string("<r\xC3\xA9:x xmlns:r\xC3\xA9=\"urn:x\"/>")}) {
        std::string b;
        for (std::size_t i = 0; i < recs.size(); ++i) b += recs[i] + (i == 11 ? odd : "");
        SCOPED_TRACE(odd);
        expect_same(collection(b), {57, 1500});
    }
    expect_same("<!DOCTYPE collection []>" + collection(join(recs)), {300});
}

TEST(MarcXmlParallel, DocumentsWithoutAnythingToSplit) {
    for (const std::string& doc :
         {std::string(), std::string("<collection/>"), std::string("<collection xmlns=\"" + kSlim + "\"></collection>"),
          some_records("loc_386.mrc", 1)[0], std::string("<collection>"), std::string("not xml")}) {
        SCOPED_TRACE(doc.substr(0, 60));
        expect_same(doc, {1, 64});
    }
}

TEST(MarcXmlParallel, PathsGoThroughTheFrontDoor) {
    const std::string doc = collection(join(some_records("uva_2000.mrc", 300)));
    const std::string path = ::testing::TempDir() + "/rapidmarc_parallel_" + std::to_string(::getpid()) + ".xml";
    {
        std::ofstream(path, std::ios::binary) << doc;
    }
    auto log1 = std::make_shared<XmlLeaderLog>(), log2 = std::make_shared<XmlLeaderLog>();
    MarcXmlOptions x1, x2;
    x1.leaders = log1;
    x2.leaders = log2;
    ReadOptions one, two;
    one.workers = 1;
    two.workers = 2;
    auto s1 = open_marcxml_batches(path, one, {}, x1);
    auto s2 = open_marcxml_batches(path, two, {}, x2);
    EXPECT_NE(dynamic_cast<MarcXmlParallelReader*>(s2.get()), nullptr);
    const Outcome want = observe(*s1, *log1);
    EXPECT_EQ(want.records.size(), 300u);
    EXPECT_EQ(observe(*s2, *log2), want);
    std::remove(path.c_str());
}

TEST(MarcXmlParallel, ContextChangesMidDocument) {
    // The root binds p to another namespace; a wrapper in the middle binds it to MARC's. Records
    // inside the wrapper have MARC fields only in the true context: a worker that assumed the
    // root's context would drop them, so the chain must check the state, not only the position.
    const auto recs = some_records("loc_386.mrc", 24);
    auto with_p = [](std::string r) {
        for (const char* name : {"datafield", "subfield"})
            for (std::size_t at = 0; (at = r.find(name, at)) != std::string::npos; at += 2)
                if (r[at - 1] == '<' || r[at - 1] == '/') r.insert(at, "p:");
        return r;
    };
    std::string body;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        if (i == 8) body += "<wrap xmlns:p=\"" + kSlim + "\">";
        body += (i >= 8 && i < 16 ? with_p(recs[i]) : recs[i]) + "\n";
        if (i == 15) body += "</wrap>";
    }
    const std::string doc =
        "<collection xmlns=\"" + kSlim + "\" xmlns:p=\"urn:other\">" + body + "</collection>";
    const Outcome want = sequential(doc);
    ASSERT_FALSE(want.failed);
    ASSERT_EQ(want.records.size(), recs.size());
    for (std::size_t range : {200, 1000, 3000}) {
        MarcXmlParallelStats stats;
        ASSERT_EQ(parallel(doc, range, 2, MarcXmlNames::marc, &stats), want) << range;
        EXPECT_GT(stats.rescanned, 0u);
        EXPECT_FALSE(stats.sequential);
    }
}
