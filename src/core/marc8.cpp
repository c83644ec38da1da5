// MARC-8 <-> UTF-8.  See include/rapidmarc/marc8.hpp and docs/marc8.md.
#include "rapidmarc/marc8.hpp"

#include "rapidmarc/unicode.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace rapidmarc::marc8 {
namespace tables {
#include "marc8_tables.inc"
}  // namespace tables

namespace {

constexpr std::uint32_t kCombining = 1u << 24;
constexpr std::uint32_t kEmpty = 1u << 25;
constexpr std::uint32_t kCpMask = 0x1FFFFF;

constexpr unsigned char kEsc = 0x1B;
constexpr unsigned char kBasicLatin = 0x42;
constexpr unsigned char kAnsel = 0x45;
constexpr unsigned char kEacc = tables::kEaccFinal;

constexpr std::uint32_t kNoSet[256] = {};

bool is_known_set(unsigned char f) noexcept {
    if (f == kEacc) return true;
    for (unsigned char s : tables::kSingleByteSets)
        if (s == f) return true;
    return false;
}

// Whether one 7-bit page bitmap (96 positions) has position k, and its rank among set positions.
std::uint32_t eacc_lookup(std::uint32_t code) noexcept {
    const std::uint32_t b1 = code >> 16, b2 = (code >> 8) & 0xFF, b3 = code & 0xFF;
    if (b1 - 0x20 >= 96 || b2 - 0x20 >= 96 || b3 - 0x20 >= 96) return 0;
    const std::uint16_t page = tables::kEaccPageIndex[(b1 - 0x20) * 96 + (b2 - 0x20)];
    if (page == 0) return 0;
    const tables::EaccPage& pg = tables::kEaccPages[page - 1];
    const unsigned k = b3 - 0x20;
    std::uint32_t rank;
    if (k < 64) {
        if (!((pg.lo >> k) & 1)) return 0;
        rank = static_cast<std::uint32_t>(std::popcount(pg.lo & ((std::uint64_t{1} << k) - 1)));
    } else {
        if (!((pg.hi >> (k - 64)) & 1)) return 0;
        rank = static_cast<std::uint32_t>(std::popcount(pg.lo) +
                                          std::popcount(pg.hi & ((std::uint64_t{1} << (k - 64)) - 1)));
    }
    return tables::kEaccValues[pg.base + rank];
}

std::uint32_t pymarc_eacc_override(std::uint32_t code) noexcept {
    const auto* b = std::begin(tables::kPymarcEaccOverrides);
    const auto* e = std::end(tables::kPymarcEaccOverrides);
    const auto* it = std::lower_bound(b, e, code, [](const tables::EaccOverride& o, std::uint32_t c) { return o.code < c; });
    return it != e && it->code == code ? it->value : 0;
}

std::uint32_t odd_lookup(std::uint32_t code) noexcept {
    for (const auto& o : tables::kEaccOdd)
        if (o.code == code) return o.value;
    return 0;
}

// Length of the run of bytes 0x20-0x7E starting at p (at most n).
std::size_t printable_ascii_run(const unsigned char* p, std::size_t n) noexcept {
    std::size_t j = 0;
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t k20 = 0x2020202020202020ull, k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
        while (j + 8 <= n) {
            std::uint64_t x;
            std::memcpy(&x, p + j, 8);
            // High bit set in a byte (or, through a borrow/carry, in a later byte) iff the byte is
            // < 0x20 (x - 0x20 wraps), >= 0x80 (x itself), or 0x7F (x + 1 reaches 0x80).
            const std::uint64_t bad = ((x - k20) | x | (x + k01)) & k80;
            if (bad) return j + (static_cast<std::size_t>(std::countr_zero(bad)) >> 3);
            j += 8;
        }
    }
    while (j < n && static_cast<unsigned char>(p[j] - 0x20) < 0x5F) ++j;
    return j;
}

