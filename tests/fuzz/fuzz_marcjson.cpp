// libFuzzer target: arbitrary bytes read as MARC-in-JSON (marcjson.hpp), with properties checked.
//
//   * reading never crashes, hangs or reads out of bounds (ASan + UBSan);
//   * the records (their ISO 2709 bytes), the error (JsonError's message and position) and the
//     leader / original-text logs are the same whatever size the pieces of input arrive in: one
//     byte, seven bytes, the whole input at once;
//   * the fast path changes nothing: with MarcJsonOptions::fast_path off (every value through the
//     general parser) the outcome is the same;
//   * every record read that parses, written back as MARC-in-JSON by the core's writer
//     (append_json) and read again, gives the same ISO 2709 bytes.
//
// The whole input is the JSON. Build and run: `make fuzz`; seeds: tools/fuzz_seeds.py.
#include <rapidmarc/marcjson.hpp>
#include <rapidmarc/rapidmarc.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "property violated: %s\n", what);
        std::abort();
    }
}

// Hands out the input in pieces of at most `piece` bytes.
class PieceSource final : public rapidmarc::ByteSource {
public:
    PieceSource(std::string_view bytes, std::size_t piece) : bytes_(bytes), piece_(piece) {}
    std::size_t read(char* dst, std::size_t n) override {
        const std::size_t k = std::min({n, piece_, bytes_.size()});
        std::copy_n(bytes_.data(), k, dst);
        bytes_.remove_prefix(k);
        return k;
    }

private:
    std::string_view bytes_;
    std::size_t piece_;
};

struct Outcome {
    std::string bytes;  // the ISO 2709 records handed out
    std::string error;  // the JsonError, with its position; empty if none
    std::vector<std::optional<std::string>> leaders, originals;
    bool operator==(const Outcome&) const = default;
};

Outcome read_json(std::string_view input, std::size_t piece, std::size_t chunk, bool fast) {
    using namespace rapidmarc;
    MarcJsonOptions options;
    options.chunk_size = chunk;
    options.fast_path = fast;
    options.leaders = std::make_shared<XmlLeaderLog>();
    options.originals = std::make_shared<XmlLeaderLog>();
    auto source = marcjson_source(std::make_unique<PieceSource>(input, piece), options, "fuzz");
    Outcome out;
    char buf[4096];
    try {
        while (const std::size_t k = source->read(buf, sizeof buf)) out.bytes.append(buf, k);
        check(source->read(buf, sizeof buf) == 0, "the end stays the end");
    } catch (const JsonError& e) {
        out.error = std::string(e.what()) + " @" + std::to_string(e.line()) + ":" + std::to_string(e.column()) + ":" +
                    std::to_string(e.position()) + ":" + std::to_string(e.record_index());
    }
    // A record ends at its terminator, which its data cannot hold (those are stubs).
    const auto records = static_cast<std::uint64_t>(std::count(out.bytes.begin(), out.bytes.end(), kRecordTerminator));
    for (std::uint64_t i = 0; i < records; ++i) {
        out.leaders.push_back(options.leaders->take(i));
        out.originals.push_back(options.originals->take(i));
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rapidmarc;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const Outcome whole = read_json(input, input.size() + 1, MarcJsonOptions{}.chunk_size, true);
    check(read_json(input, 1, 1, true) == whole, "one byte at a time == whole input");
    check(read_json(input, 7, 7, true) == whole, "seven bytes at a time == whole input");
    check(read_json(input, input.size() + 1, MarcJsonOptions{}.chunk_size, false) == whole,
          "general parser only == with the fast path");

    // Every record that parses round-trips through the core's JSON writer.
    const ParseOptions po = marcjson_read_options(ReadOptions{}).parse;
    std::string_view rest = whole.bytes;
    while (!rest.empty()) {
        const std::size_t end = rest.find(kRecordTerminator);
        check(end != std::string_view::npos, "every record handed out is terminated");
        const std::string_view record = rest.substr(0, end + 1);
        rest.remove_prefix(end + 1);
        ParsedRecord parsed;
        if (parse_record(record, po, parsed) != ErrorCode::ok) continue;
        ExportOptions eo;
        eo.encoding = TextEncoding::utf8;
        std::string json;
        if (append_json(RecordView(record, parsed.entries), eo, JsonStyle::compact, json) != ErrorCode::ok) continue;
        const Outcome again = read_json(json, json.size() + 1, MarcJsonOptions{}.chunk_size, true);
        check(again.error.empty(), "the writer's JSON reads without error");
        check(again.bytes == record, "written as JSON and read again: the same ISO 2709 bytes");
    }
    return 0;
}
