// PyReader: the native iteration behind MARCReader. Records are read in batches with the GIL
// released (input.hpp) and handed out one by one; a bad record yields None with its exception in
// current_exception (or raises it in strict mode).
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <optional>

#include <nanobind/stl/string.h>

#include "input.hpp"
#include "record.hpp"

namespace rapidmarc::binding {

using namespace nb::literals;

namespace {

// Fork detection without a system call per record: the child side of every fork bumps a
// counter (registered once with pthread_atfork at import). It is process-wide by nature: a fork
// duplicates the whole process and only the calling thread survives.
std::atomic<unsigned> g_fork_generation{0};

void note_fork_in_child() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

class PyReader {
public:
    PyReader(nb::object source, int kind, nb::handle options)
        : options_(read_options(options)),
          input_(open_input(std::move(source), kind, options_, {}, /*keep_xml_leaders=*/true)),
          calls_python_((kind & kKindMask) == kFile) {}

    ~PyReader() {
        if (forked()) {
            // In a forked child the worker thread does not exist: joining it would hang. The
            // parent's reader state is abandoned in the child instead.
            (void)input_.stream.release();
            return;
        }
        stop_stream();
    }

    nb::object next() {
        if (forked())
            throw std::runtime_error(
                "this MARCReader was opened before os.fork(); open a new reader in the child process");
        std::unique_lock<std::mutex> lock = locked();
        if (!input_.stream) throw nb::value_error("I/O operation on a closed MARCReader");  // pymarc: ValueError
        if (!batch_ || pos_ >= batch_->size()) {
            if (finished_ || !refill()) {
                finished_ = true;
                throw nb::stop_iteration();
            }
        }
        const std::size_t i = pos_++;
        const FramedRecord& fr = batch_->frames[i];
        current_offset_ = fr.offset;
        RecordOrError built = record_or_error(*batch_, i, options_);
        if (built.record.is_valid()) {
            if (input_.xml_leaders) {  // MARCXML: the leader exactly as the XML wrote it, as pymarc keeps it
                if (std::optional<std::string> leader = input_.xml_leaders->take(fr.index))
                    built.record.attr("leader") = py_types().leader(nb::str(leader->data(), leader->size()));
            }
            if (batch_->parsed[i].encoding_corrected) corrected_.append(fr.index);
            current_chunk_ = record_of(built.record.ptr()).raw;
            current_exception_ = nb::none();
            return built.record;
        }
        const std::string_view bytes = batch_->record(i);
        current_chunk_ = nb::bytes(bytes.data(), bytes.size());
        if (input_.json_originals) {  // MARC-in-JSON: the record's JSON text, for pymarc's way of building it
            std::optional<std::string> text = input_.json_originals->take(fr.index);
            current_json_ = text ? nb::object(nb::str(text->data(), text->size())) : nb::none();
        }
        current_exception_ = built.error;
        if (options_.core.strict) raise_strict(input_, built.error, calls_python_);
        return nb::none();
    }

    // Stops reading at once: the worker threads are joined and the file is closed now, not when
    // the reader is collected. Iterating afterwards raises ValueError, as pymarc's closed file does.
    void close() {
        if (forked()) return;  // the child abandons the parent's reader (see the destructor)
        std::unique_lock<std::mutex> lock = locked();
        stop_stream();
        batch_.reset();
    }

    // Garbage-collector support: the exception last returned can hold the reader through its
    // traceback (a frame whose locals hold it), a cycle only the collector can break.
    int traverse(visitproc visit, void* arg) const {
        Py_VISIT(current_exception_.ptr());
        Py_VISIT(input_.keep.ptr());
        return 0;
    }
    void clear() { current_exception_.reset(); }

