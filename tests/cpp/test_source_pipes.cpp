// Paths that cannot seek (a pipe, a FIFO, /dev/stdin, /proc/self/fd/N) are read in one sequential
// stream by every engine (issue #11 item 2: they used to read as zero records with workers > 1 and
// fail with "Illegal seek" with workers 0 and 1); byte-range reading refuses them clearly.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;

namespace {

using Item = rapidmarc::test::Delivered;

ReadOptions with_workers(int workers, bool recover = false) {
    ReadOptions o;
    o.workers = workers;
    o.framing.recover = recover;
    return o;
}

// A write to a pipe whose readers are gone must fail with EPIPE, not kill the test binary.
void ignore_sigpipe() {
    static const bool once = [] {
        ::signal(SIGPIPE, SIG_IGN);
        return true;
    }();
    (void)once;
}

constexpr auto kDeadline = std::chrono::seconds(60);

// Writes `data` in small chunks on a thread, then closes its descriptor, as a producer process
// would. Either into a descriptor it owns (the write end of a pipe), or into a FIFO it opens as
// soon as a reader has it open (polling with O_NONBLOCK, so a reader that never comes cannot hang
// the test; `connected()` tells whether one came). A reader that goes away early makes the writes
// fail (EPIPE), which ends the thread: the destructor never waits for a reader.
class ChunkWriter {
public:
    ChunkWriter(int fd, std::string data) : data_(std::move(data)) {
        ignore_sigpipe();
        connected_ = true;
        thread_ = std::thread([this, fd] { write_all(fd); });
    }
    ChunkWriter(std::filesystem::path fifo, std::string data) : data_(std::move(data)) {
        ignore_sigpipe();
        thread_ = std::thread([this, fifo = std::move(fifo)] {
            const auto deadline = std::chrono::steady_clock::now() + kDeadline;
            int fd = -1;
            while (!stop_ && std::chrono::steady_clock::now() < deadline) {
                fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                if (fd >= 0 || errno != ENXIO) break;  // ENXIO: no reader yet
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            if (fd < 0) return;
            connected_ = true;
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            write_all(fd);
        });
    }
    ~ChunkWriter() {
        stop_ = true;
        thread_.join();
    }
    ChunkWriter(const ChunkWriter&) = delete;
    ChunkWriter& operator=(const ChunkWriter&) = delete;

    bool connected() const noexcept { return connected_; }

private:
    void write_all(int fd) {
        std::mt19937 rng(11);
        std::size_t at = 0;
        while (at < data_.size() && !failed_) {
            const std::size_t n = std::min<std::size_t>(data_.size() - at, 1 + rng() % 4093);
            const ssize_t w = ::write(fd, data_.data() + at, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) failed_ = true;  // EPIPE: the reader went away
            else at += static_cast<std::size_t>(w);
        }
        ::close(fd);
    }

    std::string data_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> failed_{false};
    std::thread thread_;
};

// A FIFO in a fresh temporary directory, removed with it.
class TempFifo {
public:
    TempFifo() {
        std::string templ = (std::filesystem::temp_directory_path() / "rapidmarc-fifo-XXXXXX").string();
        if (!::mkdtemp(templ.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        dir_ = templ;
        path_ = dir_ / "records.mrc";
        if (::mkfifo(path_.c_str(), 0600) != 0) throw std::system_error(errno, std::generic_category(), "mkfifo");
    }
    ~TempFifo() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    const std::filesystem::path& path() const noexcept { return path_; }
    const std::filesystem::path& dir() const noexcept { return dir_; }

private:
    std::filesystem::path dir_, path_;
};

// The records of the regular file, read as every engine reads it.
std::vector<Item> regular(const std::filesystem::path& file, bool recover = false) {
    auto stream = open_batches(file, with_workers(0, recover));
    return rapidmarc::test::delivered(*stream);
}

// The records of `file` streamed through a pipe(2) and read by open_batches from `name(fd)`.
std::vector<Item> via_pipe(const std::filesystem::path& file, int workers, bool proc_self, bool recover = false) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    ChunkWriter writer(fds[1], read_file(file));  // destroyed last: after the reader is gone
    const std::string name = (proc_self ? "/proc/self/fd/" : "/dev/fd/") + std::to_string(fds[0]);
    std::unique_ptr<BatchStream> stream;
    try {
        stream = open_batches(name, with_workers(workers, recover));
    } catch (...) {
        ::close(fds[0]);
        throw;
    }
    ::close(fds[0]);  // the stream has its own descriptor; when it goes, the writer's writes fail
    return rapidmarc::test::delivered(*stream);
}

std::vector<Item> via_fifo(const std::filesystem::path& file, const TempFifo& fifo, int workers, bool recover = false) {
    ChunkWriter writer(fifo.path(), read_file(file));
    auto stream = open_batches(fifo.path(), with_workers(workers, recover));
    return rapidmarc::test::delivered(*stream);
}

const std::filesystem::path kLoc = shared_data() / "real" / "loc_386.mrc";              // 525 KB: many pipe buffers
const std::filesystem::path kDamaged = shared_data() / "edge" / "structural_errors_5.mrc";  // framing errors

}  // namespace

TEST(SourcePipes, PipeReadsEveryRecordWithEveryEngine) {
    const std::vector<Item> expected = regular(kLoc);
    ASSERT_EQ(expected.size(), 386u);
    for (int workers : {0, 1, 2, -1}) {
        for (bool proc_self : {true, false}) {
            SCOPED_TRACE("workers " + std::to_string(workers) + (proc_self ? " /proc/self/fd" : " /dev/fd"));
            EXPECT_EQ(via_pipe(kLoc, workers, proc_self), expected);
        }
    }
}

TEST(SourcePipes, PipeOfDamagedFileReadsAsTheRegularFile) {
    if (!std::filesystem::exists(kDamaged)) GTEST_SKIP() << kDamaged << " missing";
    for (bool recover : {false, true}) {
        const std::vector<Item> expected = regular(kDamaged, recover);
        ASSERT_FALSE(expected.empty());
        for (int workers : {0, 1, 2, -1}) {
            SCOPED_TRACE("workers " + std::to_string(workers) + (recover ? " recover" : ""));
            EXPECT_EQ(via_pipe(kDamaged, workers, true, recover), expected);
        }
    }
}

TEST(SourcePipes, FifoReadsEveryRecordWithEveryEngine) {
    const std::vector<Item> expected = regular(kLoc);
    TempFifo fifo;
    for (int workers : {0, 1, 2, -1}) {
        SCOPED_TRACE("workers " + std::to_string(workers));
        EXPECT_EQ(via_fifo(kLoc, fifo, workers), expected);
    }
}

TEST(SourcePipes, ConvertFileStreamsAFifo) {
    const auto convert_to_string = [](const std::filesystem::path& input, int workers) {
        std::FILE* out = std::tmpfile();
        if (!out) throw std::system_error(errno, std::generic_category(), "tmpfile");
        const ConvertResult result = convert_file(input, out, ConvertFormat::xml, with_workers(workers));
        std::string text(static_cast<std::size_t>(std::ftell(out)), '\0');
        std::rewind(out);
        const std::size_t got = std::fread(text.data(), 1, text.size(), out);
        std::fclose(out);
        text.resize(got);
        return std::make_pair(result.records, text);
    };
    const auto expected = convert_to_string(kLoc, 0);
    ASSERT_EQ(expected.first, 386u);
    TempFifo fifo;
    for (int workers : {0, 2}) {
        SCOPED_TRACE("workers " + std::to_string(workers));
        ChunkWriter writer(fifo.path(), read_file(kLoc));
        EXPECT_EQ(convert_to_string(fifo.path(), workers), expected);
    }
}

TEST(SourcePipes, FileSourceStreamsAPipeAndKnowsItCannotSeek) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const std::string data = read_file(kLoc);
    {
        ChunkWriter writer(fds[1], data);
        FileSource source("/proc/self/fd/" + std::to_string(fds[0]));
        ::close(fds[0]);
        EXPECT_FALSE(source.seekable());
        EXPECT_EQ(source.size(), 0u);
        char c;
        EXPECT_THROW(source.read_at(&c, 1, 0), std::system_error);
        std::string got, chunk(65536, '\0');
        while (const std::size_t n = source.read(chunk.data(), chunk.size())) got.append(chunk.data(), n);
        EXPECT_EQ(got, data);
    }
    FileSource file(kLoc);
    EXPECT_TRUE(file.seekable());
    EXPECT_EQ(file.size(), data.size());
}

// Byte ranges need random access: a FIFO is refused at once, with ESPIPE and its name, and is not
// even opened (its writer never sees a reader, so no data is taken from it).
TEST(SourcePipes, RangeInputRefusesAFifoWithoutOpeningIt) {
    TempFifo fifo;
    ChunkWriter writer(fifo.path(), read_file(kLoc));  // before the fix, the probe open took it
    try {
        (void)RangeInput::file(fifo.path());
        ADD_FAILURE() << "RangeInput::file accepted a FIFO";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::invalid_seek);
        EXPECT_NE(std::string(e.what()).find(fifo.path().string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(writer.connected());
}

TEST(SourcePipes, RangeInputAndRangeFileSourceRefuseAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ChunkWriter writer(fds[1], read_file(kLoc));
    const std::string name = "/dev/fd/" + std::to_string(fds[0]);
    EXPECT_THROW((void)RangeInput::file(name), std::system_error);
    try {
        FileSource source(name, 0, 100);
        ADD_FAILURE() << "FileSource(path, begin, end) accepted a pipe";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::invalid_seek);
    }
    ::close(fds[0]);
}

// Already so before the fix; kept with the other non-regular paths: a directory is EISDIR with
// every engine, never zero records.
TEST(SourcePipes, DirectoryIsEisdirWithEveryEngine) {
    TempFifo fifo;  // its directory
    for (int workers : {0, 1, 2, -1}) {
        SCOPED_TRACE("workers " + std::to_string(workers));
        try {
            (void)open_batches(fifo.dir(), with_workers(workers));
            ADD_FAILURE() << "open_batches accepted a directory";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), std::errc::is_a_directory);
        }
    }
    try {
        (void)RangeInput::file(fifo.dir());
        ADD_FAILURE() << "RangeInput::file accepted a directory";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::is_a_directory);
    }
}

