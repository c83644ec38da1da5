// extract() and extract_arrow(): the values field specs select, as columns. Both build the core's
// ColumnBatch (arrow.hpp) on the threads that parse; extract() then makes Python lists of them,
// extract_arrow() hands them to Arrow consumers (pyarrow, polars, DuckDB) through the Arrow
// PyCapsule interface, without a Python object per value and without copying.
#include <sys/stat.h>

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "input.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

namespace {

// Field specs (select.hpp) from Python strings; a malformed one is a ValueError naming it.
std::vector<FieldSpec> parse_specs(const std::vector<std::string>& texts) {
    std::vector<FieldSpec> specs;
    for (const auto& t : texts) {
        try {
            specs.push_back(parse_field_spec(t));
        } catch (const std::invalid_argument& e) {
            throw nb::value_error(e.what());
        }
    }
    return specs;
}

// What a columns reader needs, shared with the hook on the parsing threads (and kept by a lazy
// ArrowColumns to read its file again for each stream).
struct ColumnsRecipe {
    std::string path;  // lazy only
    std::vector<FieldSpec> specs;
    PyReadOptions options;
};

struct ColumnsPayload final : BatchPayload {
    std::shared_ptr<ColumnBatch> columns;
};

// The process hook that turns each parsed batch into columns, on the thread that parsed it: one
// row per readable record.
std::function<void(Batch&)> columns_hook(std::shared_ptr<const ColumnsRecipe> r) {
    return [r = std::move(r)](Batch& batch) {
        auto payload = std::make_unique<ColumnsPayload>();
        payload->columns = std::make_shared<ColumnBatch>(r->specs.size());
        std::string scratch;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch.readable(i)) continue;
            const ParsedRecord& pr = batch.parsed[i];
            payload->columns->append_row(RecordView(batch.record(i), pr.entries), r->specs,
                                         text_encoding(pr, r->options.core.parse), scratch);
        }
        batch.payload = std::move(payload);
    };
}

std::shared_ptr<ColumnsRecipe> make_recipe(std::vector<std::string> spec_texts, nb::handle py_options,
                                           const char* what) {
    auto recipe = std::make_shared<ColumnsRecipe>();
    recipe->specs = parse_specs(spec_texts);
    recipe->options = read_options(py_options);
    recipe->options.require_native_text(what);
    return recipe;
}

// Every batch's columns, read eagerly.
ColumnBatches read_columns(nb::object source, int kind, const std::shared_ptr<const ColumnsRecipe>& recipe) {
    NativeInput in = open_input(std::move(source), kind, recipe->options, columns_hook(recipe));
    ColumnBatches batches;
    drain_batches(in, recipe->options.core.strict, [&](Batch& batch) {
        auto& columns = static_cast<ColumnsPayload&>(*batch.payload).columns;
        if (columns->rows() > 0) batches.push_back(std::move(columns));
    });
    return batches;
}

// extract(): for each spec, one list per good record of that record's values (str, or bytes
// without to_unicode). The columns hold valid UTF-8 (utf8_handling applied natively), so decoding
// them cannot fail.
nb::dict bulk_extract(nb::object source, int kind, std::vector<std::string> spec_texts, nb::handle py_options) {
    auto recipe = make_recipe(spec_texts, py_options, "extract()");
    const ColumnBatches batches = read_columns(std::move(source), kind, recipe);
    const PyReadOptions& o = recipe->options;
    std::size_t records = 0;
    for (const auto& b : batches) records += b->rows();
    nb::dict result;
    for (std::size_t s = 0; s < recipe->specs.size(); ++s) {
        PyObject* list = PyList_New(static_cast<Py_ssize_t>(records));
        if (!list) throw nb::python_error();
        nb::object column = nb::steal(list);
        std::size_t row = 0;
        for (const auto& b : batches) {
            const ColumnBatch::Column& c = b->column(s);
            for (std::size_t r = 0; r < b->rows(); ++r, ++row) {
                const std::int32_t first = c.list_offsets[r], last = c.list_offsets[r + 1];
                PyObject* cell = PyList_New(last - first);
                if (!cell) throw nb::python_error();
                PyList_SET_ITEM(list, static_cast<Py_ssize_t>(row), cell);
                for (std::int32_t k = first; k < last; ++k) {
                    const char* data = c.data.data() + c.value_offsets[k];
                    const Py_ssize_t len = c.value_offsets[k + 1] - c.value_offsets[k];
                    PyObject* v = o.to_unicode ? PyUnicode_DecodeUTF8(data, len, nullptr) : PyBytes_FromStringAndSize(data, len);
                    if (!v) throw nb::python_error();
                    PyList_SET_ITEM(cell, k - first, v);
                }
            }
        }
        result[spec_texts[s].c_str()] = column;
    }
    return result;
}

struct ArrowColumns {
    std::shared_ptr<const ColumnBatches> batches;  // eager: every batch, built already
    std::shared_ptr<const ColumnsRecipe> recipe;   // lazy: read on demand, per stream
    std::vector<std::string> names;
    bool binary = false;
    std::size_t rows = 0;  // eager only
};

