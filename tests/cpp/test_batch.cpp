#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

std::string many_records(int n) {
    std::string data;
    for (int i = 0; i < n; ++i) data += make_record({{"001", std::to_string(i)}, {"245", "10\x1f" "aTitle " + std::to_string(i)}});
    return data;
}

std::vector<std::string> collect(std::string_view data, bool background, std::size_t max_records) {
    BatchOptions bo;
    bo.background = background;
    bo.max_records = max_records;
    BatchReader reader(std::make_unique<MemorySource>(data), {}, {}, bo);
    std::vector<std::string> out;
    while (auto batch = reader.next()) {
        for (std::size_t i = 0; i < batch->size(); ++i) {
            EXPECT_EQ(batch->parsed[i].error, ErrorCode::ok);
            RecordView view(batch->record(i), batch->parsed[i].entries);
            out.emplace_back(view.field(0).data());
        }
        reader.recycle(std::move(batch));
    }
    return out;
}

}  // namespace

TEST(BatchReader, BackgroundGivesTheSameRecordsInOrder) {
    std::string data = many_records(3000);
    auto sync = collect(data, false, 100);
    auto ahead = collect(data, true, 100);
    ASSERT_EQ(sync.size(), 3000u);
    EXPECT_EQ(sync, ahead);
    for (std::size_t i = 0; i < sync.size(); ++i) ASSERT_EQ(sync[i], std::to_string(i));
}

TEST(BatchReader, StoppingEarlyJoinsTheWorker) {
    std::string data = many_records(5000);
    BatchOptions bo;
    bo.background = true;
    bo.max_records = 10;  // the worker soon fills its queue and waits
    BatchReader reader(std::make_unique<MemorySource>(data), {}, {}, bo);
    auto first = reader.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->size(), 10u);
}  // destructor must not hang

TEST(BatchReader, SourceErrorsReachTheConsumer) {
    int calls = 0;
    auto source = std::make_unique<CallbackSource>([&](char*, std::size_t) -> std::size_t {
        if (++calls > 0) throw std::runtime_error("disk on fire");
        return 0;
    });
    BatchOptions bo;
    bo.background = true;
    BatchReader reader(std::move(source), {}, {}, bo);
    EXPECT_THROW(reader.next(), std::runtime_error);
}

TEST(BatchReader, FramingErrorsTravelWithTheBatch) {
    std::string good = make_record({{"001", "a"}});
    std::string data = good + "abcde" + good;
    BatchOptions bo;
    bo.background = true;
    BatchReader reader(std::make_unique<MemorySource>(data), {}, {}, bo);
    auto batch = reader.next();
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size(), 2u);
    EXPECT_EQ(batch->frames[1].error, ErrorCode::record_length_invalid);
    EXPECT_EQ(batch->record(1), "abcde");
    EXPECT_FALSE(reader.next());
}

// ---- Batch::readable, Batch::error and drain(): one notion of a readable record ----------------

namespace {

// × then ÷ (valid UTF-8): a subfield code byte 0xC3 whose piece folds to no ASCII character, so
// pymarc raises IndexError for the record.
const std::string kUnfoldable = "\xc3\x97\xc3\xb7";

std::string unreadable_code_record() {
    return make_record({{"001", "odd"}, {"245", "10\x1f" "aTitle\x1f" + kUnfoldable}});
}

// Every record of `data`, read through a BatchReader, gathered into one batch (where a batch ends
// is the reader's business: it ends one early rather than wait for input, e.g. before resyncing).
std::unique_ptr<Batch> one_batch(const std::string& data, ReaderOptions ro = {}) {
    BatchReader reader(std::make_unique<MemorySource>(data), ro, {}, {});
    auto all = std::make_unique<Batch>();
    while (auto batch = reader.next()) {
        for (std::size_t i = 0; i < batch->size(); ++i) {
            FramedRecord frame = batch->frames[i];
            all->append(std::move(frame), batch->record(i));
        }
    }
    all->parse({});
    EXPECT_GT(all->size(), 0u);
    return all;
}

}  // namespace

