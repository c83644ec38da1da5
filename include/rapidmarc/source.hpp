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
    // Makes a read that waits for input (a quiet pipe), in another thread, return 0 (end of input)
    // at once, and every later read too: how a reader stops a worker blocked on such a source.
    // Thread-safe; sources that never wait indefinitely need not do anything.
    virtual void cancel() noexcept {}
    // Called once by a reader that stops before the end of the input (a framing error ends the
    // stream). A source that can tell whether the bytes it was not asked for are intact reads and
    // discards them, and throws as read() would if they are not: a gzip stream damaged in the middle
    // then reports itself as corrupt wherever the damage falls, rather than as the framing error its
    // garbage caused. Default: nothing.
    virtual void check_rest() {}
    // True when reading to the end of the input surely ends: a regular file, a memory buffer (a
    // pipe may never close). Only such input is read to its end by check_rest().
    virtual bool finite() const noexcept { return false; }
};

// Reads a file with large read(2) calls. Owns the descriptor.
//
// The path is opened once and what it is is decided by fstat(2) on that descriptor, never by its
// name. A regular file is read with pread(2): its size is known and any byte range of it can be
// read (seekable()). Anything else that can be opened for reading (a pipe, a FIFO, a character
// device, /dev/stdin, /proc/self/fd/N, a shell's <(...)) is read in one sequential pass with
// read(2): it is never seeked, its size is never asked, and it can be read only once. A directory
// is refused (EISDIR).
class FileSource final : public ByteSource {
public:
    // Opens `path`; throws std::system_error naming the path if it cannot be opened or is a
    // directory. Opening a FIFO waits for its writer, as open(2) does.
    explicit FileSource(const std::filesystem::path& path);
    // Reads only bytes [begin, end) of a regular file (end = UINT64_MAX: to end of file). Throws
    // std::system_error (ESPIPE) naming the path if it is not a regular file: a pipe, FIFO or
    // device cannot be read at an offset.
    FileSource(const std::filesystem::path& path, std::uint64_t begin, std::uint64_t end);
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    std::size_t read(char* dst, std::size_t n) override;
    // A stream's read waits in poll(2) on the descriptor and on a wake-up pipe that cancel() writes.
    void cancel() noexcept override;
    // Up to n bytes at `offset` of a regular file (fewer only at its end), with pread(2): it does not
    // touch the read position, so threads may call it at once. Throws std::system_error (ESPIPE)
    // if the file is not seekable().
    std::size_t read_at(char* dst, std::size_t n, std::uint64_t offset) const;

    // True for a regular file (random access, known size); false for a stream read once.
    bool seekable() const noexcept { return seekable_; }
    bool finite() const noexcept override { return seekable_; }
    // The size of a regular file when it was opened; 0 for a stream (its size is not known).
    std::uint64_t size() const noexcept { return size_; }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    int fd_ = -1;
    int wake_[2] = {-1, -1};  // a stream's wake-up pipe (read end, write end)
    bool seekable_ = false;
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
    bool finite() const noexcept override { return true; }

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
