// Unicode normalisation (NFC / NFD) for UTF-8 text.
//
// Design: a forward scan copies text that is provably already normalised (the quick-check
// property of UAX #15) straight to the output.  Only when a code point needs work does it go back to
// the last "boundary" (a character nothing before it can interact with), and normalises the segment
// up to the next boundary: full canonical decomposition into a small buffer, canonical ordering and,
// for NFC, canonical composition.  Segments are independent because they start at boundaries.
//
// Data: src/core/unicode_tables.inc, generated from Python's unicodedata by
// tools/gen_unicode_tables.py.  Hangul syllables are decomposed and composed algorithmically.

#include "rapidmarc/unicode.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

namespace rapidmarc::unicode {
namespace tables {
#include "unicode_tables.inc"
}  // namespace tables

namespace {

// Property word: bits 0-7 canonical combining class, then flags (see the generator).
constexpr std::uint16_t kQcNo = 1u << 8;            // NFC_QC = No
constexpr std::uint16_t kQcMaybe = 1u << 9;         // NFC_QC = Maybe (can combine backwards)
constexpr std::uint16_t kHasDecomp = 1u << 10;      // canonical decomposition (incl. Hangul syllables)
constexpr std::uint16_t kNfcNoBoundary = 1u << 11;  // NFC of text can change across a cut before it
constexpr std::uint16_t kNfdNoBoundary = 1u << 12;  // NFD of text can change across a cut before it
constexpr std::uint16_t kCompFirst = 1u << 13;      // first character of some canonical composition

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

static_assert(sizeof(tables::kPropsStage1) / sizeof(tables::kPropsStage1[0]) ==
              (tables::kTrieLimit >> tables::kTrieShift));

inline std::uint16_t props_of(char32_t cp) noexcept {
    if (cp >= tables::kTrieLimit) return 0;
    constexpr char32_t mask = (char32_t{1} << tables::kTrieShift) - 1;
    const std::size_t block = tables::kPropsStage1[cp >> tables::kTrieShift];
    return tables::kPropsStage2[(block << tables::kTrieShift) | (cp & mask)];
}

inline bool is_hangul_syllable(char32_t cp) noexcept { return cp - kSBase < kSCount; }

// Length of the leading run of ASCII bytes of p[0..n).
inline std::size_t ascii_run(const char* p, std::size_t n) noexcept {
    std::size_t i = 0;
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t high = 0x8080808080808080ull;
        for (; i + 16 <= n; i += 16) {
            std::uint64_t a, b;
            std::memcpy(&a, p + i, 8);
            std::memcpy(&b, p + i + 8, 8);
            if ((a | b) & high) {
                if (a & high) return i + static_cast<std::size_t>(std::countr_zero(a & high)) / 8;
                return i + 8 + static_cast<std::size_t>(std::countr_zero(b & high)) / 8;
            }
        }
        for (; i + 8 <= n; i += 8) {
            std::uint64_t a;
            std::memcpy(&a, p + i, 8);
            if (a & high) return i + static_cast<std::size_t>(std::countr_zero(a & high)) / 8;
        }
    }
    while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
    return i;
}

struct Unit {
    char32_t cp;
    std::uint16_t props;
    std::uint8_t ccc() const noexcept { return static_cast<std::uint8_t>(props & 0xFF); }
};

// Code point buffer for one segment: a fixed inline array, spilling to a vector only for
// absurdly long combining sequences.
class SegmentBuffer {
public:
    void clear() noexcept {
        size_ = 0;
        on_heap_ = false;
        heap_.clear();
    }
    void push(char32_t cp, std::uint16_t props) {
        if (!on_heap_) {
            if (size_ < kInline) {
                inline_[size_++] = Unit{cp, props};
                return;
            }
            heap_.assign(inline_, inline_ + size_);
            on_heap_ = true;
        }
        heap_.push_back(Unit{cp, props});
        ++size_;
    }
    Unit* data() noexcept { return on_heap_ ? heap_.data() : inline_; }
    std::size_t size() const noexcept { return size_; }
    void resize_down(std::size_t n) noexcept {
        size_ = n;
        if (on_heap_) heap_.resize(n);
    }

private:
    static constexpr std::size_t kInline = 64;
    Unit inline_[kInline];
    std::vector<Unit> heap_;
    std::size_t size_ = 0;
    bool on_heap_ = false;
};

// Appends the full canonical decomposition of cp (with property words) to buf.
void decompose(char32_t cp, std::uint16_t props, SegmentBuffer& buf) {
    if (!(props & kHasDecomp)) {
        buf.push(cp, props);
        return;
    }
    if (is_hangul_syllable(cp)) {
        const char32_t s = cp - kSBase;
        const char32_t l = kLBase + s / kNCount;
        const char32_t v = kVBase + (s % kNCount) / kTCount;
        const char32_t t = s % kTCount;
        buf.push(l, props_of(l));
        buf.push(v, props_of(v));
        if (t != 0) buf.push(kTBase + t, props_of(kTBase + t));
        return;
    }
    const auto* begin = std::begin(tables::kDecompCp);
    const auto* end = std::end(tables::kDecompCp);
    const auto* it = std::lower_bound(begin, end, cp);
    if (it == end || *it != cp) {  // cannot happen with consistent tables
        buf.push(cp, props);
        return;
    }
    const std::size_t idx = static_cast<std::size_t>(it - begin);
    for (std::size_t k = tables::kDecompOffset[idx]; k < tables::kDecompOffset[idx + 1]; ++k) {
        const char32_t d = tables::kDecompData[k];
        buf.push(d, props_of(d));
    }
}

// Canonical ordering: stable sort of every run of non-starters by combining class.
void canonical_order(Unit* u, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        if (u[i].ccc() == 0) {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        while (j < n && u[j].ccc() != 0) ++j;
        if (j - i > 1) {
            if (j - i <= 32) {
                for (std::size_t a = i + 1; a < j; ++a) {  // insertion sort (stable)
                    const Unit x = u[a];
                    std::size_t b = a;
                    while (b > i && u[b - 1].ccc() > x.ccc()) {
                        u[b] = u[b - 1];
                        --b;
                    }
                    u[b] = x;
                }
            } else {
                std::stable_sort(u + i, u + j, [](const Unit& x, const Unit& y) { return x.ccc() < y.ccc(); });
            }
        }
        i = j;
    }
}

// Primary composite of (a, b), or 0 when the pair does not compose.
char32_t compose_pair(char32_t a, char32_t b) noexcept {
    if (a - kLBase < kLCount) {
        if (b - kVBase < kVCount) return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
        return 0;
    }
    if (is_hangul_syllable(a)) {
        if ((a - kSBase) % kTCount == 0 && b - (kTBase + 1) < kTCount - 1) return a + (b - kTBase);
        return 0;
    }
    const std::uint64_t key = (std::uint64_t{a} << 21) | b;
    const auto* begin = std::begin(tables::kCompKey);
    const auto* end = std::end(tables::kCompKey);
    const auto* it = std::lower_bound(begin, end, key);
    if (it == end || *it != key) return 0;
    return tables::kCompValue[it - begin];
}

// Canonical composition in place; returns the new length.
std::size_t compose(Unit* u, std::size_t n) noexcept {
    std::size_t starter = 0;
    bool have_starter = false;
    int last_cc = -1;  // ccc of the last kept character after the starter; -1 = adjacent to it
    std::size_t w = 0;
    for (std::size_t r = 0; r < n; ++r) {
        const Unit c = u[r];
        const int cc = c.ccc();
        if (have_starter && last_cc < cc && (u[starter].props & kCompFirst) && (c.props & kQcMaybe)) {
            const char32_t composite = compose_pair(u[starter].cp, c.cp);
            if (composite != 0) {
                u[starter] = Unit{composite, props_of(composite)};
                continue;
            }
        }
        if (cc == 0) {
            starter = w;
            have_starter = true;
            last_cc = -1;
        } else {
            last_cc = cc;
        }
        u[w++] = c;
    }
    return w;
}

void emit(const Unit* u, std::size_t n, std::string& out) {
    char tmp[4 * 16];
    std::size_t t = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (t + 4 > sizeof tmp) {
            out.append(tmp, t);
            t = 0;
        }
        t += encode_utf8(u[i].cp, tmp + t);
    }
    out.append(tmp, t);
}

