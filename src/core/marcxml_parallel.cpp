#include "rapidmarc/marcxml_parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "marcxml_build.hpp"
#include "marcxml_scan.hpp"

namespace rapidmarc {

#ifdef RAPIDMARC_HAVE_EXPAT

namespace {

using detail::MarcRecordBuilder;
using detail::XmlScanner;
using State = XmlScanner::State;

constexpr std::uint64_t kNone = UINT64_MAX;
constexpr std::size_t kWindow = std::size_t{64} << 10;  // bytes searched per read for a record start tag
constexpr std::size_t kOverlap = 256;                   // read beyond a window: a tag that starts in it
constexpr std::size_t kProbe = std::size_t{16} << 10;   // bytes scanned to tell a record start tag
constexpr std::size_t kFrameChunk = std::size_t{64} << 10;  // read size when framing a range's ISO bytes

// Up to n bytes of `input` at `offset` (fewer only at its end).
std::string read_at(const RangeInput& input, std::uint64_t offset, std::size_t n) {
    if (offset >= input.size()) return {};
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, input.size() - offset));
    std::string out(n, '\0');
    auto source = input.open(offset, offset + n);
    std::size_t got = 0;
    while (got < n) {
        const std::size_t r = source->read(out.data() + got, n - got);
        if (r == 0) break;
        got += r;
    }
    out.resize(got);
    return out;
}

enum class Stop : std::uint8_t {
    boundary,  // before a MARC record start tag outside a record, at or after the mark
    done,      // the document ended well-formed
    fallback,  // the scanner stopped (outside its subset, an error, a construct too long): expat's turn
};

// What scanning a span of the document found.
struct Span {
    Stop stop = Stop::fallback;
    std::uint64_t end = 0;  // boundary: where that record start tag is
    State state;            // boundary: the scanner's state there
    std::uint64_t records = 0;
};

// Scans `input` from `from` in `state` with the sequential engine's scanner and builder (records'
// ISO 2709 bytes appended to `iso`, leaders to `log`) up to the first MARC record start tag outside
// a record at or after `mark`, or to the end of the document, or to where the scanner stops.
// `cancel` (if set) stops it early, as a fallback (whose result nobody reads).
Span scan_span(const RangeInput& input, std::uint64_t from, std::uint64_t mark, const State& state,
               const MarcXmlOptions& xml, std::string& iso, std::shared_ptr<XmlLeaderLog> log,
               const std::atomic<bool>* cancel) {
    MarcRecordBuilder builder(iso, std::move(log));
    XmlScanner scanner(builder, xml.names);
    scanner.restore(state);
    auto source = input.open(from, input.size());
    const std::size_t chunk = std::max<std::size_t>(xml.chunk_size, 4096);
    std::vector<char> buf;
    std::size_t len = 0, pos = 0;
    std::uint64_t base = from;  // offset of buf[0] in the input
    Span span;
    for (;;) {
        if (cancel && cancel->load(std::memory_order_relaxed)) break;
        if (pos > 0) {
            std::memmove(buf.data(), buf.data() + pos, len - pos);
            len -= pos;
            base += pos;
            pos = 0;
        }
        if (len > detail::kLongestXmlConstruct) break;  // as the sequential engine: expat streams it
        const std::size_t want = std::max(chunk, len);
        if (buf.size() < len + want) buf.resize(len + want);
        const std::size_t got = source->read(buf.data() + len, want);
        len += got;
        const bool final = got == 0;
        scanner.stop_at_records_from(mark > base ? static_cast<std::size_t>(mark - base) : 0);
        XmlScanner::Status status{};
        pos = scanner.scan(buf.data(), buf.data() + len, final, status);
        if (status == XmlScanner::Status::more && !final) continue;
        if (status == XmlScanner::Status::boundary) {
            span.stop = Stop::boundary;
            span.end = base + pos;
            span.state = scanner.state();
        } else if (status == XmlScanner::Status::done) {
            span.stop = Stop::done;
            span.end = input.size();
        }
        break;
    }
    span.records = builder.emitted();
    return span;
}

