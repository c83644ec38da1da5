// The fast MARCXML engine (the hand-written scanner, marcxml_scan.cpp) against expat: what the
// scanner reads itself it must read exactly as expat does; what it does not (outside its subset,
// malformed) it must hand to expat, so that the records, stubs, leader log and error are expat's.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "../fuzz/marcxml_engines.hpp"
#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::read_file;
using rapidmarc::test::run_marcxml;
using rapidmarc::test::shared_data;
using rapidmarc::test::XmlOutcome;

namespace {

const std::string kSlim = "http://www.loc.gov/MARC21/slim";
const std::string kRec = "<leader>00000nam a2200000 a 4500</leader>"
                         "<controlfield tag=\"001\">id1</controlfield>"
                         "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">Title</subfield>"
                         "<subfield code=\"b\">sub</subfield></datafield>";

std::string collection(const std::string& body) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"" + kSlim + "\">" + body +
           "</collection>\n";
}

// The document, read by expat, by the fast engine (whole, and a few bytes at a time) and by the
// scanner alone: all the same, and the scanner read it without handing over.
void expect_scanned(const std::string& doc, MarcXmlNames names = MarcXmlNames::marc) {
    const XmlOutcome want = run_marcxml(doc, MarcXmlEngine::expat, names);
    EXPECT_EQ(run_marcxml(doc, MarcXmlEngine::scanner, names), want) << doc;
    EXPECT_EQ(run_marcxml(doc, MarcXmlEngine::fast, names), want) << doc;
    for (std::size_t step : {1, 2, 3, 7})
        EXPECT_EQ(run_marcxml(doc, MarcXmlEngine::scanner, names, step), want) << doc << " step " << step;
}

// The document is outside the scanner's subset (or malformed): the scanner alone refuses it and the
// fast engine reads it as expat does, whole or cut anywhere.
void expect_handed_over(const std::string& doc, MarcXmlNames names = MarcXmlNames::marc) {
    const XmlOutcome want = run_marcxml(doc, MarcXmlEngine::expat, names);
    const XmlOutcome alone = run_marcxml(doc, MarcXmlEngine::scanner, names);
    EXPECT_TRUE(alone.failed) << doc;
    EXPECT_EQ(alone.reason, "outside the MARCXML scanner's subset") << doc;
    EXPECT_EQ(run_marcxml(doc, MarcXmlEngine::fast, names), want) << doc;
    for (std::size_t step : {1, 3})
        EXPECT_EQ(run_marcxml(doc, MarcXmlEngine::fast, names, step), want) << doc << " step " << step;
}

std::size_t records(const XmlOutcome& o) { return static_cast<std::size_t>(std::count(o.bytes.begin(), o.bytes.end(), '\x1d')); }

}  // namespace

TEST(MarcXmlScan, TheCommonShapes) {
    expect_scanned(collection("<record>" + kRec + "</record><record>" + kRec + "</record>"));
    // A prefix instead of a default namespace; the namespace on the record only; a bare record.
    expect_scanned("<marc:collection xmlns:marc=\"" + kSlim + "\"><marc:record><marc:leader>00000nam a2200000 a 4500"
                   "</marc:leader><marc:controlfield tag=\"001\">x</marc:controlfield></marc:record></marc:collection>");
    expect_scanned("<collection><record xmlns=\"" + kSlim + "\">" + kRec + "</record></collection>");
    expect_scanned("<record xmlns=\"" + kSlim + "\">" + kRec + "</record>");
    expect_scanned("<record>" + kRec + "</record>");  // no namespace
    // Records in an OAI-PMH envelope; xsi attributes; a namespace undeclared.
    expect_scanned("<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n"
                   "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\" "
                   "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"a b\">"
                   "<ListRecords><record><header><identifier>oai:1</identifier></header><metadata>"
                   "<marc:record xmlns:marc=\"" + kSlim + "\">" + std::string("<marc:leader>00000nam a2200000 a 4500</marc:leader>") +
                   "<marc:datafield tag='245' ind1=' ' ind2=' '><marc:subfield code='a'>T</marc:subfield></marc:datafield>"
                   "</marc:record></metadata></record></ListRecords></OAI-PMH>");
    expect_scanned("<c xmlns=\"" + kSlim + "\"><x xmlns=\"\"><record>" + kRec + "</record></x></c>");
    expect_scanned("<c xmlns:m=\"" + kSlim + "\" xmlns:o=\"urn:o\"><m:record><o:leader>ignored</o:leader>"
                   "<m:controlfield tag=\"001\">a</m:controlfield></m:record></c>");
}

