// convert.hpp and input.hpp: whole-stream conversion must equal a plain record-by-record loop over
// the same records, whatever the threading, and every front door must yield the same records.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;

namespace {

std::vector<std::filesystem::path> files_in(const char* dir) {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(shared_data() / dir))
        if (entry.path().extension() == ".mrc") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

struct Converted {
    std::string text;
    ConvertResult result;
};

// The reference: one record at a time with the reader, the parser and the exporter, as a C++
// user would write it without convert.hpp.
Converted reference(std::string_view data, ConvertFormat format, const ReadOptions& options = {}) {
    Converted out;
    if (format == ConvertFormat::json) out.text = "[";
    if (format == ConvertFormat::xml) out.text = kMarcXmlCollectionStart;
    RecordReader reader(std::make_unique<MemorySource>(data), options.framing);
    FramedRecord framed;
    ParsedRecord parsed;
    bool first = true;
    while (reader.next(framed)) {
        const std::string_view bytes = reader.bytes(framed);
        if (framed.error != ErrorCode::ok || parse_record(bytes, options.parse, parsed) != ErrorCode::ok ||
            !subfield_codes_readable(RecordView(bytes, parsed.entries))) {
            ++out.result.bad;
            continue;
        }
        if (format == ConvertFormat::marc) {
            out.text.append(bytes);
            ++out.result.records;
            continue;
        }
        ExportOptions eo;
        eo.encoding = parsed.utf8 ? TextEncoding::utf8 : TextEncoding::marc8;
        std::string one;
        const ErrorCode rc = format == ConvertFormat::json
                                 ? append_json(RecordView(bytes, parsed.entries), eo, JsonStyle::compact, one)
                                 : append_marcxml(RecordView(bytes, parsed.entries), eo, XmlCharset::utf8, one);
        if (rc != ErrorCode::ok) {
            ++out.result.unconvertible;
            continue;
        }
        if (format == ConvertFormat::json && !first) out.text.push_back(',');
        first = false;
        out.text += one;
        ++out.result.records;
    }
    if (format == ConvertFormat::json) out.text += "]";
    if (format == ConvertFormat::xml) out.text += kMarcXmlCollectionEnd;
    return out;
}

Converted convert_path(const std::filesystem::path& path, ConvertFormat format, const ReadOptions& options,
                       std::vector<std::uint64_t>* progress = nullptr) {
    Converted out;
    auto stream = open_batches(path, options, convert_hook(format));
    out.result = convert_stream(
        *stream, format, options.strict,
        [&](std::string_view text) {
            EXPECT_FALSE(text.empty());  // only non-empty pieces are written
            out.text += text;
        },
        progress ? std::function<void(std::uint64_t)>([&](std::uint64_t n) { progress->push_back(n); })
                 : std::function<void(std::uint64_t)>());
    return out;
}

void expect_same(const Converted& got, const Converted& want, const std::string& what) {
    EXPECT_EQ(got.result.records, want.result.records) << what;
    EXPECT_EQ(got.result.bad, want.result.bad) << what;
    EXPECT_EQ(got.result.unconvertible, want.result.unconvertible) << what;
    EXPECT_TRUE(got.text == want.text) << what << ": output differs (" << got.text.size() << " vs "
                                       << want.text.size() << " bytes)";
}

constexpr ConvertFormat kFormats[] = {ConvertFormat::json, ConvertFormat::xml, ConvertFormat::marc};

const char* name(ConvertFormat f) {
    return f == ConvertFormat::json ? "json" : f == ConvertFormat::xml ? "xml" : "marc";
}

}  // namespace

TEST(Convert, ParsesFormatNames) {
    EXPECT_EQ(parse_convert_format("json"), ConvertFormat::json);
    EXPECT_EQ(parse_convert_format("xml"), ConvertFormat::xml);
    EXPECT_EQ(parse_convert_format("marc"), ConvertFormat::marc);
    EXPECT_FALSE(parse_convert_format("XML"));
    EXPECT_FALSE(parse_convert_format(""));
}

TEST(Convert, EqualsARecordByRecordLoopOnEveryRealFile) {
    for (const auto& path : files_in("real")) {
        const std::string data = read_file(path);
        for (ConvertFormat format : kFormats) {
            const Converted want = reference(data, format);
            EXPECT_GT(want.result.records, 0u) << path;
            for (int workers : {0, 1, 2}) {
                ReadOptions options;
                options.workers = workers;
                expect_same(convert_path(path, format, options), want,
                            path.filename().string() + " " + name(format) + " workers=" + std::to_string(workers));
            }
        }
    }
}

