// Byte sources the reader pulls from: a file path (read natively), a memory buffer, or a
// callback (used by the Python binding to pull large chunks from a Python file object).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace rapidmarc {

class ByteSource {
public:
    virtual ~ByteSource() = default;
    // Reads up to n bytes into dst; returns 0 only at end of input. Throws std::system_error
    // (or whatever the callback throws) on failure.
    virtual std::size_t read(char* dst, std::size_t n) = 0;
};

// Reads a file with large read(2) calls. Owns the descriptor.
class FileSource final : public ByteSource {
public:
    // Opens `path`; throws std::system_error naming the path if it cannot be opened.
    explicit FileSource(const std::filesystem::path& path);
    // Reads only bytes [begin, end) of the file (end = UINT64_MAX: to end of file).
    FileSource(const std::filesystem::path& path, std::uint64_t begin, std::uint64_t end);
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    std::size_t read(char* dst, std::size_t n) override;
    std::uint64_t size() const noexcept { return size_; }

private:
    int fd_ = -1;
    std::uint64_t pos_ = 0;
    std::uint64_t end_ = 0;
    std::uint64_t size_ = 0;
    std::filesystem::path path_;
};

// Borrows a buffer; the caller keeps it alive while reading.
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view bytes) noexcept : bytes_(bytes) {}
    std::size_t read(char* dst, std::size_t n) override;

private:
    std::string_view bytes_;
};

// Pulls from a function with read(2) semantics (returns 0 at end).
class CallbackSource final : public ByteSource {
public:
    using Callback = std::function<std::size_t(char*, std::size_t)>;
    explicit CallbackSource(Callback callback) : callback_(std::move(callback)) {}
    std::size_t read(char* dst, std::size_t n) override { return callback_(dst, n); }

private:
    Callback callback_;
};

}  // namespace rapidmarc
