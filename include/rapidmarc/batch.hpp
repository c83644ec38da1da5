// Framing and parsing in batches, optionally one step ahead on a background thread.
//
// A Batch owns a copy of up to ~1 MiB of consecutive records together with their framing and
// parse results, so it stays valid while the reader goes on. BatchReader produces batches in
// stream order, either when asked (synchronous) or ahead of the consumer on a worker thread with
// at most `queue_depth` finished batches waiting (bounded memory: a slow consumer stops the worker).
// The worker only touches the ByteSource, so a source that calls back into a language runtime must
// use the synchronous mode.
//
// Batch::readable() is the one definition of a record every consumer (reader, count, extract,
// convert) accepts, and Batch::error() the one description of why a record is not; drain() is the
// consumer loop that stops at the first unreadable record in strict mode.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rapidmarc/detail/batch_pool.hpp"
#include "rapidmarc/detail/byte_buffer.hpp"
#include "rapidmarc/parser.hpp"
#include "rapidmarc/reader.hpp"

namespace rapidmarc {

// Work a user of a batch stream attaches to a batch (for example extracted values), computed by the
// thread that parsed the batch. Derive from it; the stream only owns and forwards it.
struct BatchPayload {
    virtual ~BatchPayload() = default;
};

struct Batch {
    detail::Bytes bytes;                // the records' bytes (frames[i].begin says where each starts)
    std::vector<FramedRecord> frames;   // begin offsets index `bytes`
    std::vector<ParsedRecord> parsed;   // parsed[i] belongs to frames[i] (cleared for framing errors)
    std::unique_ptr<BatchPayload> payload;  // set by the stream's `process` hook, if any

    std::size_t size() const noexcept { return frames.size(); }
    std::string_view record(std::size_t i) const noexcept { return {bytes.data() + frames[i].begin, frames[i].size}; }

    // Empties the batch, keeping its buffers' capacity.
    void clear() noexcept {
        bytes.clear();
        frames.clear();
    }
    // Appends a framed record with a copy of its bytes (frame.begin is set to where they go).
    void append(FramedRecord&& frame, std::string_view record_bytes);
    // Makes `frames`, records `reader` framed since it last moved its bytes (RecordReader::retain,
    // next_batch) whose begin offsets index its buffer, the batch's records, replacing `bytes`:
    // it takes the reader's buffer over (RecordReader::detach, the reader goes on in the batch's
    // previous storage) unless copying the records is cheaper (the reader has read far ahead) or
    // needed (frames overlap: recover mode frames a record inside a damaged chunk, and both must
    // keep their own bytes). Without `reader_continues` the reader is not read again and gives its
    // buffer up (RecordReader::release). Does not parse.
    void adopt(RecordReader& reader, bool reader_continues = true);
    // Parses every framed record into `parsed` (cleared for framing errors). A readable record
    // whose leader/09 ParseOptions::detect_encoding overruled gets the corrected leader/09 in `bytes`.
    void parse(const ParseOptions& options);

    // Parses record i (see parse()); parsed must already hold an element for it.
    void parse_one(std::size_t i, const ParseOptions& options);

    // For a run of records that adopt() takes over later: appends a frame that still indexes the
    // reader's buffer, parsed now from `record_bytes` (its bytes there) while they are in the
    // cache. After adopt(), correct_leaders() completes what parse() does.
    void append_framed(FramedRecord&& frame, std::string_view record_bytes, const ParseOptions& options);
    // The same for frames[i], already in the batch (RecordReader::next_batch's `framed` hook).
    void parse_framed(std::size_t i, std::string_view record_bytes, const ParseOptions& options);
    // Writes the leader/09 that ParseOptions::detect_encoding decided into every readable record
    // whose parse overruled it (parse() does this for the records it parses).
    void correct_leaders() noexcept;

    // True for a record pymarc's MARCReader yields as a Record: framed, parsed, and every subfield
    // code that is not ASCII folds to an ASCII one (pymarc raises IndexError for one that does not).
    // The last check runs only for the rare records whose parse flagged such a code.
    bool readable(std::size_t i) const noexcept;
    // Why record i is not readable: its framing error, else its parse error (with the offending
    // bytes of a text error as `culprit`), else ErrorCode::subfield_code_invalid (culprit: the
    // subfield's code byte and value). A default (ok) Error for a readable record.
    Error error(std::size_t i) const;

private:
    void correct_leader(std::size_t i) noexcept;
};

// What a whole read accounted for, item by item in stream order: every framed item is good or
// bad, and `end` is the stream offset one past the last framed byte. Without
// ReaderOptions::recover the reader stops at a framing error, which is then the last item:
// `last_fatal` holds it, and a caller that knows the input's size finds the bytes never read as
// size - end (a truncated record's chunk runs to the end of the input, so none are).
struct ReadTally {
    std::uint64_t good = 0;
    std::uint64_t bad = 0;
    std::uint64_t end = 0;
    Error first_error;  // the first bad item's error (ok while there is none)
    Error last_fatal;   // the last item's framing error, if the last item so far is one

