// ParallelReader and byte-range reading must give exactly what the sequential reader gives.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>

#include "test_support.hpp"

#include <rapidmarc/detail/parallel_for.hpp>

using namespace rapidmarc;
using rapidmarc::test::make_record;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;

namespace {

using Item = rapidmarc::test::Delivered;

std::vector<Item> sequential(std::string_view data, ReaderOptions ro = {}) {
    BatchReader reader(std::make_unique<MemorySource>(data), ro, {}, {});
    return rapidmarc::test::delivered(reader);
}

std::vector<Item> parallel(std::string_view data, unsigned workers, std::size_t range_bytes, ReaderOptions ro = {},
                           bool* fell_back = nullptr) {
    ParallelOptions po;
    po.workers = workers;
    po.range_bytes = range_bytes;
    po.reader = ro;
    ParallelReader reader(RangeInput::memory(data), po);
    auto items = rapidmarc::test::delivered(reader);
    if (fell_back) *fell_back = reader.fell_back();
    return items;
}

std::string many_records(int n) {
    std::string data;
    for (int i = 0; i < n; ++i)
        data += make_record({{"001", std::to_string(i)}, {"245", "10\x1f" "aTitle " + std::string(i % 50, 'x')}});
    return data;
}

std::vector<std::filesystem::path> corpus_files() {
    std::vector<std::filesystem::path> files;
    for (const char* dir : {"real", "edge"})
        for (const auto& entry : std::filesystem::directory_iterator(shared_data() / dir))
            if (entry.path().extension() == ".mrc") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST(ParallelReader, SameRecordsInOrderAsSequential) {
    const std::string data = many_records(4000);
    const auto expected = sequential(data);
    ASSERT_EQ(expected.size(), 4000u);
    for (unsigned workers : {1u, 2u, 4u, 7u}) {
        bool fell_back = true;
        EXPECT_EQ(parallel(data, workers, 4096, {}, &fell_back), expected) << workers << " workers";
        EXPECT_FALSE(fell_back);
    }
}

TEST(ParallelReader, ARingSmallerThanTheWorkersNeitherHangsNorReorders) {
    // The consumer sleeps until a wave of ranges (one per worker, at most max_pending) is
    // finished: whatever the ring's size next to the number of workers, every record arrives, in
    // order, and the reader ends.
    const std::string data = many_records(3000);
    const auto expected = sequential(data);
    for (unsigned workers : {2u, 4u, 7u}) {
        for (std::size_t pending : {1u, 2u, 3u, 5u}) {
            ParallelOptions po;
            po.workers = workers;
            po.range_bytes = 4096;
            po.max_pending = pending;
            ParallelReader reader(RangeInput::memory(data), po);
            EXPECT_EQ(rapidmarc::test::delivered(reader), expected) << workers << " workers, max_pending " << pending;
        }
    }
}

TEST(ParallelReader, EveryCorpusFileMatchesTheSequentialReader) {
    for (const auto& path : corpus_files()) {
        const std::string data = read_file(path);
        for (bool recover : {false, true}) {
            ReaderOptions ro;
            ro.recover = recover;
            const auto expected = sequential(data, ro);
            for (std::size_t range : {std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 20}) {
                EXPECT_EQ(parallel(data, 3, range, ro), expected)
                    << path.filename() << " recover=" << recover << " range=" << range;
            }
        }
    }
}

TEST(ParallelReader, ReadsAFileByPath) {
    const auto path = shared_data() / "real" / "uva_2000.mrc";
    const auto expected = sequential(read_file(path));
    ParallelOptions po;
    po.workers = 2;
    po.range_bytes = 100000;
    ParallelReader reader(RangeInput::file(path), po);
    EXPECT_EQ(rapidmarc::test::delivered(reader), expected);
    EXPECT_FALSE(reader.fell_back());
}

TEST(ParallelReader, DamagedInputFallsBackToSequentialAndMatchesIt) {
    std::string data = many_records(500);
    const std::size_t cut = data.size() / 2;
    data[cut] = '\x1d';                       // a stray terminator ...
    data.replace(cut + 1, 5, "00040");        // ... followed by a plausible-looking length
    data.insert(data.size() / 3, "garbage");  // and a region the sequential reader cannot frame
    for (bool recover : {false, true}) {
        ReaderOptions ro;
        ro.recover = recover;
        bool fell_back = false;
        EXPECT_EQ(parallel(data, 2, 4096, ro, &fell_back), sequential(data, ro)) << "recover=" << recover;
        EXPECT_TRUE(fell_back);
    }
}

TEST(ParallelReader, EmptyInputAndRangesWithoutARecordStart) {
    EXPECT_TRUE(parallel("", 2, 4096).empty());
    // One record far larger than a range: most ranges hold no record start.
    std::string big = make_record({{"001", "x"}, {"500", "  \x1f" "a" + std::string(9000, 'b')},
                                   {"501", "  \x1f" "a" + std::string(9000, 'c')}});
    std::string data = big + many_records(3) + big;
    EXPECT_EQ(parallel(data, 2, 4096), sequential(data));
}

TEST(ParallelReader, AbandoningTheReaderMidwayStopsTheWorkers) {
    const std::string data = many_records(20000);
    ParallelOptions po;
    po.workers = 2;
    po.range_bytes = 4096;
    ParallelReader reader(RangeInput::memory(data), po);
    auto first = reader.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->frames.front().index, 0u);
}  // the destructor must not hang

TEST(ParallelReader, WorkersRunAtMostMaxPendingRangesAhead) {
    // Back-pressure: a consumer that stops consuming stops the workers, so memory stays bounded.
    const std::string data = many_records(20000);
    ParallelOptions po;
    po.workers = 2;
    po.range_bytes = 4096;
    po.max_pending = 3;
    ParallelReader reader(RangeInput::memory(data), po);
    auto first = reader.next();
    ASSERT_TRUE(first);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // time to run ahead if they could
    EXPECT_LE(reader.ranges_started(), 1u + 3u);
    std::size_t largest = first->bytes.size();
    while (auto b = reader.next()) {
        largest = std::max(largest, b->bytes.size());
        reader.recycle(std::move(b));
    }
    EXPECT_LE(largest, 4096u + 2000u);  // a batch holds one range's records
    EXPECT_GT(reader.ranges_started(), 100u);
}

TEST(ByteRanges, CutsAtEveryOffsetPartitionTheRecords) {
    // Two ranges cut at any offset hold every record exactly once, in order.
    const std::string data = many_records(12);
    const auto expected = sequential(data);
    const RangeInput input = RangeInput::memory(data);
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
        std::vector<std::string> got;
        Batch batch;
        std::uint64_t chain = 0;
        for (auto [b, e] : {std::pair<std::uint64_t, std::uint64_t>{0, cut}, {cut, data.size()}}) {
            const RangeInfo info = read_range(input, b, e, {}, {}, batch);
            ASSERT_TRUE(info.clean);
            if (info.start == RangeInfo::none) continue;
            ASSERT_EQ(info.start, chain) << "cut " << cut;
            chain = info.end;
            for (std::size_t i = 0; i < batch.size(); ++i) got.emplace_back(batch.record(i));
        }
        ASSERT_EQ(got.size(), expected.size()) << "cut " << cut;
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i].bytes) << "cut " << cut;
    }
}

