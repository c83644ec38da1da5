#include "rapidmarc/parallel.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <exception>
#include <system_error>
#include <utility>

#include "python_int.hpp"
#include "rapidmarc/detail/parallel_for.hpp"

namespace rapidmarc {

namespace {

constexpr std::size_t kFirstLocateWindow = std::size_t{4} << 10;  // bytes scanned first when locating a start
constexpr std::size_t kLocateWindow = std::size_t{64} << 10;       // and at most per read after that
constexpr std::size_t kRangeChunk = std::size_t{64} << 10;    // read size of a range's reader

// Reads up to n bytes at `offset` (fewer only at the end of the input).
std::string read_at(const RangeInput& input, std::uint64_t offset, std::size_t n) {
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

// Bytes [begin, end) of a file that RangeInput holds open, read with pread(2) on the shared
// descriptor (which keeps no position, so sources of one file may be read on different threads).
class FileRangeSource final : public ByteSource {
public:
    FileRangeSource(std::shared_ptr<const FileSource> file, std::uint64_t begin, std::uint64_t end) noexcept
        : file_(std::move(file)), pos_(begin), end_(end) {}
    std::size_t read(char* dst, std::size_t n) override {
        if (pos_ >= end_) return 0;
        n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - pos_));
        const std::size_t got = file_->read_at(dst, n, pos_);
        pos_ += got;
        return got;
    }

private:
    std::shared_ptr<const FileSource> file_;
    std::uint64_t pos_;
    std::uint64_t end_;
};

// Bytes [begin, end) of a RangeInput::reader input.
class ReadAtSource final : public ByteSource {
public:
    ReadAtSource(std::shared_ptr<const RangeInput::ReadAt> read_at, std::uint64_t begin, std::uint64_t end) noexcept
        : read_at_(std::move(read_at)), pos_(begin), end_(end) {}
    std::size_t read(char* dst, std::size_t n) override {
        if (pos_ >= end_) return 0;
        n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - pos_));
        const std::size_t got = std::min(n, (*read_at_)(dst, n, pos_));
        pos_ += got;
        return got;
    }

private:
    std::shared_ptr<const RangeInput::ReadAt> read_at_;
    std::uint64_t pos_;
    std::uint64_t end_;
};

[[noreturn]] void throw_not_seekable(const std::filesystem::path& path) {
    throw std::system_error(ESPIPE, std::generic_category(),
                            "cannot read " + path.string() +
                                " by byte ranges: it is not a regular file (a pipe, FIFO or device can only be read "
                                "in one sequential pass)");
}

}  // namespace

RangeInput RangeInput::file(const std::filesystem::path& path) {
    // Refuse what is plainly not a regular file before opening it: opening a FIFO would wait for a
    // writer, and a pipe or FIFO opened and closed again loses what its reader took.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            throw std::system_error(EISDIR, std::generic_category(), "cannot read " + path.string());
        if (!S_ISREG(st.st_mode)) throw_not_seekable(path);
    }
    // The descriptor decides (the name may have changed since): FileSource fstat()s what it opened.
    return file(std::make_shared<const FileSource>(path));
}

RangeInput RangeInput::file(std::shared_ptr<const FileSource> file) {
    if (!file->seekable()) throw_not_seekable(file->path());
    RangeInput input;
    input.size_ = file->size();
    input.file_ = std::move(file);
    return input;
}

RangeInput RangeInput::memory(std::string_view bytes) noexcept {
    RangeInput input;
    input.memory_ = bytes;
    input.size_ = bytes.size();
    return input;
}

RangeInput RangeInput::reader(std::uint64_t size, ReadAt read_at) {
    RangeInput input;
    input.read_at_ = std::make_shared<const ReadAt>(std::move(read_at));
    input.size_ = size;
    return input;
}