TEST(MarcXmlScan, TheNameRules) {
    const std::string doc = "<c xmlns:m=\"" + kSlim + "\" xmlns:o=\"urn:o\"><record><controlfield tag=\"001\">a"
                            "</controlfield></record><m:record><m:controlfield tag=\"001\">b</m:controlfield></m:record>"
                            "<o:record><o:controlfield tag=\"001\">c</o:controlfield></o:record></c>";
    for (auto names : {MarcXmlNames::marc, MarcXmlNames::slim_only, MarcXmlNames::any}) expect_scanned(doc, names);
    EXPECT_EQ(records(run_marcxml(doc, MarcXmlEngine::scanner, MarcXmlNames::any)), 3u);
    EXPECT_EQ(records(run_marcxml(doc, MarcXmlEngine::scanner, MarcXmlNames::slim_only)), 1u);
}

TEST(MarcXmlScan, TextAndAttributes) {
    // Entities and character references, in text and in attributes.
    expect_scanned(collection("<record><controlfield tag=\"&#48;0&#x31;\">&lt;&gt;&amp;&quot;&apos; &#233;&#x1F600;"
                              "&#0000065;</controlfield><datafield tag=\"245\" ind1=\"&amp;\" ind2=\"&#x30;\">"
                              "<subfield code=\"&quot;\">a &amp; b</subfield></datafield></record>"));
    // CDATA, comments and processing instructions anywhere.
    expect_scanned("<?xml version=\"1.0\"?><!-- c --><?pi x?><collection xmlns=\"" + kSlim + "\"><!-- - -->"
                   "<record><?pi?><controlfield tag=\"001\">a<![CDATA[<&>]]]]><!-- x -->b<?p q?>c</controlfield>"
                   "</record></collection><!--end--><?pi?>\n \n");
    // Quotes, attribute order, white space in tags, '>' and ']' in text.
    expect_scanned(collection("<record  >\n<datafield\tind2='2'\n ind1 = \"1\"  tag='245' ><subfield\r\ncode = 'a' >"
                              "x > y ]] z ]</subfield ></datafield\n></record\t>"));
    // Line ends: CR LF and CR are LF in text and CDATA, a blank in attributes (a reference stays).
    expect_scanned(collection("<record><controlfield tag=\"001\">a\r\nb\rc\n&#13;<![CDATA[d\r\ne\rf]]></controlfield>"
                              "<datafield tag=\"245\" ind1=\"\r\n\" ind2=\"\t\"><subfield code=\"&#10;\">x</subfield>"
                              "</datafield><datafield tag=\"246\" ind1=\"&#9;\" ind2=\"\r\"/></record>"));
    // UTF-8 of every length; a BOM; empty elements.
    expect_scanned("\xEF\xBB\xBF" + collection("<record><controlfield tag=\"001\">\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
                                               "\xC2\x80\xEF\xBF\xBD\x7F</controlfield><datafield tag=\"245\" ind1=\"1\""
                                               " ind2=\"0\"><subfield code=\"a\"/></datafield></record><record/>"));
    // Non-MARC elements inside a field: their text is part of the field's (pymarc's rule).
    expect_scanned(collection("<record><datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">x<i xmlns=\"u\">"
                              "y</i>z</subfield></datafield><foo>bar</foo></record>"));
}

TEST(MarcXmlScan, StubsAndLeaders) {
    // Records ISO 2709 cannot hold (stubs) and leaders the log keeps, as expat's.
    expect_scanned(collection("<record><leader>short</leader><controlfield tag=\"001\">a</controlfield></record>"
                              "<record><controlfield tag=\"01\">a</controlfield></record>"
                              "<record><datafield tag=\"245\" ind1=\"12\" ind2=\"0\"/></record>"
                              "<record><datafield tag=\"245\"><subfield code=\"ab\">x</subfield></datafield></record>"
                              "<record><controlfield tag=\"245\">a</controlfield></record>"
                              "<record><controlfield tag=\"001\">no leader</controlfield></record>"
                              "<record><leader>01234nam  2200000   4500</leader></record>"));
    const XmlOutcome o = run_marcxml(collection("<record><leader>01234nam  2200000   4500</leader></record>"),
                                     MarcXmlEngine::scanner);
    ASSERT_EQ(o.leaders.size(), 1u);
    EXPECT_EQ(o.leaders[0].second, "01234nam  2200000   4500");
}

