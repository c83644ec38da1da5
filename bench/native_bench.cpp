// native_bench: the ceiling of the benchmark suite, reading MARC files with the rapidmarc C++ API.
//
// It does what the Python contestants do, without Python: frame and parse every record and, for
// the `title` workload, build pymarc's title (245 $a, then " " and $b when $a is not empty) and
// fold it into a CRC-32, so that the harness can check it against pymarc's titles byte for byte.
//
//   native_bench --workload read|title|floor --mode seq|files|onefile --threads N FILE...
//
// Workloads: read (frame + parse every record), title (and fold pymarc's title into a CRC), floor
// (read the file and count record terminators with memchr: the hardware floor; seq mode only).
//
// Modes
//   seq      one thread reads the files one after another (RecordReader + parse_record).
//   files    N threads; each takes the next unread file (many files on many threads).
//   onefile  each file in turn split over N threads by the single-file parallel engine
//            (rapidmarc/parallel.hpp, ParallelReader), records delivered in file order.
//
// Prints one JSON object: records, title CRC-32 (per-file CRCs folded in file order, exactly as
// bench/contestants.py folds them), elapsed seconds (file opening included, process start-up
// excluded) and peak RSS in KiB.
#include <rapidmarc/rapidmarc.hpp>
#include <rapidmarc/unicode.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// zlib's CRC-32 (reflected polynomial 0xEDB88320), so Python's zlib.crc32 gives the same values.
class Crc32 {
public:
    Crc32() {
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table_[i] = c;
        }
    }
    std::uint32_t update(std::uint32_t crc, std::string_view bytes) const noexcept {
        crc = ~crc;
        for (unsigned char b : bytes) crc = table_[(crc ^ b) & 0xFFu] ^ (crc >> 8);
        return ~crc;
    }

private:
    std::uint32_t table_[256];
};

const Crc32 kCrc;

struct FileResult {
    std::uint64_t records = 0;
    std::uint32_t title_crc = 0;
    std::string error;
};

// What contestants.py's _documented() does to every title before checking it: ANSEL's ligature
// and double-tilde half marks (U+FE20..FE23) mapped as LC's tables map them, then NFC.
void lc_halves(std::string& text) {
    if (text.find("\xEF\xB8") == std::string::npos) return;
    std::string mapped;
    bool any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i + 2 < text.size() && text[i] == '\xEF' && text[i + 1] == '\xB8' && text[i + 2] >= '\xA0' &&
            text[i + 2] <= '\xA3') {
            any = true;
            if (text[i + 2] == '\xA0') mapped += "\xCD\xA1";       // U+FE20 -> U+0361
            else if (text[i + 2] == '\xA2') mapped += "\xCD\xA0";  // U+FE22 -> U+0360
            i += 2;                                                // U+FE21, U+FE23 -> nothing
            continue;
        }
        mapped.push_back(text[i]);
    }
    if (!any) return;
    text.clear();
    rapidmarc::unicode::append_nfc(mapped, text);
}

// pymarc's Record.title: first 245, its first $a; if that is not empty, " " + first $b is added.
std::uint32_t fold_title(std::uint32_t crc, const rapidmarc::RecordView& view, std::string& scratch) {
    scratch.clear();
    for (std::size_t i = 0; i < view.size(); ++i) {
        rapidmarc::FieldView field = view.field(i);
        if (field.tag() != "245") continue;
        std::optional<std::string_view> a, b;
        for (const auto& sf : field.subfields()) {
            if (sf.code == 'a' && !a) a = sf.value;
            else if (sf.code == 'b' && !b) b = sf.value;
        }
        if (a && !a->empty()) {
            scratch.append(*a);
            if (b && !b->empty()) scratch.append(" ").append(*b);
        }
        break;
    }
    lc_halves(scratch);
    scratch.push_back('\x1e');  // the separator contestants.py appends after every title
    return kCrc.update(crc, scratch);
}

