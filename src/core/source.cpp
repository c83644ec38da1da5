#include "rapidmarc/source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace rapidmarc {

namespace {

[[noreturn]] void throw_errno(int err, const char* what, const std::filesystem::path& path) {
    throw std::system_error(err, std::generic_category(), std::string(what) + " " + path.string());
}

// Opens `path` for reading and fstat()s the descriptor it got: what the file is (regular, pipe,
// FIFO, device) is decided on the opened descriptor, never by the name, since a FIFO or a pipe
// reached through /proc/self/fd can be opened meaningfully only once. A directory is refused.
int open_and_stat(const std::filesystem::path& path, struct stat& st) {
    int fd;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // a FIFO: waits for a writer
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw_errno(errno, "cannot open", path);
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw_errno(err, "cannot stat", path);
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw_errno(EISDIR, "cannot read", path);
    }
    return fd;
}

[[noreturn]] void throw_not_seekable(const std::filesystem::path& path) {
    throw std::system_error(ESPIPE, std::generic_category(),
                            "cannot read " + path.string() +
                                " at an offset: it is not a regular file (a pipe, FIFO or device is read in one "
                                "sequential pass)");
}

}  // namespace

FileSource::FileSource(const std::filesystem::path& path) : path_(path) {
    struct stat st {};
    fd_ = open_and_stat(path, st);
    seekable_ = S_ISREG(st.st_mode);
    end_ = UINT64_MAX;
    if (!seekable_ && ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        throw_errno(err, "cannot make a wake-up pipe to read", path);
    }
    if (seekable_) {
        size_ = static_cast<std::uint64_t>(st.st_size);
#ifdef POSIX_FADV_SEQUENTIAL
        ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
}

FileSource::FileSource(const std::filesystem::path& path, std::uint64_t begin, std::uint64_t end) : path_(path) {
    struct stat st {};
    fd_ = open_and_stat(path, st);
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        fd_ = -1;
        throw_not_seekable(path);
    }
    seekable_ = true;
    size_ = static_cast<std::uint64_t>(st.st_size);
    pos_ = begin;
    end_ = end;
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

FileSource::~FileSource() {
    if (fd_ >= 0) ::close(fd_);
    for (int fd : wake_)
        if (fd >= 0) ::close(fd);
}

void FileSource::cancel() noexcept {
    if (wake_[1] < 0) return;  // a regular file never waits
    const char byte = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_[1], &byte, 1);  // full pipe: already woken
}

std::size_t FileSource::read(char* dst, std::size_t n) {
    if (pos_ >= end_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - pos_));
    for (;;) {
        if (!seekable_) {
            // A stream may wait indefinitely: wait where cancel() can end it.
            pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                throw_errno(errno, "cannot wait to read", path_);
            }
            if (fds[1].revents != 0) return 0;  // cancelled: the reader is stopping
        }
        // A regular file at our own offset; a stream (pipe, FIFO, device) from where it is.
        const ssize_t got = seekable_ ? ::pread(fd_, dst, n, static_cast<off_t>(pos_)) : ::read(fd_, dst, n);
        if (got >= 0) {
            pos_ += static_cast<std::uint64_t>(got);
            return static_cast<std::size_t>(got);
        }
        if (errno != EINTR) throw_errno(errno, "cannot read", path_);
    }
}

std::size_t FileSource::read_at(char* dst, std::size_t n, std::uint64_t offset) const {
    if (!seekable_) throw_not_seekable(path_);
    for (;;) {
        const ssize_t got = ::pread(fd_, dst, n, static_cast<off_t>(offset));
        if (got >= 0) return static_cast<std::size_t>(got);
        if (errno != EINTR) throw_errno(errno, "cannot read", path_);
    }
}

std::size_t MemorySource::read(char* dst, std::size_t n) {
    n = std::min(n, bytes_.size());
    if (n == 0) return 0;  // an empty view may have no data pointer at all (memcpy must not see it)
    std::memcpy(dst, bytes_.data(), n);
    bytes_.remove_prefix(n);
    return n;
}

}  // namespace rapidmarc
