// A growable byte buffer that does not zero what it allocates: readers fill it with read(2) or
// memcpy at once, and std::vector<char>::resize would first write every new byte with zero (a
// second pass over memory that ParallelReader pays again for each range it reads).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>

namespace rapidmarc::detail {

class ByteBuffer {
public:
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

}  // namespace rapidmarc::detail