TEST(Convert, EqualsARecordByRecordLoopOnDamagedFiles) {
    for (const auto& path : files_in("edge")) {
        const std::string data = read_file(path);
        for (bool recover : {false, true}) {
            ReadOptions options;
            options.framing.recover = recover;
            for (ConvertFormat format : kFormats) {
                const Converted want = reference(data, format, options);
                for (int workers : {0, 2}) {
                    options.workers = workers;
                    expect_same(convert_path(path, format, options), want,
                                path.filename().string() + " " + name(format) + " recover=" + std::to_string(recover) +
                                    " workers=" + std::to_string(workers));
                }
            }
        }
    }
}

TEST(Convert, BadAndUnconvertibleRecordsAreSkippedAndCounted) {
    const std::string good = make_record({{"001", "a"}, {"245", "10\x1f" "aT\xc3\xa9"}});
    const std::string odd_code = make_record({{"245", "10\x1f" "aT\x1f\xc3\x97\xc3\xb7"}});  // folds to nothing
    std::string cut_marc8 = make_record({{"245", "10\x1f" "abad\x1b"}});  // ends inside an escape
    cut_marc8[9] = ' ';                                                   // leader/09: MARC-8
    const std::string data = good + odd_code + cut_marc8 + good;

    ReadOptions options;  // validates MARC-8 by default: the cut-off escape is a bad record
    options.workers = 0;
    auto stream = open_batches_memory(data, options, convert_hook(ConvertFormat::json));
    std::string text;
    ConvertResult r = convert_stream(*stream, ConvertFormat::json, false, [&](std::string_view t) { text += t; });
    EXPECT_EQ(r.records, 2u);
    EXPECT_EQ(r.bad, 2u);
    EXPECT_EQ(r.unconvertible, 0u);
    EXPECT_EQ(text, reference(data, ConvertFormat::json, options).text);
    EXPECT_EQ(text.front(), '[');
    EXPECT_EQ(text.back(), ']');
    EXPECT_EQ(text.find("[,"), std::string::npos);

    options.parse.validate_marc8 = false;  // now it parses, and only the conversion fails
    stream = open_batches_memory(data, options, convert_hook(ConvertFormat::xml));
    text.clear();
    r = convert_stream(*stream, ConvertFormat::xml, false, [&](std::string_view t) { text += t; });
    EXPECT_EQ(r.records, 2u);
    EXPECT_EQ(r.bad, 1u);
    EXPECT_EQ(r.unconvertible, 1u);
    EXPECT_EQ(text, reference(data, ConvertFormat::xml, options).text);
}

TEST(Convert, TheTallyAccountsForEveryByteAndSaysWhereReadingStopped) {
    const std::string good = make_record({{"001", "a"}, {"245", "10\x1f" "aTitle"}});
    const std::string junk = "not marc at all!";
    const std::string data = good + good + junk + good;
    for (std::size_t workers : {0u, 1u, 2u}) {
        for (bool recover : {false, true}) {
            ReadOptions options;
            options.workers = workers;
            options.framing.recover = recover;
            auto stream = open_batches_memory(data, options, convert_hook(ConvertFormat::marc));
            const ConvertResult r = convert_stream(*stream, ConvertFormat::marc, false, [](std::string_view) {});
            EXPECT_EQ(r.read.bad, 1u);
            EXPECT_EQ(r.read.first_error.code, ErrorCode::record_length_invalid);
            EXPECT_EQ(r.read.first_error.byte_offset, 2 * good.size());
            if (recover) {  // the junk is one bad item and the last record is read: nothing unread
                EXPECT_EQ(r.read.good, 3u);
                EXPECT_EQ(r.read.end, data.size());
                EXPECT_FALSE(r.read.last_fatal);
            } else {  // pymarc stops at the junk: the last record is never read
                EXPECT_EQ(r.read.good, 2u);
                EXPECT_EQ(r.read.last_fatal.byte_offset, 2 * good.size());
                EXPECT_LT(r.read.end, data.size());
            }
        }
    }
    // A truncated last record is the last item and fatal, but its chunk ends the input.
    const std::string cut = data.substr(0, 2 * good.size() - 3);
    auto stream = open_batches_memory(cut, {}, convert_hook(ConvertFormat::marc));
    const ConvertResult r = convert_stream(*stream, ConvertFormat::marc, false, [](std::string_view) {});
    EXPECT_EQ(r.read.last_fatal.code, ErrorCode::truncated_record);
    EXPECT_EQ(r.read.end, 2 * good.size() - 3);
}

TEST(Convert, EmptyInputIsAnEmptyDocument) {
    for (ConvertFormat format : kFormats) {
        auto stream = open_batches_memory("", {}, convert_hook(format));
        std::string text;
        const ConvertResult r = convert_stream(*stream, format, true, [&](std::string_view t) { text += t; });
        EXPECT_EQ(r.records, 0u);
        EXPECT_EQ(text, reference("", format).text);
    }
    auto stream = open_batches_memory("", {}, convert_hook(ConvertFormat::json));
    std::string text;
    convert_stream(*stream, ConvertFormat::json, false, [&](std::string_view t) { text += t; });
    EXPECT_EQ(text, "[]");
}

