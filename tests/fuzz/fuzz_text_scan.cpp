// libFuzzer target: the parser's vector byte scans (src/core/text_scan.hpp) give their scalar
// references' answers on any bytes, at every alignment: utf8_valid and utf8_valid_blocks (SSSE3)
// against utf8_valid_scalar, ascii_only and skip_ascii against a byte loop, directory_numbers
// against directory_numbers_scalar.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "../../src/core/text_scan.hpp"

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "text_scan mismatch: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace d = rapidmarc::detail;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    // Every suffix start within the first block, so each byte is seen at every lane of a block.
    for (std::size_t skip = 0; skip < 17 && skip <= size; ++skip) {
        const std::string_view text = all.substr(skip);
        const bool want = d::utf8_valid_scalar(text);
        check(d::utf8_valid(text) == want, "utf8_valid");
        check(d::utf8_valid_blocks(text) == want, "utf8_valid_blocks");
        check(d::ascii_only(text) == d::ascii_only_scalar(text), "ascii_only");
        std::size_t first = 0;
        while (first < text.size() && static_cast<unsigned char>(text[first]) < 0x80) ++first;
        check(d::skip_ascii(reinterpret_cast<const unsigned char*>(text.data()), 0, text.size()) == first, "skip_ascii");
        if (text.size() >= 12) {
            std::int64_t l1 = -1, p1 = -1, l2 = -2, p2 = -2;
            const bool a = d::directory_numbers(text.data(), l1, p1);
            const bool b = d::directory_numbers_scalar(text.data(), l2, p2);
            check(a == b && (!a || (l1 == l2 && p1 == p2)), "directory_numbers");
        }
    }
    return 0;
}