TEST(BatchReadable, ReadableIsFramedParsedAndFoldableCodes) {
    const std::string good = make_record({{"001", "a"}, {"245", "10\x1f" "aT"}});
    const std::string folding = make_record({{"245", "10\x1f\xc3\xa9" "abc"}});  // é folds to 'e'
    const std::string bad_utf8 = make_record({{"245", "10\x1f" "a\xff"}});
    ReaderOptions ro;
    ro.recover = true;
    const auto batch = one_batch(good + folding + unreadable_code_record() + bad_utf8 + "abcde" + good, ro);
    ASSERT_EQ(batch->size(), 6u);
    EXPECT_TRUE(batch->readable(0));
    EXPECT_TRUE(batch->readable(1));
    EXPECT_TRUE(batch->parsed[1].bad_subfield_code);
    EXPECT_FALSE(batch->readable(2));  // parses, but a code folds to nothing
    EXPECT_EQ(batch->parsed[2].error, ErrorCode::ok);
    EXPECT_FALSE(batch->readable(3));  // parse error
    EXPECT_FALSE(batch->readable(4));  // framing error
    EXPECT_TRUE(batch->readable(5));
    EXPECT_FALSE(batch->error(0));
    EXPECT_FALSE(batch->error(1));
    EXPECT_FALSE(batch->error(5));
}

TEST(BatchReadable, ErrorsSayWhereAndWhat) {
    const std::string good = make_record({{"001", "a"}});
    const std::string bad_utf8 = make_record({{"001", "b"}, {"245", "10\x1f" "aok\x1f" "bx\xff"}});
    const std::string odd = unreadable_code_record();
    ReaderOptions ro;
    ro.recover = true;
    const std::string data = good + odd + bad_utf8 + "abcde" + good;
    const auto batch = one_batch(data, ro);
    ASSERT_EQ(batch->size(), 5u);

    const Error code = batch->error(1);
    EXPECT_EQ(code.code, ErrorCode::subfield_code_invalid);
    EXPECT_EQ(code.record_index, 1u);
    EXPECT_EQ(code.byte_offset, good.size());
    EXPECT_EQ(code.culprit, kUnfoldable);  // the code byte and the value
    EXPECT_NE(code.detail.find("field 245 (directory entry 1)"), std::string::npos) << code.detail;
    EXPECT_NE(code.detail.find("\\xc3"), std::string::npos) << code.detail;
    EXPECT_EQ(error_name(code.code), "subfield_code_invalid");
    EXPECT_NE(code.message().find("subfield_code_invalid at record 1"), std::string::npos);

    const Error text = batch->error(2);
    EXPECT_EQ(text.code, ErrorCode::invalid_utf8);
    EXPECT_EQ(text.record_index, 2u);
    EXPECT_EQ(text.byte_offset, good.size() + odd.size());
    EXPECT_EQ(text.culprit, "x\xff");  // the failing value, as pymarc's UnicodeDecodeError quotes it
    EXPECT_EQ(text.detail, batch->parsed[2].detail);

    const Error framing = batch->error(3);
    EXPECT_EQ(framing.code, ErrorCode::record_length_invalid);
    EXPECT_EQ(framing.record_index, 3u);
    EXPECT_EQ(framing.byte_offset, good.size() + odd.size() + bad_utf8.size());
    EXPECT_EQ(framing.detail, batch->frames[3].detail);
    EXPECT_TRUE(framing.culprit.empty());
}

TEST(BatchReadable, StructuralErrorsHaveNoCulprit) {
    std::string rec = make_record({{"001", "a"}, {"245", "10\x1f" "aT"}});
    rec.replace(24 + 12 + 3, 4, "00x1");  // the second directory entry, after the first field was checked
    const auto batch = one_batch(rec);
    const Error e = batch->error(0);
    EXPECT_EQ(e.code, ErrorCode::directory_entry_not_numeric);
    EXPECT_TRUE(e.culprit.empty());
}

namespace {

// Records seen by drain(), by their 001.
std::vector<std::string> drained(const std::string& data, bool strict, std::size_t max_records, Error* error) {
    BatchOptions bo;
    bo.max_records = max_records;
    ReaderOptions ro;
    ro.recover = true;
    BatchReader reader(std::make_unique<MemorySource>(data), ro, {}, bo);
    std::vector<std::string> seen;
    try {
        drain(reader, strict, [&](Batch& batch) {
            for (std::size_t i = 0; i < batch.size(); ++i)
                seen.emplace_back(batch.readable(i) ? RecordView(batch.record(i), batch.parsed[i].entries).field(0).data()
                                                    : "bad");
        });
    } catch (const ParseError& e) {
        *error = e.error();
    }
    return seen;
}

}  // namespace

TEST(Drain, PermissiveHandsOutEverything) {
    const std::string data = many_records(5) + unreadable_code_record() + many_records(2);
    Error error;
    const auto seen = drained(data, false, 2, &error);
    EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "bad", "0", "1"}));
    EXPECT_FALSE(error);
}