ArrowColumns bulk_extract_arrow(nb::object source, int kind, std::vector<std::string> spec_texts,
                                nb::handle py_options, bool lazy) {
    auto recipe = make_recipe(spec_texts, py_options, "extract_arrow()");
    ArrowColumns out;
    out.names = std::move(spec_texts);
    out.binary = !recipe->options.to_unicode;
    if (lazy) {
        if (kind != kPath) throw nb::value_error("extract_arrow(lazy=True) reads a path (it reads it again per stream)");
        recipe->path = nb::cast<std::string>(source);
        // Each stream reads the path again, so it must be a regular file: a pipe, FIFO or device can
        // be read only once (the first stream would take what the next ones expect). stat() first,
        // so that refusing a FIFO neither waits for its writer nor takes its data.
        const auto refuse_stream = [&] {
            throw nb::value_error(("extract_arrow(lazy=True) reads its path again for each stream, and '" +
                                   recipe->path +
                                   "' is not a regular file (a pipe, FIFO or device can be read only once): use "
                                   "lazy=False")
                                      .c_str());
        };
        struct stat st {};
        if (::stat(recipe->path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) refuse_stream();
        // Fail now, not in the consumer, if the file cannot be opened (or is a directory); and the
        // opened descriptor decides, in case the name changed since.
        bool seekable = false;
        try {
            nb::gil_scoped_release release;
            seekable = FileSource(recipe->path).seekable();
        } catch (const std::system_error& e) {
            raise_os_error(e, recipe->path);
        }
        if (!seekable) refuse_stream();
        out.recipe = std::move(recipe);
        return out;
    }
    auto batches = std::make_shared<ColumnBatches>(read_columns(std::move(source), kind, recipe));
    for (const auto& b : *batches) out.rows += b->rows();
    out.batches = std::move(batches);
    return out;
}

// The next non-empty batch of columns from a lazy reader, or null at the end. Runs on the Arrow
// consumer's thread, possibly without the GIL: only native code. In strict mode the first
// unreadable record ends the stream with its error (the consumer raises it).
std::shared_ptr<const ColumnBatch> next_columns(NativeInput& in, bool strict) {
    while (auto batch = in.stream->next()) {
        if (strict) {
            for (std::size_t i = 0; i < batch->size(); ++i)
                if (!batch->readable(i)) throw ParseError(batch->error(i));
        }
        std::shared_ptr<const ColumnBatch> columns = std::move(static_cast<ColumnsPayload&>(*batch->payload).columns);
        in.stream->recycle(std::move(batch));
        if (columns && columns->rows() > 0) return columns;
    }
    return nullptr;
}

void release_stream_capsule(PyObject* capsule) noexcept {
    auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule, "arrow_array_stream"));
    if (!stream) {  // cannot happen for our capsules; never leave an error set in a destructor
        PyErr_Clear();
        return;
    }
    std::unique_ptr<ArrowArrayStream> owned(stream);
    if (owned->release) owned->release(owned.get());  // a consumer that took the stream nulls this
}

// The Arrow PyCapsule interface: a new stream over the same (shared, immutable) batches each call.
nb::object arrow_c_stream(const ArrowColumns& columns, nb::object /*requested_schema: ours is the only one*/) {
    auto stream = std::make_unique<ArrowArrayStream>();
    if (columns.recipe) {  // lazy: a new reader of the file for this stream, pulled batch by batch
        const ColumnsRecipe& r = *columns.recipe;
        auto in = std::make_shared<NativeInput>(
            open_input(nb::str(r.path.c_str()), kPath, r.options, columns_hook(columns.recipe)));
        const bool strict = r.options.core.strict;
        export_stream([in, strict] { return next_columns(*in, strict); }, columns.names, columns.binary, stream.get());
    } else {
        export_stream(columns.batches, columns.names, columns.binary, stream.get());
    }
    PyObject* capsule = PyCapsule_New(stream.get(), "arrow_array_stream", &release_stream_capsule);
    if (!capsule) {
        stream->release(stream.get());
        throw nb::python_error();
    }
    stream.release();  // owned by the capsule
    return nb::steal(capsule);
}

}  // namespace

void bind_columns(nb::module_& m) {
    m.def("extract", &bulk_extract, "source"_a, "kind"_a, "specs"_a, "options"_a);
    m.def("extract_arrow", &bulk_extract_arrow, "source"_a, "kind"_a, "specs"_a, "options"_a, "lazy"_a = false);
    nb::class_<ArrowColumns>(m, "ArrowColumns")
        .def("__arrow_c_stream__", &arrow_c_stream, "requested_schema"_a = nb::none())
        .def_prop_ro("lazy", [](const ArrowColumns& c) { return static_cast<bool>(c.recipe); })
        .def_prop_ro("num_rows",
                     [](const ArrowColumns& c) -> nb::object {
                         return c.recipe ? nb::none() : nb::object(nb::int_(c.rows));  // unknown until read
                     })
        .def_prop_ro("column_names", [](const ArrowColumns& c) { return c.names; })
        .def_prop_ro("num_batches",
                     [](const ArrowColumns& c) -> nb::object {
                         return c.recipe ? nb::none() : nb::object(nb::int_(c.batches->size()));
                     })
        .def("__len__", [](const ArrowColumns& c) {
            if (c.recipe) throw nb::type_error("a lazy ArrowColumns has no length before it is read");
            return c.rows;
        });
}

}  // namespace rapidmarc::binding