std::unique_ptr<ByteSource> RangeInput::open(std::uint64_t begin, std::uint64_t end) const {
    begin = std::min(begin, size_);
    end = std::clamp(end, begin, size_);
    if (file_) return std::make_unique<FileRangeSource>(file_, begin, end);
    if (read_at_) return std::make_unique<ReadAtSource>(read_at_, begin, end);
    return std::make_unique<MemorySource>(memory_.substr(static_cast<std::size_t>(begin),
                                                         static_cast<std::size_t>(end - begin)));
}

unsigned resolve_workers(unsigned requested) noexcept {
    if (requested > 0) return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

std::uint64_t locate_record_start(const RangeInput& input, std::uint64_t begin, std::uint64_t end,
                                  bool read_oversize) {
    const std::uint64_t size = input.size();
    end = std::min(end, size);
    if (begin >= end) return RangeInfo::none;
    if (begin == 0) return 0;  // the sequential reader starts at the first byte, plausible or not
    std::uint64_t pos = begin - 1;  // include the byte before: a start follows a terminator
    // A record starts within a few KiB almost always: read a small window first, larger ones after.
    std::size_t window_size = kFirstLocateWindow;
    while (pos < end) {
        const std::string window = read_at(input, pos, window_size);
        window_size = std::min(window_size * 4, kLocateWindow);
        const std::string_view view = window;
        std::size_t from = 1;
        for (;;) {
            const std::size_t c = find_record_start(window, from);
            if (c >= window.size()) break;
            const std::uint64_t at = pos + c;
            if (at >= end) return RangeInfo::none;
            // find_record_start has checked five digits in the window, and the terminator where
            // they say when the record lies in the window (except for a length of 99999).
            std::int64_t length = 0;
            if (detail::parse_python_int(view.substr(c, 5), length) && length > 0) {
                const auto len = static_cast<std::uint64_t>(length);
                if (len == kMaxRecordLength && read_oversize) return at;
                if (len != kMaxRecordLength && c + len <= window.size()) return at;
                if (at + len <= size) {
                    const std::string last = read_at(input, at + len - 1, 1);
                    if (last.size() == 1 && last[0] == kRecordTerminator) return at;
                }
            }
            from = c + 1;
        }
        if (pos + window.size() >= size || window.size() <= 6) return RangeInfo::none;
        pos += window.size() - 6;  // find_record_start needs 6 bytes after a terminator
    }
    return RangeInfo::none;
}

namespace {

// The framing of a range (read_range, frame_range): finds the range's first record and frames
// from there, calling keep(frame, reader) for every item that starts in [begin, end), until the
// first framing error (which makes the range unclean) or the end of the input. Frame offsets are
// input offsets; begin offsets index the reader's buffer. `start(reader)` runs before the first
// record is framed (with the size of the range from the first record) and `finish(reader)` after
// the last, while the reader's buffer still holds it.
template <class Start, class Keep, class Finish>
RangeInfo scan_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end,
                     const ReaderOptions& reader_options, Start&& start, Keep&& keep, Finish&& finish) {
    end = std::min(end, input.size());
    RangeInfo info;
    info.start = locate_record_start(input, begin, end, reader_options.read_oversize);
    if (info.start == RangeInfo::none) return info;

    ReaderOptions ro = reader_options;
    ro.small_length_is_damage = reader_options.recover || reader_options.small_length_is_damage;
    ro.recover = false;
    ro.chunk_size = kRangeChunk;
    RecordReader reader(input.open(info.start, input.size()), ro);
    start(reader, end - info.start);
    FramedRecord frame;
    info.end = info.start;
    while (reader.next(frame)) {
        const std::uint64_t at = info.start + frame.offset;
        if (at >= end) break;
        if (frame.error != ErrorCode::ok) {
            info.clean = false;
            info.stop = {frame.error, frame.index, at, frame.detail};
            break;
        }
        info.end = at + frame.size;
        frame.offset = at;
        keep(frame, reader);
        frame = FramedRecord{};
    }
    finish(reader);
    return info;
}

// The sequential reader from `begin` (read_span, frame_span): calls take(frame, reader) for each
// item, offsets made input offsets, until it returns false or the reader ends; start (with a size
// of 0: unknown) and finish as for scan_range.
template <class Start, class Take, class Finish>
void scan_span(const RangeInput& input, std::uint64_t begin, const ReaderOptions& reader_options, Start&& start,
               Take&& take, Finish&& finish) {
    ReaderOptions ro = reader_options;
    ro.chunk_size = kRangeChunk;
    RecordReader reader(input.open(begin, input.size()), ro);
    start(reader, std::uint64_t{0});
    FramedRecord frame;
    while (reader.next(frame)) {
        frame.offset += begin;
        if (!take(frame, reader)) break;
        frame = FramedRecord{};
    }
    finish(reader);
}

void no_reader_step(RecordReader&) {}
void no_reader_start(RecordReader&, std::uint64_t) {}

// Collects the items a retaining reader frames into `batch`, which takes the reader's buffer over
// (Batch::adopt) instead of copying the records, parses each as it is framed (while its bytes are
// in the cache) and hands the batch to on_batch
// whenever it holds batch_bytes or 1,024 records (BatchOptions' defaults), and once more at the
// end. Without on_batch, everything is one batch, left in `batch`.
class Batcher {
public:
    Batcher(Batch& batch, const ParseOptions& parse, std::size_t batch_bytes = 0,
            const std::function<void(Batch&)>* on_batch = nullptr)
        : batch_(batch), parse_(parse), batch_bytes_(std::max<std::size_t>(batch_bytes, 1)), on_batch_(on_batch) {}
    // Before the reader reads: `size` bytes are expected (0: unknown).
    void start(RecordReader& reader, std::uint64_t size) {
        reader.retain(true);
        batch_.clear();
        // The reader reads into the batch's storage from the first byte, made large enough for the
        // whole batch now rather than grown (and copied) chunk by chunk.
        if (on_batch_) size = std::min<std::uint64_t>(size == 0 ? batch_bytes_ : size, batch_bytes_);
        batch_.bytes.reserve(static_cast<std::size_t>(size) + 2 * kRangeChunk);
        reader.detach(batch_.bytes.exchange(detail::ByteBuffer{}, 0));
    }
    void add(FramedRecord& frame, RecordReader& reader) {
        const std::string_view bytes = reader.bytes(frame);
        batch_.append_framed(std::move(frame), bytes, parse_);
        if (!on_batch_) return;
        const FramedRecord& last = batch_.frames.back();
        if (last.begin + last.size - batch_.frames.front().begin >= batch_bytes_ || batch_.size() >= 1024)
            flush(reader, true);
    }
    // After the last item (the reader is not read again).
    void finish(RecordReader& reader) { flush(reader, false); }

private:
    void flush(RecordReader& reader, bool reader_continues) {
        batch_.adopt(reader, reader_continues);
        if (batch_.size() == 0) return;
        batch_.correct_leaders();
        if (!on_batch_) return;
        (*on_batch_)(batch_);
        batch_.clear();
    }

    Batch& batch_;
    const ParseOptions& parse_;
    std::size_t batch_bytes_;
    const std::function<void(Batch&)>* on_batch_;
};

}  // namespace