// Normalises one segment (well-formed UTF-8 starting at a boundary) and appends it to out.
template <bool kCompose>
void normalize_segment(std::string_view seg, SegmentBuffer& buf, std::string& out) {
    buf.clear();
    std::size_t i = 0;
    while (i < seg.size()) {
        char32_t cp;
        const std::size_t len = decode_utf8(seg.substr(i), cp);
        if (len == 0) {  // not produced by the scanner; kept for robustness
            buf.push(static_cast<unsigned char>(seg[i]), 0);
            ++i;
            continue;
        }
        decompose(cp, props_of(cp), buf);
        i += len;
    }
    Unit* u = buf.data();
    std::size_t n = buf.size();
    canonical_order(u, n);
    if constexpr (kCompose) n = compose(u, n);
    emit(u, n, out);
}

template <bool kNfc>
void append_normalized(std::string_view in, std::string& out) {
    constexpr std::uint16_t kNeedsWork = kNfc ? (kQcNo | kQcMaybe) : kHasDecomp;
    constexpr std::uint16_t kNoBoundary = kNfc ? kNfcNoBoundary : kNfdNoBoundary;
    const char* s = in.data();
    const std::size_t n = in.size();
    std::size_t i = 0;       // scan position
    std::size_t copied = 0;  // in[0..copied) has been written to out
    std::size_t seg = 0;     // last boundary at or before i (never below copied)
    unsigned last_cc = 0;
    SegmentBuffer buf;
    while (i < n) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            i += ascii_run(s + i, n - i);
            seg = i - 1;  // an ASCII character is a boundary
            last_cc = 0;
            continue;
        }
        char32_t cp;
        const std::size_t len = decode_utf8(in.substr(i), cp);
        if (len == 0) {  // ill-formed byte: copied through verbatim, acts as a boundary
            ++i;
            seg = i;
            last_cc = 0;
            continue;
        }
        const std::uint16_t p = props_of(cp);
        const unsigned cc = p & 0xFF;
        if (!(p & kNeedsWork) && (cc == 0 || cc >= last_cc)) {
            if (!(p & kNoBoundary)) seg = i;
            last_cc = cc;
            i += len;
            continue;
        }
        if (!(p & kNoBoundary)) seg = i;
        // The segment extends up to the next boundary (or ill-formed byte, or the end).
        std::size_t j = i + len;
        while (j < n && static_cast<unsigned char>(s[j]) >= 0x80) {
            char32_t c2;
            const std::size_t l2 = decode_utf8(in.substr(j), c2);
            if (l2 == 0 || !(props_of(c2) & kNoBoundary)) break;
            j += l2;
        }
        out.append(s + copied, seg - copied);
        normalize_segment<kNfc>(in.substr(seg, j - seg), buf, out);
        copied = seg = i = j;
        last_cc = 0;
    }
    out.append(s + copied, n - copied);
}

}  // namespace

