// Parallel reading of one input: byte ranges framed and parsed on a pool of threads, delivered
// in file order with bounded memory.
//
// The input (a file path or a memory buffer) is cut into fixed-size byte ranges. A worker takes
// the next range, finds the first plausible record start in it (find_record_start: just after a
// record terminator, five digits, a terminator where the length says), frames every record that
// starts inside the range (the last one may run past its end) and parses them. The consumer takes
// the ranges' batches strictly in order and checks that each range starts exactly where the
// previous one ended. On well-formed input it always does, so the result is the sequential
// reader's, record for record. When the chain breaks (a framing error, or a range that began at a
// false start inside damaged data) the consumer falls back to a sequential reader from the last
// confirmed record boundary to the end of the input: damaged files are read exactly as the
// sequential RecordReader reads them, errors and recovery included, only not in parallel.
//
// Back-pressure: at most `max_pending` ranges are being parsed or waiting to be consumed, so memory
// is bounded by about max_pending * range_bytes whatever the consumer's speed.
//
// Threads are std::thread with a mutex and two condition variables. The work is coarse (a range is
// a megabyte, thousands of records), so a work-stealing scheduler such as oneTBB would add a
// dependency without measurable gain; and our pool must stop promptly when the consumer goes away.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rapidmarc/batch.hpp"
#include "rapidmarc/parser.hpp"
#include "rapidmarc/reader.hpp"
#include "rapidmarc/source.hpp"

namespace rapidmarc {

// Random-access input: any byte range of it can be read independently.
class RangeInput {
public:
    // A regular file, opened once; every range is read from that descriptor with pread(2), so
    // threads share it. Throws std::system_error naming the path if it cannot be opened, if it is
    // a directory (EISDIR), or if it is not a regular file (ESPIPE: a pipe, FIFO or character
    // device cannot be read at an offset; open_batches() reads such a path in one sequential
    // stream instead). A path that stat(2) already shows is not a regular file is refused without
    // being opened, so refusing a FIFO neither waits for its writer nor takes its data.
    static RangeInput file(const std::filesystem::path& path);
    // The regular file `file` has open (FileSource::seekable()); throws std::system_error (ESPIPE)
    // if it is a stream. `file` is only read with read_at() from now on.
    static RangeInput file(std::shared_ptr<const FileSource> file);
    // A buffer the caller keeps alive for as long as readers of it exist.
    static RangeInput memory(std::string_view bytes) noexcept;
    // Any random-access input of `size` bytes: read_at(dst, n, offset) reads up to n bytes at
    // `offset` (fewer only at the end of the input) and may throw. It is called on whichever
    // thread reads (for a remote file behind a Python file object, say: rapidmarc.dask).
    using ReadAt = std::function<std::size_t(char* dst, std::size_t n, std::uint64_t offset)>;
    static RangeInput reader(std::uint64_t size, ReadAt read_at);

    std::uint64_t size() const noexcept { return size_; }
    // A source for bytes [begin, min(end, size())).
    std::unique_ptr<ByteSource> open(std::uint64_t begin, std::uint64_t end) const;

private:
    std::shared_ptr<const FileSource> file_;
    std::shared_ptr<const ReadAt> read_at_;
    std::string_view memory_;
    std::uint64_t size_ = 0;
};

// Number of worker threads to use for `requested` (0: the machine's hardware threads, at least 1).
unsigned resolve_workers(unsigned requested) noexcept;

// Byte-range reading: the records that START in [begin, end) of `input` belong to that range (the
// last one may run past `end`), so ranges cut anywhere partition a well-formed input exactly.
struct RangeInfo {
    static constexpr std::uint64_t none = UINT64_MAX;
    std::uint64_t start = none;  // offset of the range's first record, or `none` if no record starts in it
    std::uint64_t end = 0;       // offset just after its last record
    bool clean = true;           // false: framing stopped at an error inside the range
    Error stop;                  // when not clean: that framing error (index within the range, offset in the input)
};

// First plausible record start in [begin, end), or RangeInfo::none. Offset 0 always starts a record.
std::uint64_t locate_record_start(const RangeInput& input, std::uint64_t begin, std::uint64_t end,
                                  bool read_oversize = true);

// Frames and parses the records starting in [begin, end) into `out` (cleared first); frame offsets
// are offsets in the input, indexes count from 0 within the range. Framing stops at the first
// error (recover is ignored): a range's reader cannot know what came before it.
RangeInfo read_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end, const ReaderOptions& reader,
                     const ParseOptions& parse, Batch& out);

// read_range's framing alone: the same RangeInfo, and how many items (records, also those that
// will fail to parse) read_range would return, without copying or parsing them. The cheap first
// pass of a partitioned reader, which needs each range's items to number the next range's records.
struct RangeFrames {
    RangeInfo info;
    std::uint64_t items = 0;
};
RangeFrames frame_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end, const ReaderOptions& reader);

