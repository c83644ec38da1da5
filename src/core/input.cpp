#include "rapidmarc/input.hpp"

#include <algorithm>
#include <utility>

#include "rapidmarc/compressed.hpp"
#include "rapidmarc/parallel.hpp"

namespace rapidmarc {

namespace {

// A regular file or a memory buffer read a quarter batch at a time (BatchOptions::max_bytes), so
// that a batch takes its reader's buffer over instead of copying the records (Batch::adopt copies
// when the reader has read further ahead than the batch holds). Streams keep their 1 MiB reads.
ReaderOptions quarter_batch_reads(ReaderOptions options) {
    options.chunk_size = std::min(options.chunk_size, BatchOptions{}.max_bytes / 4);
    return options;
}

BatchOptions batch_options(bool background, std::function<void(Batch&)> process) {
    BatchOptions bo;
    bo.background = background;
    bo.process = std::move(process);
    return bo;
}

}  // namespace

// The choice every front door makes the same way: byte ranges on a pool for workers > 1 (or < 0:
// one per hardware thread), else one stream, parsed ahead on a worker thread unless workers == 0
// (what a pool of readers wants: no second thread per reader).
bool wants_parallel(const ReadOptions& options) noexcept { return options.workers < 0 || options.workers > 1; }

ParallelOptions parallel_options(const ReadOptions& options, std::function<void(Batch&)> process) {
    ParallelOptions pa;
    pa.workers = options.workers < 0 ? 0u : static_cast<unsigned>(options.workers);
    pa.reader = options.framing;
    pa.parse = options.parse;
    pa.process = std::move(process);
    return pa;
}

std::unique_ptr<BatchStream> open_batches(const std::filesystem::path& path, const ReadOptions& options,
                                          std::function<void(Batch&)> process) {
    // Opened once; fstat on that descriptor decides. A regular file may be split into byte ranges
    // (read from this same descriptor); a pipe, FIFO or device can be read only once, in order, so
    // it is one sequential stream whatever `workers` says (parsed ahead on a worker thread unless
    // workers == 0): never a ParallelReader, which would find no size and read nothing.
    auto source = std::make_unique<FileSource>(path);
    if (source->seekable()) {
        char head[2] = {};
        const std::size_t got = source->size() >= 2 ? source->read_at(head, 2, 0) : 0;
        if (is_gzip(std::string_view(head, got))) {
            // Decompressed in order: one sequential pass, on a worker thread unless workers == 0.
            return std::make_unique<BatchReader>(gunzip(std::move(source), {}, path.string()), options.framing,
                                                 options.parse, batch_options(options.workers != 0, std::move(process)));
        }
    } else {
        // A stream: whether it is gzip is seen at its first read, by the thread that reads it.
        return std::make_unique<BatchReader>(maybe_gunzip(std::move(source), path.string()), options.framing,
                                             options.parse, batch_options(options.workers != 0, std::move(process)));
    }
    if (wants_parallel(options))
        return std::make_unique<ParallelReader>(RangeInput::file(std::shared_ptr<const FileSource>(std::move(source))),
                                                parallel_options(options, std::move(process)));
    return std::make_unique<BatchReader>(std::move(source), quarter_batch_reads(options.framing), options.parse,
                                         batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_batches_memory(std::string_view bytes, const ReadOptions& options,
                                                 std::function<void(Batch&)> process) {
    if (wants_parallel(options))
        return std::make_unique<ParallelReader>(RangeInput::memory(bytes), parallel_options(options, std::move(process)));
    return std::make_unique<BatchReader>(std::make_unique<MemorySource>(bytes), quarter_batch_reads(options.framing),
                                         options.parse, batch_options(options.workers != 0, std::move(process)));
}

std::unique_ptr<BatchStream> open_batches(std::unique_ptr<ByteSource> source, const ReadOptions& options,
                                          std::function<void(Batch&)> process) {
    // The worker thread of a background reader would call the source; a source that enters a
    // language runtime must only be called from the consumer's thread.
    return std::make_unique<BatchReader>(std::move(source), options.framing, options.parse,
                                         batch_options(false, std::move(process)));
}

}  // namespace rapidmarc
