// Selected values as Apache Arrow columns, through Arrow's C data and stream interfaces.
//
// A ColumnBatch holds, for each spec (select.hpp's FieldSpec or marcspec.hpp's MarcSpec), one
// column with one row per record, of one of three shapes (ColumnShape): list<utf8>, the record's
// values for that spec in record order (an empty list when it has none); or utf8, its first value,
// or all its values joined by a separator (null when it has none). Optionally two int64 columns
// come first: the record's index in the input (counting bad records) and its byte offset.
// ColumnBatch::long_table() makes the long layout instead: one row per subfield (long_columns()).
// The buffers are laid out as Arrow wants them (int32 offsets, values back to back), so exporting
// copies nothing: the ArrowArrays handed out point into the batch and keep it alive until the
// consumer releases them. export_stream() hands a sequence of batches to any consumer of the C
// stream interface (pyarrow, polars, DuckDB, nanoarrow, ...), one record batch per ColumnBatch.
//
// The structs below are Arrow's ABI as the specification defines them
// (https://arrow.apache.org/docs/format/CDataInterface.html), guarded as it prescribes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rapidmarc/marcspec.hpp"
#include "rapidmarc/record_view.hpp"
#include "rapidmarc/select.hpp"

extern "C" {
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    const char* format;
    const char* name;
    const char* metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema** children;
    struct ArrowSchema* dictionary;
    void (*release)(struct ArrowSchema*);
    void* private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void** buffers;
    struct ArrowArray** children;
    struct ArrowArray* dictionary;
    void (*release)(struct ArrowArray*);
    void* private_data;
};
#endif  // ARROW_C_DATA_INTERFACE

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
    int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
    const char* (*get_last_error)(struct ArrowArrayStream*);
    void (*release)(struct ArrowArrayStream*);
    void* private_data;
};
#endif  // ARROW_C_STREAM_INTERFACE
}

namespace rapidmarc {

enum class ColumnShape : std::uint8_t {
    list,   // list<utf8>: every value
    first,  // utf8: the first value, null when there is none
    join,   // utf8: every value joined by the column's separator, null when there is none
};

// One column of a ColumnBatch: what it selects and how a row holds it.
struct ColumnSpec {
    MarcSpec spec;
    ColumnShape shape = ColumnShape::list;
    std::string separator;  // ColumnShape::join
};

// The long table's text columns, in order, after its int64 `record` and `offset` and int32 `field`
// columns: one row per subfield of each data field, one per control field (its data; no indicators
// or code), one for the leader (tag "LDR", no field number), one for a data field without
// subfields (no code or value). Nulls mark what a row's kind has not.
inline constexpr const char* kLongColumns[] = {"tag", "ind1", "ind2", "code", "value"};
inline constexpr std::size_t kLongValueColumn = 4;

class ColumnBatch {
public:
    // One list column per spec.
    explicit ColumnBatch(std::size_t columns);
    // One column per spec, of its shape; with `record_column` / `offset_column` also the rows'
    // record indexes / byte offsets (append_row's arguments).
    ColumnBatch(const std::vector<ColumnSpec>& specs, bool record_column, bool offset_column);

    // Appends one row: the values `specs` select in `record` (text as for_each_value gives it).
    // Throws std::length_error if a column would pass Arrow's 2 GiB int32 offset limit.
    void append_row(const RecordView& record, const std::vector<FieldSpec>& specs, TextEncoding encoding,
                    std::string& scratch);
    // The same for the columns this batch was made for (`specs` is the vector given to the
    // constructor). `record_index` and `byte_offset` go to the record and offset columns.
    void append_row(const RecordView& record, const std::vector<ColumnSpec>& specs, TextEncoding encoding,
                    std::string& scratch, std::uint64_t record_index = 0, std::uint64_t byte_offset = 0);

    // An empty batch of the long table (kLongColumns).
    static ColumnBatch long_table();
    // Appends the long table's rows of `record`: the leader when `fields` is empty or has "LDR",
    // and each field `fields` selects (every field when empty; a spec with codes selects only
    // those subfields), in record order. Tags, indicators and codes are ISO 8859-1 text (as the
    // reader's str); values are text in `encoding` as for_each_value gives them (control fields in
    // control_encoding, the leader in ISO 8859-1, bytes unchanged with TextEncoding::bytes).
    void append_long(const RecordView& record, const std::vector<FieldSpec>& fields, TextEncoding encoding,
                     std::string& scratch, std::uint64_t record_index = 0, std::uint64_t byte_offset = 0);
    bool is_long() const noexcept { return long_; }
    // The long table's `field` column: each row's field position in the record (0-based, as
    // Record.fields), null for the leader's row.
    const std::vector<std::int32_t>& field_numbers() const noexcept { return field_numbers_; }
    const std::vector<std::uint8_t>& field_validity() const noexcept { return field_validity_; }
    std::size_t field_null_count() const noexcept { return field_nulls_; }
    // Records appended so far (rows of a wide batch; a long batch has any number of rows per record).
    std::size_t records() const noexcept { return long_ ? record_row_ends_.size() : rows_; }