class Decoder {
public:
    Decoder(std::string_view in, std::string& out, const DecodeOptions& opts)
        : p_(reinterpret_cast<const unsigned char*>(in.data())), n_(in.size()), out_(out),
          lc_(opts.profile == Profile::lc) {
        set_g0(opts.g0);
        set_g1(opts.g1);
    }

    DecodeResult run() {
        DecodeResult r = run_all();
        r.g0 = g0_;
        r.g1 = g1_;
        return r;
    }

private:
    DecodeResult run_all() {
        std::size_t i = 0;
        while (i < n_) {
            const unsigned char b = p_[i];
            if (b == kEsc) {
                // pymarc: marc8_string[pos+1:pos+2] is empty at the end and ord(b"") raises.
                if (i + 1 >= n_) return fail(i, "escape character at end of data");
                const unsigned char nb = p_[i + 1];
                if (nb == '(' || nb == ',' || nb == '$') {
                    if (n_ >= i + 3) {
                        std::size_t j = i;
                        if (nb == '$' && p_[i + 2] == ',') {
                            ++j;
                            if (j + 2 >= n_) return fail(i, "escape sequence cut off by end of data");
                        }
                        set_g0(p_[j + 2]);
                        i = j + 3;
                        continue;
                    }
                    // Too short: pymarc keeps the ESC itself as a character and goes on.
                    emit_immediate(kEsc);
                    i += 1;
                    continue;
                }
                if (nb == ')' || nb == '-') {
                    if (i + 2 >= n_) return fail(i, "escape sequence cut off by end of data");
                    set_g1(p_[i + 2]);
                    i += 3;
                    continue;
                }
                if (is_known_set(nb)) {
                    // Technique 1 (ESC g / b / p, and pymarc accepts every set it knows): G0 changes
                    // and the next byte is taken as a character without checking for ESC.
                    set_g0(nb);
                    i += 2;
                } else if (nb == 's') {
                    set_g0(kBasicLatin);
                    i += 2;
                    if (i == n_) break;
                }
                // Anything else: the ESC byte itself is taken as a character (a control, dropped).
                if (!step(i)) return std::move(result_);
                continue;
            }
            if (g0_ == kBasicLatin && pending_ == 0 && static_cast<unsigned char>(b - 0x20) < 0x5F) {
                const std::size_t len = printable_ascii_run(p_ + i, n_ - i);
                out_.append(reinterpret_cast<const char*>(p_ + i), len);
                i += len;
                continue;
            }
            if (!step(i)) return std::move(result_);
        }
        finish();
        return std::move(result_);
    }

private:
    void set_g0(unsigned char f) noexcept {
        g0_ = f;
        const std::uint32_t* t = lc_ ? tables::lc_table_for(f) : tables::pymarc_table_for(f);
        t0_ = t ? t : kNoSet;
    }
    void set_g1(unsigned char f) noexcept {
        g1_ = f;
        const std::uint32_t* t = lc_ ? tables::lc_table_for(f) : tables::pymarc_table_for(f);
        t1_ = t ? t : kNoSet;
    }

    DecodeResult fail(std::size_t offset, const char* what) {
        set_error(offset, what);
        return std::move(result_);
    }

    void set_error(std::size_t offset, const char* what) {
        result_.ok = false;
        result_.problem = DecodeProblem{offset, what};
        finish();
    }

    void warn(std::size_t offset, std::string what) {
        ++result_.warnings;
        if (!result_.problem) result_.problem = DecodeProblem{offset, std::move(what)};
    }

    void finish() {
        if (pending_ != 0) {
            // pymarc never emits combining marks still waiting for a base at the end.
            result_.dropped += pending_;
            out_.resize(pending_start_);
            pending_ = 0;
        }
    }

    // A base character: written before the pending combining marks, which it releases.
    void emit_base(std::uint32_t cp) {
        if (cp >= 0x80) result_.needs_normalization = true;
        if (pending_ == 0) {
            unicode::append_utf8(static_cast<char32_t>(cp), out_);
            return;
        }
        char buf[4];
        out_.insert(pending_start_, buf, unicode::encode_utf8(static_cast<char32_t>(cp), buf));
        pending_ = 0;
    }