// A read waiting on a quiet pipe ends when the source is cancelled, and a reader whose worker
// waits there stops at once when destroyed, instead of when the writer next writes or closes.
TEST(SourcePipes, CancelEndsAWaitOnAQuietPipe) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string path = "/proc/self/fd/" + std::to_string(fds[0]);
    {
        FileSource source(path);
        std::atomic<bool> returned{false};
        std::size_t got = 1;
        std::thread reader([&] {
            char buf[16];
            got = source.read(buf, sizeof buf);
            returned = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_FALSE(returned);  // nothing was written: the read waits
        source.cancel();
        reader.join();
        EXPECT_EQ(got, 0u);
        char buf[4];
        EXPECT_EQ(source.read(buf, sizeof buf), 0u);  // and stays cancelled
    }
    {
        const std::string record = test::make_record({{"001", "a"}});
        ASSERT_EQ(::write(fds[1], record.data(), record.size()), static_cast<ssize_t>(record.size()));
        ReadOptions options;  // workers = 1: a worker thread reads the pipe
        auto stream = open_batches(path, options);
        auto batch = stream->next();
        ASSERT_TRUE(batch);
        EXPECT_EQ(batch->size(), 1u);
        stream->recycle(std::move(batch));
        EXPECT_FALSE(stream->wait_ready(std::chrono::milliseconds(50)));  // the worker waits for more
        stream.reset();  // returns although the pipe's writer is still open
    }
    ::close(fds[0]);
    ::close(fds[1]);
}
