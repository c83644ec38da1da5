#include <gtest/gtest.h>

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