TEST(ByteRanges, ARealFileCutIntoManyRanges) {
    const std::string data = read_file(shared_data() / "real" / "traject_30.mrc");
    const auto expected = sequential(data);
    const RangeInput input = RangeInput::memory(data);
    for (std::size_t step : {1u, 7u, 333u, 4096u}) {
        std::vector<std::string> got;
        Batch batch;
        for (std::size_t b = 0; b < data.size(); b += step) {
            read_range(input, b, b + step, {}, {}, batch);
            for (std::size_t i = 0; i < batch.size(); ++i) got.emplace_back(batch.record(i));
        }
        ASSERT_EQ(got.size(), expected.size()) << "step " << step;
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i].bytes);
    }
}

TEST(ParallelFor, CoversTheRangeOnceAndRethrows) {
    std::vector<std::atomic<int>> hits(1000);
    detail::parallel_for(hits.size(), 3, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    EXPECT_THROW(detail::parallel_for(10, 2, [](std::size_t b, std::size_t) {
                     if (b == 0) throw std::runtime_error("boom");
                 }),
                 std::runtime_error);
    detail::parallel_for(0, 2, [](std::size_t, std::size_t) { FAIL(); });
}

namespace {

// What a partitioned reader built on frame_range / frame_span / read_span delivers for `step`-byte
// ranges: chained ranges read with read_range, a broken span re-read with read_span up to the start
// of a later clean range (rapidmarc.dask does this across processes).
std::vector<Item> partitioned(const RangeInput& input, std::size_t step, const ReaderOptions& ro) {
    const std::uint64_t size = input.size();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (std::uint64_t b = 0; b < size; b += step) ranges.emplace_back(b, std::min<std::uint64_t>(b + step, size));
    std::vector<RangeFrames> facts;
    for (auto [b, e] : ranges) facts.push_back(frame_range(input, b, e, ro));
    std::vector<Item> out;
    std::uint64_t expected = 0, index = 0;
    Batch batch;
    auto deliver = [&](std::uint64_t base) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const FramedRecord& f = batch.frames[i];
            const ParsedRecord& p = batch.parsed[i];
            const bool framed = f.error == ErrorCode::ok;
            out.push_back({base + i, f.offset, f.error, framed ? p.error : ErrorCode::ok,
                           framed ? p.entries.size() : 0, std::string(batch.record(i))});
        }
    };
    for (std::size_t k = 0; k < ranges.size();) {
        const RangeInfo& info = facts[k].info;
        const bool chained = info.start == RangeInfo::none ? expected >= ranges[k].second
                                                           : info.start == expected && info.clean;
        if (chained) {
            if (info.start != RangeInfo::none) {
                read_range(input, ranges[k].first, ranges[k].second, ro, {}, batch);
                EXPECT_EQ(batch.size(), facts[k].items);
                deliver(index);
                index += facts[k].items;
                expected = info.end;
            }
            ++k;
            continue;
        }
        if (expected >= size) break;
        std::vector<std::uint64_t> rejoin;
        std::vector<std::size_t> owner;
        for (std::size_t j = k + 1; j < ranges.size(); ++j) {
            if (facts[j].info.start == RangeInfo::none || !facts[j].info.clean) continue;
            rejoin.push_back(facts[j].info.start);
            owner.push_back(j);
        }
        const SpanFrames span = frame_span(input, expected, rejoin, ro);
        read_span(input, expected, span.rejoin == RangeInfo::none ? size : span.rejoin, ro, {}, batch);
        EXPECT_EQ(batch.size(), span.items);
        deliver(index);
        index += span.items;
        if (span.rejoin == RangeInfo::none) break;
        const auto at = std::lower_bound(rejoin.begin(), rejoin.end(), span.rejoin) - rejoin.begin();
        expected = span.rejoin;
        k = owner[static_cast<std::size_t>(at)];
    }
    return out;
}

}  // namespace

