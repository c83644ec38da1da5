#include "rapidmarc/arrow.hpp"

#include <cerrno>
#include <iterator>
#include <limits>
#include <new>
#include <stdexcept>

namespace rapidmarc {

ColumnBatch::ColumnBatch(std::size_t columns) : columns_(columns) {}

ColumnBatch::ColumnBatch(const std::vector<ColumnSpec>& specs, bool record_column, bool offset_column)
    : columns_(specs.size()), record_column_(record_column), offset_column_(offset_column) {
    for (std::size_t c = 0; c < specs.size(); ++c) columns_[c].shape = specs[c].shape;
}

namespace {
constexpr auto kOffsetLimit = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
}

void ColumnBatch::add_value(Column& col, std::string_view v) {
    if (col.data.size() + v.size() > kOffsetLimit || col.value_offsets.size() >= kOffsetLimit)
        throw std::length_error("an Arrow column batch would exceed 2 GiB");
    col.data.append(v);
    col.value_offsets.push_back(static_cast<std::int32_t>(col.data.size()));
}

void ColumnBatch::end_row(Column& col, bool has_value) {
    if (col.shape == ColumnShape::list) {
        col.list_offsets.push_back(static_cast<std::int32_t>(col.value_offsets.size() - 1));
        return;
    }
    if (rows_ % 8 == 0) col.validity.push_back(0);
    if (has_value) {
        col.validity.back() = static_cast<std::uint8_t>(col.validity.back() | (1u << (rows_ % 8)));
    } else {
        ++col.null_count;
        col.value_offsets.push_back(static_cast<std::int32_t>(col.data.size()));  // an empty slot
    }
}

void ColumnBatch::append_row(const RecordView& record, const std::vector<FieldSpec>& specs, TextEncoding encoding,
                             std::string& scratch) {
    for (std::size_t c = 0; c < specs.size() && c < columns_.size(); ++c) {
        Column& col = columns_[c];
        for_each_value(record, specs[c], encoding, scratch, [&](std::string_view v) { add_value(col, v); });
        end_row(col, true);
    }
    ++rows_;
}

void ColumnBatch::append_row(const RecordView& record, const std::vector<ColumnSpec>& specs, TextEncoding encoding,
                             std::string& scratch, std::uint64_t record_index, std::uint64_t byte_offset) {
    for (std::size_t c = 0; c < specs.size() && c < columns_.size(); ++c) {
        Column& col = columns_[c];
        bool any = false;
        switch (col.shape) {
            case ColumnShape::list:
                for_each_value(record, specs[c].spec, encoding, scratch, [&](std::string_view v) { add_value(col, v); });
                break;
            case ColumnShape::first:
                for_each_value(record, specs[c].spec, encoding, scratch, [&](std::string_view v) {
                    if (!any) add_value(col, v);
                    any = true;
                });
                break;
            case ColumnShape::join: {
                const std::string_view sep = specs[c].separator;
                for_each_value(record, specs[c].spec, encoding, scratch, [&](std::string_view v) {
                    if (col.data.size() + sep.size() + v.size() > kOffsetLimit)
                        throw std::length_error("an Arrow column batch would exceed 2 GiB");
                    if (any) col.data.append(sep);
                    col.data.append(v);
                    any = true;
                });
                if (any) col.value_offsets.push_back(static_cast<std::int32_t>(col.data.size()));
                break;
            }
        }
        end_row(col, any);
    }
    if (record_column_) record_indexes_.push_back(static_cast<std::int64_t>(record_index));
    if (offset_column_) byte_offsets_.push_back(static_cast<std::int64_t>(byte_offset));
    ++rows_;
}

ColumnBatch ColumnBatch::long_table() {
    ColumnBatch b(std::size(kLongColumns));
    for (Column& c : b.columns_) c.shape = ColumnShape::first;
    b.record_column_ = b.offset_column_ = true;
    b.long_ = true;
    return b;
}

void ColumnBatch::put(Column& col, const std::string* value) {
    if (value) add_value(col, *value);
    end_row(col, value != nullptr);
}

void ColumnBatch::long_row(std::int32_t field, std::string_view tag, const std::string* ind1, const std::string* ind2,
                           const std::string* code, const std::string* value) {
    if (rows_ % 8 == 0) field_validity_.push_back(0);
    if (field >= 0)
        field_validity_.back() = static_cast<std::uint8_t>(field_validity_.back() | (1u << (rows_ % 8)));
    else
        ++field_nulls_;
    field_numbers_.push_back(field < 0 ? 0 : field);
    add_value(columns_[0], tag);  // never null
    end_row(columns_[0], true);
    put(columns_[1], ind1);
    put(columns_[2], ind2);
    put(columns_[3], code);
    put(columns_[4], value);
    record_indexes_.push_back(0);  // set by set_record_position (or append_long's caller's values)
    byte_offsets_.push_back(0);
    ++rows_;
}

void ColumnBatch::append_long(const RecordView& record, const std::vector<FieldSpec>& fields, TextEncoding encoding,
                              std::string& scratch, std::uint64_t record_index, std::uint64_t byte_offset) {
    const bool bytes = encoding == TextEncoding::bytes;
    const std::size_t first_row = rows_;
    const auto latin1 = [](std::string_view raw, std::string& out) {
        out.clear();
        append_text(raw, TextEncoding::latin1, out);
    };
    bool leader = fields.empty();
    for (const FieldSpec& f : fields) leader = leader || f.leader;
    if (leader) {
        scratch.clear();
        append_text(record.leader(), bytes ? TextEncoding::bytes : TextEncoding::latin1, scratch);
        long_row(-1, "LDR", nullptr, nullptr, nullptr, &scratch);
    }
    std::string tag, ind1, ind2, code;
    for (std::size_t i = 0; i < record.size(); ++i) {
        const FieldView f = record.field(i);
        // The specs that select this field; a field is taken whole unless every one names codes.
        bool selected = fields.empty(), whole = fields.empty();
        for (const FieldSpec& s : fields) {
            if (s.leader || !s.matches(f.tag())) continue;
            selected = true;
            whole = whole || s.codes.empty();
        }
        if (!selected) continue;
        const auto number = static_cast<std::int32_t>(i);
        latin1(f.tag(), tag);
        if (f.is_control()) {
            if (!whole) continue;  // a spec with codes selects subfields, which control fields have not
            scratch.clear();
            append_text(f.data(), control_encoding(encoding), scratch);
            long_row(number, tag, nullptr, nullptr, nullptr, &scratch);
            continue;
        }
        const char i1 = f.indicator1(), i2 = f.indicator2();
        latin1({&i1, 1}, ind1);
        latin1({&i2, 1}, ind2);
        bool any = false;
        for (const SubfieldView& sf : f.subfields()) {
            if (!whole) {
                bool wanted = false;
                for (const FieldSpec& s : fields)
                    wanted = wanted || (!s.leader && s.matches(f.tag()) && s.codes.find(sf.code) != std::string::npos);
                if (!wanted) continue;
            }
            any = true;
            latin1({&sf.code, 1}, code);
            scratch.clear();
            append_text(sf.value, encoding, scratch);
            long_row(number, tag, &ind1, &ind2, &code, &scratch);
        }
        if (!any && whole) long_row(number, tag, &ind1, &ind2, nullptr, nullptr);  // a field without subfields
    }
    record_row_ends_.push_back(rows_);
    for (std::size_t r = first_row; r < rows_; ++r) {
        record_indexes_[r] = static_cast<std::int64_t>(record_index);
        byte_offsets_[r] = static_cast<std::int64_t>(byte_offset);
    }
}

void ColumnBatch::set_record_position(std::size_t k, std::uint64_t record_index, std::uint64_t byte_offset) noexcept {
    if (!long_) {
        set_row_position(k, record_index, byte_offset);
        return;
    }
    if (k >= record_row_ends_.size()) return;
    for (std::size_t r = k == 0 ? 0 : record_row_ends_[k - 1]; r < record_row_ends_[k]; ++r)
        set_row_position(r, record_index, byte_offset);
}

void ColumnBatch::set_row_position(std::size_t row, std::uint64_t record_index, std::uint64_t byte_offset) noexcept {
    if (row < record_indexes_.size()) record_indexes_[row] = static_cast<std::int64_t>(record_index);
    if (row < byte_offsets_.size()) byte_offsets_[row] = static_cast<std::int64_t>(byte_offset);
}

namespace {

// ---- schema -------------------------------------------------------------------------------------
// A node owns its strings and its children (by value, at stable addresses); destroying it releases
// the children it still owns (a consumer may have moved one out, leaving its release null). A node
// is owned by a unique_ptr until its struct is complete, so a throw half-way leaks nothing.
struct SchemaNode {
    SchemaNode(const char* f, const std::string& n) : format(f), name(n) {}
    std::string format, name, metadata;
    std::vector<ArrowSchema> children;
    std::vector<ArrowSchema*> child_ptrs;
    ~SchemaNode() {
        for (ArrowSchema& c : children)
            if (c.release) c.release(&c);
    }
};

void release_schema(ArrowSchema* schema) {
    std::unique_ptr<SchemaNode> node(static_cast<SchemaNode*>(schema->private_data));
    schema->release = nullptr;
}

// Arrow's metadata encoding: int32 count, then per pair int32 length and bytes of key and value.
std::string encode_metadata(const std::vector<std::pair<std::string, std::string>>& pairs) {
    if (pairs.empty()) return {};
    std::string out;
    auto put = [&](std::size_t n) {
        const auto v = static_cast<std::int32_t>(n);
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    };
    put(pairs.size());
    for (const auto& [k, v] : pairs) {
        put(k.size());
        out += k;
        put(v.size());
        out += v;
    }
    return out;
}

// Fills `out`; fill_child(i, child) fills each of `n_children` children in place.
template <class FillChild>
void fill_schema(ArrowSchema* out, const char* format, const std::string& name, std::int64_t flags,
                 std::size_t n_children, FillChild&& fill_child, std::string metadata = {}) {
    auto node = std::make_unique<SchemaNode>(format, name);
    node->metadata = std::move(metadata);
    node->children.resize(n_children, ArrowSchema{});
    for (std::size_t i = 0; i < n_children; ++i) {
        fill_child(i, &node->children[i]);
        node->child_ptrs.push_back(&node->children[i]);
    }
    *out = ArrowSchema{};
    out->format = node->format.c_str();
    out->name = node->name.c_str();
    out->metadata = node->metadata.empty() ? nullptr : node->metadata.data();
    out->flags = flags;
    out->n_children = static_cast<std::int64_t>(n_children);
    out->children = node->child_ptrs.empty() ? nullptr : node->child_ptrs.data();
    out->release = &release_schema;
    out->private_data = node.release();  // owned by the ArrowSchema until release_schema
}

ColumnShape shape_of(const StreamLayout& layout, std::size_t c) {
    return layout.shapes.empty() ? ColumnShape::list : layout.shapes[c];
}

bool binary_column(const StreamLayout& layout, std::size_t c) {
    return layout.binary_columns.empty() ? layout.binary : layout.binary_columns[c];
}

void make_schema(const StreamLayout& layout, ArrowSchema* out) {
    const auto no_children = [](std::size_t, ArrowSchema*) {};
    std::vector<const std::string*> ints;
    if (!layout.record_name.empty()) ints.push_back(&layout.record_name);
    if (!layout.offset_name.empty()) ints.push_back(&layout.offset_name);
    const std::size_t n_ints = ints.size() + (layout.field_name.empty() ? 0 : 1);
    fill_schema(
        out, "+s", "", 0, n_ints + layout.names.size(),
        [&](std::size_t c, ArrowSchema* column) {
            if (c < ints.size()) {
                fill_schema(column, "l", *ints[c], 0, 0, no_children);
                return;
            }
            if (c < n_ints) {  // the long table's field numbers, null for the leader
                fill_schema(column, "i", layout.field_name, ARROW_FLAG_NULLABLE, 0, no_children);
                return;
            }
            c -= n_ints;
            const char* text = binary_column(layout, c) ? "z" : "u";
            if (shape_of(layout, c) != ColumnShape::list) {
                fill_schema(column, text, layout.names[c], ARROW_FLAG_NULLABLE, 0, no_children);
                return;
            }
            fill_schema(column, "+l", layout.names[c], 0, 1, [&](std::size_t, ArrowSchema* item) {
                fill_schema(item, text, "item", ARROW_FLAG_NULLABLE, 0, no_children);
            });
        },
        encode_metadata(layout.metadata));
}

// ---- arrays ------------------------------------------------------------------------------------
struct ArrayNode {
    std::shared_ptr<const ColumnBatch> batch;  // the buffers point into it
    std::vector<const void*> buffers;
    std::vector<ArrowArray> children;
    std::vector<ArrowArray*> child_ptrs;
    ~ArrayNode() {
        for (ArrowArray& c : children)
            if (c.release) c.release(&c);
    }
};

void release_array(ArrowArray* array) {
    std::unique_ptr<ArrayNode> node(static_cast<ArrayNode*>(array->private_data));
    array->release = nullptr;
}

const char kEmpty[1] = {0};  // a valid pointer for empty data buffers
alignas(8) const std::int64_t kEmptyInts[1] = {0};

template <class FillChild>
void fill_array(ArrowArray* out, const std::shared_ptr<const ColumnBatch>& batch, std::int64_t length,
                std::vector<const void*> buffers, std::size_t n_children, FillChild&& fill_child,
                std::int64_t null_count = 0) {
    auto node = std::make_unique<ArrayNode>();
    node->batch = batch;
    node->buffers = std::move(buffers);
    node->children.resize(n_children, ArrowArray{});
    for (std::size_t i = 0; i < n_children; ++i) {
        fill_child(i, &node->children[i]);
        node->child_ptrs.push_back(&node->children[i]);
    }
    *out = ArrowArray{};
    out->length = length;
    out->null_count = null_count;
    out->n_buffers = static_cast<std::int64_t>(node->buffers.size());
    out->buffers = node->buffers.data();
    out->n_children = static_cast<std::int64_t>(n_children);
    out->children = node->child_ptrs.empty() ? nullptr : node->child_ptrs.data();
    out->release = &release_array;
    out->private_data = node.release();  // owned by the ArrowArray until release_array
}

void make_array(const std::shared_ptr<const ColumnBatch>& batch, const StreamLayout& layout, ArrowArray* out) {
    if (batch->has_record_column() != !layout.record_name.empty() ||
        batch->has_offset_column() != !layout.offset_name.empty() || batch->is_long() != !layout.field_name.empty() ||
        batch->columns() != layout.names.size())
        throw std::logic_error("a column batch does not have the stream's columns");
    for (std::size_t c = 0; c < batch->columns(); ++c)
        if (batch->column(c).shape != shape_of(layout, c))
            throw std::logic_error("a column batch does not have the stream's column shapes");
    const auto no_children = [](std::size_t, ArrowArray*) {};
    const auto rows = static_cast<std::int64_t>(batch->rows());
    std::vector<const std::vector<std::int64_t>*> ints;
    if (batch->has_record_column()) ints.push_back(&batch->record_indexes());
    if (batch->has_offset_column()) ints.push_back(&batch->byte_offsets());
    const std::size_t n_ints = ints.size() + (batch->is_long() ? 1 : 0);
    fill_array(out, batch, rows, {nullptr}, n_ints + batch->columns(), [&](std::size_t c, ArrowArray* column) {
        if (c < ints.size()) {
            fill_array(column, batch, rows, {nullptr, ints[c]->empty() ? static_cast<const void*>(kEmptyInts) : ints[c]->data()},
                       0, no_children);
            return;
        }
        if (c < n_ints) {
            const auto& numbers = batch->field_numbers();
            const void* validity = batch->field_null_count() == 0 ? nullptr : batch->field_validity().data();
            fill_array(column, batch, rows,
                       {validity, numbers.empty() ? static_cast<const void*>(kEmptyInts) : numbers.data()}, 0,
                       no_children, static_cast<std::int64_t>(batch->field_null_count()));
            return;
        }
        const ColumnBatch::Column& col = batch->column(c - n_ints);
        const void* data = col.data.empty() ? kEmpty : col.data.data();
        if (col.shape != ColumnShape::list) {
            const void* validity = col.null_count == 0 ? nullptr : static_cast<const void*>(col.validity.data());
            fill_array(column, batch, rows, {validity, col.value_offsets.data(), data}, 0, no_children,
                       static_cast<std::int64_t>(col.null_count));
            return;
        }
        fill_array(column, batch, rows, {nullptr, col.list_offsets.data()}, 1, [&](std::size_t, ArrowArray* values) {
            fill_array(values, batch, static_cast<std::int64_t>(col.value_offsets.size() - 1),
                       {nullptr, col.value_offsets.data(), data}, 0, no_children);
        });
    });
}

// ---- stream ------------------------------------------------------------------------------------
struct StreamState {
    BatchSource next_batch;
    StreamLayout layout;
    bool finished = false;
    std::string last_error;
};

StreamState& state_of(ArrowArrayStream* stream) { return *static_cast<StreamState*>(stream->private_data); }

// Runs fn, turning C++ exceptions into the stream's errno-style result and last error.
template <class Fn>
int guarded(ArrowArrayStream* stream, Fn&& fn) noexcept {
    try {
        fn();
        return 0;
    } catch (const std::bad_alloc&) {
        state_of(stream).last_error = "out of memory";
        return ENOMEM;
    } catch (const std::exception& e) {
        try {
            state_of(stream).last_error = e.what();
        } catch (...) {
        }
        return EINVAL;
    }
}

int stream_get_schema(ArrowArrayStream* stream, ArrowSchema* out) {
    return guarded(stream, [&] {
        const StreamState& s = state_of(stream);
        make_schema(s.layout, out);
    });
}

int stream_get_next(ArrowArrayStream* stream, ArrowArray* out) {
    return guarded(stream, [&] {
        StreamState& s = state_of(stream);
        std::shared_ptr<const ColumnBatch> batch;
        if (!s.finished) batch = s.next_batch();
        if (!batch) {
            s.finished = true;  // the source is not asked again after its end
            *out = ArrowArray{};  // release == nullptr: the end of the stream
            return;
        }
        make_array(batch, state_of(stream).layout, out);
    });
}

const char* stream_get_last_error(ArrowArrayStream* stream) {
    const std::string& e = state_of(stream).last_error;
    return e.empty() ? nullptr : e.c_str();
}

void stream_release(ArrowArrayStream* stream) {
    std::unique_ptr<StreamState> state(static_cast<StreamState*>(stream->private_data));
    stream->release = nullptr;
}

}  // namespace

void export_stream(std::shared_ptr<const ColumnBatches> batches, StreamLayout layout, ArrowArrayStream* out) {
    export_stream(
        [batches = std::move(batches), next = std::size_t{0}]() mutable -> std::shared_ptr<const ColumnBatch> {
            return next < batches->size() ? (*batches)[next++] : nullptr;
        },
        std::move(layout), out);
}

void export_stream(std::shared_ptr<const ColumnBatches> batches, std::vector<std::string> names, bool binary,
                   ArrowArrayStream* out) {
    StreamLayout layout;
    layout.names = std::move(names);
    layout.binary = binary;
    export_stream(std::move(batches), std::move(layout), out);
}

void export_stream(BatchSource next_batch, StreamLayout layout, ArrowArrayStream* out) {
    auto state = std::make_unique<StreamState>();
    state->next_batch = std::move(next_batch);
    state->layout = std::move(layout);
    out->get_schema = &stream_get_schema;
    out->get_next = &stream_get_next;
    out->get_last_error = &stream_get_last_error;
    out->release = &stream_release;
    out->private_data = state.release();  // owned by the stream until stream_release
}

StreamLayout long_layout(bool binary) {
    StreamLayout layout;
    layout.names.assign(std::begin(kLongColumns), std::end(kLongColumns));
    layout.shapes.assign(layout.names.size(), ColumnShape::first);
    layout.binary_columns.assign(layout.names.size(), false);
    layout.binary_columns[kLongValueColumn] = binary;
    layout.record_name = "record";
    layout.offset_name = "offset";
    layout.field_name = "field";
    return layout;
}

void export_stream(BatchSource next_batch, std::vector<std::string> names, bool binary, ArrowArrayStream* out) {
    StreamLayout layout;
    layout.names = std::move(names);
    layout.binary = binary;
    export_stream(std::move(next_batch), std::move(layout), out);
}

}  // namespace rapidmarc
