// libFuzzer target: the MARC-8 codec and Unicode normalisation, with properties checked.
//
//   * decoding any bytes never crashes; what it accepts is valid UTF-8, and NFC of it is valid
//     UTF-8 and idempotent;
//   * encoding any valid UTF-8 gives MARC-8 that decodes without error back to valid UTF-8, and
//     NCR decoding of that is valid UTF-8.
#include <rapidmarc/marc8.hpp>
#include <rapidmarc/parser.hpp>
#include <rapidmarc/unicode.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "property violated: %s\n", what);
        std::abort();
    }
}

std::string nfc(std::string_view s) {
    std::string out;
    rapidmarc::unicode::append_nfc(s, out);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace rapidmarc;
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    std::string text;
    const marc8::DecodeResult decoded = marc8::decode(input, text);
    if (decoded.ok) {
        check(is_valid_utf8(text), "decoded MARC-8 is valid UTF-8");
        const std::string once = nfc(text);
        check(is_valid_utf8(once), "NFC output is valid UTF-8");
        check(nfc(once) == once, "NFC is idempotent");
    }

    if (is_valid_utf8(input)) {
        std::string marc8_bytes;
        marc8::encode(input, marc8_bytes);
        std::string back;
        check(marc8::decode(marc8_bytes, back).ok, "encoder output decodes");
        check(is_valid_utf8(back), "round trip gives valid UTF-8");
        std::string plain;
        marc8::decode_ncr(back, plain);
        check(is_valid_utf8(plain), "NCR decoding gives valid UTF-8");
    }
    return 0;
}