    // Counts item i of `batch` as good or bad (`good` decided by the caller, e.g. readable(i)).
    void add(const Batch& batch, std::size_t i, bool good);
    // Counts every item of `batch`, good when readable().
    void add(const Batch& batch);
};

// Anything that hands out batches in stream order: BatchReader (one stream, optionally parsed one
// step ahead) and ParallelReader (parallel.hpp: byte ranges of one input parsed on a pool).
class BatchStream {
public:
    virtual ~BatchStream() = default;
    // The next batch in stream order, or nullptr at the end. Rethrows an exception of the source.
    virtual std::unique_ptr<Batch> next() = 0;
    // Hands a consumed batch back so that its buffers are reused.
    virtual void recycle(std::unique_ptr<Batch> batch) = 0;
    // Waits at most `timeout` for next() to have its answer at hand (a batch, the end or an error),
    // so that a caller can do something else meanwhile (notice Ctrl-C while a pipe is silent).
    // True when next() would not wait for a worker; streams that work in next() itself say so at once.
    virtual bool wait_ready(std::chrono::milliseconds timeout) {
        (void)timeout;
        return true;
    }
    // For a consumer about to stop at a bad record (strict mode): lets the source check the input
    // not read yet (ByteSource::check_rest) and throws its error if that is damaged, so that a
    // corrupt gzip member is reported as such and not as the bad record its garbage made. Only
    // finite input is read on (never a pipe). The stream yields nothing more afterwards.
    virtual void check_rest() {}
};

struct BatchOptions {
    std::size_t max_records = 1024;
    std::size_t max_bytes = std::size_t{1} << 20;
    bool background = false;     // parse ahead on a worker thread
    std::size_t queue_depth = 2; // finished batches the worker may hold ahead
    // Called on every batch after parsing, on the thread that parsed it (the worker in background
    // mode), before the batch is handed out. Must not touch a language runtime.
    std::function<void(Batch&)> process;
};

class BatchReader final : public BatchStream {
public:
    BatchReader(std::unique_ptr<ByteSource> source, ReaderOptions reader_options, ParseOptions parse_options,
                BatchOptions batch_options = {});
    ~BatchReader() override;
    BatchReader(const BatchReader&) = delete;
    BatchReader& operator=(const BatchReader&) = delete;

    // The next batch in stream order, or nullptr at the end. Rethrows an exception of the source.
    // In background mode this blocks until the worker has one ready.
    std::unique_ptr<Batch> next() override;
    void recycle(std::unique_ptr<Batch> batch) override;
    bool wait_ready(std::chrono::milliseconds timeout) override;
    void check_rest() override;

private:
    bool fill(Batch& batch);  // false at the end of input
    // Stops the read-ahead worker and waits for it (it finishes the batch it is filling); `cancel`
    // also cancels the source, so that a worker waiting for input stops waiting.
    void join_worker(bool cancel);
    void work();

    RecordReader reader_;
    ParseOptions parse_options_;
    BatchOptions options_;

    std::mutex mutex_;
    std::condition_variable ready_cv_;  // a batch was queued, or the worker finished
    std::condition_variable space_cv_;  // the queue has room, or stop was requested
    std::deque<std::unique_ptr<Batch>> ready_;
    detail::BatchPool pool_;
    std::exception_ptr error_;
    bool finished_ = false;
    bool stop_ = false;
    std::thread worker_;
};

// The consumer loop over a stream: hands every batch to on_batch(Batch&) in stream order and
// recycles it afterwards. With `strict`, a batch holding an unreadable record is not handed out:
// ParseError(batch.error(i)) is thrown for its first unreadable record instead, so everything
// handed out before is exactly the records that precede it. Exceptions of the stream and of
// on_batch propagate.
template <class Fn>
void drain(BatchStream& stream, bool strict, Fn&& on_batch) {
    while (std::unique_ptr<Batch> batch = stream.next()) {
        if (strict) {
            for (std::size_t i = 0; i < batch->size(); ++i) {
                if (batch->readable(i)) continue;
                Error error = batch->error(i);
                stream.recycle(std::move(batch));
                stream.check_rest();  // the input's damage, if that is what made this record bad
                throw ParseError(std::move(error));
            }
        }
        on_batch(*batch);
        stream.recycle(std::move(batch));
    }
}

}  // namespace rapidmarc
