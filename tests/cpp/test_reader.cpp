#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

struct Item {
    ErrorCode error;
    std::string bytes;
    std::uint64_t offset;
};

std::vector<Item> read_all(std::string_view data, ReaderOptions options = {}, std::size_t chunk = 4096) {
    options.chunk_size = chunk;
    RecordReader reader(std::make_unique<MemorySource>(data), options);
    std::vector<Item> out;
    FramedRecord fr;
    while (reader.next(fr)) out.push_back({fr.error, std::string(reader.bytes(fr)), fr.offset});
    return out;
}

}  // namespace

TEST(Reader, FramesRecordsWithOffsets) {
    std::string a = make_record({{"001", "a"}}), b = make_record({{"001", "bb"}});
    auto items = read_all(a + b);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].bytes, a);
    EXPECT_EQ(items[1].bytes, b);
    EXPECT_EQ(items[1].offset, a.size());
}

TEST(Reader, EmptyInputHasNoRecords) { EXPECT_TRUE(read_all("").empty()); }

TEST(Reader, FramingErrorsStopReadingLikePymarc) {
    std::string a = make_record({{"001", "a"}});
    auto items = read_all(a + "abcde" + a);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].error, ErrorCode::record_length_invalid);
    EXPECT_EQ(items[1].bytes, "abcde");

    items = read_all(a + a.substr(0, 30));
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].error, ErrorCode::truncated_record);

    std::string no_term = a;
    no_term.back() = 'x';
    items = read_all(no_term + a);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].error, ErrorCode::end_of_record_not_found);

    items = read_all(a + "001");
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].error, ErrorCode::truncated_record);
}

TEST(Reader, RecoverResynchronisesAtTheNextRecord) {
    std::string a = make_record({{"001", "a"}}), b = make_record({{"001", "bb"}});
    ReaderOptions recover;
    recover.recover = true;
    auto items = read_all(a + "garbage!" + b + a, recover);
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[1].error, ErrorCode::record_length_invalid);
    EXPECT_EQ(items[2].bytes, b);
    EXPECT_EQ(items[3].bytes, a);
}

TEST(Reader, RecoverNeverDropsTheEndOfADamagedInput) {
    // A record whose length is too short, then a last record cut by the end of the input: no
    // record starts after the damage, and the bytes after the damaged chunk are one last bad item
    // (they were dropped without an item before; found by review).
    std::string a = make_record({{"001", "a"}, {"245", "10\x1f" "aTitle"}});
    std::string b = make_record({{"001", "bb"}, {"245", "10\x1f" "aAnother title"}});
    std::string short_b = b;
    short_b.replace(0, 5, std::to_string(100000 + b.size() - 20).substr(1));  // length 20 short
    const std::string data = a + short_b + a.substr(0, a.size() - 10);
    ReaderOptions recover;
    recover.recover = true;
    for (std::size_t chunk : {4096u, 1u << 20}) {
        auto items = read_all(data, recover, chunk);
        ASSERT_EQ(items.size(), 3u);
        EXPECT_EQ(items[0].bytes, a);
        EXPECT_EQ(items[1].error, ErrorCode::end_of_record_not_found);
        EXPECT_EQ(items[2].error, ErrorCode::truncated_record);
        // every byte is in an item: the last one runs from the end of the damaged chunk to the end
        EXPECT_EQ(items[2].offset, a.size() + b.size() - 20);
        EXPECT_EQ(items[2].offset + items[2].bytes.size(), data.size());
    }
    // Without recover the reader stops at the damage, as pymarc does: nothing more is framed.
    EXPECT_EQ(read_all(data).size(), 2u);
}

