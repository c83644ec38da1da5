// extract(), extract_arrow() and extract_long(): the values field specs select, as columns (or
// the long table: one row per subfield). Both build the core's
// ColumnBatch (arrow.hpp) on the threads that parse; extract() then makes Python lists of them,
// extract_arrow() hands them to Arrow consumers (pyarrow, polars, DuckDB) through the Arrow
// PyCapsule interface, without a Python object per value and without copying.
#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "input.hpp"
#include "ranges.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

namespace {

// MARCspecs (marcspec.hpp) from Python strings; a malformed or unsupported one is a ValueError
// that names it, the position and the reason.
MarcSpec parse_spec(const std::string& text) {
    try {
        return parse_marcspec(text);
    } catch (const std::invalid_argument& e) {
        throw nb::value_error(e.what());
    }
}

// What a read skipped: every item counted as ReadTally counts it, and the first bad ones' errors.
struct ReadAccount {
    ReadTally tally;
    std::vector<Error> errors;

    void add(const Batch& batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const bool good = batch.readable(i);
            tally.add(batch, i, good);
            if (!good && errors.size() < kKeptErrors) errors.push_back(batch.error(i));
        }
    }
};

// The account of the last complete read of a columns object (a lazy one reads once per stream,
// possibly on another thread).
struct AccountSlot {
    std::mutex mutex;
    std::optional<ReadAccount> last;
};

// What a columns reader needs, shared with the hook on the parsing threads (and kept by a lazy
// ArrowColumns to read its file again for each stream).
struct ColumnsRecipe {
    std::string path;  // lazy only
    std::vector<ColumnSpec> specs;
    std::vector<std::string> names;  // one per spec
    std::string record_name, offset_name;  // empty: no such column
    PyReadOptions options;
    bool long_table = false;          // extract_long(): the long table instead of specs' columns
    std::vector<FieldSpec> long_fields;  // extract_long(): the fields it takes (empty: all)
};

struct ColumnsPayload final : BatchPayload {
    std::shared_ptr<ColumnBatch> columns;
};

// The process hook that turns each parsed batch into columns, on the thread that parsed it: one
// row per readable record.
std::function<void(Batch&)> columns_hook(std::shared_ptr<const ColumnsRecipe> r) {
    return [r = std::move(r)](Batch& batch) {
        auto payload = std::make_unique<ColumnsPayload>();
        payload->columns = r->long_table ? std::make_shared<ColumnBatch>(ColumnBatch::long_table())
                                         : std::make_shared<ColumnBatch>(r->specs, !r->record_name.empty(),
                                                                         !r->offset_name.empty());
        std::string scratch;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!batch.readable(i)) continue;
            const ParsedRecord& pr = batch.parsed[i];
            if (r->long_table) {
                payload->columns->append_long(RecordView(batch.record(i), pr.entries), r->long_fields,
                                              text_encoding(pr, r->options.core.parse), scratch);
                continue;
            }
            // The record index and offset are set by the consumer (place_rows): a parallel
            // reader numbers its frames only when it hands the batch out.
            payload->columns->append_row(RecordView(batch.record(i), pr.entries), r->specs,
                                         text_encoding(pr, r->options.core.parse), scratch);
        }
        batch.payload = std::move(payload);
    };
}

// The rows' record indexes and byte offsets, from the frames of the batch as handed out.
void place_rows(const Batch& batch, ColumnBatch& columns) {
    if (!columns.has_record_column() && !columns.has_offset_column()) return;
    std::size_t k = 0;
    for (std::size_t i = 0; i < batch.size(); ++i)
        if (batch.readable(i)) columns.set_record_position(k++, batch.frames[i].index, batch.frames[i].offset);
}

ColumnShape parse_shape(const std::string& s) {
    if (s == "list") return ColumnShape::list;
    if (s == "first") return ColumnShape::first;
    if (s == "join") return ColumnShape::join;
    throw nb::value_error(("a column shape is 'list', 'first' or 'join', not '" + s + "'").c_str());
}