// The hardware floor (workload `floor`): the same FileSource reads in 1 MiB chunks, and memchr
// counting record terminators; no framing, no parsing. What any reader of the file must at least do.
FileResult count_terminators(const std::string& path) {
    FileResult out;
    try {
        rapidmarc::FileSource source(path);
        std::vector<char> chunk(1 << 20);
        for (std::size_t got; (got = source.read(chunk.data(), chunk.size())) > 0;) {
            const char* p = chunk.data();
            const char* end = p + got;
            while ((p = static_cast<const char*>(std::memchr(p, rapidmarc::kRecordTerminator, static_cast<std::size_t>(end - p))))) {
                ++out.records;
                ++p;
            }
        }
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

FileResult read_file(const std::string& path, bool titles) {
    FileResult out;
    try {
        rapidmarc::RecordReader reader(std::make_unique<rapidmarc::FileSource>(path));
        rapidmarc::FramedRecord framed;
        rapidmarc::ParsedRecord parsed;
        std::string scratch;
        while (reader.next(framed)) {
            if (framed.error != rapidmarc::ErrorCode::ok) continue;
            std::string_view bytes = reader.bytes(framed);
            if (rapidmarc::parse_record(bytes, {}, parsed) != rapidmarc::ErrorCode::ok) continue;
            ++out.records;
            if (titles) out.title_crc = fold_title(out.title_crc, rapidmarc::RecordView(bytes, parsed.entries), scratch);
        }
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

std::vector<FileResult> run_files(const std::vector<std::string>& files, bool titles, unsigned threads) {
    std::vector<FileResult> results(files.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < files.size();) results[i] = read_file(files[i], titles);
    };
    if (threads <= 1) {
        work();
        return results;
    }
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
    return results;
}

// ---- one file, N threads -------------------------------------------------------------------
// The single-file parallel engine (rapidmarc/parallel.hpp): byte ranges of the file are framed and
// parsed on `threads` workers and handed out in file order; titles are folded on this thread.
#if __has_include(<rapidmarc/parallel.hpp>)
#include <rapidmarc/parallel.hpp>
bool have_onefile() { return true; }

FileResult read_file_parallel(const std::string& path, bool titles, unsigned threads) {
    FileResult out;
    try {
        rapidmarc::ParallelOptions options;
        options.workers = threads;
        rapidmarc::ParallelReader reader(rapidmarc::RangeInput::file(path), std::move(options));
        std::string scratch;
        while (auto batch = reader.next()) {
            for (std::size_t i = 0; i < batch->size(); ++i) {
                if (batch->frames[i].error != rapidmarc::ErrorCode::ok) continue;
                if (batch->parsed[i].error != rapidmarc::ErrorCode::ok) continue;
                ++out.records;
                if (titles)
                    out.title_crc = fold_title(
                        out.title_crc, rapidmarc::RecordView(batch->record(i), batch->parsed[i].entries), scratch);
            }
            reader.recycle(std::move(batch));
        }
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

std::vector<FileResult> run_onefile(const std::vector<std::string>& files, bool titles, unsigned threads) {
    std::vector<FileResult> results;
    for (const auto& f : files) results.push_back(read_file_parallel(f, titles, threads));
    return results;
}
#else
// Without rapidmarc/parallel.hpp the mode reports itself as unavailable (`--modes` omits it).
bool have_onefile() { return false; }

std::vector<FileResult> run_onefile(const std::vector<std::string>& files, bool, unsigned) {
    std::vector<FileResult> results(files.size());
    for (auto& r : results) r.error = "one-file parallel engine (rapidmarc/parallel.hpp) not available";
    return results;
}
#endif

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0
              << " [--workload read|title|floor] [--mode seq|files|onefile] [--threads N] FILE...\n"
                 "       "
              << argv0 << " --modes   (prints the modes this build supports)\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string workload = "read", mode = "seq";
    unsigned threads = 1;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--modes") {
            std::cout << "seq\nfiles\n" << (have_onefile() ? "onefile\n" : "");
            return 0;
        }
        if ((arg == "--workload" || arg == "--mode" || arg == "--threads") && i + 1 < argc) {
            std::string value = argv[++i];
            if (arg == "--workload") workload = value;
            else if (arg == "--mode") mode = value;
            else threads = static_cast<unsigned>(std::stoul(value));
        } else if (arg.starts_with("--")) {
            return usage(argv[0]);
        } else {
            files.emplace_back(arg);
        }
    }
    if (files.empty() || (workload != "read" && workload != "title" && workload != "floor") || threads == 0)
        return usage(argv[0]);
    if (workload == "floor" && mode != "seq") return usage(argv[0]);
    const bool titles = workload == "title";

    auto start = std::chrono::steady_clock::now();
    std::vector<FileResult> results;
    if (workload == "floor") {
        for (const auto& f : files) results.push_back(count_terminators(f));
    } else if (mode == "seq") results = run_files(files, titles, 1);
    else if (mode == "files") results = run_files(files, titles, threads);
    else if (mode == "onefile") results = run_onefile(files, titles, threads);
    else return usage(argv[0]);
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Fold per-file CRCs in file order: crc32 over their 4-byte big-endian encodings.
    std::uint64_t records = 0;
    std::uint32_t folded = 0;
    std::string error;
    for (const auto& r : results) {
        records += r.records;
        unsigned char be[4] = {static_cast<unsigned char>(r.title_crc >> 24), static_cast<unsigned char>(r.title_crc >> 16),
                               static_cast<unsigned char>(r.title_crc >> 8), static_cast<unsigned char>(r.title_crc)};
        folded = kCrc.update(folded, std::string_view(reinterpret_cast<const char*>(be), 4));
        if (error.empty()) error = r.error;
    }
    // VmHWM, not getrusage's ru_maxrss: the latter keeps the parent's high-water mark across exec.
    long peak_kb = 0;
    if (std::FILE* status = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, status))
            if (std::strncmp(line, "VmHWM:", 6) == 0) peak_kb = std::strtol(line + 6, nullptr, 10);
        std::fclose(status);
    }
    if (peak_kb == 0) {
        rusage usage_self{};
        getrusage(RUSAGE_SELF, &usage_self);
        peak_kb = usage_self.ru_maxrss;
    }
    std::string escaped;
    for (char c : error) {
        if (c == '"' || c == '\\') escaped.push_back('\\');
        escaped.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
    }
    std::printf("{\"records\": %llu, ", static_cast<unsigned long long>(records));
    if (titles) std::printf("\"titles\": %u, ", folded);
    std::printf("\"elapsed_s\": %.6f, \"maxrss_kb\": %ld", elapsed, peak_kb);
    if (!escaped.empty()) std::printf(", \"error\": \"%s\"", escaped.c_str());
    std::printf("}\n");
    return error.empty() ? 0 : 1;
}