    // Sets the record index and byte offset of every row of the `k`th record appended (0-based).
    void set_record_position(std::size_t k, std::uint64_t record_index, std::uint64_t byte_offset) noexcept;

    // Sets row `row`'s record index and byte offset (for a caller that learns them only after the
    // rows were appended, as ParallelReader's consumer does: its workers' frames are numbered when
    // handed out). Rows past the end are ignored.
    void set_row_position(std::size_t row, std::uint64_t record_index, std::uint64_t byte_offset) noexcept;

    std::size_t rows() const noexcept { return rows_; }
    std::size_t columns() const noexcept { return columns_.size(); }

    struct Column {
        ColumnShape shape = ColumnShape::list;
        std::vector<std::int32_t> list_offsets{0};   // list: rows + 1 entries into value_offsets
        std::vector<std::int32_t> value_offsets{0};  // values (list) or rows (first, join) + 1 entries into data
        std::string data;                            // the values, back to back
        std::vector<std::uint8_t> validity;          // first, join: bit r set when row r has a value
        std::size_t null_count = 0;                  // first, join: rows without a value
    };
    const Column& column(std::size_t i) const noexcept { return columns_[i]; }

    bool has_record_column() const noexcept { return record_column_; }
    bool has_offset_column() const noexcept { return offset_column_; }
    const std::vector<std::int64_t>& record_indexes() const noexcept { return record_indexes_; }
    const std::vector<std::int64_t>& byte_offsets() const noexcept { return byte_offsets_; }

private:
    void add_value(Column& col, std::string_view v);
    void end_row(Column& col, bool has_value);
    void put(Column& col, const std::string* value);  // a scalar cell (null when `value` is null)
    void long_row(std::int32_t field, std::string_view tag, const std::string* ind1, const std::string* ind2,
                  const std::string* code, const std::string* value);

    std::vector<Column> columns_;
    std::size_t rows_ = 0;
    bool record_column_ = false, offset_column_ = false;
    std::vector<std::int64_t> record_indexes_, byte_offsets_;
    bool long_ = false;
    std::vector<std::int32_t> field_numbers_;
    std::vector<std::uint8_t> field_validity_;
    std::size_t field_nulls_ = 0;
    std::vector<std::size_t> record_row_ends_;  // long: the end row of each record appended
};

using ColumnBatches = std::vector<std::shared_ptr<const ColumnBatch>>;

// What the schema of an exported stream says. Columns: `record_name` and `offset_name` (int64, when
// not empty), then one per spec named `names[i]` of shape `shapes[i]` (all lists when `shapes` is
// empty): utf8 values, or binary with `binary` (bytes that are not text), or per column with
// `binary_columns` when it is not empty. `field_name` (not empty for a long table's batches only)
// names the int32 field column that follows the offset column. `metadata` becomes the schema's
// key/value metadata. Every batch must have been made with the same columns.
struct StreamLayout {
    std::vector<std::string> names;
    std::vector<ColumnShape> shapes;
    bool binary = false;
    std::vector<bool> binary_columns;
    std::string record_name, offset_name, field_name;
    std::vector<std::pair<std::string, std::string>> metadata;
};

// Fills `out` with a stream over `batches`: each get_next returns one batch. The stream, its schema
// and its arrays share ownership of the batches.
void export_stream(std::shared_ptr<const ColumnBatches> batches, StreamLayout layout, ArrowArrayStream* out);
// The list columns of ColumnBatch(std::size_t) named `names`.
void export_stream(std::shared_ptr<const ColumnBatches> batches, std::vector<std::string> names, bool binary,
                   ArrowArrayStream* out);

// The same over batches made on demand: each get_next calls `next_batch` (on the consumer's thread)
// and a null result ends the stream; an exception it throws becomes the stream's error (get_next
// returns EINVAL, or ENOMEM for std::bad_alloc, and get_last_error gives its message). This is how
// a file larger than memory streams into a consumer one batch at a time.
using BatchSource = std::function<std::shared_ptr<const ColumnBatch>()>;
void export_stream(BatchSource next_batch, StreamLayout layout, ArrowArrayStream* out);
void export_stream(BatchSource next_batch, std::vector<std::string> names, bool binary, ArrowArrayStream* out);

// The StreamLayout of long_table() batches: columns record, offset, field, then kLongColumns, the
// value column binary with `binary`.
StreamLayout long_layout(bool binary);

}  // namespace rapidmarc