    // A character pymarc appends directly (ODD_MAP, a stray ESC): before any pending marks, which
    // keep waiting for a base.
    void emit_immediate(std::uint32_t cp) {
        if (cp >= 0x80) result_.needs_normalization = true;
        if (pending_ == 0) {
            unicode::append_utf8(static_cast<char32_t>(cp), out_);
            return;
        }
        char buf[4];
        const std::size_t len = unicode::encode_utf8(static_cast<char32_t>(cp), buf);
        out_.insert(pending_start_, buf, len);
        pending_start_ += len;
    }

    void emit_combining(std::uint32_t e) {
        result_.needs_normalization = true;
        if (e & kEmpty) return;  // LC: second half of a double diacritic maps to nothing
        if (pending_ == 0) pending_start_ = out_.size();
        ++pending_;
        unicode::append_utf8(static_cast<char32_t>(e & kCpMask), out_);
    }

    // One character at i (pymarc's loop body after escape handling).  false on error.
    bool step(std::size_t& i) {
        const std::size_t at = i;
        const bool mb = g0_ == kEacc;
        std::uint32_t cp;
        if (mb) {
            if (n_ < i + 3) {
                char msg[96];
                std::snprintf(msg, sizeof msg, "Multi-byte position %zu exceeds length of marc8 string %zu", i + 3, n_);
                warn(at, msg);
                cp = 0x20;
            } else {
                cp = (std::uint32_t{p_[i]} << 16) | (std::uint32_t{p_[i + 1]} << 8) | p_[i + 2];
            }
            i += 3;
        } else {
            if (i >= n_) {
                // Only after a technique-1 escape at the very end: pymarc's ord(b"") raises.
                set_error(at, "escape sequence cut off by end of data");
                return false;
            }
            cp = p_[i];
            i += 1;
        }
        if (cp < 0x20 || (cp > 0x80 && cp < 0xA0)) {
            if (lc_ && !mb && cp > 0x80) {
                if (const std::uint32_t e = tables::kLcC1[cp - 0x80]) {
                    emit_immediate(e & kCpMask);
                    return true;
                }
            }
            ++result_.dropped;
            return true;
        }
        std::uint32_t e;
        if (!mb) {
            e = (cp > 0x80 ? t1_ : t0_)[cp];
        } else {
            e = 0;
            if (!lc_) e = pymarc_eacc_override(cp);
            if (e == 0) e = eacc_lookup(cp);
            if (e == 0) {
                if (const std::uint32_t odd = odd_lookup(cp)) {
                    emit_immediate(odd);
                    return true;
                }
            }
        }
        if (e == 0) {
            char msg[96];
            std::snprintf(msg, sizeof msg, "Unable to parse character 0x%x in g0=%u g1=%u", static_cast<unsigned>(cp),
                          static_cast<unsigned>(g0_), static_cast<unsigned>(g1_));
            warn(at, msg);
            e = 0x20;
        }
        if (e & kCombining)
            emit_combining(e);
        else
            emit_base(e & kCpMask);
        return true;
    }

    const unsigned char* p_;
    std::size_t n_;
    std::string& out_;
    bool lc_;
    unsigned char g0_ = kBasicLatin, g1_ = kAnsel;
    const std::uint32_t* t0_ = kNoSet;
    const std::uint32_t* t1_ = kNoSet;
    std::size_t pending_ = 0;        // combining marks waiting for their base
    std::size_t pending_start_ = 0;  // where they start in out_
    DecodeResult result_;
};

// ---- Encoder -------------------------------------------------------------------------------------

bool is_technique1(unsigned char f) noexcept { return f == 0x62 || f == 0x70 || f == 0x67; }
bool is_g1_set(unsigned char f) noexcept { return f == kAnsel || f == 0x51 || f == 0x34; }

