// arrow.hpp: column shapes (list, first, join), the record and offset columns and schema metadata,
// as a consumer of the C stream interface sees them.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "rapidmarc/arrow.hpp"
#include "rapidmarc/parser.hpp"
#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

const std::vector<std::string> kRecords = {
    make_record({{"001", "a1"}, {"245", "10\x1f" "aFirst\x1f" "bsub"}, {"650", " 0\x1f" "aX\x1f" "aY"}}),
    make_record({{"001", "a2"}}),
    make_record({{"001", "a3"}, {"650", " 7\x1f" "aZ"}}),
};

std::vector<ColumnSpec> column_specs() {
    return {{parse_marcspec("001"), ColumnShape::first, ""},
            {parse_marcspec("650$a"), ColumnShape::join, " | "},
            {parse_marcspec("650$a"), ColumnShape::list, ""},
            {parse_marcspec("650^2"), ColumnShape::first, ""}};
}

std::shared_ptr<ColumnBatch> batch_of(const std::vector<ColumnSpec>& specs, bool record, bool offset) {
    auto batch = std::make_shared<ColumnBatch>(specs, record, offset);
    std::string scratch;
    std::uint64_t offset_so_far = 0, index = 10;
    for (const std::string& bytes : kRecords) {
        ParsedRecord parsed;
        EXPECT_EQ(parse_record(bytes, {}, parsed), ErrorCode::ok);
        batch->append_row(RecordView(bytes, parsed.entries), specs, TextEncoding::utf8, scratch, index, offset_so_far);
        index += 2;
        offset_so_far += bytes.size();
    }
    return batch;
}

// Row `row` of a utf8 array: the value, or "<null>".
std::string scalar(const ArrowArray& a, std::int64_t row) {
    const auto* validity = static_cast<const std::uint8_t*>(a.buffers[0]);
    if (validity && !((validity[row / 8] >> (row % 8)) & 1)) return "<null>";
    const auto* offsets = static_cast<const std::int32_t*>(a.buffers[1]);
    const auto* data = static_cast<const char*>(a.buffers[2]);
    return {data + offsets[row], static_cast<std::size_t>(offsets[row + 1] - offsets[row])};
}

}  // namespace

TEST(ColumnShapes, FirstAndJoinAreScalarsWithNulls) {
    const auto specs = column_specs();
    auto batch = batch_of(specs, false, false);
    EXPECT_EQ(batch->column(0).shape, ColumnShape::first);
    EXPECT_EQ(batch->column(0).null_count, 0u);
    EXPECT_EQ(batch->column(1).null_count, 1u);
    EXPECT_EQ(batch->column(1).data, "X | YZ");
    EXPECT_EQ(batch->column(1).value_offsets, (std::vector<std::int32_t>{0, 5, 5, 6}));
    EXPECT_EQ(batch->column(1).validity, (std::vector<std::uint8_t>{0b101}));
    EXPECT_EQ(batch->column(2).list_offsets, (std::vector<std::int32_t>{0, 2, 2, 3}));
    EXPECT_EQ(batch->column(3).data, "07");
}

TEST(ColumnShapes, StreamSchemaAndArraysCarryShapesRecordAndOffsetColumns) {
    const auto specs = column_specs();
    auto batches = std::make_shared<ColumnBatches>(ColumnBatches{batch_of(specs, true, true)});
    StreamLayout layout;
    layout.names = {"001", "650$a joined", "650$a", "650^2"};
    for (const ColumnSpec& c : specs) layout.shapes.push_back(c.shape);
    layout.record_name = "record";
    layout.offset_name = "offset";
    layout.metadata = {{"rapidmarc.bad_records", "2"}};
    ArrowArrayStream stream{};
    export_stream(batches, layout, &stream);

    ArrowSchema schema{};
    ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
    ASSERT_EQ(schema.n_children, 6);
    const std::vector<std::string> formats = {"l", "l", "u", "u", "+l", "u"};
    const std::vector<std::string> names = {"record", "offset", "001", "650$a joined", "650$a", "650^2"};
    for (std::int64_t i = 0; i < 6; ++i) {
        EXPECT_EQ(schema.children[i]->format, formats[i]) << i;
        EXPECT_EQ(schema.children[i]->name, names[i]) << i;
    }
    ASSERT_NE(schema.metadata, nullptr);
    std::int32_t n = 0, klen = 0, vlen = 0;
    std::memcpy(&n, schema.metadata, 4);
    std::memcpy(&klen, schema.metadata + 4, 4);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(std::string(schema.metadata + 8, static_cast<std::size_t>(klen)), "rapidmarc.bad_records");
    std::memcpy(&vlen, schema.metadata + 8 + klen, 4);
    EXPECT_EQ(std::string(schema.metadata + 12 + klen, static_cast<std::size_t>(vlen)), "2");
    schema.release(&schema);

    ArrowArray array{};
    ASSERT_EQ(stream.get_next(&stream, &array), 0);
    ASSERT_EQ(array.length, 3);
    const auto* records = static_cast<const std::int64_t*>(array.children[0]->buffers[1]);
    const auto* offsets = static_cast<const std::int64_t*>(array.children[1]->buffers[1]);
    EXPECT_EQ(std::vector<std::int64_t>(records, records + 3), (std::vector<std::int64_t>{10, 12, 14}));
    const auto first = static_cast<std::int64_t>(kRecords[0].size());
    const auto second = first + static_cast<std::int64_t>(kRecords[1].size());
    EXPECT_EQ(std::vector<std::int64_t>(offsets, offsets + 3), (std::vector<std::int64_t>{0, first, second}));
    EXPECT_EQ(scalar(*array.children[2], 1), "a2");
    EXPECT_EQ(array.children[3]->null_count, 1);
    EXPECT_EQ(scalar(*array.children[3], 0), "X | Y");
    EXPECT_EQ(scalar(*array.children[3], 1), "<null>");
    EXPECT_EQ(scalar(*array.children[5], 2), "7");
    EXPECT_EQ(array.children[2]->buffers[0], nullptr);  // no nulls: no validity buffer
    array.release(&array);
    ASSERT_EQ(stream.get_next(&stream, &array), 0);
    EXPECT_EQ(array.release, nullptr);
    stream.release(&stream);
}

TEST(ColumnShapes, ABatchThatDoesNotMatchTheLayoutIsAStreamError) {
    const auto specs = column_specs();
    auto batches = std::make_shared<ColumnBatches>(ColumnBatches{batch_of(specs, false, false)});
    StreamLayout layout;
    layout.names = {"a", "b", "c", "d"};  // shapes left as lists: they do not match
    ArrowArrayStream stream{};
    export_stream(batches, layout, &stream);
    ArrowArray array{};
    EXPECT_EQ(stream.get_next(&stream, &array), EINVAL);
    EXPECT_NE(std::string(stream.get_last_error(&stream)).find("shapes"), std::string::npos);
    stream.release(&stream);
}

TEST(ColumnShapes, RowPositionsCanBeSetAfterTheRowsAreAppended) {
    auto batch = batch_of(column_specs(), true, true);
    batch->set_row_position(1, 100, 2000);
    batch->set_row_position(7, 1, 1);  // past the end: ignored
    EXPECT_EQ(batch->record_indexes(), (std::vector<std::int64_t>{10, 100, 14}));
    EXPECT_EQ(batch->byte_offsets()[1], 2000);
    auto plain = batch_of(column_specs(), false, false);
    plain->set_row_position(0, 1, 1);  // no such columns: nothing to set
    EXPECT_TRUE(plain->record_indexes().empty() && plain->byte_offsets().empty());
}