TEST(Reader, RecoverDoesNotLetATinyLengthSwallowTheRest) {
    std::string a = make_record({{"001", "a"}}), b = make_record({{"001", "bb"}});
    std::string zero = b;
    zero.replace(0, 5, "00000");
    ReaderOptions recover;
    recover.recover = true;
    auto items = read_all(a + zero + a + b, recover);
    ASSERT_EQ(items.size(), 4u);  // a, the damaged one, then a and b found again
    EXPECT_EQ(items[1].error, ErrorCode::record_length_invalid);
    EXPECT_EQ(items[2].bytes, a);
    EXPECT_EQ(items[3].bytes, b);
    // The parallel reader (byte ranges read without recover, damage handed to a sequential
    // reader) frames the same items (found by fuzz_python: it took the rest as one record).
    std::string many;
    for (int i = 0; i < 200; ++i) many += (i == 3 ? zero : a) + b;
    for (int workers : {0, 2}) {
        ReadOptions options;
        options.workers = workers;
        options.framing.recover = true;
        auto stream = open_batches_memory(many, options);
        std::vector<std::pair<ErrorCode, std::uint64_t>> got;
        drain(*stream, false, [&](const Batch& batch) {
            for (const auto& f : batch.frames) got.emplace_back(f.error, f.offset);
        });
        ASSERT_EQ(got.size(), 400u) << workers;
        EXPECT_EQ(got[6].first, ErrorCode::record_length_invalid) << workers;
    }
    // Without recover it reads as pymarc does: a length below 5 takes the rest of the input.
    items = read_all(a + zero + a + b);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].bytes.size(), zero.size() + a.size() + b.size());
}

TEST(Reader, SmallChunksGiveTheSameRecords) {
    std::string data = rapidmarc::test::read_file(rapidmarc::test::shared_data() / "real" / "loc_386.mrc");
    if (data.empty()) GTEST_SKIP() << "shared data not found";
    auto big = read_all(data, {}, 1 << 20);
    auto small = read_all(data, {}, 4096);
    ASSERT_EQ(big.size(), 386u);
    ASSERT_EQ(small.size(), big.size());
    for (std::size_t i = 0; i < big.size(); ++i) EXPECT_EQ(big[i].bytes, small[i].bytes);
}

TEST(Reader, BatchesStayValidTogether) {
    std::string data;
    for (int i = 0; i < 500; ++i) data += make_record({{"001", std::to_string(i)}, {"245", "10\x1f" "aTitle"}});
    ReaderOptions options;
    options.chunk_size = 4096;
    RecordReader reader(std::make_unique<MemorySource>(data), options);
    std::vector<FramedRecord> batch;
    std::size_t total = 0;
    while (std::size_t n = reader.next_batch(batch, 64, 1 << 20)) {
        for (const auto& fr : batch) {
            ParsedRecord parsed;
            ASSERT_EQ(parse_record(reader.bytes(fr), {}, parsed), ErrorCode::ok);
            EXPECT_EQ(RecordView(reader.bytes(fr), parsed.entries).field(0).data(), std::to_string(fr.index));
        }
        total += n;
        batch.clear();
    }
    EXPECT_EQ(total, 500u);
}

TEST(Reader, OversizeRecordIsFramedByItsTerminator) {
    auto path = rapidmarc::test::shared_data() / "edge" / "oversize_record_5.mrc";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found";
    RecordReader reader(std::make_unique<FileSource>(path));
    FramedRecord fr;
    ParsedRecord parsed;
    std::vector<std::size_t> sizes;
    while (reader.next(fr)) {
        ASSERT_EQ(fr.error, ErrorCode::ok) << reader.error_of(fr).message();
        ASSERT_EQ(parse_record(reader.bytes(fr), {}, parsed), ErrorCode::ok) << parsed.detail;
        sizes.push_back(fr.size);
    }
    ASSERT_EQ(sizes.size(), 5u);
    EXPECT_EQ(sizes[3], 1096887u);
}

