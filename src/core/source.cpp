#include "rapidmarc/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace rapidmarc {

FileSource::FileSource(const std::filesystem::path& path) : FileSource(path, 0, UINT64_MAX) {}

FileSource::FileSource(const std::filesystem::path& path, std::uint64_t begin, std::uint64_t end) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const int err = errno;
        ::close(fd_);
        throw std::system_error(err, std::generic_category(), "cannot stat " + path.string());
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd_);
        throw std::system_error(EISDIR, std::generic_category(), "cannot read " + path.string());
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    pos_ = begin;
    end_ = end;
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

FileSource::~FileSource() {
    if (fd_ >= 0) ::close(fd_);
}

std::size_t FileSource::read(char* dst, std::size_t n) {
    if (pos_ >= end_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - pos_));
    for (;;) {
        ssize_t got = ::pread(fd_, dst, n, static_cast<off_t>(pos_));
        if (got >= 0) {
            pos_ += static_cast<std::uint64_t>(got);
            return static_cast<std::size_t>(got);
        }
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "cannot read " + path_.string());
    }
}

std::size_t MemorySource::read(char* dst, std::size_t n) {
    n = std::min(n, bytes_.size());
    std::memcpy(dst, bytes_.data(), n);
    bytes_.remove_prefix(n);
    return n;
}

}  // namespace rapidmarc
