// libFuzzer target: the fast MARCXML engine (the hand-written scanner, expat from the start at what
// it does not read) against expat alone, on arbitrary bytes:
//
//   * the same ISO 2709 bytes (records and stubs), the same leader log, and the same error (reason,
//     line, column, record index) or none;
//   * the scanner alone hands out a prefix of expat's records, all of them when it reads the whole
//     document (whatever it accepts, expat accepts, with the same records);
//   * whatever the input is cut into (the first byte sets how many bytes each read returns, and
//     which elements are MARC elements);
//   * the parallel reader (MarcXmlParallelReader, ranges of 1 to 4,096 bytes, also set by the
//     first byte) hands out the sequential reader's batches: the same records with the same
//     indexes and offsets, the same leader log and the same error.
//
// Build and run: `make fuzz` (seeds: tools/fuzz_seeds.py, MARCXML of the real files).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "marcxml_engines.hpp"

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "property violated: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rapidmarc;
    if (size == 0 || !marcxml_supported()) return 0;  // a build without expat has nothing to compare
    const std::uint8_t options = data[0];
    const std::string_view doc(reinterpret_cast<const char*>(data + 1), size - 1);
    static constexpr std::size_t kSteps[] = {0, 1, 2, 3, 5, 16, 64, 4096};
    const std::size_t step = kSteps[options & 7];
    const MarcXmlNames names = (options >> 3) % 3 == 0   ? MarcXmlNames::marc
                               : (options >> 3) % 3 == 1 ? MarcXmlNames::slim_only
                                                         : MarcXmlNames::any;
    const auto want = test::run_marcxml(doc, MarcXmlEngine::expat, names);
    const auto fast = test::run_marcxml(doc, MarcXmlEngine::fast, names, step, 4096);
    check(fast.bytes == want.bytes, "fast engine: the same records as expat");
    check(fast.leaders == want.leaders, "fast engine: the same leader log as expat");
    check(fast.failed == want.failed, "fast engine: an error where expat has one");
    check(fast.reason == want.reason && fast.line == want.line && fast.column == want.column &&
              fast.index == want.index,
          "fast engine: expat's error");
    const auto alone = test::run_marcxml(doc, MarcXmlEngine::scanner, names, step, 4096);
    check(want.bytes.starts_with(alone.bytes), "scanner: a prefix of expat's records");
    if (!alone.failed) check(alone == want, "scanner: what it reads wholly, it reads as expat");
    else check(alone.reason == "outside the MARCXML scanner's subset", "scanner: no error of its own");
    static constexpr std::size_t kRanges[] = {1, 7, 64, 4096};
    const std::size_t range = kRanges[(options >> 6) & 3];
    const auto sequential = test::run_marcxml_batches(doc, names, 0);
    check(test::run_marcxml_batches(doc, names, range) == sequential, "parallel reader: the sequential result");
    return 0;
}