// Framing damage made from a real file's records: no file of the shared data breaks the chain of
// byte ranges, and each of these does (at the steps below), so the re-read of broken spans runs.
std::vector<std::pair<std::string, std::string>> damaged_variants(const std::string& data) {
    std::vector<std::string> recs;
    for (std::size_t pos = 0; pos + 5 <= data.size();) {
        const std::size_t n = std::stoul(data.substr(pos, 5));
        recs.push_back(data.substr(pos, n));
        pos += n;
    }
    auto join = [](const std::vector<std::string>& r) {
        std::string out;
        for (const auto& x : r) out += x;
        return out;
    };
    std::vector<std::pair<std::string, std::string>> out;
    auto r = recs;
    r[40].replace(0, 5, "12x45");  // a length that is not a number
    out.emplace_back("bad length", join(r));
    r = recs;
    std::string junk;
    for (int i = 0; i < 130; ++i) junk += "this is no MARC record ";
    r.insert(r.begin() + 21, junk);
    out.emplace_back("junk", join(r));
    r = recs;
    char len[6];
    std::snprintf(len, sizeof len, "%05zu", r[60].size() + 300);
    r[60].replace(0, 5, len);  // runs into the next record
    out.emplace_back("long length", join(r));
    r = recs;
    r[80].back() = 'X';  // no record terminator
    out.emplace_back("no terminator", join(r));
    r = recs;
    const std::string fake = "\x1d" "00030nam a22" + std::string(17, 'x') + "\x1d";  // a plausible start inside a record
    for (std::size_t i = 0; i < r.size(); i += 2)
        for (std::size_t at : {r[i].size() / 4, r[i].size() / 2, 3 * r[i].size() / 4}) r[i].replace(at, fake.size(), fake);
    out.emplace_back("false starts", join(r));
    out.emplace_back("truncated", data.substr(0, data.size() - 300));
    return out;
}