// True when the tag at `at` is, in `context`, a MARC record start tag outside a record.
bool record_start(const RangeInput& input, std::uint64_t at, const State& context, MarcXmlNames names) {
    const std::string bytes = read_at(input, at, kProbe);
    std::string sink;
    MarcRecordBuilder builder(sink, nullptr);
    XmlScanner scanner(builder, names);
    scanner.restore(context);
    scanner.stop_at_records_from(0);
    XmlScanner::Status status{};
    const std::size_t used =
        scanner.scan(bytes.data(), bytes.data() + bytes.size(), at + bytes.size() >= input.size(), status);
    return status == XmlScanner::Status::boundary && used == 0;
}

bool name_char(unsigned char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

// The first offset in [begin, end) of a record start tag ("<record" or "<prefix:record" followed
// by white space, '>' or '/') that is a MARC record outside a record in `context`, or kNone.
std::uint64_t locate_record(const RangeInput& input, std::uint64_t begin, std::uint64_t end, const State& context,
                            MarcXmlNames names, const std::atomic<bool>& cancel) {
    end = std::min(end, input.size());
    for (std::uint64_t pos = begin; pos < end; pos += kWindow) {
        if (cancel.load(std::memory_order_relaxed)) return kNone;
        const std::string window = read_at(input, pos, static_cast<std::size_t>(std::min<std::uint64_t>(kWindow, end - pos)) + kOverlap);
        const std::string_view w = window;
        for (std::size_t h = w.find("record"); h != std::string_view::npos; h = w.find("record", h + 1)) {
            if (h + 6 >= w.size()) break;
            const char after = w[h + 6];
            if (after != ' ' && after != '\t' && after != '\n' && after != '\r' && after != '>' && after != '/')
                continue;
            if (h == 0) continue;
            std::size_t lt = h - 1;
            if (w[lt] == ':') {
                while (lt > 0 && name_char(static_cast<unsigned char>(w[lt - 1]))) --lt;
                if (lt == 0 || lt + 1 == h) continue;
                --lt;
            }
            if (w[lt] != '<') continue;
            const std::uint64_t at = pos + lt;
            if (lt >= kWindow || at >= end) break;  // the next window's (or range's)
            if (record_start(input, at, context, names)) return at;
        }
    }
    return kNone;
}

}  // namespace

struct MarcXmlParallelReader::Impl {
    // One range's result (a worker's, or the consumer's own scan).
    struct Result {
        std::unique_ptr<Batch> batch;
        std::uint64_t start = kNone;  // where its scan began (kNone: no record start found)
        Span span;
        bool framed = true;  // every record framed cleanly (else the consumer reads sequentially)
        std::uint64_t iso_bytes = 0;
        std::deque<std::pair<std::uint64_t, std::string>> leaders;  // by index within the range
        std::exception_ptr error;                                   // of the input (I/O)
    };

    RangeInput input;
    ParallelOptions options;
    MarcXmlOptions xml;
    std::string name;

    std::uint64_t head_end = 0;  // the first record start tag outside a record
    State context;               // the scanner's state there
    std::uint64_t ranges = 0;

    std::mutex mutex;
    std::condition_variable done_cv;
    std::condition_variable work_cv;
    std::vector<Result> slots;
    std::vector<bool> slot_ready;
    detail::BatchPool pool;
    std::uint64_t next_range = 0;
    std::uint64_t consumed = 0;
    bool stop = false;
    std::atomic<bool> cancel{false};
    std::vector<std::thread> threads;

    // Consumer state.
    std::uint64_t expected = 0;  // where the next range's records must begin
    State expected_state;        // the scanner's state there
    bool expected_is_context = true;
    std::uint64_t next_index = 0;  // records handed out
    std::uint64_t iso_base = 0;    // ISO 2709 bytes handed out
    bool finished = false;
    std::unique_ptr<BatchReader> fallback;
    std::uint64_t fallback_index = 0, fallback_offset = 0;
    std::uint64_t rescanned = 0;

    std::uint64_t range_begin(std::uint64_t k) const noexcept { return head_end + k * options.range_bytes; }
    std::uint64_t range_end(std::uint64_t k) const noexcept {
        return std::min<std::uint64_t>(range_begin(k) + options.range_bytes, input.size());
    }

