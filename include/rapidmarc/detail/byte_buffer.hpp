// Growable byte storage that does not zero what it allocates: readers fill it with read(2) or
// memcpy at once, and std::vector<char>::resize would first write every new byte with zero (a
// second pass over memory that ParallelReader pays again for each range it reads).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace rapidmarc::detail {

// A buffer of size() bytes, none of them initialised by the buffer itself.
class ByteBuffer {
public:
    ByteBuffer() = default;
    // A moved-from buffer is empty (size 0), never a size without storage.
    ByteBuffer(ByteBuffer&& other) noexcept
        : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}
    ByteBuffer& operator=(ByteBuffer&& other) noexcept {
        data_ = std::move(other.data_);
        size_ = std::exchange(other.size_, 0);
        return *this;
    }

    char* data() noexcept { return data_.get(); }
    const char* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    char& operator[](std::size_t i) noexcept { return data_[i]; }
    char operator[](std::size_t i) const noexcept { return data_[i]; }

    // Makes the buffer `size` bytes long (never shorter than it is), keeping its first `keep`
    // bytes; the bytes after them are unspecified until written.
    void grow(std::size_t size, std::size_t keep) {
        if (size <= size_) return;
        auto bigger = std::make_unique_for_overwrite<char[]>(size);
        if (keep > 0) std::memcpy(bigger.get(), data_.get(), keep);
        data_ = std::move(bigger);
        size_ = size;
    }

private:
    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
};

// Bytes of a given length at the front of a ByteBuffer: a string that can also take over a buffer
// someone else filled (a RecordReader's, RecordReader::detach) instead of copying from it.
class Bytes {
public:
    const char* data() const noexcept { return buf_.data(); }
    char* data() noexcept { return buf_.data(); }
    std::size_t size() const noexcept { return size_; }
    char& operator[](std::size_t i) noexcept { return buf_[i]; }
    char operator[](std::size_t i) const noexcept { return buf_[i]; }
    std::string_view view() const noexcept { return {buf_.data(), size_}; }
    operator std::string_view() const noexcept { return view(); }

    // Makes room for at least n bytes in all, keeping the content.
    void reserve(std::size_t n) { buf_.grow(n, size_); }
    // Empties the bytes, keeping the storage.
    void clear() noexcept { size_ = 0; }
    void append(std::string_view s) {
        if (s.empty()) return;
        if (buf_.size() - size_ < s.size()) buf_.grow(std::max(buf_.size() * 2, size_ + s.size()), size_);
        std::memcpy(buf_.data() + size_, s.data(), s.size());
        size_ += s.size();
    }
    // Takes `filled`, whose first `size` bytes become the content, and returns the storage held
    // before (for reuse: its content is unspecified).
    ByteBuffer exchange(ByteBuffer filled, std::size_t size) noexcept {
        ByteBuffer old = std::exchange(buf_, std::move(filled));
        size_ = size;
        return old;
    }

private:
    ByteBuffer buf_;
    std::size_t size_ = 0;
};

}  // namespace rapidmarc::detail