void append_nfc(std::string_view in, std::string& out) { append_normalized<true>(in, out); }

void append_nfd(std::string_view in, std::string& out) { append_normalized<false>(in, out); }

bool quick_nfc(std::string_view in) noexcept {
    const char* s = in.data();
    const std::size_t n = in.size();
    std::size_t i = 0;
    unsigned last_cc = 0;
    while (i < n) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            i += ascii_run(s + i, n - i);
            last_cc = 0;
            continue;
        }
        char32_t cp;
        const std::size_t len = decode_utf8(in.substr(i), cp);
        if (len == 0) return false;
        const std::uint16_t p = props_of(cp);
        if (p & (kQcNo | kQcMaybe)) return false;
        const unsigned cc = p & 0xFF;
        if (cc != 0 && cc < last_cc) return false;
        last_cc = cc;
        i += len;
    }
    return true;
}

std::uint8_t combining_class(char32_t cp) noexcept { return static_cast<std::uint8_t>(props_of(cp) & 0xFF); }

char ascii_fold(char32_t cp) noexcept {
    if (cp < 0x80) return static_cast<char>(cp);
    const auto* begin = std::begin(tables::kFoldCp);
    const auto* end = std::end(tables::kFoldCp);
    const auto* it = std::lower_bound(begin, end, cp);
    return it != end && *it == cp ? tables::kFoldAscii[it - begin] : '\0';
}

const char* unicode_version() noexcept { return tables::kUnicodeVersion; }

}  // namespace rapidmarc::unicode
