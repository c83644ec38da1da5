// Arrow columns and the C stream interface (pyarrow reads them in tests/python/test_arrow.py).
#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

#include "rapidmarc/arrow.hpp"
#include "rapidmarc/parser.hpp"
#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

std::shared_ptr<ColumnBatch> batch_of(const std::vector<std::string>& records, const std::vector<FieldSpec>& specs) {
    auto batch = std::make_shared<ColumnBatch>(specs.size());
    std::string scratch;
    for (const std::string& bytes : records) {
        ParsedRecord parsed;
        EXPECT_EQ(parse_record(bytes, {}, parsed), ErrorCode::ok);
        batch->append_row(RecordView(bytes, parsed.entries), specs, TextEncoding::utf8, scratch);
    }
    return batch;
}

// The values of row `row` of list column `list` (a +l array with a u/z child).
std::vector<std::string> row_values(const ArrowArray& list, std::int64_t row) {
    const auto* list_offsets = static_cast<const std::int32_t*>(list.buffers[1]);
    const ArrowArray& values = *list.children[0];
    const auto* offsets = static_cast<const std::int32_t*>(values.buffers[1]);
    const auto* data = static_cast<const char*>(values.buffers[2]);
    std::vector<std::string> out;
    for (std::int32_t v = list_offsets[row]; v < list_offsets[row + 1]; ++v)
        out.emplace_back(data + offsets[v], static_cast<std::size_t>(offsets[v + 1] - offsets[v]));
    return out;
}

const std::vector<std::string> kRecords = {
    make_record({{"001", "a1"}, {"245", "10\x1f" "aFirst\x1f" "bsub"}, {"650", " 0\x1f" "aX\x1f" "aY"}}),
    make_record({{"001", "a2"}}),
    make_record({{"001", "a3"}, {"650", " 0\x1f" "aZ"}}),
};

}  // namespace

TEST(Arrow, ColumnsHoldOneListPerRecord) {
    const std::vector<FieldSpec> specs = {parse_field_spec("001"), parse_field_spec("650$a")};
    auto batch = batch_of(kRecords, specs);
    EXPECT_EQ(batch->rows(), 3u);
    EXPECT_EQ(batch->column(1).list_offsets, (std::vector<std::int32_t>{0, 2, 2, 3}));
    EXPECT_EQ(batch->column(1).data, "XYZ");
}

TEST(Arrow, StreamHandsOutSchemaThenOneArrayPerBatchThenTheEnd) {
    const std::vector<FieldSpec> specs = {parse_field_spec("001"), parse_field_spec("245"), parse_field_spec("650$a")};
    auto batches = std::make_shared<ColumnBatches>();
    batches->push_back(batch_of({kRecords[0], kRecords[1]}, specs));
    batches->push_back(batch_of({kRecords[2]}, specs));
    ArrowArrayStream stream{};
    export_stream(batches, {"001", "245", "650$a"}, false, &stream);

    ArrowSchema schema{};
    ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
    EXPECT_STREQ(schema.format, "+s");
    ASSERT_EQ(schema.n_children, 3);
    EXPECT_STREQ(schema.children[2]->name, "650$a");
    EXPECT_STREQ(schema.children[2]->format, "+l");
    EXPECT_STREQ(schema.children[2]->children[0]->format, "u");
    schema.release(&schema);
    EXPECT_EQ(schema.release, nullptr);

    ArrowArray first{};
    ASSERT_EQ(stream.get_next(&stream, &first), 0);
    ASSERT_NE(first.release, nullptr);
    EXPECT_EQ(first.length, 2);
    EXPECT_EQ(first.n_children, 3);
    EXPECT_EQ(row_values(*first.children[0], 1), (std::vector<std::string>{"a2"}));
    EXPECT_EQ(row_values(*first.children[1], 0), (std::vector<std::string>{"First sub"}));
    EXPECT_EQ(row_values(*first.children[2], 0), (std::vector<std::string>{"X", "Y"}));
    EXPECT_TRUE(row_values(*first.children[2], 1).empty());

    ArrowArray second{};
    ASSERT_EQ(stream.get_next(&stream, &second), 0);
    EXPECT_EQ(second.length, 1);
    // A consumer may move a child out and release it on its own, after the parent.
    ArrowArray moved = *second.children[2];
    second.children[2]->release = nullptr;
    second.release(&second);
    EXPECT_EQ(row_values(moved, 0), (std::vector<std::string>{"Z"}));
    moved.release(&moved);

    ArrowArray end{};
    ASSERT_EQ(stream.get_next(&stream, &end), 0);
    EXPECT_EQ(end.release, nullptr);
    EXPECT_EQ(stream.get_last_error(&stream), nullptr);
    stream.release(&stream);
    EXPECT_EQ(stream.release, nullptr);
    // Arrays outlive the stream: they share the batches.
    EXPECT_EQ(row_values(*first.children[0], 0), (std::vector<std::string>{"a1"}));
    first.release(&first);
}

TEST(Arrow, EmptyColumnsHaveValidBuffersAndBinarySchemas) {
    auto batches = std::make_shared<ColumnBatches>();
    batches->push_back(batch_of({kRecords[1]}, {parse_field_spec("999$a")}));
    ArrowArrayStream stream{};
    export_stream(batches, {"999$a"}, true, &stream);
    ArrowSchema schema{};
    ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
    EXPECT_STREQ(schema.children[0]->children[0]->format, "z");
    schema.release(&schema);
    ArrowArray array{};
    ASSERT_EQ(stream.get_next(&stream, &array), 0);
    const ArrowArray& values = *array.children[0]->children[0];
    EXPECT_EQ(values.length, 0);
    EXPECT_NE(values.buffers[2], nullptr);
    array.release(&array);
    stream.release(&stream);
}

TEST(Arrow, OnDemandStreamsPullBatchesAndReportErrors) {
    const std::vector<FieldSpec> specs = {parse_field_spec("001")};
    int calls = 0;
    ArrowArrayStream stream{};
    export_stream(
        [&]() -> std::shared_ptr<const ColumnBatch> {
            ++calls;
            if (calls == 1) return batch_of({kRecords[0]}, specs);
            if (calls == 2) throw std::runtime_error("record 7 at byte offset 1234: bad length");
            return nullptr;
        },
        {"001"}, false, &stream);
    ArrowArray array{};
    ASSERT_EQ(stream.get_next(&stream, &array), 0);
    EXPECT_EQ(row_values(*array.children[0], 0), (std::vector<std::string>{"a1"}));
    array.release(&array);
    EXPECT_EQ(stream.get_next(&stream, &array), EINVAL);
    EXPECT_STREQ(stream.get_last_error(&stream), "record 7 at byte offset 1234: bad length");
    ASSERT_EQ(stream.get_next(&stream, &array), 0);  // the source's end
    EXPECT_EQ(array.release, nullptr);
    ASSERT_EQ(stream.get_next(&stream, &array), 0);  // and it is not asked again
    EXPECT_EQ(calls, 3);
    stream.release(&stream);
}