TEST(MarcXmlScan, OutsideTheSubsetGoesToExpat) {
    const std::string body = "<record>" + kRec + "</record>";
    expect_handed_over("<?xml version=\"1.0\"?><!DOCTYPE collection><collection>" + body + "</collection>");
    expect_handed_over("<!DOCTYPE c [<!ENTITY e \"245\">]><c><record><datafield tag=\"&e;\"/></record></c>");
    expect_handed_over("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><c><record><controlfield tag=\"001\">\xE9"
                       "</controlfield></record></c>");
    expect_handed_over("<c><record>" + kRec + "</record><r\xC3\xA9sum\xC3\xA9/></c>");  // a non-ASCII name
    expect_handed_over("<?xml version=\"1.1\"?><c/>");
    expect_handed_over("<c xmlns:xmlfoo=\"u\"><xmlfoo:r/></c>");
    // UTF-16 with a byte order mark.
    std::string utf16 = "\xFF\xFE";
    for (char c : std::string("<c><record/></c>")) utf16 += std::string{c, '\0'};
    expect_handed_over(utf16);
}

TEST(MarcXmlScan, MalformedGoesToExpatWithItsError) {
    const std::string two = "<record>" + kRec + "</record><record>" + kRec + "</record>";
    const std::vector<std::string> bad = {
        "",
        "   ",
        "x",
        "<c>",
        "<c></d>",
        "<c><record>" + kRec + "</record>",
        "<c/><d/>",
        "<c/>x",
        "<c/>&amp;",
        "x<c/>",
        " <?xml version=\"1.0\"?><c/>",
        "<c><?xml version=\"1.0\"?></c>",
        "<c><?XmL x?></c>",
        "<c>" + two + "<oops></c>",
        "<c>" + two + "</c></c>",
        "<c>" + two + "<d a=\"1\" a=\"2\"/></c>",
        "<c xmlns:p=\"u\" xmlns:q=\"u\">" + two + "<d p:a=\"1\" q:a=\"2\"/></c>",
        "<c>" + two + "<p:d/></c>",
        "<c>" + two + "<d p:a=\"1\"/></c>",
        "<c xmlns:p=\"\"/>",
        "<c xmlns:xml=\"u\"/>",
        "<c xmlns=\"http://www.w3.org/XML/1998/namespace\"/>",
        "<xmlns:c/>",
        "<c xmlns=\"a b\"/>",  // expat's namespace separator in a namespace name (found by fuzz_marcxml)
        "<c xmlns:p=\"a\r\nb\"/>",
        "<c>" + two + "a]]>b</c>",
        "<c>" + two + "&undefined;</c>",
        "<c>" + two + "&#0;</c>",
        "<c>" + two + "&#x110000;</c>",
        "<c>" + two + "&#xFFFE;</c>",
        "<c>" + two + "&#xD800;</c>",
        "<c>" + two + "&#X41;</c>",
        "<c>" + two + "&#;</c>",
        "<c>" + two + "& amp;</c>",
        "<c>" + two + "\x01</c>",
        "<c>" + two + "\xC0\x80</c>",
        "<c>" + two + "\xED\xA0\x80</c>",
        "<c>" + two + "\xEF\xBF\xBE</c>",
        "<c>" + two + "\xF4\x90\x80\x80</c>",
        "<c>" + two + "\x80</c>",
        "<c>" + two + "\xE2\x82</c>",
        "<c>" + two + "<!-- a -- b --></c>",
        "<c>" + two + "<!-- a ---></c>",
        "<c>" + two + "<? x?></c>",
        "<c>" + two + "<?a:b x?></c>",
        "<c>" + two + "<![CDATA[x]></c>",
        "<![CDATA[x]]><c/>",
        "<c>" + two + "<d a=\"<\"/></c>",
        "<c>" + two + "<d a=\"1\"b=\"2\"/></c>",
        "<c>" + two + "<d a=1/></c>",
        "<c>" + two + "<d a/></c>",
        "<c>" + two + "<d / ></c>",
        "<c>" + two + "< d/></c>",
        "<c>" + two + "<1d/></c>",
        "<c>" + two + "<d:/></c>",
        "<c>" + two + "<a:b:c/></c>",
        "<c>" + two + "</c >x",
        "<c>" + two + "<record><record/></record></c>",
        "<c>" + two + "<record><controlfield>x</controlfield></record></c>",
        "<c>" + two + "<record><datafield/></record></c>",
        "<c>" + two + "<record><datafield tag=\"245\"><subfield>x</subfield></datafield></record></c>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><?xml version=\"1.0\"?><c/>",
        "<?xml version=\"1.0\"encoding=\"UTF-8\"?><c/>",
        "<?xml encoding=\"UTF-8\"?><c/>",
        "<?xml version=\"1.0\" standalone=\"maybe\"?><c/>",
        "\xEF\xBB\xBF\xEF\xBB\xBF<c/>",
    };
    for (const auto& doc : bad) {
        SCOPED_TRACE(doc);
        expect_handed_over(doc);
        EXPECT_TRUE(run_marcxml(doc, MarcXmlEngine::fast).failed);
    }
    // The records before the error are handed out once, then expat's error.
    const XmlOutcome o = run_marcxml("<c>" + two + "<oops></c>", MarcXmlEngine::fast);
    EXPECT_EQ(records(o), 2u);
    EXPECT_EQ(o.reason, "mismatched tag");
    EXPECT_EQ(o.index, 2u);
    EXPECT_EQ(o.line, 1u);
}