std::shared_ptr<ColumnsRecipe> make_recipe(const std::vector<std::string>& spec_texts,
                                           const std::vector<std::string>& shapes,
                                           const std::vector<std::string>& separators, std::string record_name,
                                           std::string offset_name, nb::handle py_options, const char* what) {
    if (shapes.size() != spec_texts.size() || separators.size() != spec_texts.size())
        throw nb::value_error("one shape and one separator per spec");
    auto recipe = std::make_shared<ColumnsRecipe>();
    for (std::size_t i = 0; i < spec_texts.size(); ++i)
        recipe->specs.push_back({parse_spec(spec_texts[i]), parse_shape(shapes[i]), separators[i]});
    recipe->names = spec_texts;
    recipe->record_name = std::move(record_name);
    recipe->offset_name = std::move(offset_name);
    recipe->options = read_options(py_options);
    recipe->options.require_native_text(what);
    return recipe;
}

StreamLayout layout_of(const ColumnsRecipe& r) {
    if (r.long_table) return long_layout(!r.options.to_unicode);
    StreamLayout layout;
    layout.names = r.names;
    for (const ColumnSpec& c : r.specs) layout.shapes.push_back(c.shape);
    layout.binary = !r.options.to_unicode;
    layout.record_name = r.record_name;
    layout.offset_name = r.offset_name;
    return layout;
}

// Every batch's columns, read eagerly, and what the read skipped.
ColumnBatches read_columns(nb::object source, int kind, const std::shared_ptr<const ColumnsRecipe>& recipe,
                           ReadAccount& account) {
    NativeInput in = open_input(std::move(source), kind, recipe->options, columns_hook(recipe));
    ColumnBatches batches;
    drain_batches(in, recipe->options.core.strict, [&](Batch& batch) {
        account.add(batch);
        if (!batch.payload) return;  // no records: nothing was made
        auto& columns = static_cast<ColumnsPayload&>(*batch.payload).columns;
        if (!columns) return;
        place_rows(batch, *columns);
        if (columns->rows() > 0) batches.push_back(std::move(columns));
    });
    return batches;
}

// The account as Python sees it: tally_dict's keys and "errors", the kept errors' exceptions.
nb::dict account_dict(const ReadAccount& a, const PyReadOptions& o) {
    nb::dict out = tally_dict(a.tally, o);
    nb::list errors;
    for (const Error& e : a.errors) errors.append(make_error(e));
    out["errors"] = errors;
    return out;
}

nb::object text_object(const char* data, Py_ssize_t len, bool text) {
    PyObject* v = text ? PyUnicode_DecodeUTF8(data, len, nullptr) : PyBytes_FromStringAndSize(data, len);
    if (!v) throw nb::python_error();
    return nb::steal(v);
}

nb::list int_column(const ColumnBatches& batches, bool record) {
    nb::list out;
    for (const auto& b : batches)
        for (std::int64_t v : record ? b->record_indexes() : b->byte_offsets()) out.append(nb::int_(v));
    return out;
}

