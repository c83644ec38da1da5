// One front door for reading records: ReadOptions says how, open_batches() picks the engine.
//
// Framing options, parsing options and the threading choice travel together in ReadOptions, so
// every consumer (the Python package, convert_file, a C++ program) reads the same input the same
// way. open_batches() turns them into a BatchStream: a BatchReader in the calling thread or one
// batch ahead on a worker thread, or a ParallelReader over byte ranges of a file or buffer. A
// sequential source (a callback into a language runtime) is always read in the caller's thread.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "rapidmarc/batch.hpp"
#include "rapidmarc/parallel.hpp"
#include "rapidmarc/parser.hpp"
#include "rapidmarc/reader.hpp"
#include "rapidmarc/source.hpp"

namespace rapidmarc {

// Everything about how records are read, in one object (the Python ReadOptions maps onto it).
struct ReadOptions {
    ReaderOptions framing;  // recover, read_oversize (reader.hpp)
    // Text validation, UTF-8 handling, encoding detection (parser.hpp). Unlike a bare ParseOptions,
    // MARC-8 text is validated by default: pymarc's reader (with its default file_encoding) refuses
    // a record whose MARC-8 ends inside an escape sequence, so that record is unreadable here too.
    ParseOptions parse{.validate_marc8 = true};
    // 0: read and parse in the calling thread; 1: parsed one batch ahead on a worker thread;
    // >1: a ParallelReader over byte ranges with that many threads; <0: one per hardware thread.
    // A path that is not a regular file (a pipe, FIFO or device) is read as with 1 when > 1 or < 0.
    int workers = 1;
    bool strict = false;  // consumers stop at the first unreadable record (ParseError)
};

// True when `options` ask for byte ranges on a pool (workers > 1, or < 0: one per hardware thread).
bool wants_parallel(const ReadOptions& options) noexcept;
// The pool's options for `options` (workers, framing, parsing) and the batch hook `process`.
ParallelOptions parallel_options(const ReadOptions& options, std::function<void(Batch&)> process);

// A stream over the file at `path`. `process` runs on every batch on the thread that parsed it
// (BatchOptions::process, ParallelOptions::process). Throws std::system_error naming the path if
// it cannot be opened or is a directory (EISDIR). The path is opened once and fstat on that
// descriptor decides the engine: a regular file as `workers` says; anything else (a pipe, a FIFO,
// a character device, /dev/stdin, /proc/self/fd/N) in one sequential pass that never seeks, on a
// worker thread unless workers == 0, since byte ranges need random access.
std::unique_ptr<BatchStream> open_batches(const std::filesystem::path& path, const ReadOptions& options,
                                          std::function<void(Batch&)> process = {});

// A stream over `bytes`, which the caller keeps alive for as long as the stream exists.
std::unique_ptr<BatchStream> open_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                 std::function<void(Batch&)> process = {});

// A stream over a sequential source (e.g. a callback into a language runtime, which only the
// caller's thread may enter): always read and parsed in the caller's thread; `workers` is ignored.
std::unique_ptr<BatchStream> open_batches(std::unique_ptr<ByteSource> source, const ReadOptions& options,
                                          std::function<void(Batch&)> process = {});

}  // namespace rapidmarc