    // Scans from `from` in `state` to the first boundary at or after `mark`, then frames and parses.
    void fill(Result& r, std::uint64_t from, std::uint64_t mark, const State& state) {
        r.start = from;
        std::string iso;
        auto log = xml.leaders ? std::make_shared<XmlLeaderLog>() : nullptr;
        r.span = scan_span(input, from, mark, state, xml, iso, log, &cancel);
        if (log) r.leaders = log->drain();
        r.iso_bytes = iso.size();
        Batch& out = *r.batch;
        out.clear();
        ReaderOptions framing = options.reader;
        framing.chunk_size = kFrameChunk;  // the bytes are in memory: no 1 MiB buffer per range
        RecordReader reader(std::make_unique<MemorySource>(iso), framing);
        FramedRecord frame;
        while (reader.next(frame)) {
            if (frame.error != ErrorCode::ok) {
                r.framed = false;
                break;
            }
            const std::string_view bytes = reader.bytes(frame);
            out.append(std::move(frame), bytes);
            frame = FramedRecord{};
        }
        if (!r.framed || out.size() != r.span.records) {
            r.framed = false;
            return;
        }
        out.parse(options.parse);
        if (options.process && out.size() > 0) options.process(out);
    }

    void work() {
        const std::size_t n = slots.size();
        for (;;) {
            std::uint64_t k = 0;
            {
                std::unique_lock<std::mutex> lock(mutex);
                work_cv.wait(lock, [&] { return stop || next_range >= ranges || next_range < consumed + n; });
                if (stop || next_range >= ranges) return;
                k = next_range++;
            }
            Result r;
            try {
                r.batch = pool.take();
                r.batch->clear();
                const std::uint64_t at = locate_record(input, range_begin(k), range_end(k), context, xml.names, cancel);
                if (at != kNone) fill(r, at, range_end(k), context);
            } catch (...) {
                r.error = std::current_exception();
            }
            {
                std::lock_guard<std::mutex> lock(mutex);
                slots[k % n] = std::move(r);
                slot_ready[k % n] = true;
            }
            done_cv.notify_all();
        }
    }

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        cancel.store(true, std::memory_order_relaxed);
        work_cv.notify_all();
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }

    // Reads on sequentially: the document again from its start, the records handed out skipped.
    void go_sequential(bool expat) {
        stop_workers();
        fallback_index = next_index;
        fallback_offset = iso_base;
        const RangeInput in = input;
        auto open = [in]() { return in.open(0, in.size()); };
        MarcXmlOptions xo = xml;
        BatchOptions bo;
        bo.background = true;
        bo.process = options.process;
        fallback = std::make_unique<BatchReader>(
            detail::marcxml_source_skipping(std::move(open), std::move(xo), name, next_index, expat), options.reader,
            options.parse, bo);
    }

    std::unique_ptr<Batch> next_fallback() {
        auto batch = fallback->next();
        if (!batch) return nullptr;
        for (FramedRecord& f : batch->frames) {
            f.index += fallback_index;
            f.offset += fallback_offset;
        }
        return batch;
    }

    std::unique_ptr<Batch> next() {
        const std::size_t n = slots.size();
        for (;;) {
            if (fallback) return next_fallback();
            if (finished) return nullptr;
            if (consumed >= ranges) {
                // Every range taken and the document not done: cannot happen (the last range scans to
                // the end of the input); read the rest sequentially rather than lose anything.
                go_sequential(false);
                continue;
            }
            const std::uint64_t k = consumed;
            Result r;
            {
                std::unique_lock<std::mutex> lock(mutex);
                done_cv.wait(lock, [&] { return bool(slot_ready[k % n]); });
                r = std::move(slots[k % n]);
                slot_ready[k % n] = false;
                ++consumed;
            }
            work_cv.notify_all();
            if (r.error) {
                stop_workers();
                std::rethrow_exception(r.error);
            }
            if (r.start == kNone && expected >= range_end(k)) {  // covered by the ranges before
                pool.give(std::move(r.batch));
                continue;
            }
            if (r.start != expected || !expected_is_context) {
                // The worker began elsewhere or in another state: scan the range here, exactly.
                ++rescanned;
                Result again;
                again.batch = r.batch ? std::move(r.batch) : pool.take();
                r = std::move(again);
                fill(r, expected, range_end(k), expected_state);
            }
            if (!r.framed) {
                pool.give(std::move(r.batch));
                go_sequential(false);
                continue;
            }
            for (FramedRecord& f : r.batch->frames) {
                f.index += next_index;
                f.offset += iso_base;
            }
            if (xml.leaders)
                for (auto& [index, leader] : r.leaders) xml.leaders->add(next_index + index, std::move(leader));
            next_index += r.span.records;
            iso_base += r.iso_bytes;
            switch (r.span.stop) {
                case Stop::boundary:
                    expected = r.span.end;
                    expected_is_context = r.span.state == context;
                    expected_state = std::move(r.span.state);
                    break;
                case Stop::done:
                    finished = true;
                    stop_workers();
                    break;
                case Stop::fallback:
                    go_sequential(true);
                    break;
            }
            if (r.batch->size() == 0) {
                pool.give(std::move(r.batch));
                continue;
            }
            return std::move(r.batch);
        }
    }
};