TEST(Reader, EveryRealFileReadsCompletely) {
    const std::pair<const char*, std::size_t> files[] = {
        {"uva_2000.mrc", 2000}, {"jazz_1k.mrc", 1000}, {"lul_fre_500.mrc", 500}, {"hebrew_20.mrc", 20},
        {"solrmarc_spec_76.mrc", 76}, {"auth_1066.mrc", 1066}, {"nepali_96.mrc", 96}, {"loc_386.mrc", 386},
        {"traject_30.mrc", 30}};
    for (const auto& [name, count] : files) {
        auto path = rapidmarc::test::shared_data() / "real" / name;
        if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found";
        RecordReader reader(std::make_unique<FileSource>(path));
        FramedRecord fr;
        ParsedRecord parsed;
        std::size_t n = 0;
        while (reader.next(fr)) {
            ASSERT_EQ(fr.error, ErrorCode::ok) << name;
            ASSERT_EQ(parse_record(reader.bytes(fr), {}, parsed), ErrorCode::ok) << name << ": " << parsed.detail;
            ++n;
        }
        EXPECT_EQ(n, count) << name;
    }
}

TEST(Reader, MissingFileThrowsWithItsName) {
    try {
        FileSource source("/nonexistent/file.mrc");
        FAIL() << "no exception";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/file.mrc"), std::string::npos);
    }
}

TEST(Reader, BatchReadingKeepsTheBufferBounded) {
    std::string data;
    for (int i = 0; i < 20000; ++i) data += make_record({{"001", std::to_string(i)}, {"245", "10\x1f" "aA title long enough"}});
    ReaderOptions options;
    options.chunk_size = 4096;
    RecordReader reader(std::make_unique<MemorySource>(data), options);
    std::vector<FramedRecord> batch;
    std::size_t total = 0, largest = 0;
    while (std::size_t n = reader.next_batch(batch, 16, 1 << 20)) {
        total += n;
        batch.clear();
        largest = std::max(largest, reader.buffer_capacity());
    }
    EXPECT_EQ(total, 20000u);
    EXPECT_LT(largest, 64u * 1024u) << "the buffer grew with the input (" << data.size() << " bytes)";
}

// detach() hands over the buffer the retained records are in and the reader goes on where it
// was, in the buffer it was given; release() ends the reader without copying anything.
TEST(Reader, DetachHandsOverRetainedRecordsAndReadsOn) {
    std::vector<std::string> records;
    std::string data;
    for (int i = 0; i < 60; ++i) {
        records.push_back(make_record({{"001", std::to_string(i)}, {"245", "10\x1f" "a" + std::string(40 + i, 'x')}}));
        data += records.back();
    }
    for (std::size_t chunk : {4096u, 5000u, 1u << 20}) {
        ReaderOptions options;
        options.chunk_size = chunk;
        RecordReader reader(std::make_unique<MemorySource>(data), options);
        reader.retain(true);
        detail::ByteBuffer spare;
        std::vector<FramedRecord> run;
        std::size_t seen = 0;
        FramedRecord fr;
        auto check_run = [&](const detail::ByteBuffer& held) {
            for (const FramedRecord& f : run) {
                ASSERT_LT(seen, records.size());
                EXPECT_EQ(std::string_view(held.data() + f.begin, f.size), records[seen]) << seen << " chunk " << chunk;
                ++seen;
            }
            run.clear();
        };
        while (reader.next(fr)) {
            ASSERT_EQ(fr.error, ErrorCode::ok);
            run.push_back(fr);
            if (run.size() == 7) {  // many chunks' worth: retain() kept them all in place
                const std::size_t unread = reader.unread();
                detail::ByteBuffer held = reader.detach(std::move(spare));
                EXPECT_EQ(reader.unread(), unread);
                check_run(held);
                spare = std::move(held);  // the next run lands in it, as a recycled batch's would
            }
        }
        detail::ByteBuffer last = reader.release();
        check_run(last);
        EXPECT_EQ(seen, records.size());
        EXPECT_FALSE(reader.next(fr));
    }
}

TEST(Reader, ReleaseEndsTheReaderMidStream) {
    const std::string a = make_record({{"001", "a"}});
    const std::string data = a + a + a;
    RecordReader reader(std::make_unique<MemorySource>(data));
    FramedRecord fr;
    ASSERT_TRUE(reader.next(fr));
    detail::ByteBuffer held = reader.release();
    EXPECT_EQ(std::string_view(held.data() + fr.begin, fr.size), a);
    EXPECT_EQ(reader.unread(), 0u);
    EXPECT_FALSE(reader.next(fr));
}