RangeInfo read_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end, const ReaderOptions& reader_options,
                     const ParseOptions& parse, Batch& out) {
    Batcher batcher(out, parse);
    out.clear();
    return scan_range(
        input, begin, end, reader_options, [&](RecordReader& r, std::uint64_t size) { batcher.start(r, size); },
        [&](FramedRecord& frame, RecordReader& r) { batcher.add(frame, r); },
        [&](RecordReader& r) { batcher.finish(r); });
}

RangeFrames frame_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end,
                        const ReaderOptions& reader_options) {
    RangeFrames out;
    out.info = scan_range(
        input, begin, end, reader_options, no_reader_start, [&](FramedRecord&, RecordReader&) { ++out.items; },
        no_reader_step);
    return out;
}

SpanFrames frame_span(const RangeInput& input, std::uint64_t begin, const std::vector<std::uint64_t>& rejoin,
                      const ReaderOptions& reader_options) {
    SpanFrames out;
    out.end = begin;
    scan_span(
        input, begin, reader_options, no_reader_start,
        [&](const FramedRecord& frame, RecordReader&) {
            if (std::binary_search(rejoin.begin(), rejoin.end(), frame.offset)) {
                out.rejoin = frame.offset;
                return false;
            }
            ++out.items;
            out.end = frame.offset + frame.size;
            return true;
        },
        no_reader_step);
    return out;
}