// extract(): for each spec, one item per good record: the list of that record's values (str, or
// bytes without to_unicode), or for a scalar shape the value or None. The columns hold valid UTF-8
// (utf8_handling applied natively), so decoding them cannot fail. Returns (columns, account).
nb::tuple bulk_extract(nb::object source, int kind, std::vector<std::string> spec_texts,
                       std::vector<std::string> shapes, std::vector<std::string> separators, std::string record_name,
                       std::string offset_name, nb::handle py_options) {
    auto recipe = make_recipe(spec_texts, shapes, separators, std::move(record_name), std::move(offset_name),
                              py_options, "extract()");
    ReadAccount account;
    const ColumnBatches batches = read_columns(std::move(source), kind, recipe, account);
    const PyReadOptions& o = recipe->options;
    std::size_t records = 0;
    for (const auto& b : batches) records += b->rows();
    nb::dict result;
    if (!recipe->record_name.empty()) result[recipe->record_name.c_str()] = int_column(batches, true);
    if (!recipe->offset_name.empty()) result[recipe->offset_name.c_str()] = int_column(batches, false);
    for (std::size_t s = 0; s < recipe->specs.size(); ++s) {
        PyObject* list = PyList_New(static_cast<Py_ssize_t>(records));
        if (!list) throw nb::python_error();
        nb::object column = nb::steal(list);
        std::size_t row = 0;
        for (const auto& b : batches) {
            const ColumnBatch::Column& c = b->column(s);
            for (std::size_t r = 0; r < b->rows(); ++r, ++row) {
                if (c.shape != ColumnShape::list) {
                    const bool valid = (c.validity[r / 8] >> (r % 8)) & 1;
                    nb::object v = valid ? text_object(c.data.data() + c.value_offsets[r],
                                                       c.value_offsets[r + 1] - c.value_offsets[r], o.to_unicode)
                                         : nb::none();
                    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(row), v.release().ptr());
                    continue;
                }
                const std::int32_t first = c.list_offsets[r], last = c.list_offsets[r + 1];
                PyObject* cell = PyList_New(last - first);
                if (!cell) throw nb::python_error();
                PyList_SET_ITEM(list, static_cast<Py_ssize_t>(row), cell);
                for (std::int32_t k = first; k < last; ++k) {
                    const char* data = c.data.data() + c.value_offsets[k];
                    const Py_ssize_t len = c.value_offsets[k + 1] - c.value_offsets[k];
                    PyList_SET_ITEM(cell, k - first, text_object(data, len, o.to_unicode).release().ptr());
                }
            }
        }
        result[spec_texts[s].c_str()] = column;
    }
    return nb::make_tuple(result, account_dict(account, o));
}

struct ArrowColumns {
    std::shared_ptr<const ColumnBatches> batches;  // eager: every batch, built already
    std::shared_ptr<const ColumnsRecipe> recipe;   // the columns; lazy: also how to read the file again
    bool lazy = false;
    StreamLayout layout;
    std::size_t rows = 0;  // eager only
    std::shared_ptr<AccountSlot> account = std::make_shared<AccountSlot>();  // the last complete read
    nb::object size = nb::none();  // the input's size, as the Python layer found it (or None)
};