MarcXmlParallelReader::MarcXmlParallelReader(RangeInput input, ParallelOptions options, MarcXmlOptions xml,
                                             std::string name)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.input = std::move(input);
    m.options = std::move(options);
    const ReadOptions read = marcxml_read_options(ReadOptions{m.options.reader, m.options.parse});
    m.options.parse = read.parse;
    m.options.workers = resolve_workers(m.options.workers);
    m.options.range_bytes = std::max<std::size_t>(m.options.range_bytes, 1);
    if (m.options.max_pending == 0) m.options.max_pending = 2 * std::size_t{m.options.workers} + 1;
    m.xml = std::move(xml);
    m.name = std::move(name);
    if (m.xml.engine != MarcXmlEngine::fast)
        throw std::invalid_argument("MarcXmlParallelReader reads with the fast engine only");

    // The head: up to the first MARC record start tag outside a record, on this thread.
    std::string none;
    Span head = scan_span(m.input, 0, 0, State{}, m.xml, none, nullptr, nullptr);
    if (head.stop != Stop::boundary || !head.state.in_root()) {
        // No record, a document that is one record, or something the scanner leaves to expat:
        // nothing to split; the sequential reader reads it.
        m.go_sequential(false);
        return;
    }
    m.head_end = m.expected = head.end;
    m.context = m.expected_state = std::move(head.state);
    m.ranges = (m.input.size() - m.head_end + m.options.range_bytes - 1) / m.options.range_bytes;
    m.slots.resize(m.options.max_pending);
    m.slot_ready.assign(m.options.max_pending, false);
    const auto n = static_cast<unsigned>(std::min<std::uint64_t>(m.options.workers, m.ranges));
    m.pool.set_capacity(m.options.max_pending + n);
    m.threads.reserve(n);
    try {
        for (unsigned i = 0; i < n; ++i) m.threads.emplace_back([&m] { m.work(); });
    } catch (...) {
        m.stop_workers();
        throw;
    }
}

MarcXmlParallelReader::~MarcXmlParallelReader() {
    if (impl_) impl_->stop_workers();
}

std::unique_ptr<Batch> MarcXmlParallelReader::next() { return impl_->next(); }

void MarcXmlParallelReader::recycle(std::unique_ptr<Batch> batch) {
    if (!batch) return;
    if (impl_->fallback) impl_->fallback->recycle(std::move(batch));
    else impl_->pool.give(std::move(batch));
}

bool MarcXmlParallelReader::wait_ready(std::chrono::milliseconds timeout) {
    Impl& m = *impl_;
    if (m.fallback) return m.fallback->wait_ready(timeout);
    if (m.finished || m.consumed >= m.ranges) return true;
    const std::size_t slot = m.consumed % m.slots.size();
    std::unique_lock<std::mutex> lock(m.mutex);
    return m.done_cv.wait_for(lock, timeout, [&] { return bool(m.slot_ready[slot]); });
}

MarcXmlParallelStats MarcXmlParallelReader::stats() const {
    const Impl& m = *impl_;
    return MarcXmlParallelStats{m.ranges, m.rescanned, m.fallback != nullptr};
}

#else

struct MarcXmlParallelReader::Impl {};

MarcXmlParallelReader::MarcXmlParallelReader(RangeInput, ParallelOptions, MarcXmlOptions, std::string name) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            name + ": MARCXML, and this build of rapidmarc has no expat (read it with parse_xml_to_array)");
}
MarcXmlParallelReader::~MarcXmlParallelReader() = default;
std::unique_ptr<Batch> MarcXmlParallelReader::next() { return nullptr; }
void MarcXmlParallelReader::recycle(std::unique_ptr<Batch>) {}
bool MarcXmlParallelReader::wait_ready(std::chrono::milliseconds) { return true; }
MarcXmlParallelStats MarcXmlParallelReader::stats() const { return {}; }

#endif

}  // namespace rapidmarc