TEST(MarcXmlScan, EveryTruncationAsExpat) {
    const std::string doc = collection("<record>" + kRec + "</record><record><controlfield tag=\"001\">&amp;\xC3\xA9"
                                       "</controlfield><!-- c --><![CDATA[x]]></record>");
    for (std::size_t cut = 0; cut < doc.size(); ++cut) {
        SCOPED_TRACE(cut);
        const std::string part = doc.substr(0, cut);
        EXPECT_EQ(run_marcxml(part, MarcXmlEngine::fast), run_marcxml(part, MarcXmlEngine::expat));
    }
}

TEST(MarcXmlScan, RealFilesAreScannedWholly) {
    // Each real file as our writer's MARCXML: the scanner reads all of it, as expat does, in any chunking.
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(shared_data() / "real")) {
        if (entry.path().extension() != ".mrc") continue;
        SCOPED_TRACE(entry.path().filename().string());
        ReadOptions ro;
        ro.workers = 0;
        std::string xml(kMarcXmlCollectionStart);
        const std::string data = read_file(entry.path());
        auto stream = open_batches_memory(data, ro);
        drain(*stream, false, [&](Batch& batch) {
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (!batch.readable(i)) continue;
                ExportOptions eo;
                eo.encoding = text_encoding(batch.parsed[i], ro.parse);
                append_marcxml(RecordView(batch.record(i), batch.parsed[i].entries), eo, XmlCharset::utf8, xml);
            }
        });
        xml += kMarcXmlCollectionEnd;
        const XmlOutcome want = run_marcxml(xml, MarcXmlEngine::expat);
        ASSERT_FALSE(want.failed);
        EXPECT_GT(records(want), 0u);
        EXPECT_EQ(run_marcxml(xml, MarcXmlEngine::scanner), want);
        EXPECT_EQ(run_marcxml(xml, MarcXmlEngine::scanner, MarcXmlNames::marc, 997, 4096), want);
        ++files;
    }
    EXPECT_GT(files, 0u);
}

TEST(MarcXmlScan, ANamedPipeIsAStream) {
    // A path that cannot be read again from its start (a named pipe) is read by expat alone: a
    // hand-over would read other bytes. Its records are those of the same document in memory.
    const std::string doc = "<!DOCTYPE c><c><record>" + kRec + "</record><record>" + kRec + "</record></c>";
    const auto dir = std::filesystem::temp_directory_path() / ("rapidmarc_xmlpipe_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto fifo = dir / "in.xml";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << doc; });
    ReadOptions ro;
    ro.workers = 0;
    std::vector<std::string> got;
    {
        auto stream = open_marcxml_batches(fifo, ro);
        drain(*stream, false, [&](Batch& batch) {
            for (std::size_t i = 0; i < batch.size(); ++i) got.emplace_back(batch.record(i));
        });
    }
    writer.join();
    std::filesystem::remove_all(dir);
    const XmlOutcome want = run_marcxml(doc, MarcXmlEngine::expat);
    ASSERT_FALSE(want.failed);
    std::string joined;
    for (const auto& r : got) joined += r;
    EXPECT_EQ(got.size(), 2u);
    EXPECT_EQ(joined, want.bytes);
}

TEST(MarcXmlScan, CancelAfterTheHandOver) {
    // cancel() reaches the source of whichever engine reads (after a hand-over: expat's).
    const std::string doc = "<c><record>" + kRec + "</record><!DOCTYPE x></c>";
    auto source = marcxml_source([&]() -> std::unique_ptr<ByteSource> { return std::make_unique<MemorySource>(doc); });
    char buf[16];
    EXPECT_GT(source->read(buf, sizeof buf), 0u);
    source->cancel();
    ReadOptions ro;
    ro.workers = 1;
    auto stream = open_marcxml_batches_memory(doc, ro);
    EXPECT_THROW(drain(*stream, false, [](Batch&) {}), XmlError);
}