TEST(Convert, StrictStopsAtTheFirstUnreadableRecord) {
    const auto path = shared_data() / "edge" / "invalid_utf8_383.mrc";
    const std::string data = read_file(path);
    // The first record the reference loop rejects.
    RecordReader reader(std::make_unique<MemorySource>(data));
    FramedRecord framed;
    ParsedRecord parsed;
    ParseOptions po;
    po.validate_marc8 = true;
    std::uint64_t first_bad = UINT64_MAX, first_bad_offset = 0;
    while (reader.next(framed)) {
        if (framed.error != ErrorCode::ok || parse_record(reader.bytes(framed), po, parsed) != ErrorCode::ok) {
            first_bad = framed.index;
            first_bad_offset = framed.offset;
            break;
        }
    }
    ASSERT_NE(first_bad, UINT64_MAX);

    for (int workers : {0, 1, 2}) {
        ReadOptions options;
        options.workers = workers;
        options.strict = true;
        const std::string full = reference(data, ConvertFormat::xml).text;
        std::string written;
        auto stream = open_batches(path, options, convert_hook(ConvertFormat::xml));
        try {
            convert_stream(*stream, ConvertFormat::xml, true, [&](std::string_view t) { written += t; });
            ADD_FAILURE() << "no ParseError";
        } catch (const ParseError& e) {
            EXPECT_EQ(e.error().record_index, first_bad);
            EXPECT_EQ(e.error().byte_offset, first_bad_offset);
            EXPECT_EQ(e.error().code, ErrorCode::invalid_utf8);
            EXPECT_FALSE(e.error().culprit.empty());
        }
        // What was written is the start of the permissive document, up to the bad record's batch.
        EXPECT_EQ(full.compare(0, written.size(), written), 0);
        EXPECT_LT(written.size(), full.size());
    }
}

TEST(Convert, ProgressCountsInputBytesUpToTheFileSize) {
    for (const auto& path : files_in("real")) {
        for (int workers : {0, 2}) {
            ReadOptions options;
            options.workers = workers;
            std::vector<std::uint64_t> progress;
            convert_path(path, ConvertFormat::marc, options, &progress);
            ASSERT_FALSE(progress.empty()) << path;
            EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end())) << path;
            EXPECT_EQ(std::adjacent_find(progress.begin(), progress.end()), progress.end()) << path;  // increasing
            EXPECT_EQ(progress.back(), std::filesystem::file_size(path)) << path;
        }
    }
}

TEST(Convert, WriteExceptionsPropagate) {
    const auto path = shared_data() / "real" / "uva_2000.mrc";
    for (int workers : {0, 1, 2}) {
        ReadOptions options;
        options.workers = workers;
        auto stream = open_batches(path, options, convert_hook(ConvertFormat::json));
        int calls = 0;
        EXPECT_THROW(convert_stream(*stream, ConvertFormat::json, false,
                                    [&](std::string_view) {
                                        if (++calls == 3) throw std::runtime_error("disk full");
                                    }),
                     std::runtime_error);
        EXPECT_EQ(calls, 3);
    }  // the stream's workers are stopped and joined with batches still in flight
}

TEST(Convert, RefusesAStreamWithoutTheHook) {
    const std::string data = make_record({{"001", "a"}});
    auto plain = open_batches_memory(data, {});
    EXPECT_THROW(convert_stream(*plain, ConvertFormat::xml, false, [](std::string_view) {}), std::invalid_argument);
    auto json = open_batches_memory(data, {}, convert_hook(ConvertFormat::json));
    EXPECT_THROW(convert_stream(*json, ConvertFormat::xml, false, [](std::string_view) {}), std::invalid_argument);
}

TEST(Convert, ConvertFileWritesTheDocument) {
    const auto path = shared_data() / "real" / "hebrew_20.mrc";
    for (ConvertFormat format : kFormats) {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::tmpfile(), &std::fclose);
        ASSERT_TRUE(out);
        const ConvertResult r = convert_file(path, out.get(), format);
        std::rewind(out.get());
        std::string text;
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out.get())) > 0;) text.append(buf, n);
        const Converted want = reference(read_file(path), format);
        EXPECT_EQ(text, want.text) << name(format);
        EXPECT_EQ(r.records, want.result.records);
    }
    EXPECT_THROW(convert_file(shared_data() / "no such file.mrc", stdout, ConvertFormat::xml), std::system_error);
}

TEST(Convert, ConvertFileReportsWriteErrors) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> full(std::fopen("/dev/full", "wb"), &std::fclose);
    if (!full) GTEST_SKIP() << "no /dev/full";
    try {
        convert_file(shared_data() / "real" / "uva_2000.mrc", full.get(), ConvertFormat::marc);
        ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOSPC);
    }
}

