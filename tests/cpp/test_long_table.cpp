// arrow.hpp's long table: ColumnBatch::long_table(), append_long() and its export (one row per
// subfield; control fields, the leader and data fields without subfields; field selection; the
// record positions set afterwards), as a consumer of the C stream interface sees it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapidmarc/arrow.hpp"
#include "rapidmarc/parser.hpp"
#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::make_record;

namespace {

const std::vector<std::string> kRecords = {
    make_record({{"001", "a1"}, {"245", "10\x1f" "aFirst\x1f" "bsub"}, {"500", "  "}, {"650", " 0\x1f" "aX\x1f" "aY"}}),
    make_record({{"001", "a2"}, {"650", " 7\x1f" "z\xc3\xa9t\xc3\xa9"}}),
};

std::shared_ptr<ColumnBatch> long_batch(const std::vector<std::string>& field_specs, TextEncoding encoding) {
    std::vector<FieldSpec> fields;
    for (const std::string& s : field_specs) fields.push_back(parse_field_spec(s));
    auto batch = std::make_shared<ColumnBatch>(ColumnBatch::long_table());
    std::string scratch;
    std::uint64_t offset = 0, index = 0;
    for (const std::string& bytes : kRecords) {
        ParsedRecord parsed;
        EXPECT_EQ(parse_record(bytes, {}, parsed), ErrorCode::ok);
        batch->append_long(RecordView(bytes, parsed.entries), fields, encoding, scratch, index, offset);
        index += 2;  // a bad record between them
        offset += bytes.size();
    }
    return batch;
}

// Row `row` of column `c` (a kLongColumns column): the value, or "<null>".
std::string cell(const ColumnBatch& b, std::size_t c, std::size_t row) {
    const ColumnBatch::Column& col = b.column(c);
    if (!col.validity.empty() && !((col.validity[row / 8] >> (row % 8)) & 1)) return "<null>";
    return col.data.substr(static_cast<std::size_t>(col.value_offsets[row]),
                           static_cast<std::size_t>(col.value_offsets[row + 1] - col.value_offsets[row]));
}

std::string field_number(const ColumnBatch& b, std::size_t row) {
    if (!((b.field_validity()[row / 8] >> (row % 8)) & 1)) return "<null>";
    return std::to_string(b.field_numbers()[row]);
}

// Each row as "record field tag ind1 ind2 code value".
std::vector<std::string> rows_of(const ColumnBatch& b) {
    std::vector<std::string> out;
    for (std::size_t r = 0; r < b.rows(); ++r) {
        std::string line = std::to_string(b.record_indexes()[r]) + " " + field_number(b, r);
        for (std::size_t c = 0; c < b.columns(); ++c) line += " " + cell(b, c, r);
        out.push_back(line);
    }
    return out;
}

}  // namespace

TEST(LongTable, OneRowPerSubfieldControlFieldLeaderAndEmptyField) {
    auto b = long_batch({}, TextEncoding::utf8);
    EXPECT_TRUE(b->is_long());
    EXPECT_EQ(b->records(), 2u);
    const std::string leader0 = kRecords[0].substr(0, 24), leader1 = kRecords[1].substr(0, 24);
    EXPECT_EQ(rows_of(*b), (std::vector<std::string>{
                               "0 <null> LDR <null> <null> <null> " + leader0,
                               "0 0 001 <null> <null> <null> a1",
                               "0 1 245 1 0 a First",
                               "0 1 245 1 0 b sub",
                               "0 2 500     <null> <null>",  // a data field without subfields
                               "0 3 650   0 a X",
                               "0 3 650   0 a Y",
                               "2 <null> LDR <null> <null> <null> " + leader1,
                               "2 0 001 <null> <null> <null> a2",
                               "2 1 650   7 z \xc3\xa9t\xc3\xa9",
                           }));
    EXPECT_EQ(b->field_null_count(), 2u);
    EXPECT_EQ(b->byte_offsets()[7], static_cast<std::int64_t>(kRecords[0].size()));
}