TEST(Drain, StrictStopsBeforeTheBatchOfTheFirstUnreadableRecord) {
    // Batches of two: {0,1} {2,3} {4,odd} ... the third batch is never handed out.
    const std::string data = many_records(5) + unreadable_code_record() + many_records(2);
    Error error;
    const auto seen = drained(data, true, 2, &error);
    EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(error.code, ErrorCode::subfield_code_invalid);
    EXPECT_EQ(error.record_index, 5u);

    // A framing error is found the same way.
    const auto framing = drained(many_records(3) + "abcde" + many_records(1), true, 10, &error);
    EXPECT_TRUE(framing.empty());
    EXPECT_EQ(error.code, ErrorCode::record_length_invalid);
    EXPECT_EQ(error.record_index, 3u);
}

TEST(Drain, RecyclesEveryBatchAndPropagatesExceptions) {
    // A stream that counts what comes back.
    struct Counting final : BatchStream {
        int left = 3, out = 0, back = 0;
        std::unique_ptr<Batch> next() override {
            if (left == 0) return nullptr;
            --left;
            ++out;
            auto b = std::make_unique<Batch>();
            const std::string rec = make_record({{"001", "x"}});
            FramedRecord frame;
            frame.size = rec.size();
            b->append(std::move(frame), rec);
            b->parse({});
            return b;
        }
        void recycle(std::unique_ptr<Batch> batch) override { back += batch != nullptr; }
    };
    Counting all;
    int calls = 0;
    drain(all, true, [&](Batch&) { ++calls; });
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(all.back, 3);

    Counting failing;
    EXPECT_THROW(drain(failing, false, [&](Batch&) { throw std::runtime_error("consumer failed"); }),
                 std::runtime_error);
    EXPECT_EQ(failing.out, 1);  // nothing more is read after the consumer's exception
}

// A batch never waits for the source once it holds a record: what has arrived is handed out at
// once (a pipe that pauses), and an error of the source comes after every complete record before it.
TEST(BatchReader, HandsOutWhatHasArrivedBeforeReadingOn) {
    const std::string record = make_record({{"001", "a"}});
    const std::string two = record + record.substr(0, 10);  // one record and the start of the next
    int calls = 0;
    auto source = std::make_unique<CallbackSource>([&](char* dst, std::size_t n) -> std::size_t {
        if (++calls > 1) throw std::runtime_error("connection reset");
        const std::size_t got = std::min(n, two.size());
        std::memcpy(dst, two.data(), got);
        return got;
    });
    BatchReader reader(std::move(source), {}, {}, {});
    auto batch = reader.next();
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->size(), 1u);
    EXPECT_EQ(batch->record(0), record);
    EXPECT_EQ(calls, 1);
    EXPECT_THROW(reader.next(), std::runtime_error);
}

// Batch::adopt takes a reader's buffer over, or copies when frames overlap (recover mode frames a
// record inside a damaged chunk) or when the reader has read far ahead; either way every record
// keeps its own bytes.
TEST(BatchAdopt, TakesOverOrCopiesAndKeepsEveryRecordsBytes) {
    const std::string a = make_record({{"001", "a"}, {"245", "10\x1f" "aTitle"}});
    const std::string b = make_record({{"001", "bb"}, {"245", "10\x1f" "aAnother"}});
    std::string cut = b;  // says 20 bytes more than it has: its chunk swallows the next record
    cut.replace(0, 5, std::to_string(100000 + b.size() + 20).substr(1));
    struct Case {
        std::string data;
        bool recover;
        std::size_t chunk;
        std::size_t max_records;
    };
    const std::vector<Case> cases = {
        {a + b + a, false, 4096, 2},                  // little read ahead: taken over
        {a + b + a + b + a + b + a, false, 1u << 20, 2},  // read far ahead of the batch: copied
        {a + cut + a + b + a, true, 4096, 3},         // a record inside the damaged chunk: copied
    };
    for (const Case& c : cases) {
        ReaderOptions options;
        options.recover = c.recover;
        options.chunk_size = c.chunk;
        RecordReader expect_reader(std::make_unique<MemorySource>(c.data), options);
        std::vector<std::string> expected;
        FramedRecord fr;
        while (expect_reader.next(fr)) expected.emplace_back(expect_reader.bytes(fr));

        RecordReader reader(std::make_unique<MemorySource>(c.data), options);
        Batch batch;
        batch.bytes.append("stale bytes of an earlier batch");
        std::vector<std::string> got;
        for (;;) {
            batch.clear();
            if (reader.next_batch(batch.frames, c.max_records, std::size_t{1} << 20) == 0) break;
            batch.adopt(reader);
            batch.parse({});
            for (std::size_t i = 0; i < batch.size(); ++i) got.emplace_back(batch.record(i));
        }
        EXPECT_EQ(got, expected) << c.data.size();
        if (c.recover) {
            EXPECT_EQ(got.size(), 5u);  // the damaged chunk and the four records
        }
    }
}