// ---- input.hpp: every front door yields the same records ---------------------------------------

namespace {

struct Item {
    std::uint64_t index, offset;
    ErrorCode frame, parse;
    bool readable;
    std::string bytes;
    bool operator==(const Item&) const = default;
};

std::vector<Item> items(BatchStream& stream) {
    std::vector<Item> out;
    drain(stream, false, [&](Batch& b) {
        for (std::size_t i = 0; i < b.size(); ++i)
            out.push_back({b.frames[i].index, b.frames[i].offset, b.frames[i].error, b.parsed[i].error, b.readable(i),
                           std::string(b.record(i))});
    });
    return out;
}

}  // namespace

TEST(OpenBatches, EveryFrontDoorYieldsTheSameRecords) {
    std::vector<std::filesystem::path> paths = files_in("real");
    for (const auto& p : files_in("edge")) paths.push_back(p);
    for (const auto& path : paths) {
        const std::string data = read_file(path);
        for (bool recover : {false, true}) {
            ReadOptions options;
            options.framing.recover = recover;
            options.workers = 0;
            auto reference_stream = open_batches_memory(data, options);
            const std::vector<Item> want = items(*reference_stream);
            ASSERT_FALSE(want.empty());
            for (int workers : {0, 1, 2, -1}) {
                options.workers = workers;
                const std::string what = path.filename().string() + " workers=" + std::to_string(workers);
                auto from_path = open_batches(path, options);
                EXPECT_TRUE(items(*from_path) == want) << what << " (path)";
                auto from_memory = open_batches_memory(data, options);
                EXPECT_TRUE(items(*from_memory) == want) << what << " (memory)";
                auto from_source = open_batches(std::make_unique<MemorySource>(data), options);
                EXPECT_TRUE(items(*from_source) == want) << what << " (source)";
            }
        }
    }
}

TEST(OpenBatches, ChoosesTheEngineByWorkers) {
    const std::string data = make_record({{"001", "a"}});
    ReadOptions options;
    for (int workers : {-1, 2, 3}) {
        options.workers = workers;
        EXPECT_TRUE(dynamic_cast<ParallelReader*>(open_batches_memory(data, options).get())) << workers;
        // A sequential source is never read by another thread.
        EXPECT_TRUE(dynamic_cast<BatchReader*>(open_batches(std::make_unique<MemorySource>(data), options).get()));
    }
    for (int workers : {0, 1}) {
        options.workers = workers;
        EXPECT_TRUE(dynamic_cast<BatchReader*>(open_batches_memory(data, options).get())) << workers;
    }
}

TEST(OpenBatches, ASequentialSourceIsOnlyCalledFromTheCallersThread) {
    const std::string data = make_record({{"001", "a"}}) + make_record({{"001", "b"}});
    const auto caller = std::this_thread::get_id();
    std::size_t pos = 0;
    bool other_thread = false;
    auto source = std::make_unique<CallbackSource>([&](char* dst, std::size_t n) -> std::size_t {
        other_thread = other_thread || std::this_thread::get_id() != caller;
        n = std::min(n, data.size() - pos);
        std::memcpy(dst, data.data() + pos, n);
        pos += n;
        return n;
    });
    ReadOptions options;
    options.workers = 4;
    auto stream = open_batches(std::move(source), options);
    EXPECT_EQ(items(*stream).size(), 2u);
    EXPECT_FALSE(other_thread);
}

TEST(OpenBatches, HooksRunOnEveryBatch) {
    const auto path = shared_data() / "real" / "uva_2000.mrc";
    for (int workers : {0, 1, 2}) {
        ReadOptions options;
        options.workers = workers;
        std::atomic<std::size_t> seen{0};
        auto stream = open_batches(path, options, [&](Batch& b) { seen += b.size(); });
        const std::size_t n = items(*stream).size();
        EXPECT_EQ(seen.load(), n);
        EXPECT_EQ(n, 2000u);
    }
}

TEST(OpenBatches, MissingFilesNameThePath) {
    for (int workers : {0, 2}) {
        ReadOptions options;
        options.workers = workers;
        try {
            open_batches(shared_data() / "missing-file.mrc", options);
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_NE(std::string(e.what()).find("missing-file.mrc"), std::string::npos) << e.what();
        }
    }
}

TEST(OpenBatches, ReadOptionsValidateMarc8ByDefault) {
    // As pymarc's MARCReader with its default file_encoding: MARC-8 that ends inside an escape
    // sequence makes the record unreadable.
    EXPECT_TRUE(ReadOptions{}.parse.validate_marc8);
    EXPECT_TRUE(ReadOptions{}.parse.validate_text);
    EXPECT_EQ(ReadOptions{}.workers, 1);
    EXPECT_FALSE(ReadOptions{}.strict);
}
