#!/usr/bin/env python3
"""Generate src/core/unicode_tables.inc (Unicode normalisation data) from Python's unicodedata.

Usage:
    python tools/gen_unicode_tables.py              # (re)write src/core/unicode_tables.inc
    python tools/gen_unicode_tables.py --check      # exit 1 if the checked-in file is stale
    python tools/gen_unicode_tables.py --emit-tests FILE [--random N] [--seed S]
                                                    # write exhaustive NFC/NFD test vectors

Everything is derived from a ``unicodedata`` module (no UCD files are read) of one pinned Unicode
version, UNICODE_VERSION below, whatever Python runs this script: the standard library's module when
its version is the pinned one (Python 3.13), otherwise the ``unicodedata2`` package from PyPI at that
version (``pip install unicodedata2==15.1.0``, which has wheels for Python 3.10-3.12; `make deps`
installs it). So `--check` gives the same answer on every Python. The version is recorded in the
generated header and returned by ``rapidmarc::unicode::unicode_version()``. Against an older Python's
own unicodedata (pymarc normalises MARC-8 text to NFC with it) the tables differ only for code points
that Python does not know yet (on Python 3.11, Unicode 14.0: 72 combining marks added in 15.0 and
15.1, none of them reachable from MARC-8).

Tables written (see src/core/unicode.cpp for the consumer):
  * a two-level "properties" trie: per code point a uint16 holding the canonical combining class
    (bits 0-7) and flags (NFC_QC=No, NFC_QC=Maybe, has a canonical decomposition, no NFC boundary
    before, no NFD boundary before, can be the first character of a canonical composition);
  * canonical decompositions (fully recursive, canonical only) as sorted code points + offsets
    into a flat data array;
  * canonical composition pairs (exactly what NFC composes: composition exclusions, singletons and
    non-starter decompositions removed) as sorted 64-bit keys.
  * ASCII folding: the first ASCII character of each code point's NFKD, for pymarc's rule for
    subfield codes that are not ASCII.
Hangul syllables are decomposed/composed algorithmically by the C++ code; only their flags are in the
trie.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from types import ModuleType

# The Unicode version the tables are generated from. Changing it is a deliberate step: regenerate the
# tables, the C++ test vectors (--emit-tests) and say so in docs/marc8.md.
UNICODE_VERSION = "15.1.0"


def unicode_data() -> ModuleType:
    """The unicodedata module of UNICODE_VERSION: the standard library's, or unicodedata2's."""
    import unicodedata as standard

    if standard.unidata_version == UNICODE_VERSION:
        return standard
    try:
        import unicodedata2  # type: ignore[import-not-found]
    except ImportError:
        unicodedata2 = None
    if unicodedata2 is not None and unicodedata2.unidata_version == UNICODE_VERSION:
        return unicodedata2
    if unicodedata2 is None:
        found = "unicodedata2 is not installed"
    else:
        found = f"unicodedata2 has Unicode {unicodedata2.unidata_version}"
    sys.exit(
        f"gen_unicode_tables.py needs Unicode {UNICODE_VERSION} data: this Python's unicodedata has Unicode "
        f"{standard.unidata_version} and {found}; run `pip install unicodedata2=={UNICODE_VERSION}`"
    )


unicodedata = unicode_data()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_PATH = os.path.join(REPO, "src", "core", "unicode_tables.inc")
COMMAND = "python tools/gen_unicode_tables.py"

MAX_CP = 0x110000
SHIFT = 7  # trie block size 128
BLOCK = 1 << SHIFT

# Flag bits (must match src/core/unicode.cpp).
F_QC_NO = 1 << 8
F_QC_MAYBE = 1 << 9
F_HAS_DECOMP = 1 << 10
F_NFC_NO_BOUNDARY = 1 << 11
F_NFD_NO_BOUNDARY = 1 << 12
F_COMP_FIRST = 1 << 13

S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
N_COUNT = V_COUNT * T_COUNT
S_COUNT = L_COUNT * N_COUNT


def is_surrogate(cp: int) -> bool:
    return 0xD800 <= cp <= 0xDFFF


def is_hangul_syllable(cp: int) -> bool:
    return S_BASE <= cp < S_BASE + S_COUNT


def all_code_points():
    return (cp for cp in range(MAX_CP) if not is_surrogate(cp))


def canonical_mapping(cp: int) -> list[int] | None:
    """Single-step canonical decomposition mapping from unicodedata (None if none/compat)."""
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return None
    return [int(x, 16) for x in d.split()]


def full_decomposition(cp: int) -> list[int]:
    m = canonical_mapping(cp)
    if m is None:
        return [cp]
    out: list[int] = []
    for c in m:
        out.extend(full_decomposition(c))
    return out


def ccc(cp: int) -> int:
    return unicodedata.combining(chr(cp))


def canonical_order(cps: list[int]) -> list[int]:
    """Stable sort of each run of non-starters by combining class (canonical ordering algorithm)."""
    out = list(cps)
    i = 0
    while i < len(out):
        if ccc(out[i]) == 0:
            i += 1
            continue
        j = i
        while j < len(out) and ccc(out[j]) != 0:
            j += 1
        out[i:j] = sorted(out[i:j], key=ccc)
        i = j
    return out


def build():
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    nfc = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731

    # Canonical decompositions (Hangul excluded: algorithmic).
    decomp: dict[int, list[int]] = {}
    for cp in all_code_points():
        if is_hangul_syllable(cp):
            continue
        if canonical_mapping(cp) is None:
            continue
        full = full_decomposition(cp)
        assert canonical_order(full) == [ord(c) for c in nfd(chr(cp))], hex(cp)
        decomp[cp] = canonical_order(full)

    # Composition pairs: a two-character canonical mapping whose composite survives NFC, i.e. it is
    # not a composition exclusion nor a non-starter decomposition (singletons have length 1).
    pairs: dict[tuple[int, int], int] = {}
    for cp in sorted(decomp):
        m = canonical_mapping(cp)
        if m is None or len(m) != 2:
            continue
        if nfc(chr(cp)) != chr(cp):
            continue  # full composition exclusion
        first, second = m
        assert ccc(first) == 0 and ccc(cp) == 0, hex(cp)
        # Confirm with the oracle: normalising the pair composes to exactly this character.
        assert nfc(chr(first) + chr(second)) == chr(cp), hex(cp)
        pairs[(first, second)] = cp
    seconds = {s for (_, s) in pairs}
    firsts = {f for (f, _) in pairs}
    # Hangul jamo that compose (checked against the oracle below).
    hangul_v = set(range(V_BASE, V_BASE + V_COUNT))
    hangul_t = set(range(T_BASE + 1, T_BASE + T_COUNT))
    assert all(nfc(chr(L_BASE) + chr(v)) != chr(L_BASE) + chr(v) for v in hangul_v)
    assert all(nfc(chr(S_BASE) + chr(t)) != chr(S_BASE) + chr(t) for t in hangul_t)
    assert nfc(chr(S_BASE) + chr(T_BASE)) == chr(S_BASE) + chr(T_BASE)

    props = [0] * MAX_CP
    qc_no = 0
    qc_maybe = 0
    for cp in all_code_points():
        c = ccc(cp)
        v = c
        s = chr(cp)
        if nfc(s) != s:
            # A character that never survives NFC: exclusions, singletons, non-starter decomps.
            v |= F_QC_NO
            qc_no += 1
        elif cp in seconds or cp in hangul_v or cp in hangul_t:
            v |= F_QC_MAYBE
            qc_maybe += 1
        if cp in decomp or is_hangul_syllable(cp):
            v |= F_HAS_DECOMP
        lead = ord(nfd(s)[0])
        # NFD: a boundary sits before a character whose decomposition starts with a starter.
        if ccc(lead) != 0:
            v |= F_NFD_NO_BOUNDARY
        # NFC: additionally the leading starter must not combine with anything before it.
        if c != 0 or ccc(lead) != 0 or lead in seconds or lead in hangul_v or lead in hangul_t or (v & F_QC_MAYBE):
            v |= F_NFC_NO_BOUNDARY
        if (
            cp in firsts
            or (L_BASE <= cp < L_BASE + L_COUNT)
            or (is_hangul_syllable(cp) and (cp - S_BASE) % T_COUNT == 0)
        ):
            v |= F_COMP_FIRST
        props[cp] = v

    # Trim the trie after the last block holding a non-default value.
    last = max(cp for cp in range(MAX_CP) if props[cp])
    limit = ((last >> SHIFT) + 1) << SHIFT
    blocks: dict[tuple[int, ...], int] = {}
    stage1: list[int] = []
    stage2: list[int] = []
    for start in range(0, limit, BLOCK):
        blk = tuple(props[start : start + BLOCK])
        idx = blocks.get(blk)
        if idx is None:
            idx = len(blocks)
            blocks[blk] = idx
            stage2.extend(blk)
        stage1.append(idx)

    return {
        "props": props,
        "limit": limit,
        "stage1": stage1,
        "stage2": stage2,
        "decomp": decomp,
        "pairs": pairs,
        "qc_no": qc_no,
        "qc_maybe": qc_maybe,
    }


def fmt_array(ctype: str, name: str, values, per_line: int, fmt=str) -> str:
    vals = list(values)
    lines = [f"inline constexpr {ctype} {name}[{len(vals)}] = {{"]
    for i in range(0, len(vals), per_line):
        lines.append("    " + ",".join(fmt(v) for v in vals[i : i + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines) + "\n"


def render(t) -> str:
    decomp = t["decomp"]
    dec_cps = sorted(decomp)
    offsets = [0]
    data: list[int] = []
    for cp in dec_cps:
        data.extend(decomp[cp])
        offsets.append(len(data))
    max_len = max(len(v) for v in decomp.values())
    pair_keys = sorted(t["pairs"])
    hx = lambda v: f"0x{v:X}"  # noqa: E731
    out = []
    out.append(
        "// GENERATED FILE - DO NOT EDIT.\n"
        f"// Generated by `{COMMAND}` from Unicode {unicodedata.unidata_version} data "
        "(Python's unicodedata, or the unicodedata2 package, at that version).\n"
        f"// Check freshness with `{COMMAND} --check`.\n"
        "// Included by src/core/unicode.cpp only (inside namespace rapidmarc::unicode::tables).\n"
        f"// {len(dec_cps)} canonical decompositions, {len(pair_keys)} composition pairs, "
        f"{t['qc_no']} NFC_QC=No, {t['qc_maybe']} NFC_QC=Maybe code points.\n\n"
    )
    out.append(f'inline constexpr char kUnicodeVersion[] = "{unicodedata.unidata_version}";\n')
    out.append(f"inline constexpr unsigned kTrieShift = {SHIFT};\n")
    out.append(f"inline constexpr char32_t kTrieLimit = 0x{t['limit']:X};  // props are 0 from here on\n")
    out.append(f"inline constexpr unsigned kMaxDecompositionLength = {max_len};\n\n")
    out.append("// Stage 1: block index for (cp >> kTrieShift), cp < kTrieLimit.\n")
    out.append(fmt_array("std::uint16_t", "kPropsStage1", t["stage1"], 32))
    out.append("\n// Stage 2: blocks of 1 << kTrieShift property words (ccc | flags << 8).\n")
    out.append(fmt_array("std::uint16_t", "kPropsStage2", t["stage2"], 32))
    out.append("\n// Canonical decompositions (full, canonically ordered); Hangul syllables excluded.\n")
    out.append(fmt_array("char32_t", "kDecompCp", dec_cps, 12, hx))
    out.append(fmt_array("std::uint16_t", "kDecompOffset", offsets, 24))
    out.append(fmt_array("char32_t", "kDecompData", data, 12, hx))
    out.append("\n// Canonical composition pairs: key = first << 21 | second, sorted; value = composite.\n")
    out.append(fmt_array("std::uint64_t", "kCompKey", [(f << 21) | s for (f, s) in pair_keys], 8, hx))
    out.append(fmt_array("char32_t", "kCompValue", [t["pairs"][k] for k in pair_keys], 12, hx))
    fold = ascii_fold()
    out.append(
        "\n// ASCII folding: for each non-ASCII code point whose compatibility decomposition (NFKD)\n"
        "// contains an ASCII character, the first such character (pymarc's subfield code rule).\n"
    )
    out.append(fmt_array("char32_t", "kFoldCp", sorted(fold), 12, hx))
    char = lambda c: f"'\\{c}'" if c in "'\\" else f"'{c}'"  # noqa: E731
    out.append(fmt_array("char", "kFoldAscii", [fold[cp] for cp in sorted(fold)], 24, char))
    return "".join(out)


def ascii_fold() -> dict[int, str]:
    """cp -> first ASCII character of NFKD(chr(cp)), for non-ASCII scalar values that have one."""
    fold = {}
    for cp in range(0x80, MAX_CP):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ascii_part = unicodedata.normalize("NFKD", chr(cp)).encode("ascii", "ignore").decode("ascii")
        if ascii_part:
            fold[cp] = ascii_part[0]
    return fold


# ----------------------------------------------------------------------------------------------
# Test vectors


def emit_tests(path: str, n_random: int, seed: int) -> None:
    """Write test vectors: one line per case, fields separated by ';', each a space-separated list
    of hex code points: source;NFC;NFD;ccc-of-first;is_normalized_NFC (0/1)."""
    rng = random.Random(seed)
    nfc = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731

    def enc(s: str) -> str:
        return " ".join(f"{ord(c):X}" for c in s)

    nonstarters = [cp for cp in all_code_points() if ccc(cp) != 0]
    decomposables = [cp for cp in all_code_points() if canonical_mapping(cp) is not None or is_hangul_syllable(cp)]
    comp_pairs = []
    for cp in decomposables:
        m = canonical_mapping(cp)
        if m and len(m) == 2:
            comp_pairs.append(m)
    seconds = sorted({s for _, s in comp_pairs})
    firsts = sorted({f for f, _ in comp_pairs})
    jamo_l = list(range(L_BASE, L_BASE + L_COUNT))
    jamo_v = list(range(V_BASE, V_BASE + V_COUNT))
    jamo_t = list(range(T_BASE, T_BASE + T_COUNT))  # includes T_BASE (not a trailing jamo)
    syllables = list(range(S_BASE, S_BASE + S_COUNT))
    common_marks = [
        0x300,
        0x301,
        0x302,
        0x303,
        0x308,
        0x30A,
        0x30C,
        0x323,
        0x327,
        0x328,
        0x331,
        0x345,
        0x35C,
        0x1DCE,
        0x05B0,
        0x0F71,
        0x0F72,
        0x0F80,
        0x093C,
        0x0334,
        0x0338,
    ]
    bases = [ord(c) for c in "aeiouAEIOUcCnNsSzZwWyYgGkK<=>"] + [
        0x391,
        0x3B1,
        0x3C9,
        0x415,
        0x435,
        0x0915,
        0x0B47,
        0x0CC6,
        0x0DD9,
    ]
    pools = [
        nonstarters,
        decomposables,
        seconds,
        firsts,
        jamo_l,
        jamo_v,
        jamo_t,
        syllables,
        common_marks,
        bases,
        list(range(0x20, 0x7F)),
    ]
    ok = 0
    with open(path, "w", encoding="ascii") as f:
        for cp in all_code_points():
            s = chr(cp)
            f.write(f"{enc(s)};{enc(nfc(s))};{enc(nfd(s))};{ccc(cp)};{int(unicodedata.is_normalized('NFC', s))}\n")
            ok += 1
        for _ in range(n_random):
            length = rng.randint(1, 12) if rng.random() < 0.9 else rng.randint(13, 400)
            cps = []
            for _ in range(length):
                pool = pools[rng.randrange(len(pools))]
                cps.append(pool[rng.randrange(len(pool))])
            s = "".join(chr(c) for c in cps)
            f.write(f"{enc(s)};{enc(nfc(s))};{enc(nfd(s))};{ccc(cps[0])};{int(unicodedata.is_normalized('NFC', s))}\n")
            ok += 1
    print(f"wrote {ok} vectors to {path} (Unicode {unicodedata.unidata_version})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail if the checked-in file is stale")
    ap.add_argument("--output", default=OUT_PATH, help="output path (default: %(default)s)")
    ap.add_argument("--emit-tests", metavar="FILE", help="write exhaustive test vectors to FILE")
    ap.add_argument("--random", type=int, default=5000, help="random strings for --emit-tests")
    ap.add_argument("--seed", type=int, default=20240521, help="random seed for --emit-tests")
    args = ap.parse_args()

    if args.emit_tests:
        emit_tests(args.emit_tests, args.random, args.seed)
        return 0

    text = render(build())
    if args.check:
        try:
            with open(args.output, encoding="utf-8", newline="") as f:
                current = f.read()
        except OSError as e:
            print(f"{args.output}: cannot read ({e})", file=sys.stderr)
            return 1
        if current != text:
            print(f"{args.output} is stale; regenerate with `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date (Unicode {unicodedata.unidata_version})")
        return 0
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {args.output} ({len(text)} bytes, Unicode {unicodedata.unidata_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