class Encoder {
public:
    Encoder(std::string& out, const EncodeOptions& opts) : out_(out), opts_(opts) {}

    void run(std::string_view s) {
        std::size_t i = 0;
        const std::size_t n = s.size();
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        while (i < n) {
            if (g0_ == kBasicLatin && pending_second_half_ == 0 && static_cast<unsigned char>(p[i] - 0x20) < 0x5F) {
                std::size_t len = printable_ascii_run(p + i, n - i);
                // The last letter of the run may carry combining marks that must precede it.
                if (i + len < n && p[i + len] >= 0x80) --len;
                if (len) {
                    out_.append(s.data() + i, len);
                    i += len;
                    continue;
                }
            }
            char32_t cp;
            std::size_t len = unicode::decode_utf8(s.substr(i), cp);
            if (len == 0) {
                ++result_.invalid_utf8;
                unmappable(0xFFFD);
                i += 1;
                continue;
            }
            const tables::Reverse* base = find(cp);
            if (!base || (base->flags & 1) || (base->code >= 0x80 && base->set != kEacc)) {
                // Unmappable, an orphan combining mark, or a C1 control (NSB/NSE/ZWJ/ZWNJ), which
                // cannot carry marks: marks after it are orphans.
                if (base && !(base->flags & 1))
                    put(*base);
                else
                    unmappable(cp);
                pending_second_half_ = 0;
                i += len;
                continue;
            }
            // Marks following the base: written first, in order.  Should one of them (or the
            // pending second half) be a G1 byte while G0 is EACC, G0 becomes the base's set at once
            // when that is a single-byte G0 set, saving a second escape before the base.
            std::size_t j = i + len;
            leave_eacc_to_ = cp == 0x20 ? kBasicLatin : single_byte_g0(base->set);
            std::uint32_t second_half = pending_second_half_;
            pending_second_half_ = 0;
            if (second_half) put_code(kAnsel, second_half);
            while (j < n) {
                char32_t mcp;
                const std::size_t mlen = unicode::decode_utf8(s.substr(j), mcp);
                if (mlen == 0) break;
                const tables::Reverse* m = find(mcp);
                if (!m || !(m->flags & 1)) break;
                put(*m);
                for (const auto& dd : tables::kDoubleDiacritics)
                    if (dd.ucs == mcp && !(m->flags & 2)) pending_second_half_ = dd.second_half;
                j += mlen;
            }
            leave_eacc_to_ = kBasicLatin;
            if (cp == 0x20)
                put_space();
            else
                put(*base);
            i = j;
        }
        // Back to the default state.  A technique-1 set is left last: its ESC s must not be
        // followed by another escape, since pymarc (and decode()) read the byte after ESC s as a
        // character without checking for ESC ("ESC s ESC ) E" would give the text ")E").
        if (is_technique1(g0_)) {
            designate_g1(kAnsel);
            designate_g0(kBasicLatin);
        } else {
            designate_g0(kBasicLatin);
            designate_g1(kAnsel);
        }
    }

    EncodeResult result() const { return result_; }

private:
    // The best code for cp: one in the set already designated, else the preferred one.
    const tables::Reverse* find(char32_t cp) const noexcept {
        const auto* b = std::begin(tables::kReverse);
        const auto* e = std::end(tables::kReverse);
        const auto* lo = std::lower_bound(b, e, static_cast<std::uint32_t>(cp),
                                          [](const tables::Reverse& r, std::uint32_t c) { return r.ucs < c; });
        if (lo == e || lo->ucs != cp) return nullptr;
        for (const auto* it = lo; it != e && it->ucs == cp; ++it)
            if (it->set == (is_g1_set(it->set) ? g1_ : g0_)) return it;
        return lo;
    }

    void designate_g0(unsigned char f) {
        if (g0_ == f) return;
        if (f == kBasicLatin && is_technique1(g0_)) {
            out_ += "\x1bs";
        } else if (is_technique1(f)) {
            out_ += '\x1b';
            out_ += static_cast<char>(f);
        } else if (f == kEacc) {
            out_ += "\x1b$1";
        } else {
            out_ += "\x1b(";
            out_ += static_cast<char>(f);
        }
        g0_ = f;
    }

