#include "rapidmarc/utf8.hpp"

#include <array>
#include <cstring>

namespace rapidmarc {

namespace {

// What a lead byte >= 0x80 requires: the sequence length (0: never a valid lead) and the range
// allowed for the second byte. Later bytes are always 80..BF. The narrowed second-byte ranges are
// what exclude overlongs (E0, F0), surrogates (ED) and code points above U+10FFFF (F4), and CPython
// checks exactly these ranges when it decides where an invalid sequence ends.
struct Lead {
    std::uint8_t length = 0;
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
};

constexpr std::array<Lead, 256> make_leads() {
    std::array<Lead, 256> t{};
    for (unsigned c = 0xC2; c <= 0xDF; ++c) t[c].length = 2;
    for (unsigned c = 0xE0; c <= 0xEF; ++c) t[c].length = 3;
    for (unsigned c = 0xF0; c <= 0xF4; ++c) t[c].length = 4;
    t[0xE0].lo = 0xA0;
    t[0xED].hi = 0x9F;
    t[0xF0].lo = 0x90;
    t[0xF4].hi = 0x8F;
    return t;
}

constexpr std::array<Lead, 256> kLeads = make_leads();

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// For the non-ASCII byte at s[0] (n bytes available): the length of the well-formed sequence it
// starts, or, if it starts none, minus the length of the invalid sequence — the lead byte plus the
// continuation bytes that still fit a valid sequence. That is CPython's rule both for a bad
// continuation byte (InvalidContinuation1..3 in Objects/stringlib/codecs.h) and for a sequence cut
// off by the end of the input ("unexpected end of data", which spans the rest of the input, i.e.
// the same valid prefix).
inline int classify(const unsigned char* s, std::size_t n) noexcept {
    const Lead lead = kLeads[s[0]];
    if (lead.length == 0) return -1;  // stray continuation byte, C0/C1 overlong lead, F5..FF
    if (n < 2 || s[1] < lead.lo || s[1] > lead.hi) return -1;
    const std::size_t avail = n < lead.length ? n : lead.length;
    std::size_t k = 2;
    while (k < avail && (s[k] & 0xC0) == 0x80) ++k;
    return k == lead.length ? static_cast<int>(k) : -static_cast<int>(k);
}

}  // namespace

void append_utf8_lossy(std::string_view raw, Utf8Errors errors, std::string& out) {
    const auto* s = reinterpret_cast<const unsigned char*>(raw.data());
    const std::size_t n = raw.size();
    std::size_t run = 0;  // start of the valid bytes not yet copied, so valid input is one append
    std::size_t i = 0;
    while (i < n) {
        // ASCII, eight bytes at a time: MARC text is mostly ASCII.
        if (n - i >= 8) {
            std::uint64_t chunk;
            std::memcpy(&chunk, s + i, 8);
            if ((chunk & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            ++i;
            continue;
        }
        const int len = classify(s + i, n - i);
        if (len > 0) {
            i += static_cast<std::size_t>(len);
            continue;
        }
        out.append(raw.data() + run, i - run);
        if (errors == Utf8Errors::replace) out += kReplacement;
        i += static_cast<std::size_t>(-len);
        run = i;
    }
    out.append(raw.data() + run, n - run);
}

}  // namespace rapidmarc