TEST(ByteRanges, PartitionedReadingIsSequential) {
    // Every real and edge file and damaged variants, cut at many sizes, in both recover modes: the
    // items (bytes, index, offset, framing and parse errors) are the sequential reader's.
    std::vector<std::pair<std::string, std::string>> inputs;
    for (const auto& path : corpus_files()) inputs.emplace_back(path.filename().string(), read_file(path));
    for (auto& v : damaged_variants(read_file(shared_data() / "real" / "nepali_96.mrc"))) inputs.push_back(std::move(v));
    for (const auto& [name, data] : inputs) {
        const RangeInput input = RangeInput::memory(data);
        for (bool recover : {false, true}) {
            ReaderOptions ro;
            ro.recover = recover;
            const auto expected = sequential(data, ro);
            for (std::size_t step : {333u, 1024u, 7000u, 65536u}) {
                const auto got = partitioned(input, step, ro);
                ASSERT_EQ(got.size(), expected.size()) << name << " step " << step << " recover " << recover;
                for (std::size_t i = 0; i < got.size(); ++i)
                    ASSERT_EQ(got[i], expected[i]) << name << " step " << step << " recover " << recover << " item " << i;
            }
        }
    }
}

TEST(ByteRanges, TheDamagedVariantsBreakTheChain) {
    for (const auto& [name, data] : damaged_variants(read_file(shared_data() / "real" / "nepali_96.mrc"))) {
        const RangeInput input = RangeInput::memory(data);
        for (std::size_t step : {1024u, 7000u}) {
            std::uint64_t expected = 0;
            bool broken = false;
            for (std::uint64_t b = 0; b < data.size(); b += step) {
                const RangeFrames f = frame_range(input, b, b + step, {});
                if (f.info.start == RangeInfo::none) {
                    broken |= expected < std::min<std::uint64_t>(b + step, data.size());
                    continue;
                }
                broken |= f.info.start != expected || !f.info.clean;
                expected = f.info.end;
            }
            EXPECT_TRUE(broken) << name << " step " << step;
        }
    }
}

TEST(ByteRanges, ReaderInputReadsThroughItsFunction) {
    const std::string data = many_records(50);
    std::size_t calls = 0;
    const RangeInput input = RangeInput::reader(data.size(), [&](char* dst, std::size_t n, std::uint64_t offset) {
        ++calls;
        const std::size_t got = std::min<std::size_t>(n, data.size() - offset);
        std::copy_n(data.data() + offset, got, dst);
        return got;
    });
    const RangeInput memory = RangeInput::memory(data);
    Batch a, b;
    for (std::uint64_t cut : {0u, 100u, 1000u}) {
        const RangeInfo x = read_range(input, cut, cut + 1500, {}, {}, a);
        const RangeInfo y = read_range(memory, cut, cut + 1500, {}, {}, b);
        EXPECT_EQ(x.start, y.start);
        EXPECT_EQ(x.end, y.end);
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.record(i), b.record(i));
        EXPECT_EQ(frame_range(input, cut, cut + 1500, {}).items, a.size());
    }
    EXPECT_GT(calls, 0u);
}

