#include "rapidmarc/batch.hpp"

#include <algorithm>
#include <optional>
#include <utility>

namespace rapidmarc {

namespace {

// Where a record stops being readable for pymarc: the first subfield whose code is not ASCII and
// folds to no ASCII character (SubfieldIterator leaves such a code unnormalised), with the
// directory index of its field. Only the error path needs the location; readable() asks
// subfield_codes_readable, which stops at the same subfield.
struct UnreadableCode {
    std::size_t entry = 0;
    SubfieldView subfield;
};

std::optional<UnreadableCode> first_unreadable_code(const RecordView& record) noexcept {
    for (std::size_t i = 0; i < record.size(); ++i) {
        const FieldView f = record.field(i);
        if (f.is_control()) continue;
        for (const SubfieldView& sf : f.subfields())
            if (!sf.normalized && static_cast<unsigned char>(sf.code) >= 0x80) return UnreadableCode{i, sf};
    }
    return std::nullopt;
}

// Codes whose ParsedRecord::error_offset/error_length locate the offending bytes; for the other
// parse errors they may still point at the last field checked, which is not the culprit.
bool is_text_error(ErrorCode code) noexcept {
    return code == ErrorCode::leader_not_ascii || code == ErrorCode::directory_not_ascii ||
           code == ErrorCode::indicator_not_ascii || code == ErrorCode::invalid_utf8 || code == ErrorCode::invalid_marc8;
}

}  // namespace

BatchReader::BatchReader(std::unique_ptr<ByteSource> source, ReaderOptions reader_options, ParseOptions parse_options,
                         BatchOptions batch_options)
    : reader_(std::move(source), reader_options), parse_options_(parse_options), options_(batch_options) {
    if (options_.queue_depth == 0) options_.queue_depth = 1;
    pool_.set_capacity(options_.queue_depth + 1);
    if (options_.background) worker_ = std::thread([this] { work(); });
}

BatchReader::~BatchReader() {
    if (worker_.joinable()) join_worker(/*cancel=*/true);  // a worker waiting on a quiet pipe stops waiting
}

void BatchReader::join_worker(bool cancel) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    space_cv_.notify_all();
    if (cancel) reader_.cancel();
    worker_.join();
}

void Batch::append(FramedRecord&& frame, std::string_view record_bytes) {
    frame.begin = bytes.size();
    bytes.append(record_bytes);
    frames.push_back(std::move(frame));
}

void Batch::adopt(RecordReader& reader, bool reader_continues) {
    bytes.clear();
    if (frames.empty()) return;
    const std::size_t first = frames.front().begin;
    std::size_t end = first;
    bool overlap = false;
    for (const FramedRecord& f : frames) {
        overlap = overlap || f.begin < end;
        end = f.begin + f.size;
    }
    if (!overlap && !reader_continues) {
        bytes.exchange(reader.release(), end);
        return;
    }
    if (!overlap && reader.unread() <= end - first) {
        detail::ByteBuffer spare = bytes.exchange(detail::ByteBuffer{}, 0);
        bytes.exchange(reader.detach(std::move(spare)), end);
        return;
    }
    for (FramedRecord& f : frames) {
        const std::string_view b = reader.bytes(f);
        f.begin = bytes.size();
        bytes.append(b);
    }
}

void Batch::parse(const ParseOptions& options) {
    const std::size_t n = frames.size();
    if (parsed.size() < n) parsed.resize(n);
    for (std::size_t i = 0; i < n; ++i) parse_one(i, options);
}

void Batch::parse_one(std::size_t i, const ParseOptions& options) {
    parse_framed(i, record(i), options);
    correct_leader(i);  // nothing to correct for a framing error: its parse was cleared
}

void Batch::correct_leader(std::size_t i) noexcept {
    // detect_encoding overruled leader/09: from here on the record says what it really is, to
    // every consumer (reader, selection, conversion), as pymarc's reader would. A record that is
    // not readable keeps its bytes: they are what a reader reports for it.
    if (parsed[i].encoding_corrected && readable(i)) bytes[frames[i].begin + 9] = parsed[i].utf8 ? 'a' : ' ';
}

void Batch::append_framed(FramedRecord&& frame, std::string_view record_bytes, const ParseOptions& options) {
    frames.push_back(std::move(frame));
    parse_framed(frames.size() - 1, record_bytes, options);
}

void Batch::parse_framed(std::size_t i, std::string_view record_bytes, const ParseOptions& options) {
    if (parsed.size() <= i) parsed.resize(i + 1);
    if (frames[i].error == ErrorCode::ok) parse_record(record_bytes, options, parsed[i]);
    else parsed[i].clear();
}

void Batch::correct_leaders() noexcept {
    for (std::size_t i = 0; i < frames.size(); ++i) correct_leader(i);
}

