// libFuzzer target: the MARC-8 codec and Unicode normalisation, with properties checked.
//
//   * decoding any bytes never crashes; what it accepts is valid UTF-8, and NFC of it is valid
//     UTF-8 and idempotent;
//   * encoding any valid UTF-8 gives MARC-8 that decodes without error back to valid UTF-8, and
//     NCR decoding of that is valid UTF-8;
//   * round trip: when every character of valid UTF-8 input survives encode + decode on its own
//     (alone, and after "a" for combining marks), the whole input does: NFC(decode_ncr(decode(
//     encode(s)))) == NFC(s) -- so no state carried from one MARC-8 set to the next (G0/G1
//     designations, EACC's 3-byte mode, technique 1, pending marks) may lose or change text;
//   * mixed sets: the input bytes also pick a sequence of samples from every MARC-8 set (EACC,
//     ANSEL letters and marks, ASCII, space, punctuation, Cyrillic, Greek, Hebrew, Arabic,
//     subscripts, superscripts, C1, characters MARC-8 lacks), which must round-trip exactly, NCRs
//     included, end in the default state, and decode the same with pymarc's tables unless a sample
//     whose LC and pymarc mappings differ (docs/marc8.md) is used.
#include <rapidmarc/marc8.hpp>
#include <rapidmarc/parser.hpp>
#include <rapidmarc/unicode.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

std::string nfc(std::string_view s) {
    std::string out;
    rapidmarc::unicode::append_nfc(s, out);
    return out;
}

std::string u8(char32_t cp) {
    std::string s;
    rapidmarc::unicode::append_utf8(cp, s);
    return s;
}

// NFC(decode_ncr(decode(encode(s)))); ok false if decoding failed.
std::string round_trip(std::string_view s, bool& ok) {
    using namespace rapidmarc;
    std::string m;
    marc8::encode(s, m);
    std::string back;
    ok = marc8::decode(m, back).ok;
    std::string plain;
    marc8::decode_ncr(back, plain);
    return nfc(plain);
}

bool survives_alone(std::string_view ch) {
    bool ok1, ok2;
    const std::string with_base = "a" + std::string(ch);
    return round_trip(ch, ok1) == nfc(ch) && ok1 && round_trip(with_base, ok2) == nfc(with_base) && ok2;
}

struct Sample {
    std::string text;
    std::string expect;  // NCRs for what MARC-8 lacks
    bool pymarc_same;    // false: LC and pymarc map it differently (docs/marc8.md)
};

const std::vector<Sample>& samples() {
    static const std::vector<Sample> all = [] {
        std::vector<Sample> v;
        auto add = [&v](std::string t, bool same = true) { v.push_back({t, t, same}); };
        add(u8(0x4E2D));                       // EACC
        add(u8(0x6587) + u8(0x301));           // EACC + ANSEL mark
        add(u8(0xD55C));                       // EACC Hangul
        add(u8(0x141));                        // ANSEL letter
        add(u8(0x1B0) + u8(0x323));            // ANSEL letter + mark
        add(u8(0xE9));                         // precomposed: ASCII + ANSEL mark
        add("a" + u8(0x323) + u8(0x302));      // two marks
        add("t" + u8(0x361) + "s", false);     // ligature halves
        add(u8(0xA3));                         // ANSEL symbol
        add("x");
        add("7");
        add(" ");
        add(".");
        add(u8(0x431));                        // Basic Cyrillic
        add(u8(0x430) + u8(0x301));            // Cyrillic + ANSEL mark
        add(u8(0x491));                        // Extended Cyrillic (G1)
        add(u8(0x3B1));                        // Greek
        add(u8(0x3B5) + u8(0x301));            // Greek + mark
        add(u8(0x5D0));                        // Hebrew
        add(u8(0x5D1) + u8(0x5B7));            // Hebrew + point
        add(u8(0x628));                        // Arabic
        add(u8(0x628) + u8(0x64E));            // Arabic + mark
        add(u8(0x67E));                        // Extended Arabic (G1)
        add(u8(0x2082));                       // subscript
        add(u8(0xB2));                         // superscript
        add(u8(0x2075) + u8(0x301));           // superscript + mark
        add(u8(0x200D), false);                // C1 (ZWJ)
        v.push_back({u8(0x263A), "&#x263A;", true});          // MARC-8 lacks it
        v.push_back({"a" + u8(0x350), "a&#x0350;", true});    // a mark MARC-8 lacks
        return v;
    }();
    return all;
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

        // Round trip of any text whose characters each survive on their own ('&' excluded: the
        // input's own "&#x41;" would be decoded by decode_ncr).
        if (input.find('&') == std::string_view::npos && input.size() <= 512) {
            bool each = true;
            std::size_t i = 0;
            while (each && i < input.size()) {
                char32_t cp;
                const std::size_t len = unicode::decode_utf8(input.substr(i), cp);
                each = survives_alone(input.substr(i, len));
                i += len;
            }
            if (each) {
                bool ok;
                check(round_trip(input, ok) == nfc(input) && ok, "text round-trips when each character does");
            }
        }
    }

    // Mixed-set strings picked by the input bytes.
    const auto& pool = samples();
    std::string s, expect;
    bool pymarc_same = true;
    for (std::size_t i = 0; i < size && i < 64; ++i) {
        const Sample& sample = pool[data[i] % pool.size()];
        s += sample.text;
        expect += sample.expect;
        pymarc_same = pymarc_same && sample.pymarc_same;
    }
    std::string m;
    marc8::encode(s, m);
    std::string back;
    const marc8::DecodeResult r = marc8::decode(m, back);
    check(r.ok && r.warnings == 0, "mixed-set MARC-8 decodes without warnings");
    check(nfc(back) == nfc(expect), "mixed-set text round-trips");
    std::string more;
    marc8::decode(m + "x\xE2" "e", more);
    check(nfc(more) == nfc(expect + "x" + u8(0xE9)), "mixed-set encoding ends in the default state");
    if (pymarc_same) {
        std::string theirs;
        marc8::decode(m, theirs, {marc8::Profile::pymarc});
        check(nfc(theirs) == nfc(expect), "mixed-set text decodes the same with pymarc's tables");
    }
    return 0;
}
