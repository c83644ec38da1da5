// compressed.hpp: a .mrc.gz reads as the records it holds, through every front door; damage in
// the compressed data is an error, never a quiet end of the records.
#include <gtest/gtest.h>

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include "test_support.hpp"

using namespace rapidmarc;
using rapidmarc::test::read_file;
using rapidmarc::test::shared_data;

namespace {

// gzip-compresses `data` with zlib (level 6, one member).
std::string gzip_of(std::string_view data) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string read_all(ByteSource& source, std::size_t step = 4096) {
    std::string out, buf(step, '\0');
    while (std::size_t n = source.read(buf.data(), buf.size())) out.append(buf.data(), n);
    return out;
}

std::filesystem::path write_temp(const std::string& name, std::string_view bytes) {
    const auto path = std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
}

// Adds to `good` the readable records of every batch the stream hands out, as it hands them out
// (so a caller still knows how many came before an exception).
void add_good(BatchStream& stream, std::uint64_t& good) {
    drain(stream, false, [&](const Batch& b) {
        for (std::size_t i = 0; i < b.size(); ++i) good += b.readable(i);
    });
}

std::uint64_t count_good(BatchStream& stream) {
    std::uint64_t good = 0;
    add_good(stream, good);
    return good;
}

}  // namespace

TEST(Gzip, DecompressesOneMemberAtAnyReadSize) {
    ASSERT_TRUE(gzip_supported());
    const std::string data = read_file(shared_data() / "real" / "loc_386.mrc");
    const std::string gz = gzip_of(data);
    for (std::size_t step : {1u, 7u, 4096u, 1u << 20}) {
        auto source = gunzip(std::make_unique<MemorySource>(gz));
        EXPECT_EQ(read_all(*source, step), data) << step;
    }
}

TEST(Gzip, ConcatenatedMembersAndZeroPaddingReadAsOneStream) {
    const std::string a = "first part ", b = "second part";
    const std::string gz = gzip_of(a) + gzip_of(b) + std::string(512, '\0');
    auto source = gunzip(std::make_unique<MemorySource>(gz));
    EXPECT_EQ(read_all(*source), a + b);
}

TEST(Gzip, TruncatedOrCorruptDataThrowsNamingTheInput) {
    const std::string data = read_file(shared_data() / "real" / "loc_386.mrc");
    const std::string gz = gzip_of(data);
    for (std::size_t cut : {std::size_t{10}, gz.size() / 2, gz.size() - 4, gz.size() - 1}) {
        const std::string part = gz.substr(0, cut);
        auto source = gunzip(std::make_unique<MemorySource>(part), {}, "x.mrc.gz");
        try {
            read_all(*source);
            ADD_FAILURE() << "a .gz cut at " << cut << " read without an error";
        } catch (const std::system_error& e) {
            EXPECT_NE(std::string(e.what()).find("x.mrc.gz"), std::string::npos);
            EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
        }
    }
    std::string corrupt = gz;
    corrupt[corrupt.size() / 2] ^= 0x55;
    auto source = gunzip(std::make_unique<MemorySource>(corrupt), {}, "x.mrc.gz");
    EXPECT_THROW(read_all(*source), std::system_error);
    std::string bad_crc = gz;
    bad_crc[bad_crc.size() - 6] ^= 0x01;  // the CRC-32 of the trailer
    source = gunzip(std::make_unique<MemorySource>(bad_crc), {}, "x.mrc.gz");
    EXPECT_THROW(read_all(*source), std::system_error);
    const std::string garbage_after = gz + "this is not gzip";
    source = gunzip(std::make_unique<MemorySource>(garbage_after), {}, "x.mrc.gz");
    EXPECT_THROW(read_all(*source), std::system_error);
}

TEST(Gzip, EveryEngineReadsACompressedFileAsItsRecords) {
    const auto plain = shared_data() / "real" / "uva_2000.mrc";
    const std::string data = read_file(plain);
    const auto gz_path = write_temp("uva.mrc.gz", gzip_of(data));
    for (int workers : {0, 1, 2, -1}) {
        ReadOptions options;
        options.workers = workers;
        auto expected = open_batches(plain, options);
        auto got = open_batches(gz_path, options);
        EXPECT_EQ(count_good(*got), count_good(*expected)) << workers;
    }
    std::filesystem::remove(gz_path);
}

TEST(Gzip, APipeOfGzipDataIsDecompressedAndAPlainPipeIsNot) {
    const std::string data = read_file(shared_data() / "real" / "loc_386.mrc");
    for (bool compressed : {true, false}) {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const std::string bytes = compressed ? gzip_of(data) : data;
        std::thread writer([&] {
            std::size_t done = 0;
            while (done < bytes.size()) {
                const ssize_t n = ::write(fds[1], bytes.data() + done, std::min<std::size_t>(bytes.size() - done, 1000));
                if (n <= 0) break;
                done += static_cast<std::size_t>(n);
            }
            ::close(fds[1]);
        });
        ReadOptions options;
        options.workers = 2;
        auto stream = open_batches("/proc/self/fd/" + std::to_string(fds[0]), options);
        EXPECT_EQ(count_good(*stream), 386u) << compressed;
        writer.join();
        ::close(fds[0]);
    }
}