bool Batch::readable(std::size_t i) const noexcept {
    const ParsedRecord& p = parsed[i];
    if (frames[i].error != ErrorCode::ok || p.error != ErrorCode::ok) return false;
    return !p.bad_subfield_code || subfield_codes_readable(RecordView(record(i), p.entries));
}

void ReadTally::add(const Batch& batch, std::size_t i, bool is_good) {
    const FramedRecord& f = batch.frames[i];
    end = f.offset + f.size;
    if (is_good) {
        ++good;
    } else {
        ++bad;
        if (!first_error) first_error = batch.error(i);
    }
    if (is_fatal(f.error)) last_fatal = batch.error(i);
    else if (last_fatal) last_fatal = Error{};
}

void ReadTally::add(const Batch& batch) {
    for (std::size_t i = 0; i < batch.size(); ++i) add(batch, i, batch.readable(i));
}

Error Batch::error(std::size_t i) const {
    const FramedRecord& f = frames[i];
    const ParsedRecord& p = parsed[i];
    Error e;
    e.record_index = f.index;
    e.byte_offset = f.offset;
    if (f.error != ErrorCode::ok) {
        e.code = f.error;
        e.detail = f.detail;
        return e;
    }
    const std::string_view bytes = record(i);
    if (p.error != ErrorCode::ok) {
        e.code = p.error;
        e.detail = p.detail;
        if (is_text_error(p.error)) e.culprit = bytes.substr(p.error_offset, p.error_length);
        return e;
    }
    if (!p.bad_subfield_code) return {};
    const std::optional<UnreadableCode> bad = first_unreadable_code(RecordView(bytes, p.entries));
    if (!bad) return {};
    static constexpr char hex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(bad->subfield.code);
    e.code = ErrorCode::subfield_code_invalid;
    e.detail = "field " + std::string(p.entries[bad->entry].tag_view()) + " (directory entry " +
               std::to_string(bad->entry) + "): subfield code byte '\\x" + hex[byte >> 4] + hex[byte & 15] +
               "' folds to no ASCII character";
    e.culprit = bad->subfield.piece();
    return e;
}

namespace detail {

BatchPool::BatchPool(std::size_t capacity) noexcept : capacity_(capacity) {}
BatchPool::~BatchPool() = default;

std::unique_ptr<Batch> BatchPool::take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (spare_.empty()) return std::make_unique<Batch>();
    auto batch = std::move(spare_.back());
    spare_.pop_back();
    return batch;
}

void BatchPool::give(std::unique_ptr<Batch> batch) {
    if (!batch) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (spare_.size() < capacity_) spare_.push_back(std::move(batch));
}

}  // namespace detail

void BatchReader::recycle(std::unique_ptr<Batch> batch) { pool_.give(std::move(batch)); }

bool BatchReader::fill(Batch& batch) {
    batch.clear();
    // Each record is parsed as it is framed, while its bytes are in the cache.
    const std::size_t n =
        reader_.next_batch(batch.frames, options_.max_records, options_.max_bytes,
                           [&](std::size_t i, std::string_view bytes) { batch.parse_framed(i, bytes, parse_options_); });
    batch.adopt(reader_);
    batch.correct_leaders();
    if (n > 0 && options_.process) options_.process(batch);
    return n > 0;
}

void BatchReader::work() {
    try {
        for (;;) {
            auto batch = pool_.take();
            if (!fill(*batch)) break;
            std::unique_lock<std::mutex> lock(mutex_);
            space_cv_.wait(lock, [&] { return stop_ || ready_.size() < options_.queue_depth; });
            if (stop_) return;
            ready_.push_back(std::move(batch));
            ready_cv_.notify_one();
        }
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    ready_cv_.notify_all();
}

void BatchReader::check_rest() {
    if (!reader_.source_finite()) return;
    if (worker_.joinable()) {
        // The worker reads ahead: it stops (at most after the batch it is filling) before this
        // thread reads on. Not cancelled: that would stop the check too.
        join_worker(/*cancel=*/false);
        std::lock_guard<std::mutex> lock(mutex_);
        finished_ = true;
        ready_.clear();  // nothing more is handed out
        // An error the worker met reading ahead is the input's damage.
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }
    reader_.check_rest();
}

bool BatchReader::wait_ready(std::chrono::milliseconds timeout) {
    if (!options_.background) return true;  // next() does the work itself
    std::unique_lock<std::mutex> lock(mutex_);
    return ready_cv_.wait_for(lock, timeout, [&] { return !ready_.empty() || finished_; });
}

std::unique_ptr<Batch> BatchReader::next() {
    if (!options_.background) {
        auto batch = pool_.take();
        if (!fill(*batch)) {
            recycle(std::move(batch));
            return nullptr;
        }
        return batch;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return !ready_.empty() || finished_; });
    if (!ready_.empty()) {
        auto batch = std::move(ready_.front());
        ready_.pop_front();
        space_cv_.notify_one();
        return batch;
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return nullptr;
}

}  // namespace rapidmarc
