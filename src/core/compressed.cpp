#include "rapidmarc/compressed.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <system_error>
#include <utility>
#include <vector>

#ifdef RAPIDMARC_HAVE_ZLIB
#include <zlib.h>
#endif

namespace rapidmarc {

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) {
    throw std::system_error(EIO, std::generic_category(), name + ": " + what);
}

#ifdef RAPIDMARC_HAVE_ZLIB

class GzipSource final : public ByteSource {
public:
    GzipSource(std::unique_ptr<ByteSource> in, std::string_view already_read, std::string name)
        : in_(std::move(in)), name_(std::move(name)), buf_(kChunk) {
        // 15 + 16: a gzip wrapper (not zlib's, not raw deflate), with the largest window.
        if (inflateInit2(&z_, 15 + 16) != Z_OK) fail(name_, "cannot start zlib");
        pending_.assign(already_read.begin(), already_read.end());
    }
    ~GzipSource() override { inflateEnd(&z_); }
    GzipSource(const GzipSource&) = delete;
    GzipSource& operator=(const GzipSource&) = delete;

    std::size_t read(char* dst, std::size_t n) override {
        if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
        if (n == 0 || done_) return 0;
        z_.next_out = reinterpret_cast<Bytef*>(dst);
        z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, UINT32_MAX));
        const auto produced = [&] { return static_cast<std::size_t>(z_.next_out - reinterpret_cast<Bytef*>(dst)); };
        try {
            while (z_.avail_out > 0) {
                if (z_.avail_in == 0 && !refill()) {
                    if (in_member_) fail(name_, "the compressed data ends inside a gzip member (a truncated .gz file?)");
                    done_ = true;
                    break;
                }
                if (!in_member_) {  // the next member starts here (or only trailing padding follows)
                    if (static_cast<unsigned char>(z_.next_in[0]) == 0 && all_zero_tail()) {
                        done_ = true;  // tape-style zero padding after the last member, as gzip -d accepts
                        break;
                    }
                    if (inflateReset(&z_) != Z_OK) fail(name_, "cannot restart zlib");
                    in_member_ = true;
                }
                const int rc = inflate(&z_, Z_NO_FLUSH);
                consumed_ = total_in_before_ + z_.total_in;
                if (rc == Z_STREAM_END) {
                    in_member_ = false;
                    total_in_before_ = consumed_;
                    continue;
                }
                if (rc == Z_BUF_ERROR) continue;  // needs more input: refilled above
                if (rc != Z_OK) {
                    fail(name_, std::string("the gzip data is corrupt near compressed byte ") + std::to_string(consumed_) +
                                    (z_.msg ? std::string(" (") + z_.msg + ")" : std::string()));
                }
            }
        } catch (const std::system_error&) {
            // What was decompressed before the damage is handed out first; the error comes with
            // the next read (the records it holds are intact: a reader delivers them before it).
            if (produced() == 0) throw;
            pending_error_ = std::current_exception();
            done_ = true;
        }
        return produced();
    }

    bool finite() const noexcept override { return in_->finite(); }

    // Stops check_rest(): a reader being closed does not wait for the rest to be decompressed.
    void cancel() noexcept override {
        cancelled_.store(true, std::memory_order_relaxed);
        in_->cancel();
    }

    // Inflates what is left: zlib's checks (the codes, each member's CRC-32 and length) throw here
    // as they would have in read(). A cancel() ends it early, quietly: the reader is being stopped.
    // A stream is not read on (a pipe may never close): its framing error stands.
    void check_rest() override {
        if (!in_->finite()) return;
        std::vector<char> sink(std::size_t{1} << 16);
        while (!cancelled_.load(std::memory_order_relaxed) && read(sink.data(), sink.size()) > 0) {
        }
    }

private:
    static constexpr std::size_t kChunk = std::size_t{1} << 18;

    // Gives zlib more compressed bytes; false at the end of the compressed input.
    bool refill() {
        if (!pending_.empty()) {
            buf_.assign(pending_.begin(), pending_.end());
            buf_.resize(std::max(buf_.size(), kChunk));
            z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
            z_.avail_in = static_cast<uInt>(pending_.size());
            pending_.clear();
            return true;
        }
        if (in_eof_) return false;
        buf_.resize(kChunk);
        const std::size_t got = in_->read(buf_.data(), buf_.size());
        if (got == 0) {
            in_eof_ = true;
            return false;
        }
        z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_in = static_cast<uInt>(got);
        return true;
    }

    // After a member: is the rest of the compressed input zero bytes? Reads it to find out.
    bool all_zero_tail() {
        for (;;) {
            for (uInt i = 0; i < z_.avail_in; ++i)
                if (z_.next_in[i] != 0) return false;
            z_.avail_in = 0;
            if (!refill()) return true;
        }
    }

    std::unique_ptr<ByteSource> in_;
    std::string name_;
    std::vector<char> buf_;
    std::string pending_;  // bytes taken from `in_` before this source existed
    z_stream z_{};
    std::uint64_t total_in_before_ = 0;  // compressed bytes of the members before this one
    std::uint64_t consumed_ = 0;
    bool in_member_ = false;
    bool in_eof_ = false;
    bool done_ = false;
    std::exception_ptr pending_error_;  // thrown by the next read(): bytes before it were returned
    std::atomic<bool> cancelled_{false};
};

#endif

// Looks at the first two bytes at the first read, then reads through (or decompresses).
class SniffingSource final : public ByteSource {
public:
    SniffingSource(std::unique_ptr<ByteSource> source, std::string name)
        : raw_(source.get()), inner_(std::move(source)), name_(std::move(name)) {}

    std::size_t read(char* dst, std::size_t n) override {
        if (!decided_) decide();
        if (!head_.empty()) {  // the bytes looked at, handed on first
            const std::size_t k = std::min(n, head_.size());
            std::copy_n(head_.data(), k, dst);
            head_.erase(0, k);
            return k;
        }
        return inner_->read(dst, n);
    }

    // The original source stays alive inside inner_ (a GzipSource owns it), so it can be reached
    // from another thread whatever decide() did.
    void cancel() noexcept override { raw_->cancel(); }

    void check_rest() override {
        if (decided_) inner_->check_rest();
    }

private:
    void decide() {
        char two[2];
        while (head_.size() < 2) {
            const std::size_t got = inner_->read(two, 2 - head_.size());
            if (got == 0) break;
            head_.append(two, got);
        }
        decided_ = true;
        if (is_gzip(head_)) {
            inner_ = gunzip(std::move(inner_), head_, name_);
            head_.clear();
        }
    }

    ByteSource* raw_;
    std::unique_ptr<ByteSource> inner_;
    std::string name_;
    std::string head_;
    bool decided_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> maybe_gunzip(std::unique_ptr<ByteSource> source, std::string name) {
    return std::make_unique<SniffingSource>(std::move(source), std::move(name));
}

bool gzip_supported() noexcept {
#ifdef RAPIDMARC_HAVE_ZLIB
    return true;
#else
    return false;
#endif
}

std::unique_ptr<ByteSource> gunzip(std::unique_ptr<ByteSource> compressed, std::string_view already_read,
                                   std::string name) {
#ifdef RAPIDMARC_HAVE_ZLIB
    return std::make_unique<GzipSource>(std::move(compressed), already_read, std::move(name));
#else
    (void)compressed;
    (void)already_read;
    throw std::system_error(ENOTSUP, std::generic_category(),
                            name + ": gzip-compressed, and this build of rapidmarc has no zlib (decompress it first)");
#endif
}

}  // namespace rapidmarc
