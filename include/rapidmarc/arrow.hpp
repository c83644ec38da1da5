// Selected values as Apache Arrow columns, through Arrow's C data and stream interfaces.
//
// A ColumnBatch holds, for each field spec (select.hpp), one list<utf8> column with one list per
// record: the record's values for that spec, in record order (an empty list when it has none).
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
#include <vector>

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

class ColumnBatch {
public:
    // One list column per spec.
    explicit ColumnBatch(std::size_t columns);

    // Appends one row: the values `specs` select in `record` (text as for_each_value gives it).
    // Throws std::length_error if a column would pass Arrow's 2 GiB int32 offset limit.
    void append_row(const RecordView& record, const std::vector<FieldSpec>& specs, TextEncoding encoding,
                    std::string& scratch);

    std::size_t rows() const noexcept { return rows_; }
    std::size_t columns() const noexcept { return columns_.size(); }

    struct Column {
        std::vector<std::int32_t> list_offsets{0};   // rows + 1 entries into value_offsets
        std::vector<std::int32_t> value_offsets{0};  // values + 1 entries into data
        std::string data;                            // the values, back to back
    };
    const Column& column(std::size_t i) const noexcept { return columns_[i]; }

private:
    std::vector<Column> columns_;
    std::size_t rows_ = 0;
};

using ColumnBatches = std::vector<std::shared_ptr<const ColumnBatch>>;

// Fills `out` with a stream over `batches`: its schema is a struct of list<utf8> columns named
// `names` (list<binary> with `binary`: bytes that are not text), and each get_next returns one
// batch. The stream, its schema and its arrays share ownership of the batches.
void export_stream(std::shared_ptr<const ColumnBatches> batches, std::vector<std::string> names, bool binary,
                   ArrowArrayStream* out);

// The same over batches made on demand: each get_next calls `next_batch` (on the consumer's thread)
// and a null result ends the stream; an exception it throws becomes the stream's error (get_next
// returns EINVAL, or ENOMEM for std::bad_alloc, and get_last_error gives its message). This is how
// a file larger than memory streams into a consumer one batch at a time.
using BatchSource = std::function<std::shared_ptr<const ColumnBatch>()>;
void export_stream(BatchSource next_batch, std::vector<std::string> names, bool binary, ArrowArrayStream* out);

}  // namespace rapidmarc