// Where the chain of ranges broke, a partitioned reader reads sequentially: the items a
// RecordReader over the input from `begin` (a record boundary) yields, recover honoured, exactly as
// the sequential reader of the whole input yields them after that boundary.
//
// frame_span counts them (framing only) until the reader ends or yields an item starting at one of
// `rejoin` (sorted offsets: the starts of later clean ranges, where the chain can resume); `rejoin`
// is then that offset, else RangeInfo::none. `end` is one past the last counted item's bytes.
struct SpanFrames {
    std::uint64_t items = 0;
    std::uint64_t end = 0;
    std::uint64_t rejoin = RangeInfo::none;
};
SpanFrames frame_span(const RangeInput& input, std::uint64_t begin, const std::vector<std::uint64_t>& rejoin,
                      const ReaderOptions& reader);
// read_span appends and parses those items into `out` (cleared first), up to the first one that
// starts at or after `stop`; frame offsets are offsets in the input, indexes count from 0.
void read_span(const RangeInput& input, std::uint64_t begin, std::uint64_t stop, const ReaderOptions& reader,
               const ParseOptions& parse, Batch& out);

// read_range and read_span handing their items out in parsed batches of about `batch_bytes` (and at
// most 1,024 records) instead of one: on_batch(batch) sees each batch, then `batch` is cleared and
// reused, so memory stays at one batch however long the range. Indexes count on across batches.
RangeInfo read_range(const RangeInput& input, std::uint64_t begin, std::uint64_t end, const ReaderOptions& reader,
                     const ParseOptions& parse, std::size_t batch_bytes, const std::function<void(Batch&)>& on_batch);
void read_span(const RangeInput& input, std::uint64_t begin, std::uint64_t stop, const ReaderOptions& reader,
               const ParseOptions& parse, std::size_t batch_bytes, const std::function<void(Batch&)>& on_batch);

struct ParallelOptions {
    unsigned workers = 0;                            // 0: one per hardware thread
    // Size of one unit of work. 512 KiB: the batches in flight (max_pending of them, with their
    // parse results) stay in the cache; 1 MiB ranges were read back from memory (docs/engine.md).
    std::size_t range_bytes = std::size_t{1} << 19;
    std::size_t max_pending = 0;                     // ranges in flight; 0: 2 * workers + 1
    ReaderOptions reader;                            // framing options (recover, read_oversize)
    ParseOptions parse;
    // Called on every non-empty batch after parsing, on the worker that parsed it (on the consumer's
    // thread after a fallback to sequential reading), before the batch is handed out.
    std::function<void(Batch&)> process;
};

class ParallelReader final : public BatchStream {
public:
    // Starts the workers at once. The input must outlive the reader (for memory input).
    ParallelReader(RangeInput input, ParallelOptions options);
    ~ParallelReader() override;
    ParallelReader(const ParallelReader&) = delete;
    ParallelReader& operator=(const ParallelReader&) = delete;

    // Batches in file order; FramedRecord::index and ::offset are positions in the whole input,
    // exactly as a sequential RecordReader over the input would number them.
    std::unique_ptr<Batch> next() override;
    void recycle(std::unique_ptr<Batch> batch) override;

    unsigned workers() const noexcept { return static_cast<unsigned>(threads_.size()); }
    // Ranges the workers have taken so far (at most max_pending ahead of the consumer).
    std::uint64_t ranges_started() {
        std::lock_guard<std::mutex> lock(mutex_);
        return next_range_;
    }
    // True once the reader has switched to sequential reading because the input is damaged.
    bool fell_back() const noexcept { return fallback_ != nullptr; }

private:
    struct RangeResult {
        std::unique_ptr<Batch> batch;
        RangeInfo info;
        std::exception_ptr error;  // an exception of the source (I/O error)
    };

    void work();
    void stop_workers();
    // Under mutex_: ranges k .. k + wave_ - 1 (those that exist) are all finished.
    bool wave_ready(std::uint64_t k) const;
    std::unique_ptr<Batch> next_fallback();

    RangeInput input_;
    ParallelOptions options_;
    std::uint64_t ranges_ = 0;

    std::mutex mutex_;
    std::condition_variable done_cv_;  // the range the consumer waits for finished
    std::condition_variable work_cv_;  // a slot opened up, or stop was requested
    std::vector<RangeResult> slots_;   // ring of max_pending results, indexed by range % size
    std::vector<bool> slot_ready_;
    detail::BatchPool pool_;
    std::uint64_t next_range_ = 0;     // next range a worker will take
    std::uint64_t consumed_ = 0;       // ranges handed to the consumer (or skipped)
    // The range the consumer sleeps on, if it does. It sleeps until a whole wave is finished: that
    // range and the next ones, one per worker (wave_ of them). Only the worker that completes the
    // wave wakes it: in a VM a wake-up costs microseconds on both cores, and while the workers keep
    // both busy it preempts one of them, so the consumer wakes once per wave, not once per range.
    std::uint64_t awaited_ = UINT64_MAX;
    std::uint64_t wave_ = 1;
    bool stop_ = false;
    std::vector<std::thread> threads_;

    // Consumer state (consumer thread only).
    std::uint64_t expected_start_ = 0;  // where the next record must begin
    std::uint64_t next_index_ = 0;      // stream index of the next record
    std::unique_ptr<BatchReader> fallback_;
    std::exception_ptr failed_;  // a worker's error, rethrown by every later next() (found by review:
                                 // a next() after it waited for a range no stopped worker would read)
    std::uint64_t fallback_base_ = 0;
};

}  // namespace rapidmarc