TEST(LongTable, FieldsSelectRowsAndCodesSelectSubfields) {
    EXPECT_EQ(rows_of(*long_batch({"650$a", "0XX"}, TextEncoding::utf8)),
              (std::vector<std::string>{"0 0 001 <null> <null> <null> a1", "0 3 650   0 a X", "0 3 650   0 a Y",
                                        "2 0 001 <null> <null> <null> a2"}));
    EXPECT_EQ(rows_of(*long_batch({"001$a", "5XX"}, TextEncoding::utf8)),  // control fields have no $a
              (std::vector<std::string>{"0 2 500     <null> <null>"}));
    EXPECT_EQ(long_batch({"LDR"}, TextEncoding::utf8)->rows(), 2u);
    EXPECT_EQ(long_batch({"999"}, TextEncoding::utf8)->rows(), 0u);
}

TEST(LongTable, TextEncodings) {
    // As ISO 8859-1 (a MARC-8 record's control fields; here the values too): é's two bytes are two characters.
    auto latin = long_batch({"650"}, TextEncoding::latin1);
    EXPECT_EQ(cell(*latin, kLongValueColumn, 2), "\xc3\x83\xc2\xa9t\xc3\x83\xc2\xa9");
    auto bytes = long_batch({"650"}, TextEncoding::bytes);
    EXPECT_EQ(cell(*bytes, kLongValueColumn, 2), "\xc3\xa9t\xc3\xa9");
}

TEST(LongTable, RecordPositionsAreSetPerRecord) {
    auto b = long_batch({"650"}, TextEncoding::utf8);
    b->set_record_position(0, 40, 400);
    b->set_record_position(1, 41, 401);
    b->set_record_position(5, 1, 1);  // past the end: ignored
    EXPECT_EQ(b->record_indexes(), (std::vector<std::int64_t>{40, 40, 41}));
    EXPECT_EQ(b->byte_offsets(), (std::vector<std::int64_t>{400, 400, 401}));
}

TEST(LongTable, ExportedSchemaAndArrays) {
    auto batches = std::make_shared<ColumnBatches>(ColumnBatches{long_batch({}, TextEncoding::bytes)});
    ArrowArrayStream stream{};
    export_stream(batches, long_layout(true), &stream);
    ArrowSchema schema{};
    ASSERT_EQ(stream.get_schema(&stream, &schema), 0);
    ASSERT_EQ(schema.n_children, 8);
    const std::vector<std::string> formats = {"l", "l", "i", "u", "u", "u", "u", "z"};
    const std::vector<std::string> names = {"record", "offset", "field", "tag", "ind1", "ind2", "code", "value"};
    for (std::int64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(schema.children[i]->format, formats[i]) << i;
        EXPECT_EQ(schema.children[i]->name, names[i]) << i;
    }
    schema.release(&schema);
    ArrowArray array{};
    ASSERT_EQ(stream.get_next(&stream, &array), 0);
    ASSERT_EQ(array.length, 10);
    const ArrowArray& field = *array.children[2];
    EXPECT_EQ(field.null_count, 2);
    const auto* numbers = static_cast<const std::int32_t*>(field.buffers[1]);
    EXPECT_EQ(numbers[3], 1);
    EXPECT_EQ(array.children[6]->null_count, 5);  // code: the leaders, the control fields, the empty field
    EXPECT_EQ(array.children[7]->null_count, 1);  // value: the empty field
    array.release(&array);
    ASSERT_EQ(stream.get_next(&stream, &array), 0);
    EXPECT_EQ(array.release, nullptr);
    stream.release(&stream);

    // A wide batch in a long layout (or the reverse) is an error, not a misread.
    StreamLayout wide;
    wide.names = {"tag", "ind1", "ind2", "code", "value"};
    wide.shapes.assign(5, ColumnShape::first);
    wide.record_name = "record";
    wide.offset_name = "offset";
    export_stream(batches, wide, &stream);
    EXPECT_EQ(stream.get_next(&stream, &array), EINVAL);
    stream.release(&stream);
}