    void designate_g1(unsigned char f) {
        if (g1_ == f) return;
        out_ += "\x1b)";
        out_ += static_cast<char>(f);
        g1_ = f;
    }

    // The set to designate as G0 for a G1 or C1 byte while G0 is EACC: a single-byte G0 set read
    // as a graphic set (not technique 1, whose escape must be followed by its character).
    static unsigned char single_byte_g0(unsigned char set) noexcept {
        return set == kEacc || is_g1_set(set) || is_technique1(set) ? kBasicLatin : set;
    }

    // While G0 is EACC every byte is read as part of a 3-byte character, G1 and C1 bytes included
    // (by decode() and pymarc alike): a single-byte G0 set must be designated before them.
    void leave_eacc() {
        if (g0_ == kEacc) designate_g0(leave_eacc_to_);
    }

    void put_code(unsigned char set, std::uint32_t code) {
        if (set == kEacc) {
            designate_g0(kEacc);
            out_ += static_cast<char>(code >> 16);
            out_ += static_cast<char>((code >> 8) & 0xFF);
            out_ += static_cast<char>(code & 0xFF);
        } else if (code >= 0x80) {
            leave_eacc();
            out_ += static_cast<char>(code);  // C1 control, independent of G0/G1
        } else if (is_g1_set(set)) {
            leave_eacc();
            designate_g1(set);
            out_ += static_cast<char>(code | 0x80);
        } else {
            designate_g0(set);
            out_ += static_cast<char>(code);
        }
    }

    void put(const tables::Reverse& r) { put_code(r.set, r.code); }

    void put_space() {
        // SPACE is 0x20 whatever 94-character set is in G0, and LC records keep it inside Hebrew,
        // Cyrillic, Arabic or Greek text.  EACC needs ASCII back; so do the technique-1 sets
        // (subscripts, superscripts, Greek symbols), which are used for single characters and
        // which pymarc does not know SPACE in.
        if (g0_ == kEacc || is_technique1(g0_)) designate_g0(kBasicLatin);
        out_ += ' ';
    }

    void unmappable(char32_t cp) {
        ++result_.unmappable;
        designate_g0(kBasicLatin);
        if (opts_.unmappable == Unmappable::lossy) {
            out_ += '|';
            return;
        }
        char buf[16];
        const int len = std::snprintf(buf, sizeof buf, "&#x%04X;", static_cast<unsigned>(cp));
        out_.append(buf, static_cast<std::size_t>(len));
    }

    std::string& out_;
    const EncodeOptions& opts_;
    unsigned char g0_ = kBasicLatin, g1_ = kAnsel;
    unsigned char leave_eacc_to_ = kBasicLatin;  // G0 set for leave_eacc(): the next base's, if usable
    std::uint32_t pending_second_half_ = 0;
    EncodeResult result_;
};

bool encodable(char32_t cp) noexcept {
    return std::binary_search(std::begin(tables::kReverse), std::end(tables::kReverse), static_cast<std::uint32_t>(cp),
                              [](const auto& a, const auto& b) {
                                  if constexpr (std::is_same_v<std::decay_t<decltype(a)>, std::uint32_t>)
                                      return a < b.ucs;
                                  else
                                      return a.ucs < b;
                              });
}

bool is_hex(unsigned char c) noexcept {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// If s[i..] starts a valid "&#xH;" reference, its length and code point.
std::size_t match_ncr(std::string_view s, std::size_t i, char32_t& cp) noexcept {
    if (i + 4 > s.size() || s[i] != '&' || s[i + 1] != '#' || s[i + 2] != 'x') return 0;
    std::uint32_t v = 0;
    std::size_t j = i + 3, digits = 0;
    while (j < s.size() && digits < 7 && is_hex(static_cast<unsigned char>(s[j]))) {
        const unsigned c = static_cast<unsigned char>(s[j]);
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        ++j;
        ++digits;
    }
    if (digits == 0 || digits > 6 || j >= s.size() || s[j] != ';') return 0;
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    cp = v;
    return j + 1 - i;
}

}  // namespace