TEST(Gzip, AFileThatIsNotGzipIsReadAsItIs) {
    const std::string one = "x";  // shorter than the two bytes looked at
    auto source = maybe_gunzip(std::make_unique<MemorySource>(one), "x");
    EXPECT_EQ(read_all(*source), one);
    auto empty = maybe_gunzip(std::make_unique<MemorySource>(std::string_view{}), "x");
    EXPECT_EQ(read_all(*empty), "");
}

TEST(Gzip, DamageThatStopsFramingFirstIsStillReportedAsCorruptGzip) {
    // Damaged deflate data decompresses to garbage before zlib notices (the CRC-32 is checked at the
    // member's end); past the reader's first read the garbage stops framing first. The reader then
    // checks the rest of the stream, so the corruption is reported wherever it falls.
    std::string data;
    for (int i = 0; i < 12; ++i) data += read_file(shared_data() / "real" / "loc_386.mrc");  // 6 MB
    const std::string gz = gzip_of(data);
    for (double where : {0.2, 0.35, 0.5, 0.65, 0.8}) {
        std::string corrupt = gz;
        corrupt[static_cast<std::size_t>(static_cast<double>(gz.size()) * where)] ^= 0x5A;
        const auto path = write_temp("corrupt.mrc.gz", corrupt);
        for (int workers : {0, 1}) {
            ReadOptions options;
            options.workers = workers;
            auto stream = open_batches(path, options);
            std::uint64_t good = 0;
            try {
                add_good(*stream, good);
                ADD_FAILURE() << "damage at " << where << " of the .gz ended the records quietly after " << good;
            } catch (const std::system_error& e) {
                EXPECT_NE(std::string(e.what()).find("corrupt.mrc.gz"), std::string::npos) << e.what();
            }
            // The records before the damage were handed out before the error.
            if (where >= 0.5) {
                EXPECT_GT(good, 386u * 4) << where;
            }
            // Strict reading stops at the first bad record, which may be garbage that frames and
            // parses wrongly: the source is checked before that record's error is raised.
            auto strict_stream = open_batches(path, options);
            EXPECT_THROW(drain(*strict_stream, true, [](const Batch&) {}), std::system_error) << where;
        }
        std::filesystem::remove(path);
    }
}

TEST(Gzip, AFramingErrorInIntactGzipDataStandsAsInThePlainFile) {
    std::string data;
    for (int i = 0; i < 12; ++i) data += read_file(shared_data() / "real" / "loc_386.mrc");
    data[data.size() / 2 - 7] = 'x';  // somewhere in a record: framing or parsing fails there
    std::string damaged_length = data;
    const std::size_t second = damaged_length.find('\x1d') + 1;  // the second record's length
    damaged_length.replace(second, 5, "abcde");
    for (const std::string* plain : {&data, &damaged_length}) {
        const auto plain_path = write_temp("plain.mrc", *plain);
        const auto gz_path = write_temp("intact.mrc.gz", gzip_of(*plain));
        auto expected = open_batches(plain_path, {});
        auto got = open_batches(gz_path, {});
        EXPECT_EQ(count_good(*got), count_good(*expected));
        std::filesystem::remove(plain_path);
        std::filesystem::remove(gz_path);
    }
}

TEST(Gzip, RecordsBeforeTheDamageAreHandedOutBeforeTheError) {
    // What zlib decompressed before it found the damage is returned first; the error comes with
    // the next read. So every record that was complete before it reaches the consumer.
    const std::string data = read_file(shared_data() / "real" / "traject_30.mrc");
    const std::string gz = gzip_of(data);
    std::string bad_crc = gz;
    bad_crc[bad_crc.size() - 6] ^= 0x01;  // the CRC-32 of the trailer
    std::string cut = gz.substr(0, gz.size() - 4);  // the length of the trailer missing
    for (const std::string& damaged : {gz + "junk after the member", bad_crc, cut}) {
        const auto path = write_temp("tail.mrc.gz", damaged);
        for (int workers : {0, 1}) {
            ReadOptions options;
            options.workers = workers;
            auto stream = open_batches(path, options);
            std::uint64_t good = 0;
            EXPECT_THROW(add_good(*stream, good), std::system_error);
            EXPECT_EQ(good, 30u) << workers;
        }
        std::filesystem::remove(path);
    }
}

TEST(Gzip, CancelStopsCheckingTheRest) {
    // A reader closed after a framing error does not wait for the rest of a large .gz to be
    // decompressed: check_rest() ends at the next chunk once the source is cancelled.
    const std::string data(std::size_t{64} << 20, 'x');  // 64 MB of one byte compress to ~64 KB
    const std::string gz = gzip_of(data);
    auto source = gunzip(std::make_unique<MemorySource>(gz), {}, "big.gz");
    std::string head(4096, '\0');
    ASSERT_EQ(source->read(head.data(), head.size()), head.size());
    source->cancel();
    source->check_rest();  // returns at once, quietly
    // What check_rest() did not decompress is still there to read.
    std::string next(1 << 20, '\0');
    const std::size_t got = source->read(next.data(), next.size());
    EXPECT_GT(got, 0u) << gz.size();
}