    // The current_* attributes take the reader's lock: without a GIL (free-threaded Python) another
    // thread's next() may be replacing the object, and a reference taken while it drops the old
    // one would point at freed memory.
    nb::list corrected() {
        std::unique_lock<std::mutex> lock = locked();
        PyObject* copy = PySequence_List(corrected_.ptr());
        if (!copy) throw nb::python_error();
        return nb::steal<nb::list>(copy);
    }
    nb::object current_chunk() {
        std::unique_lock<std::mutex> lock = locked();
        return current_chunk_.is_valid() ? current_chunk_ : nb::none();
    }
    nb::object current_exception() {
        std::unique_lock<std::mutex> lock = locked();
        return current_exception_.is_valid() ? current_exception_ : nb::none();
    }
    nb::object current_json() {
        std::unique_lock<std::mutex> lock = locked();
        return current_json_.is_valid() ? current_json_ : nb::none();
    }
    nb::object current_offset() {
        std::unique_lock<std::mutex> lock = locked();
        return current_offset_ ? nb::object(nb::int_(*current_offset_)) : nb::none();
    }

private:
    // Stops and joins the stream's workers. A file object's source holds Python objects, so it is
    // destroyed with the GIL (it has no worker thread). A path's worker may be blocked reading a
    // pipe that a Python thread of this process writes: it is joined without the GIL, or that
    // writer could never run.
    void stop_stream() {
        if (calls_python_) {
            input_.stream.reset();
            return;
        }
        std::unique_ptr<BatchStream> stream = std::move(input_.stream);
        nb::gil_scoped_release release;
        stream.reset();
    }

    // The reader's lock; another thread may be reading (possibly without the GIL): wait without it.
    std::unique_lock<std::mutex> locked() {
        std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
        if (!lock.owns_lock()) {
            nb::gil_scoped_release release;
            lock.lock();
        }
        return lock;
    }

    bool refill() {
        pos_ = 0;
        nb::gil_scoped_release release;
        input_.stream->recycle(std::move(batch_));
        batch_ = input_.stream->next();
        return batch_ != nullptr;
    }
    bool forked() const noexcept { return g_fork_generation.load(std::memory_order_relaxed) != fork_generation_; }

    PyReadOptions options_;
    NativeInput input_;
    bool calls_python_;  // the source is a Python file object
    unsigned fork_generation_ = g_fork_generation.load(std::memory_order_relaxed);
    std::unique_ptr<Batch> batch_;
    std::size_t pos_ = 0;
    bool finished_ = false;
    std::mutex mutex_;
    nb::object current_chunk_;
    nb::object current_exception_;
    nb::object current_json_;  // MARC-in-JSON: the JSON text of the bad item last returned
    std::optional<std::uint64_t> current_offset_;  // stream offset of the item last returned
    nb::list corrected_;  // indexes of records whose leader/09 encoding="auto" overruled
};

int reader_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    if (!nb::inst_ready(self)) return 0;
    return nb::inst_ptr<PyReader>(self)->traverse(visit, arg);
}

int reader_clear(PyObject* self) {
    if (nb::inst_ready(self)) nb::inst_ptr<PyReader>(self)->clear();
    return 0;
}

PyType_Slot reader_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(reader_traverse)},
                              {Py_tp_clear, reinterpret_cast<void*>(reader_clear)},
                              {0, nullptr}};

}  // namespace

void bind_reader(nb::module_& m) {
    static const int atfork_registered = ::pthread_atfork(nullptr, nullptr, &note_fork_in_child);
    (void)atfork_registered;
    nb::class_<PyReader>(m, "Reader", nb::type_slots(reader_slots))
        .def(nb::init<nb::object, int, nb::handle>(), "source"_a, "kind"_a, "options"_a)
        .def_prop_ro("corrected_records", &PyReader::corrected,
                     "Indexes of the records whose leader/09 encoding='auto' overruled (a copy).")
        .def("__iter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__next__", &PyReader::next)
        .def("_close", &PyReader::close)
        .def_prop_ro("current_chunk", &PyReader::current_chunk)
        .def_prop_ro("current_exception", &PyReader::current_exception)
        .def_prop_ro("current_offset", &PyReader::current_offset)
        .def_prop_ro("_current_json", &PyReader::current_json);
}

}  // namespace rapidmarc::binding
