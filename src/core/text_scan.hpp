// Private to the core: the byte scans of the parser's hot path, inline so that the parser's loops
// absorb them. Each has a plain scalar definition (the reference, kept for the differential fuzz
// target tests/fuzz/fuzz_text_scan.cpp and the unit tests) and a fast one, which must give the same
// answer for every input:
//   - ascii_only: no byte >= 0x80. Sixteen bytes at a time with SSE2 (every x86-64 has it), else
//     eight with a 64-bit word; short tails by overlapping loads, not byte by byte.
//   - utf8_valid: well-formed UTF-8 by Python's rules. The ASCII prefix is skipped sixteen bytes at
//     a time; the rest is checked in 16-byte blocks with SSSE3 where the CPU has it
//     (utf8_valid_blocks, text_scan.cpp, chosen at run time), else sequence by sequence.
//   - directory_numbers: the 4-digit length and 5-digit position of a 12-byte directory entry,
//     all nine digits checked and converted together in one 64-bit word (SWAR).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rapidmarc::detail {

inline std::uint64_t load_u64(const unsigned char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

inline std::uint32_t load_u32(const unsigned char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// --- references -------------------------------------------------------------------------------

inline bool ascii_only_scalar(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}

// Python's UTF-8 decoder's acceptance: no overlongs, no surrogates, nothing above U+10FFFF.
// Returns the length of the well-formed sequence starting at s[i] (a non-ASCII lead byte), or 0.
inline std::size_t utf8_sequence(const unsigned char* s, std::size_t i, std::size_t n) noexcept {
    const unsigned char c = s[i];
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + len > n) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if ((s[i + k] & 0xC0) != 0x80) return 0;
    return len;
}

inline bool utf8_valid_scalar(std::string_view text) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            ++i;
            continue;
        }
        const std::size_t len = utf8_sequence(s, i, n);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

// --- fast versions ----------------------------------------------------------------------------

inline bool ascii_only(std::string_view str) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(str.data());
    std::size_t n = str.size();
    constexpr std::uint64_t high = 0x8080808080808080ULL;
    if (n < 8) {
        if (n >= 4) return ((load_u32(p) | load_u32(p + n - 4)) & 0x80808080U) == 0;
        std::uint32_t any = 0;
        for (std::size_t i = 0; i < n; ++i) any |= p[i];
        return (any & 0x80U) == 0;
    }
#if defined(__SSE2__)
    if (n >= 16) {
        __m128i acc = _mm_setzero_si128();
        std::size_t i = 0;
        for (; i + 64 <= n; i += 64) {
            const __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)),
                                           _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16)));
            const __m128i b = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 32)),
                                           _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 48)));
            acc = _mm_or_si128(acc, _mm_or_si128(a, b));
            if (_mm_movemask_epi8(acc) != 0) return false;
        }
        for (; i + 16 <= n; i += 16) acc = _mm_or_si128(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
        // The last sixteen bytes, overlapping what was already seen.
        acc = _mm_or_si128(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)));
        return _mm_movemask_epi8(acc) == 0;
    }
#endif
    std::uint64_t acc = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) acc |= load_u64(p + i);
    acc |= load_u64(p + n - 8);  // n >= 8: the last eight bytes, overlapping
    return (acc & high) == 0;
}

// The index of the first byte >= 0x80 at or after `i`, or n.
inline std::size_t skip_ascii(const unsigned char* s, std::size_t i, std::size_t n) noexcept {
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        const int mask = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
        if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
#endif
    for (; i + 8 <= n; i += 8) {
        const std::uint64_t high = load_u64(s + i) & 0x8080808080808080ULL;
        if (high != 0) return i + static_cast<std::size_t>(__builtin_ctzll(high) / 8);  // little-endian
    }
    for (; i < n; ++i)
        if (s[i] >= 0x80) return i;
    return n;
}

// utf8_valid_scalar's answer, sixteen bytes at a time with SSSE3 where the CPU has it (checked once,
// at the first call), else the scalar rules (text_scan.cpp).
bool utf8_valid_blocks(std::string_view text) noexcept;
// True when utf8_valid_blocks runs the vector code on this CPU.
bool utf8_blocks_vectorised() noexcept;

inline bool utf8_valid(std::string_view text) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = skip_ascii(s, 0, n);
    // Past the ASCII prefix, a text of a block or more is checked in blocks whatever its script.
    if (n - i >= 16) return utf8_valid_blocks(text.substr(i));
    while (i < n) {
        const std::size_t len = utf8_sequence(s, i, n);
        if (len == 0) return false;
        i += len;
        // Text in non-Latin scripts has few ASCII bytes between sequences: look at the next byte
        // before paying for a vector scan.
        if (i < n && s[i] >= 0x80) continue;
        i = skip_ascii(s, i, n);
    }
    return true;
}

// The length (bytes 3-6) and position (bytes 7-11) of a directory entry when all nine are ASCII
// digits; false otherwise (the caller falls back to Python's int() rules).
inline bool directory_numbers(const char* entry, std::int64_t& length, std::int64_t& position) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(entry);
    const std::uint64_t w = load_u64(p + 3);  // little-endian: byte 3 is the lowest
    const unsigned last = static_cast<unsigned>(p[11]) - unsigned{'0'};
    // A byte is a digit when its high nibble is 3 and adding 6 does not carry out of its low nibble.
    constexpr std::uint64_t nibbles = 0xF0F0F0F0F0F0F0F0ULL, threes = 0x3030303030303030ULL;
    if ((w & nibbles) != threes || ((w + 0x0606060606060606ULL) & nibbles) != threes || last > 9) return false;
    std::uint64_t d = w - threes;                              // eight digits, most significant first
    d = (d * 10 + (d >> 8)) & 0x00FF00FF00FF00FFULL;           // pairs: 10a + b in each 16-bit lane
    d = (d * 100 + (d >> 16)) & 0x0000FFFF0000FFFFULL;         // quads: in each 32-bit lane
    length = static_cast<std::int64_t>(d & 0xFFFFFFFFULL);
    position = static_cast<std::int64_t>(d >> 32) * 10 + last;
    return true;
}

inline bool directory_numbers_scalar(const char* entry, std::int64_t& length, std::int64_t& position) noexcept {
    std::int64_t v[2] = {0, 0};
    for (int i = 3; i < 12; ++i) {
        const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(entry[i])) - unsigned{'0'};
        if (d > 9) return false;
        v[i >= 7] = v[i >= 7] * 10 + d;
    }
    length = v[0];
    position = v[1];
    return true;
}

}  // namespace rapidmarc::detail