std::vector<CodeMapping> code_table(unsigned char final, Profile profile) {
    std::vector<CodeMapping> table;
    const bool lc = profile == Profile::lc;
    auto add = [&table](std::uint32_t code, std::uint32_t e) {
        if (e != 0 && !(e & kEmpty)) table.push_back({code, static_cast<char32_t>(e & kCpMask), (e & kCombining) != 0});
    };
    if (final == kEacc) {
        for (std::uint32_t b1 = 0x20; b1 < 0x80; ++b1)
            for (std::uint32_t b2 = 0x20; b2 < 0x80; ++b2)
                for (std::uint32_t b3 = 0x20; b3 < 0x80; ++b3) {
                    const std::uint32_t code = b1 << 16 | b2 << 8 | b3;
                    std::uint32_t e = lc ? 0 : pymarc_eacc_override(code);
                    if (e == 0) e = eacc_lookup(code);
                    add(code, e);
                }
        return table;
    }
    const std::uint32_t* t = lc ? tables::lc_table_for(final) : tables::pymarc_table_for(final);
    if (!t) return table;
    for (std::uint32_t code = 0; code < 256; ++code) add(code, t[code]);
    return table;
}

std::vector<CodeMapping> odd_codes() {
    std::vector<CodeMapping> table;
    for (const auto& o : tables::kEaccOdd) table.push_back({o.code, static_cast<char32_t>(o.value & kCpMask), false});
    return table;
}

DecodeResult decode(std::string_view in, std::string& out, DecodeOptions options) {
    return Decoder(in, out, options).run();
}

EncodeResult encode(std::string_view utf8, std::string& out, EncodeOptions options) {
    Encoder enc(out, options);
    bool ascii = true;
    for (char c : utf8)
        if (static_cast<unsigned char>(c) >= 0x80) {
            ascii = false;
            break;
        }
    if (options.decompose && !ascii) {
        // Decompose only what MARC-8 cannot encode as it is: precomposed Latin letters split into
        // a base and ANSEL marks, while characters MARC-8 has precomposed (Hangul syllables in
        // EACC, U+01A0 in ANSEL, U+0401 in Extended Cyrillic...) stay whole.
        std::string prepared;
        prepared.reserve(utf8.size() + utf8.size() / 2);
        std::size_t i = 0;
        while (i < utf8.size()) {
            char32_t cp;
            std::size_t len = unicode::decode_utf8(utf8.substr(i), cp);
            if (len == 0) len = 1;  // ill-formed: copied, the encoder reports it
            if (len == 1 || encodable(cp))
                prepared.append(utf8.substr(i, len));
            else
                unicode::append_nfd(utf8.substr(i, len), prepared);
            i += len;
        }
        enc.run(prepared);
    } else {
        enc.run(utf8);
    }
    return enc.result();
}

void decode_ncr(std::string_view s, std::string& out) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t amp = s.find('&', i);
        if (amp == std::string_view::npos) break;
        char32_t cp;
        const std::size_t len = match_ncr(s, amp, cp);
        if (len == 0) {
            out.append(s.substr(i, amp + 1 - i));
            i = amp + 1;
            continue;
        }
        out.append(s.substr(i, amp - i));
        unicode::append_utf8(cp, out);
        i = amp + len;
    }
    out.append(s.substr(std::min(i, s.size())));
}

bool contains_ncr(std::string_view s) noexcept {
    for (std::size_t amp = s.find('&'); amp != std::string_view::npos; amp = s.find('&', amp + 1)) {
        char32_t cp;
        if (match_ncr(s, amp, cp)) return true;
    }
    return false;
}

}  // namespace rapidmarc::marc8
