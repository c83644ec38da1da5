// Runs a MARCXML document through one engine of marcxml_source() and records everything a consumer
// can observe (the ISO 2709 bytes, the leader log, the error), for comparing the fast engine with
// expat: tests/cpp/test_marcxml_scan.cpp and the fuzz target tests/fuzz/fuzz_marcxml.cpp.
#pragma once

#include <rapidmarc/input.hpp>
#include <rapidmarc/marcxml.hpp>
#include <rapidmarc/marcxml_parallel.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <string_view>
#include <utility>
#include <vector>

namespace rapidmarc::test {

struct XmlOutcome {
    std::string bytes;  // what the source handed out
    std::vector<std::pair<std::uint64_t, std::string>> leaders;  // the leader log
    bool failed = false;
    std::string reason;
    std::uint64_t line = 0, column = 0, index = 0;
    bool operator==(const XmlOutcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const XmlOutcome& o) {
    os << "{" << o.bytes.size() << " bytes, " << std::count(o.bytes.begin(), o.bytes.end(), '\x1d') << " records, "
       << o.leaders.size() << " leaders";
    if (o.failed) os << ", error " << o.line << ":" << o.column << " " << o.reason << " (record " << o.index << ")";
    return os << "}";
}

// Memory handed out at most `step` bytes a read, so that a reader sees its input cut anywhere.
class TrickleSource final : public ByteSource {
public:
    TrickleSource(std::string_view bytes, std::size_t step) : bytes_(bytes), step_(step) {}
    std::size_t read(char* dst, std::size_t n) override {
        const std::size_t k = std::min({n, step_, bytes_.size()});
        std::memcpy(dst, bytes_.data(), k);
        bytes_.remove_prefix(k);
        return k;
    }

private:
    std::string_view bytes_;
    std::size_t step_;
};

// `step` bytes at most per read of the input (0: as many as asked).
inline XmlOutcome run_marcxml(std::string_view doc, MarcXmlEngine engine, MarcXmlNames names = MarcXmlNames::marc,
                              std::size_t step = 0, std::size_t chunk = 1 << 16) {
    XmlOutcome out;
    MarcXmlOptions xo;
    xo.engine = engine;
    xo.names = names;
    xo.chunk_size = chunk;
    auto log = std::make_shared<XmlLeaderLog>();
    xo.leaders = log;
    // The first opening hands out `step` bytes a read; an opening again (the fast engine's hand-over
    // to expat) as many as asked, as a file or memory does: expat's error position for some tokens
    // depends on where its input was cut, and expat alone reads whole chunks too.
    auto opened = std::make_shared<bool>(false);
    auto open = [doc, step, opened]() -> std::unique_ptr<ByteSource> {
        const bool again = std::exchange(*opened, true);
        return std::make_unique<TrickleSource>(doc, step && !again ? step : doc.size() + 1);
    };
    try {
        auto source = marcxml_source(open, xo, "doc");
        char buf[4096];
        for (std::size_t n; (n = source->read(buf, sizeof buf)) > 0;) out.bytes.append(buf, n);
    } catch (const XmlError& e) {
        out.failed = true;
        out.reason = e.reason();
        out.line = e.line();
        out.column = e.column();
        out.index = e.record_index();
    }
    const auto records = static_cast<std::uint64_t>(std::count(out.bytes.begin(), out.bytes.end(), '\x1d'));
    for (std::uint64_t i = 0; i <= records; ++i)
        if (auto leader = log->take(i)) out.leaders.emplace_back(i, std::move(*leader));
    return out;
}

// The document read as batches (what every consumer reads): sequentially with `range_bytes` 0,
// else by MarcXmlParallelReader with ranges of `range_bytes` on `workers` threads. `bytes` holds
// each record's index, offset and bytes; a record's parse error shows as its first byte '!'.
inline XmlOutcome run_marcxml_batches(std::string_view doc, MarcXmlNames names, std::size_t range_bytes,
                                      unsigned workers = 2) {
    XmlOutcome out;
    MarcXmlOptions xo;
    xo.names = names;
    auto log = std::make_shared<XmlLeaderLog>();
    xo.leaders = log;
    ReadOptions ro;
    ro.workers = range_bytes ? static_cast<int>(workers) : 1;
    std::unique_ptr<BatchStream> stream;
    if (range_bytes) {
        ParallelOptions po = parallel_options(ro, {});
        po.range_bytes = range_bytes;
        stream = std::make_unique<MarcXmlParallelReader>(RangeInput::memory(doc), po, xo, "doc");
    } else {
        stream = open_marcxml_batches_memory(doc, ro, {}, xo);
    }
    try {
        while (auto batch = stream->next()) {
            for (std::size_t i = 0; i < batch->size(); ++i) {
                const FramedRecord& f = batch->frames[i];
                out.bytes += std::to_string(f.index) + "@" + std::to_string(f.offset) + ":";
                if (f.error != ErrorCode::ok || batch->parsed[i].error != ErrorCode::ok) out.bytes += '!';
                out.bytes.append(batch->record(i));
                if (auto leader = log->take(f.index)) out.leaders.emplace_back(f.index, std::move(*leader));
            }
            stream->recycle(std::move(batch));
        }
    } catch (const XmlError& e) {
        out.failed = true;
        out.reason = e.reason();
        out.line = e.line();
        out.column = e.column();
        out.index = e.record_index();
    }
    return out;
}

}  // namespace rapidmarc::test