namespace {

// read_span's loop: the items from `begin` that start before `stop`, batched by `batcher`.
void batch_span(const RangeInput& input, std::uint64_t begin, std::uint64_t stop, const ReaderOptions& reader_options,
                Batcher& batcher) {
    scan_span(
        input, begin, reader_options, [&](RecordReader& r, std::uint64_t size) { batcher.start(r, size); },
        [&](FramedRecord& frame, RecordReader& r) {
            if (frame.offset >= stop) return false;
            batcher.add(frame, r);
            return true;
        },
        [&](RecordReader& r) { batcher.finish(r); });
}

}  // namespace

void read_span(const RangeInput& input, std::uint64_t begin, std::uint64_t stop, const ReaderOptions& reader_options,
               const ParseOptions& parse, Batch& out) {
    Batcher batcher(out, parse);
    out.clear();
    batch_span(input, begin, stop, reader_options, batcher);
}

RangeInfo read_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end, const ReaderOptions& reader_options,
                     const ParseOptions& parse, std::size_t batch_bytes, const std::function<void(Batch&)>& on_batch) {
    Batch batch;
    Batcher batcher(batch, parse, batch_bytes, &on_batch);
    return scan_range(
        input, begin, end, reader_options, [&](RecordReader& r, std::uint64_t size) { batcher.start(r, size); },
        [&](FramedRecord& frame, RecordReader& r) { batcher.add(frame, r); },
        [&](RecordReader& r) { batcher.finish(r); });
}

void read_span(const RangeInput& input, std::uint64_t begin, std::uint64_t stop, const ReaderOptions& reader_options,
               const ParseOptions& parse, std::size_t batch_bytes, const std::function<void(Batch&)>& on_batch) {
    Batch batch;
    Batcher batcher(batch, parse, batch_bytes, &on_batch);
    batch_span(input, begin, stop, reader_options, batcher);
}

ParallelReader::ParallelReader(RangeInput input, ParallelOptions options)
    : input_(std::move(input)), options_(options) {
    options_.workers = resolve_workers(options_.workers);
    options_.range_bytes = std::max<std::size_t>(options_.range_bytes, 4096);
    if (options_.max_pending == 0) options_.max_pending = 2 * std::size_t{options_.workers} + 1;
    ranges_ = (input_.size() + options_.range_bytes - 1) / options_.range_bytes;
    slots_.resize(options_.max_pending);
    slot_ready_.assign(options_.max_pending, false);
    const auto n = static_cast<unsigned>(std::min<std::uint64_t>(options_.workers, ranges_));
    // A wave never exceeds the ring: its last range must be one the workers may take while the
    // consumer waits (they stay within max_pending of it).
    wave_ = std::clamp<std::uint64_t>(n, 1, options_.max_pending);
    pool_.set_capacity(options_.max_pending + n);
    threads_.reserve(n);
    try {
        for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
    } catch (...) {
        stop_workers();
        throw;
    }
}

ParallelReader::~ParallelReader() { stop_workers(); }

void ParallelReader::stop_workers() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
}

void ParallelReader::recycle(std::unique_ptr<Batch> batch) {
    if (!batch) return;
    if (fallback_) {
        fallback_->recycle(std::move(batch));
        return;
    }
    pool_.give(std::move(batch));
}

bool ParallelReader::wave_ready(std::uint64_t k) const {
    const std::size_t slots = slots_.size();
    const std::uint64_t last = std::min(k + wave_, ranges_);
    for (std::uint64_t j = k; j < last; ++j)
        if (!slot_ready_[j % slots]) return false;
    return true;
}

