#include "rapidmarc/arrow.hpp"

#include <cerrno>
#include <limits>
#include <new>
#include <stdexcept>

namespace rapidmarc {

ColumnBatch::ColumnBatch(std::size_t columns) : columns_(columns) {}

void ColumnBatch::append_row(const RecordView& record, const std::vector<FieldSpec>& specs, TextEncoding encoding,
                             std::string& scratch) {
    constexpr auto limit = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
    for (std::size_t c = 0; c < specs.size() && c < columns_.size(); ++c) {
        Column& col = columns_[c];
        for_each_value(record, specs[c], encoding, scratch, [&](std::string_view v) {
            if (col.data.size() + v.size() > limit || col.value_offsets.size() >= limit)
                throw std::length_error("an Arrow column batch would exceed 2 GiB");
            col.data.append(v);
            col.value_offsets.push_back(static_cast<std::int32_t>(col.data.size()));
        });
        col.list_offsets.push_back(static_cast<std::int32_t>(col.value_offsets.size() - 1));
    }
    ++rows_;
}

namespace {

// ---- schema -------------------------------------------------------------------------------------
// A node owns its strings and its children (by value, at stable addresses); destroying it releases
// the children it still owns (a consumer may have moved one out, leaving its release null). A node
// is owned by a unique_ptr until its struct is complete, so a throw half-way leaks nothing.
struct SchemaNode {
    SchemaNode(const char* f, const std::string& n) : format(f), name(n) {}
    std::string format, name;
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

// Fills `out`; fill_child(i, child) fills each of `n_children` children in place.
template <class FillChild>
void fill_schema(ArrowSchema* out, const char* format, const std::string& name, std::int64_t flags,
                 std::size_t n_children, FillChild&& fill_child) {
    auto node = std::make_unique<SchemaNode>(format, name);
    node->children.resize(n_children, ArrowSchema{});
    for (std::size_t i = 0; i < n_children; ++i) {
        fill_child(i, &node->children[i]);
        node->child_ptrs.push_back(&node->children[i]);
    }
    *out = ArrowSchema{};
    out->format = node->format.c_str();
    out->name = node->name.c_str();
    out->flags = flags;
    out->n_children = static_cast<std::int64_t>(n_children);
    out->children = node->child_ptrs.empty() ? nullptr : node->child_ptrs.data();
    out->release = &release_schema;
    out->private_data = node.release();  // owned by the ArrowSchema until release_schema
}

void make_schema(const std::vector<std::string>& names, bool binary, ArrowSchema* out) {
    const auto no_children = [](std::size_t, ArrowSchema*) {};
    fill_schema(out, "+s", "", 0, names.size(), [&](std::size_t c, ArrowSchema* list) {
        fill_schema(list, "+l", names[c], 0, 1, [&](std::size_t, ArrowSchema* item) {
            fill_schema(item, binary ? "z" : "u", "item", ARROW_FLAG_NULLABLE, 0, no_children);
        });
    });
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

template <class FillChild>
void fill_array(ArrowArray* out, const std::shared_ptr<const ColumnBatch>& batch, std::int64_t length,
                std::vector<const void*> buffers, std::size_t n_children, FillChild&& fill_child) {
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
    out->n_buffers = static_cast<std::int64_t>(node->buffers.size());
    out->buffers = node->buffers.data();
    out->n_children = static_cast<std::int64_t>(n_children);
    out->children = node->child_ptrs.empty() ? nullptr : node->child_ptrs.data();
    out->release = &release_array;
    out->private_data = node.release();  // owned by the ArrowArray until release_array
}

void make_array(const std::shared_ptr<const ColumnBatch>& batch, ArrowArray* out) {
    const auto no_children = [](std::size_t, ArrowArray*) {};
    const auto rows = static_cast<std::int64_t>(batch->rows());
    fill_array(out, batch, rows, {nullptr}, batch->columns(), [&](std::size_t c, ArrowArray* list) {
        const ColumnBatch::Column& col = batch->column(c);
        fill_array(list, batch, rows, {nullptr, col.list_offsets.data()}, 1, [&](std::size_t, ArrowArray* values) {
            fill_array(values, batch, static_cast<std::int64_t>(col.value_offsets.size() - 1),
                       {nullptr, col.value_offsets.data(), col.data.empty() ? kEmpty : col.data.data()}, 0,
                       no_children);
        });
    });
}

// ---- stream ------------------------------------------------------------------------------------
struct StreamState {
    BatchSource next_batch;
    std::vector<std::string> names;
    bool binary = false;
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
        make_schema(s.names, s.binary, out);
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
        make_array(batch, out);
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

void export_stream(std::shared_ptr<const ColumnBatches> batches, std::vector<std::string> names, bool binary,
                   ArrowArrayStream* out) {
    export_stream(
        [batches = std::move(batches), next = std::size_t{0}]() mutable -> std::shared_ptr<const ColumnBatch> {
            return next < batches->size() ? (*batches)[next++] : nullptr;
        },
        std::move(names), binary, out);
}

void export_stream(BatchSource next_batch, std::vector<std::string> names, bool binary, ArrowArrayStream* out) {
    auto state = std::make_unique<StreamState>();
    state->next_batch = std::move(next_batch);
    state->names = std::move(names);
    state->binary = binary;
    out->get_schema = &stream_get_schema;
    out->get_next = &stream_get_next;
    out->get_last_error = &stream_get_last_error;
    out->release = &stream_release;
    out->private_data = state.release();  // owned by the stream until stream_release
}

}  // namespace rapidmarc