TEST(ByteRanges, BatchedRangesAndSpansHoldTheSameItems) {
    // read_range / read_span with a batch callback: the same items, indexes counting on across
    // batches of about batch_bytes (here small, so that a range makes many batches).
    auto collect = [](Batch& b, std::vector<Item>& out) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            const FramedRecord& f = b.frames[i];
            const bool framed = f.error == ErrorCode::ok;
            out.push_back({f.index, f.offset, f.error, framed ? b.parsed[i].error : ErrorCode::ok,
                           framed ? b.parsed[i].entries.size() : 0, std::string(b.record(i))});
        }
    };
    const std::string real = read_file(shared_data() / "real" / "loc_386.mrc");
    const auto variants = damaged_variants(read_file(shared_data() / "real" / "nepali_96.mrc"));
    for (const std::string* data : {&real, &variants[1].second}) {
        const RangeInput input = RangeInput::memory(*data);
        for (bool recover : {false, true}) {
            ReaderOptions ro;
            ro.recover = recover;
            for (std::uint64_t begin : {std::uint64_t{0}, std::uint64_t{5000}}) {
                const std::uint64_t end = begin + 60000;
                Batch whole;
                std::vector<Item> one, many;
                const RangeInfo a = read_range(input, begin, end, ro, {}, whole);
                collect(whole, one);
                std::size_t batches = 0;
                const RangeInfo b = read_range(input, begin, end, ro, {}, 4096, [&](Batch& batch) {
                    ++batches;
                    collect(batch, many);
                });
                EXPECT_EQ(a.start, b.start);
                EXPECT_EQ(a.end, b.end);
                EXPECT_EQ(a.clean, b.clean);
                EXPECT_EQ(one, many);
                EXPECT_GT(batches, 2u);
                if (a.start == RangeInfo::none) continue;
                one.clear();
                many.clear();
                read_span(input, a.start, data->size(), ro, {}, whole);
                collect(whole, one);
                read_span(input, a.start, data->size(), ro, {}, 4096, [&](Batch& batch) { collect(batch, many); });
                EXPECT_EQ(one, many);
                EXPECT_FALSE(one.empty());
            }
        }
    }
}

// A worker's error reaches the consumer, and so does every later next(): the workers are stopped,
// so waiting for the next range would wait for ever (found by review).
TEST(ParallelReader, AWorkersErrorIsRethrownByEveryLaterNext) {
    const std::string data = many_records(3000);
    const std::uint64_t bad = data.size() / 2;
    const RangeInput input = RangeInput::reader(data.size(), [&](char* dst, std::size_t n, std::uint64_t offset) {
        if (offset <= bad && bad < offset + n) throw std::runtime_error("the disk is gone");
        const std::size_t got = std::min<std::size_t>(n, data.size() - offset);
        std::copy_n(data.data() + offset, got, dst);
        return got;
    });
    ParallelOptions options;
    options.workers = 2;
    options.range_bytes = 4096;
    ParallelReader reader(input, options);
    std::size_t records = 0;
    auto drain_until_error = [&] {
        while (auto batch = reader.next()) {
            records += batch->size();
            reader.recycle(std::move(batch));
        }
    };
    EXPECT_THROW(drain_until_error(), std::runtime_error);
    EXPECT_GT(records, 0u);
    EXPECT_THROW(reader.next(), std::runtime_error);
    EXPECT_THROW(reader.next(), std::runtime_error);
}
