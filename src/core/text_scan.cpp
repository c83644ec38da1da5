// UTF-8 validation sixteen bytes at a time (text_scan.hpp declares it; the scalar rules there are
// the reference it is fuzzed against, tests/fuzz/fuzz_text_scan.cpp).
//
// The method is the one published by Keiser and Lemire ("Validating UTF-8 in less than one
// instruction per byte", 2021): every malformation of UTF-8 is visible in the first twelve bits of
// a pair of adjacent bytes (the previous byte's two nibbles and the current byte's high nibble),
// except a missing or extra third/fourth byte, which is visible from the bytes two and three
// positions back. Three 16-entry tables, indexed by those nibbles with a byte shuffle (SSSE3),
// map each nibble to the set of malformations it is compatible with; a byte pair is malformed
// when one malformation is in all three sets. The code below is ours; the tables follow from the
// UTF-8 rules Python applies (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#include "text_scan.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <tmmintrin.h>
#define RAPIDMARC_HAVE_SSSE3_PATH 1
#endif

namespace rapidmarc::detail {

#if defined(RAPIDMARC_HAVE_SSSE3_PATH)
namespace {

// The malformations, one bit each (bit 6 serves two: the tables keep them apart).
constexpr char kTooShort = 1 << 0;     // a lead byte not followed by a continuation byte
constexpr char kTooLong = 1 << 1;      // an ASCII byte followed by a continuation byte
constexpr char kOverlong3 = 1 << 2;    // E0 followed by 80..9F
constexpr char kTooLarge = 1 << 3;     // F4 followed by 90..BF, or F5..FF followed by 90..BF
constexpr char kSurrogate = 1 << 4;    // ED followed by A0..BF
constexpr char kOverlong2 = 1 << 5;    // C0 or C1 followed by a continuation byte
constexpr char kTooLarge80 = 1 << 6;   // F5..FF followed by 80..8F
constexpr char kOverlong4 = 1 << 6;    // F0 followed by 80..8F
constexpr char kTwoConts = static_cast<char>(1 << 7);  // two continuation bytes in a row
constexpr char kCarry = kTooShort | kTooLong | kTwoConts;  // what the low nibble never rules out

struct Utf8State {
    __m128i previous;
    __m128i error;
};

__attribute__((target("ssse3"))) inline void check_block(Utf8State& st, __m128i input) noexcept {
    // Indexed by the previous byte's high nibble.
    const __m128i first_high = _mm_setr_epi8(kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,
                                             kTooLong, kTwoConts, kTwoConts, kTwoConts, kTwoConts,
                                             kTooShort | kOverlong2, kTooShort, kTooShort | kOverlong3 | kSurrogate,
                                             kTooShort | kTooLarge | kTooLarge80 | kOverlong4);
    // Indexed by the previous byte's low nibble.
    const __m128i first_low = _mm_setr_epi8(
        kCarry | kOverlong3 | kOverlong2 | kOverlong4, kCarry | kOverlong2, kCarry, kCarry, kCarry | kTooLarge,
        kCarry | kTooLarge | kTooLarge80, kCarry | kTooLarge | kTooLarge80, kCarry | kTooLarge | kTooLarge80,
        kCarry | kTooLarge | kTooLarge80, kCarry | kTooLarge | kTooLarge80, kCarry | kTooLarge | kTooLarge80,
        kCarry | kTooLarge | kTooLarge80, kCarry | kTooLarge | kTooLarge80,
        kCarry | kTooLarge | kTooLarge80 | kSurrogate, kCarry | kTooLarge | kTooLarge80,
        kCarry | kTooLarge | kTooLarge80);
    // Indexed by the current byte's high nibble.
    constexpr char cont8 = kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge80 | kOverlong4;
    constexpr char cont9 = kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge;
    constexpr char contAB = kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge;
    const __m128i second_high = _mm_setr_epi8(kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,
                                              kTooShort, kTooShort, cont8, cont9, contAB, contAB, kTooShort, kTooShort,
                                              kTooShort, kTooShort);
    const __m128i low_nibble = _mm_set1_epi8(0x0F);
    const __m128i prev1 = _mm_alignr_epi8(input, st.previous, 15);
    const __m128i prev2 = _mm_alignr_epi8(input, st.previous, 14);
    const __m128i prev3 = _mm_alignr_epi8(input, st.previous, 13);
    const __m128i a = _mm_shuffle_epi8(first_high, _mm_and_si128(_mm_srli_epi16(prev1, 4), low_nibble));
    const __m128i b = _mm_shuffle_epi8(first_low, _mm_and_si128(prev1, low_nibble));
    const __m128i c = _mm_shuffle_epi8(second_high, _mm_and_si128(_mm_srli_epi16(input, 4), low_nibble));
    const __m128i special = _mm_and_si128(_mm_and_si128(a, b), c);
    // A third byte (two after E0..FF) or a fourth (three after F0..FF) must be a continuation byte,
    // and exactly there two continuation bytes in a row are right: the flags must agree.
    const __m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8(static_cast<char>(0xE0 - 0x80)));
    const __m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8(static_cast<char>(0xF0 - 0x80)));
    const __m128i must_continue = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8(static_cast<char>(0x80)));
    st.error = _mm_or_si128(st.error, _mm_xor_si128(must_continue, special));
    st.previous = input;
}

__attribute__((target("ssse3"))) bool utf8_valid_ssse3(const unsigned char* s, std::size_t n) noexcept {
    Utf8State st{_mm_setzero_si128(), _mm_setzero_si128()};
    // A block of ASCII after a block that ends inside no sequence cannot be wrong.
    const __m128i incomplete_above = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                   static_cast<char>(0xF0 - 1), static_cast<char>(0xE0 - 1),
                                                   static_cast<char>(0xC0 - 1));
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i input = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
        if (_mm_movemask_epi8(input) == 0) {
            st.error = _mm_or_si128(st.error, _mm_subs_epu8(st.previous, incomplete_above));
            st.previous = input;
            continue;
        }
        check_block(st, input);
    }
    // The rest, padded with NULs (ASCII), then one more block of NULs, which ends every sequence:
    // a sequence cut off by the end of the text is then a lead or continuation byte followed by
    // ASCII, an error like any other.
    alignas(16) unsigned char tail[16] = {};
    for (std::size_t k = 0; i + k < n; ++k) tail[k] = s[i + k];
    check_block(st, _mm_load_si128(reinterpret_cast<const __m128i*>(tail)));
    check_block(st, _mm_setzero_si128());
    return _mm_movemask_epi8(_mm_cmpeq_epi8(st.error, _mm_setzero_si128())) == 0xFFFF;
}

}  // namespace

bool utf8_valid_blocks(std::string_view text) noexcept {
    static const bool ssse3 = __builtin_cpu_supports("ssse3");
    if (ssse3) return utf8_valid_ssse3(reinterpret_cast<const unsigned char*>(text.data()), text.size());
    return utf8_valid_scalar(text);
}

bool utf8_blocks_vectorised() noexcept { return __builtin_cpu_supports("ssse3"); }

#else

bool utf8_valid_blocks(std::string_view text) noexcept { return utf8_valid_scalar(text); }

bool utf8_blocks_vectorised() noexcept { return false; }

#endif

}  // namespace rapidmarc::detail