void ParallelReader::work() {
    const std::size_t slots = slots_.size();
    for (;;) {
        std::uint64_t k = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_cv_.wait(lock, [&] { return stop_ || next_range_ >= ranges_ || next_range_ < consumed_ + slots; });
            if (stop_ || next_range_ >= ranges_) return;
            k = next_range_++;
        }
        RangeResult result;
        try {
            result.batch = pool_.take();
            const std::uint64_t begin = k * options_.range_bytes;
            result.info = read_range(input_, begin, begin + options_.range_bytes, options_.reader, options_.parse,
                                     *result.batch);
            if (options_.process && result.batch->size() > 0) options_.process(*result.batch);
        } catch (...) {
            result.error = std::current_exception();
        }
        bool awaited = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            slots_[k % slots] = std::move(result);
            slot_ready_[k % slots] = true;
            awaited = awaited_ != UINT64_MAX && wave_ready(awaited_);
        }
        if (awaited) done_cv_.notify_one();
    }
}

std::unique_ptr<Batch> ParallelReader::next_fallback() {
    auto batch = fallback_->next();
    if (!batch) return nullptr;
    for (FramedRecord& f : batch->frames) {
        f.index += next_index_;
        f.offset += fallback_base_;
    }
    return batch;
}

std::unique_ptr<Batch> ParallelReader::next() {
    const std::size_t slots = slots_.size();
    for (;;) {
        if (failed_) std::rethrow_exception(failed_);  // the workers are gone: the same error again
        if (fallback_) return next_fallback();
        if (consumed_ >= ranges_) return nullptr;
        const std::uint64_t k = consumed_;
        RangeResult r;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!slot_ready_[k % slots]) {
                awaited_ = k;
                done_cv_.wait(lock, [&] { return wave_ready(k); });
                awaited_ = UINT64_MAX;
            }
            r = std::move(slots_[k % slots]);
            slot_ready_[k % slots] = false;
            ++consumed_;
        }
        work_cv_.notify_all();
        if (r.error) {
            stop_workers();
            failed_ = r.error;
            std::rethrow_exception(r.error);
        }
        const std::uint64_t range_end = std::min<std::uint64_t>((k + 1) * options_.range_bytes, input_.size());
        const RangeInfo& info = r.info;
        const bool chained = info.start == RangeInfo::none ? expected_start_ >= range_end
                                                           : info.start == expected_start_ && info.clean;
        if (chained && info.start == RangeInfo::none) {
            recycle(std::move(r.batch));
            continue;
        }
        if (chained) {
            for (FramedRecord& f : r.batch->frames) f.index = next_index_++;
            expected_start_ = info.end;
            return std::move(r.batch);
        }
        // The chain broke: read the rest sequentially from the last confirmed boundary.
        recycle(std::move(r.batch));
        stop_workers();
        fallback_base_ = expected_start_;
        BatchOptions bo;
        bo.process = options_.process;
        fallback_ = std::make_unique<BatchReader>(input_.open(expected_start_, input_.size()), options_.reader,
                                                  options_.parse, bo);
    }
}

void detail::parallel_for(std::size_t n, unsigned workers, const std::function<void(std::size_t, std::size_t)>& fn) {
    if (n == 0) return;
    workers = static_cast<unsigned>(std::min<std::size_t>(resolve_workers(workers), n));
    const std::size_t pieces = std::min<std::size_t>(n, std::size_t{workers} * 4);
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto run = [&] {
        for (;;) {
            const std::size_t p = next.fetch_add(1);
            if (p >= pieces) return;
            try {
                fn(p * n / pieces, (p + 1) * n / pieces);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
            }
        }
    };
    {
        std::vector<std::jthread> threads;  // joined on scope exit, also if starting one throws
        threads.reserve(workers - 1);
        for (unsigned i = 1; i < workers; ++i) threads.emplace_back(run);
        run();
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace rapidmarc
