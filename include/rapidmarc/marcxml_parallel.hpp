// Parallel reading of one MARCXML document (a regular file or memory) on a pool of threads, with
// exactly the sequential reader's result (open_marcxml_batches with one worker): the same records,
// stubs, leader log, frame indexes and offsets, and the same error (reason, line, column, record
// index) after the same records. docs/formats.md ("Parallel MARCXML") explains the design:
//
//   * The head of the document (prolog, root start tag, everything up to the first MARC record
//     outside a record) is scanned on the calling thread; the scanner's state there (open
//     elements, namespaces in scope) is the context every worker assumes.
//   * The rest is cut into byte ranges. A worker looks in its range for the first "<record" or
//     "<prefix:record" start tag that, scanned in that context, is a MARC record outside a record,
//     and scans from there with the MARCXML scanner and record builder of the sequential engine,
//     through the records that start in its range, up to the first such record start at or after
//     the range's end; then it frames and parses the ISO 2709 bytes into a batch.
//   * The consumer takes the ranges in order and checks the chain: a range is exact when it began
//     where the previous one stopped and the scanner's state there was the assumed context (so
//     the scanner saw the same bytes in the same state as the sequential reader). A range that is
//     not (a "<record" inside a comment, CDATA, a processing instruction or an attribute value
//     misled its worker, or the context changed) is scanned again on the consumer's thread from
//     where the previous one stopped, in the true state.
//   * Whatever the scanner does not read (anything outside its subset, every error, a construct
//     over 64 MiB) ends the parallel reading: the document is read again from its start by expat,
//     the records handed out already skipped, as the sequential fast engine hands over to expat.
//     Errors therefore carry expat's line, column and record index.
//
// Memory: at most max_pending ranges are scanned or waiting (back-pressure), each holding its ISO
// 2709 bytes and parse, plus each worker's scan buffer (a chunk and the longest construct).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rapidmarc/batch.hpp"
#include "rapidmarc/marcxml.hpp"
#include "rapidmarc/parallel.hpp"

namespace rapidmarc {

// What a parallel read did, for tests and benchmarks.
struct MarcXmlParallelStats {
    std::uint64_t ranges = 0;    // ranges the document after its head was cut into
    std::uint64_t rescanned = 0; // ranges scanned again on the consumer's thread (the chain broke)
    bool sequential = false;     // the rest is (or the whole document was) read sequentially
};

class MarcXmlParallelReader final : public BatchStream {
public:
    // Reads `input` (kept alive by the caller for memory input). `options`: workers, range_bytes,
    // max_pending, framing, parsing (marcxml_read_options() applied here), process. `xml.engine`
    // must be MarcXmlEngine::fast (the others read sequentially: use open_marcxml_batches).
    // Requires expat (marcxml_supported()); throws std::system_error without it.
    MarcXmlParallelReader(RangeInput input, ParallelOptions options, MarcXmlOptions xml = {},
                          std::string name = "<MARCXML>");
    ~MarcXmlParallelReader() override;
    MarcXmlParallelReader(const MarcXmlParallelReader&) = delete;
    MarcXmlParallelReader& operator=(const MarcXmlParallelReader&) = delete;

    std::unique_ptr<Batch> next() override;
    void recycle(std::unique_ptr<Batch> batch) override;
    bool wait_ready(std::chrono::milliseconds timeout) override;

    MarcXmlParallelStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rapidmarc