// The ArrowColumns of `recipe` over `source`: read now, or with `lazy` on each consumption.
// `what` names the function in messages.
ArrowColumns arrow_columns(nb::object source, int kind, std::shared_ptr<ColumnsRecipe> recipe, bool lazy,
                           nb::object size, const std::string& what) {
    ArrowColumns out;
    out.layout = layout_of(*recipe);
    out.size = std::move(size);
    if (lazy) {
        if (kind != kPath) throw nb::value_error((what + "(lazy=True) reads a path (it reads it again per stream)").c_str());
        recipe->path = nb::cast<std::string>(source);
        // Each stream reads the path again, so it must be a regular file: a pipe, FIFO or device can
        // be read only once (the first stream would take what the next ones expect). stat() first,
        // so that refusing a FIFO neither waits for its writer nor takes its data.
        const auto refuse_stream = [&] {
            throw nb::value_error((what + "(lazy=True) reads its path again for each stream, and '" +
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
        out.lazy = true;
        return out;
    }
    ReadAccount account;
    auto batches = std::make_shared<ColumnBatches>(read_columns(std::move(source), kind, recipe, account));
    for (const auto& b : *batches) out.rows += b->rows();
    out.batches = std::move(batches);
    // What the read skipped goes with the schema too, so that it survives in Parquet or IPC files.
    out.layout.metadata = {{"rapidmarc.good_records", std::to_string(account.tally.good)},
                           {"rapidmarc.bad_records", std::to_string(account.tally.bad)}};
    if (account.tally.first_error)
        out.layout.metadata.emplace_back("rapidmarc.first_error", account.tally.first_error.message());
    out.account->last = std::move(account);
    out.recipe = std::move(recipe);
    return out;
}

ArrowColumns bulk_extract_arrow(nb::object source, int kind, std::vector<std::string> spec_texts,
                                std::vector<std::string> shapes, std::vector<std::string> separators,
                                std::string record_name, std::string offset_name, nb::handle py_options, bool lazy,
                                nb::object size) {
    auto recipe = make_recipe(spec_texts, shapes, separators, std::move(record_name), std::move(offset_name),
                              py_options, "extract_arrow()");
    return arrow_columns(std::move(source), kind, std::move(recipe), lazy, std::move(size), "extract_arrow");
}

// extract_long(): the long table (arrow.hpp's long_table()) of the fields `field_texts` select
// (select.hpp's simple specs; '.' in a tag is a wildcard as 'X' is; none: every field and the leader).
ArrowColumns bulk_extract_long(nb::object source, int kind, std::vector<std::string> field_texts,
                               nb::handle py_options, bool lazy, nb::object size) {
    auto recipe = std::make_shared<ColumnsRecipe>();
    recipe->long_table = true;
    for (std::string text : field_texts) {
        for (std::size_t i = 0; i < text.size() && i < 3 && text[i] != '$'; ++i)
            if (text[i] == '.') text[i] = 'X';
        try {
            recipe->long_fields.push_back(parse_field_spec(text));
        } catch (const std::invalid_argument& e) {
            throw nb::value_error(e.what());
        }
    }
    recipe->options = read_options(py_options);
    recipe->options.require_native_text("extract_long()");
    return arrow_columns(std::move(source), kind, std::move(recipe), lazy, std::move(size), "extract_long");
}

// The next non-empty batch of columns from a lazy reader, or null at the end (when the read's
// account goes to `slot`). Runs on the Arrow consumer's thread, possibly without the GIL: only
// native code. In strict mode the first unreadable record ends the stream with its error (the
// consumer raises it).
std::shared_ptr<const ColumnBatch> next_columns(NativeInput& in, bool strict, ReadAccount& account,
                                                AccountSlot& slot) {
    while (auto batch = in.stream->next()) {
        if (strict) {
            for (std::size_t i = 0; i < batch->size(); ++i)
                if (!batch->readable(i)) throw ParseError(batch->error(i));
        }
        account.add(*batch);
        std::shared_ptr<const ColumnBatch> columns;
        if (batch->payload) {  // null for a batch without records
            std::shared_ptr<ColumnBatch>& built = static_cast<ColumnsPayload&>(*batch->payload).columns;
            if (built) place_rows(*batch, *built);
            columns = std::move(built);
        }
        in.stream->recycle(std::move(batch));
        if (columns && columns->rows() > 0) return columns;
    }
    const std::lock_guard lock(slot.mutex);
    slot.last = account;
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
    if (columns.lazy) {  // a new reader of the file for this stream, pulled batch by batch
        const ColumnsRecipe& r = *columns.recipe;
        auto in = std::make_shared<NativeInput>(
            open_input(nb::str(r.path.c_str()), kPath, r.options, columns_hook(columns.recipe)));
        const bool strict = r.options.core.strict;
        auto account = std::make_shared<ReadAccount>();
        export_stream([in, strict, account, slot = columns.account] { return next_columns(*in, strict, *account, *slot); },
                      columns.layout, stream.get());
    } else {
        export_stream(columns.batches, columns.layout, stream.get());
    }
    PyObject* capsule = PyCapsule_New(stream.get(), "arrow_array_stream", &release_stream_capsule);
    if (!capsule) {
        stream->release(stream.get());
        throw nb::python_error();
    }
    stream.release();  // owned by the capsule
    return nb::steal(capsule);
}

// The last complete read's account as a dict (account_dict), or None before one.
nb::object last_account(const ArrowColumns& c) {
    std::optional<ReadAccount> a;
    {
        const std::lock_guard lock(c.account->mutex);
        a = c.account->last;
    }
    if (!a) return nb::none();
    return account_dict(*a, c.recipe->options);
}

std::vector<std::string> column_names(const ArrowColumns& c) {
    std::vector<std::string> names;
    if (!c.layout.record_name.empty()) names.push_back(c.layout.record_name);
    if (!c.layout.offset_name.empty()) names.push_back(c.layout.offset_name);
    if (!c.layout.field_name.empty()) names.push_back(c.layout.field_name);
    names.insert(names.end(), c.layout.names.begin(), c.layout.names.end());
    return names;
}

// extract_arrow_part(): one partition of rapidmarc.dask.read_marc (ranges.hpp's read_part), as
// eager ArrowColumns built by the same hook, with its account (account_dict). Records are
// numbered from `base`, the partition's first item's index in the whole input.
nb::tuple extract_arrow_part(nb::object source, std::uint64_t size, bool span, std::uint64_t begin, std::uint64_t end,
                             std::uint64_t base, std::vector<std::string> spec_texts, std::vector<std::string> shapes,
                             std::vector<std::string> separators, std::string record_name, std::string offset_name,
                             nb::handle py_options) {
    auto recipe = make_recipe(spec_texts, shapes, separators, std::move(record_name), std::move(offset_name),
                              py_options, "read_marc()");
    const PartInput in = part_input(std::move(source), size);
    ArrowColumns out;
    out.layout = layout_of(*recipe);
    ReadAccount account;
    auto batches = std::make_shared<ColumnBatches>();
    const auto hook = columns_hook(recipe);
    // Batch by batch (about 1 MiB each), as extract_arrow builds its columns: one Arrow record
    // batch each, and the partition's raw bytes are never all held at once.
    read_part(in, span, begin, end, base, recipe->options, [&](Batch& batch) {
        account.add(batch);
        hook(batch);
        auto& columns = static_cast<ColumnsPayload&>(*batch.payload).columns;
        place_rows(batch, *columns);
        out.rows += columns->rows();
        if (columns->rows() > 0) batches->push_back(std::move(columns));
    });
    out.batches = std::move(batches);
    out.recipe = std::move(recipe);
    nb::dict account_out = account_dict(account, out.recipe->options);
    out.account->last = std::move(account);
    return nb::make_tuple(std::move(out), account_out);
}

}  // namespace

void bind_columns(nb::module_& m) {
    m.def("extract", &bulk_extract, "source"_a, "kind"_a, "specs"_a, "shapes"_a, "separators"_a, "record_name"_a,
          "offset_name"_a, "options"_a);
    m.def("extract_arrow", &bulk_extract_arrow, "source"_a, "kind"_a, "specs"_a, "shapes"_a, "separators"_a,
          "record_name"_a, "offset_name"_a, "options"_a, "lazy"_a = false, "size"_a = nb::none());
    m.def("extract_long", &bulk_extract_long, "source"_a, "kind"_a, "fields"_a, "options"_a, "lazy"_a = false,
          "size"_a = nb::none());
    m.def("extract_arrow_part", &extract_arrow_part, "source"_a, "size"_a, "span"_a, "begin"_a, "end"_a, "base"_a,
          "specs"_a, "shapes"_a, "separators"_a, "record_name"_a, "offset_name"_a, "options"_a);
    nb::class_<ArrowColumns>(m, "ArrowColumns")
        .def("__arrow_c_stream__", &arrow_c_stream, "requested_schema"_a = nb::none())
        .def_prop_ro("lazy", [](const ArrowColumns& c) { return c.lazy; })
        .def_prop_ro("num_rows",
                     [](const ArrowColumns& c) -> nb::object {
                         return c.lazy ? nb::none() : nb::object(nb::int_(c.rows));  // unknown until read
                     })
        .def_prop_ro("column_names", &column_names)
        .def_prop_ro("num_batches",
                     [](const ArrowColumns& c) -> nb::object {
                         return c.lazy ? nb::none() : nb::object(nb::int_(c.batches->size()));
                     })
        // What the last complete read skipped, as rapidmarc.ReadSummary (None while a lazy
        // object has not been read to its end), and the first bad records' exceptions.
        .def_prop_ro("summary",
                     [](const ArrowColumns& c) -> nb::object {
                         nb::object account = last_account(c);
                         if (account.is_none()) return account;
                         return nb::module_::import_("rapidmarc.bulk").attr("_read_summary")(account, c.size);
                     })
        .def_prop_ro("errors",
                     [](const ArrowColumns& c) -> nb::object {
                         nb::object account = last_account(c);
                         return account.is_none() ? account : nb::object(account["errors"]);
                     })
        .def("__len__", [](const ArrowColumns& c) {
            if (c.lazy) throw nb::type_error("a lazy ArrowColumns has no length before it is read");
            return c.rows;
        });
}

}  // namespace rapidmarc::binding
