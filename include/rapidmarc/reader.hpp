// Framing: splits a byte stream into records, with pymarc's rules and error semantics.
//
// A record starts with five digits giving its length and ends with a record terminator. The
// reader reports three framing errors exactly where pymarc does (record_length_invalid,
// truncated_record, end_of_record_not_found). By default it stops after one, as pymarc does;
// with ReaderOptions::recover it resynchronises at the next plausible record and continues.
//
// Records longer than 99,999 bytes cannot state their length: real files carry them with the
// length saturated at 99999. When the byte at that length is not a terminator, the reader frames
// the record by the next terminator instead (read_oversize).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rapidmarc/error.hpp"
#include "rapidmarc/detail/byte_buffer.hpp"
#include "rapidmarc/source.hpp"

namespace rapidmarc {

struct ReaderOptions {
    bool recover = false;         // resynchronise after a framing error instead of stopping
    bool read_oversize = true;    // frame records whose leader says 99999 by their terminator
    // A record length below 5 is a framing error (record_length_invalid), not pymarc's "the rest
    // of the input": what recover implies; also set for the byte ranges of a recovering
    // ParallelReader, which read without recover and hand damage to a sequential reader.
    bool small_length_is_damage = false;
    std::size_t chunk_size = std::size_t{1} << 20;  // bytes pulled from the source per read
};

// One framed record, or the chunk a framing error was found in. Offsets index the reader's
// buffer; the bytes stay valid until the next call to next() or next_batch().
struct FramedRecord {
    std::size_t begin = 0;
    std::size_t size = 0;
    std::uint64_t index = 0;   // position in the stream, counting errors too
    std::uint64_t offset = 0;  // stream offset of the first byte
    ErrorCode error = ErrorCode::ok;
    std::string detail;
};

class RecordReader {
public:
    explicit RecordReader(std::unique_ptr<ByteSource> source, ReaderOptions options = {});

    // Frames the next record into `out`. Returns false at the end of input (and after a framing
    // error unless options.recover). On a framing error returns true with out.error set. A framing
    // error that would end the stream before the end of the input first lets the source check
    // what is left (ByteSource::check_rest): if that throws (a corrupt gzip member), the framing
    // error was the damage's garbage, and the source's exception is thrown instead.
    bool next(FramedRecord& out);

    // Appends up to max_records framed records (stopping early once max_bytes are framed, or
    // when the next record has not been read yet: a batch never waits for the source once it
    // holds a record) to out; all of them stay valid until the next call. Returns how many were
    // appended (0: end). `framed(i, bytes)`, if given, sees each record as it is framed (out[i], its
    // bytes valid only during the call: the buffer may still grow), e.g. to parse it while it is in
    // the cache.
    std::size_t next_batch(std::vector<FramedRecord>& out, std::size_t max_records, std::size_t max_bytes,
                           const std::function<void(std::size_t, std::string_view)>& framed = nullptr);

    std::string_view bytes(const FramedRecord& r) const noexcept { return {buf_.data() + r.begin, r.size}; }

    // While retaining, bytes once read are never moved or dropped (the buffer only grows, keeping
    // its content in place), so every record framed stays valid until detach(), however many
    // next() calls follow. For a caller that hands a run of records on with detach().
    void retain(bool on) noexcept { retain_ = on; }
    // Hands over the buffer: every record framed since the reader last moved its bytes (the
    // start, the last detach(), or next_batch()'s release of the previous batch) is in it where
    // its FramedRecord::begin says. The reader continues in `spare` (any buffer, e.g. one handed
    // over before), into which it copies the bytes it has read but not framed yet: unread() of them.
    detail::ByteBuffer detach(detail::ByteBuffer spare);
    // Hands over the buffer as detach() does, for a reader that is not read again: it ends (next()
    // returns false) and copies nothing.
    detail::ByteBuffer release() noexcept;
    // Bytes read from the source and not framed yet (what detach() copies).
    std::size_t unread() const noexcept { return end_ - begin_; }
    // Lets the source check the input not read yet (ByteSource::check_rest), for a consumer about to
    // stop at a bad record: throws the source's error if that input is damaged (or if an earlier
    // check found it so). The reader reads nothing more afterwards.
    void check_rest();
    bool source_finite() const noexcept { return source_->finite(); }
    // Cancels the source (ByteSource::cancel): a next() waiting for input in another thread ends.
    void cancel() noexcept { source_->cancel(); }
    // Size of the reader's buffer: about one batch plus one chunk, whatever the input's length.
    std::size_t buffer_capacity() const noexcept { return buf_.size(); }
    Error error_of(const FramedRecord& r) const { return {r.error, r.index, r.offset, r.detail}; }

private:
    bool next_is_buffered() const noexcept;  // can the next record be framed without reading?
    bool ensure(std::size_t n);  // make n bytes available from begin_ (false: input ended first)
    void read_to_end();
    void compact();
    void unread_now_at_front() noexcept;  // the unread bytes were moved to buf_[0]: offsets follow
    bool frame_one(FramedRecord& out);
    void resync();
    bool rest_is_damaged();  // a framing error ends the stream early: does the source's check fail?
    void throw_source_error();  // rethrows (once) the error rest_is_damaged() kept, if any

    std::unique_ptr<ByteSource> source_;
    ReaderOptions options_;
    detail::ByteBuffer buf_;
    std::size_t begin_ = 0;  // first unconsumed byte
    std::size_t end_ = 0;    // one past the last byte read
    std::uint64_t buf_offset_ = 0;  // stream offset of buf_[0]
    std::uint64_t index_ = 0;
    std::size_t resync_from_ = SIZE_MAX;  // pending resynchronisation start (recover mode)
    std::uint64_t damage_end_ = 0;        // stream offset one past the last damaged chunk (recover mode)
    bool tail_pending_ = false;           // resync found no record before the end: one last bad item
    bool eof_ = false;
    bool done_ = false;
    // The source's error found when a framing error would have ended the stream early
    // (ByteSource::check_rest): the framing error was its garbage. Raised by the next call, so that
    // a batch holding the records before it is handed out first.
    std::exception_ptr source_error_;
    bool may_compact_ = true;
    bool retain_ = false;
};

// Position of the first plausible record start at or after `from` in `bytes`: just after a record
// terminator (or at `from` itself when `from` is 0), five digits, and when the whole record lies
// inside `bytes`, a record terminator where its length says. Returns bytes.size() if none.
std::size_t find_record_start(std::string_view bytes, std::size_t from) noexcept;

}  // namespace rapidmarc
