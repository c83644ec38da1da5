#!/usr/bin/env python3
"""Generate src/core/marc8_tables.inc from the Library of Congress MARC-8 code tables.

Usage (from the repository root):

    python tools/gen_marc8_tables.py            # (re)write src/core/marc8_tables.inc
    python tools/gen_marc8_tables.py --check    # exit 1 if the checked-in file is stale
    python tools/gen_marc8_tables.py --verify-pymarc
                                                # also prove that the "pymarc" profile equals
                                                # pymarc's marc8_mapping.CODESETS (needs pymarc)

Input: ../shared/data/marc8/codetables.xml (LC's codetables.xml, all MARC-8 character sets).
Every mapping in the output comes from that file, except the few documented overrides in the
PYMARC_* / EXTRA_* constants below, which exist only to reproduce pymarc 5.4.0 behaviour.

Output layout (see src/core/marc8.cpp for the consumer):
  * one 256-entry table per single-byte set for the LC profile, indexed by the raw byte: the
    7-bit code's mapping appears both at its G0 position (0x21-0x7E) and at its G1 position
    (0xA1-0xFE), so a set means the same whichever of G0/G1 it is designated to;
  * one 256-entry table per single-byte set for the "pymarc" profile, indexed by the raw byte
    exactly as pymarc's dictionaries are (pymarc keys each set by the byte it expects in its
    customary G0 or G1 position, so e.g. Basic Hebrew designated as G1 does not map there);
  * the C1 controls LC maps (NSB, NSE, ZWJ, ZWNJ);
  * the EACC (3-byte) set as a two-level table: a 96x96 page index on the first two bytes and
    a 96-bit occupancy bitmap per page with a rank offset into a flat value array;
  * the reverse (Unicode -> MARC-8) table, sorted by code point.

Entry encoding (uint32): bits 0-20 code point, bit 24 combining, bit 25 "emits nothing"
(LC gives no preferred Unicode for the second halves of the double diacritics, EC and FB).
An entry of 0 means "no mapping".
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_XML = REPO.parent / "shared" / "data" / "marc8" / "codetables.xml"
DEFAULT_OUT = REPO / "src" / "core" / "marc8_tables.inc"

COMBINING = 1 << 24
EMPTY = 1 << 25

EACC = 0x31
# Sets designated by the usual escape sequences.  Order = preference when several sets can encode
# the same character (the encoder first prefers the set already designated).
SET_ORDER = [0x42, 0x45, 0x53, 0x4E, 0x51, 0x32, 0x33, 0x34, 0x67, 0x62, 0x70, EACC]
# Sets that live in G1 when encoding (LC: ANSEL, Extended Cyrillic, Extended Arabic).
G1_SETS = {0x45, 0x51, 0x34}

# --- pymarc 5.4.0 compatibility data ------------------------------------------------------------
# pymarc maps the four ANSEL double-diacritic halves to LC's *alternate* Unicode values
# (U+FE20..U+FE23, the "half marks"), which LC's table lists but says are not recommended; LC's
# preferred mapping is U+0361 / U+0360 for the first half and nothing for the second half.
# The pymarc profile therefore takes the <alt> column for these codes.
PYMARC_USES_ALT = {0x45: [0xEB, 0xEC, 0xFA, 0xFB]}

# EACC codes whose pymarc value differs from LC's <ucs> column.  Each is a deliberate choice in
# pymarc's (older) table:
PYMARC_EACC_OVERRIDES = {
    # CJK compatibility ideographs where LC now gives the unified ideograph; NFC maps each of these
    # back to LC's value (they are canonical singletons), so after normalisation they agree.
    0x214339: 0xFA12,  # LC U+6674
    0x215061: 0xFA1D,  # LC U+7CBE
    0x215C32: 0xFA25,  # LC U+9038
    0x215F71: 0xFA1C,  # LC U+9756
    0x4B333E: 0xF92E,  # LC U+51B7
    0x4B4B3E: 0xF9AD,  # LC U+73B2
    0x4B5F58: 0xF9B2,  # LC U+96F6
    0x4B7421: 0xF9A9,  # LC U+56F9
    # Ideographs outside the BMP in LC's table; pymarc's table predates non-BMP support and uses
    # U+3013 GETA MARK (a "missing ideograph" placeholder) instead.
    0x217559: 0x3013,  # LC U+212C4
    0x222A34: 0x3013,  # LC U+2251B
    0x223339: 0x3013,  # LC U+22C4D
    # Two Korean codes where pymarc keeps an old private-use assignment.
    0x6F7625: 0xE8B1,  # LC U+318D HANGUL LETTER ARAEA
    0x6F773C: 0xE8CB,  # LC U+C717
}

# pymarc's ODD_MAP ("odd characters, all from III"): 3-byte codes that Innovative Interfaces
# systems wrote in EACC mode for common punctuation.  They are not in LC's tables but collide with
# nothing there, so both profiles decode them (never encode them).  Like pymarc, they are emitted
# immediately and do not act as a base for pending combining marks.
EXTRA_EACC_DECODE_ONLY = {
    0x21203D: 0x2026,  # HORIZONTAL ELLIPSIS
    0x212040: 0x201C,  # LEFT DOUBLE QUOTATION MARK
    0x7F2014: 0x2014,  # EM DASH
    0x7F2019: 0x2019,  # RIGHT SINGLE QUOTATION MARK
    0x7F2020: 0x201D,  # RIGHT DOUBLE QUOTATION MARK
    0x7F2122: 0x2122,  # TRADE MARK SIGN
}

# LC lists the ASCII control codes ESC, GS, RS, US in the Basic Latin table.  They never reach
# the graphic tables: ESC starts an escape sequence, the others delimit records/fields/subfields,
# and every byte below 0x20 is dropped by the decoder (as pymarc does).  They are therefore left
# out of the decode tables and never produced by the encoder.
ASCII_CONTROLS_IN_LC_TABLE = {0x1B, 0x1D, 0x1E, 0x1F}


class CharSet:
    def __init__(self, final: int, name: str):
        self.final = final
        self.name = name
        # code (as written in the XML) -> (ucs or None, alt or None, combining)
        self.codes: dict[int, tuple[int | None, int | None, bool]] = {}


def _hex(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text, 16) if text else None


def load(xml_path: Path) -> dict[int, CharSet]:
    root = ET.parse(xml_path).getroot()
    sets: dict[int, CharSet] = {}
    for cs in root.iter("characterSet"):
        final = int(cs.get("ISOcode"), 16)
        s = sets.setdefault(final, CharSet(final, cs.get("name")))
        for code in cs.iter("code"):
            marc = int(code.findtext("marc"), 16)
            if marc in s.codes:
                raise SystemExit(f"duplicate code {marc:X} in set {final:X}")
            comb = (code.findtext("isCombining") or "").strip() == "true"
            alt = _hex(code.findtext("alt"))
            alt_utf8 = (code.findtext("altutf-8") or "").strip()
            if alt is None and alt_utf8:
                # ANSEL AE (alif) gives its alternate only as UTF-8 bytes.
                alt = ord(bytes.fromhex(alt_utf8).decode("utf-8"))
            s.codes[marc] = (_hex(code.findtext("ucs")), alt, comb)
    missing = set(SET_ORDER) - set(sets)
    if missing:
        raise SystemExit(f"code tables lack sets {sorted(missing)}")
    return sets


def entry(ucs: int | None, comb: bool) -> int:
    if ucs is None:
        return EMPTY | (COMBINING if comb else 0)
    return ucs | (COMBINING if comb else 0)


def lc_single_byte(s: CharSet) -> list[int]:
    """256 entries indexed by raw byte: a 94-character set means the same in G0 (0x21-0x7E) and in
    G1 (0xA1-0xFE), so both halves carry the 7-bit code's mapping; 0x20 is SPACE in any G0 set."""
    table = [0] * 256
    for marc, (ucs, _alt, comb) in s.codes.items():
        if marc in ASCII_CONTROLS_IN_LC_TABLE and s.final == 0x42:
            continue
        if 0x80 <= marc < 0xA0:
            continue  # C1 controls: separate table
        seven = marc & 0x7F
        if not 0x20 <= seven <= 0x7E:
            raise SystemExit(f"unexpected code {marc:X} in set {s.final:X}")
        if seven == 0x20:
            continue  # ASCII SPACE, set below
        table[seven] = table[seven | 0x80] = entry(ucs, comb)
    # SPACE (0x20) is the same whatever set is designated as G0 (ISO 2022); LC lists it only in
    # ASCII.  0xA0 and 0xFF are not graphic positions of a 94-character G1 set.
    table[0x20] = 0x20
    return table


def pymarc_single_byte(s: CharSet) -> list[int]:
    """256 entries indexed by the raw byte, as pymarc keys its dictionaries."""
    table = [0] * 256
    alt_codes = set(PYMARC_USES_ALT.get(s.final, []))
    for marc, (ucs, alt, comb) in s.codes.items():
        if s.final == 0x42 and marc in ASCII_CONTROLS_IN_LC_TABLE:
            continue  # pymarc has them but drops every byte < 0x20 before looking up
        if 0x80 <= marc < 0xA0:
            continue  # pymarc drops 0x81-0x9F before looking up
        raw = marc
        # pymarc stores the two extended sets at their G1 positions; LC's table gives G0 codes.
        if s.final in (0x51, 0x34):
            raw = marc | 0x80
        value = alt if marc in alt_codes else ucs
        table[raw] = entry(value, comb)
    return table


def eacc_tables(s: CharSet, overrides: dict[int, int]):
    values: dict[int, int] = {}
    for marc, (ucs, _alt, comb) in s.codes.items():
        if ucs is None:
            raise SystemExit(f"EACC code {marc:06X} without UCS")
        values[marc] = entry(ucs, comb)
    for marc, ucs in overrides.items():
        if marc not in values:
            raise SystemExit(f"override for unknown EACC code {marc:06X}")
        values[marc] = ucs
    for marc in EXTRA_EACC_DECODE_ONLY:
        if marc in values:
            raise SystemExit(f"extra EACC code {marc:06X} collides with LC")
    return values


def eacc_layout(values: dict[int, int]):
    """Page index over (b1, b2) in 0x20..0x7F, a 96-bit bitmap per page over b3 in 0x20..0x7F."""
    pages: dict[int, dict[int, int]] = {}
    for marc, v in values.items():
        b1, b2, b3 = marc >> 16, (marc >> 8) & 0xFF, marc & 0xFF
        for b in (b1, b2, b3):
            if not 0x20 <= b <= 0x7F:
                raise SystemExit(f"EACC code {marc:06X} outside 0x20-0x7F bytes")
        pages.setdefault((b1 - 0x20) * 96 + (b2 - 0x20), {})[b3 - 0x20] = v
    index = [0] * (96 * 96)
    page_list = []  # (lo bits, hi bits, base)
    flat: list[int] = []
    for n, key in enumerate(sorted(pages), start=1):
        index[key] = n
        lo = hi = 0
        for b in pages[key]:
            if b < 64:
                lo |= 1 << b
            else:
                hi |= 1 << (b - 64)
        page_list.append((lo, hi, len(flat)))
        flat.extend(pages[key][b] for b in sorted(pages[key]))
    return index, page_list, flat


def reverse_table(sets: dict[int, CharSet]):
    """(ucs, code, set, flags) sorted by ucs then preference; flags bit0 combining, bit1 alternate."""
    rows = []
    prio = {f: i for i, f in enumerate(SET_ORDER)}
    primary: set[int] = set()
    alt_count: dict[int, int] = {}
    for f in SET_ORDER:
        for ucs, alt, _comb in sets[f].codes.values():
            if ucs is not None:
                primary.add(ucs)
            if alt is not None:
                alt_count[alt] = alt_count.get(alt, 0) + 1
    for f in SET_ORDER:
        for marc, (ucs, alt, comb) in sorted(sets[f].codes.items()):
            if f == 0x42 and marc in ASCII_CONTROLS_IN_LC_TABLE:
                continue
            code = marc if f == EACC or 0x80 <= marc < 0xA0 else marc & 0x7F
            flags = 1 if comb else 0
            if ucs is not None:
                rows.append((ucs, prio[f], 0, code, f, flags))
            # An alternate Unicode value encodes back to this code only when it is unambiguous:
            # not the preferred value of any code and the alternate of this code alone.
            if alt is not None and alt not in primary and alt_count[alt] == 1:
                rows.append((alt, prio[f], 1, code, f, flags | 2))
    rows.sort()
    return [(u, code, f, flags) for (u, _p, _a, code, f, flags) in rows]


def double_diacritics(s: CharSet):
    """LC: a combining code with no preferred UCS is the second half of the code just before it."""
    out = []
    for marc, (ucs, _alt, comb) in sorted(s.codes.items()):
        if comb and ucs is None:
            first = s.codes.get(marc - 1)
            if not first or first[0] is None or not first[2]:
                raise SystemExit(f"second half {marc:X} without a first half")
            out.append((first[0], marc & 0x7F))
    return out


def fmt_array(ctype: str, name: str, values: list[int], per_line: int = 8, width: int = 8) -> str:
    lines = [f"inline constexpr {ctype} {name}[{len(values)}] = {{"]
    for i in range(0, len(values), per_line):
        chunk = values[i : i + per_line]
        lines.append("    " + " ".join(f"0x{v:0{width}X}," for v in chunk))
    lines.append("};")
    return "\n".join(lines)


def generate(xml_path: Path) -> str:
    sets = load(xml_path)
    out = [
        "// GENERATED FILE - DO NOT EDIT.",
        "// Generated by `python tools/gen_marc8_tables.py` from ../shared/data/marc8/codetables.xml",
        "// (Library of Congress MARC-8 code tables).  Check with `python tools/gen_marc8_tables.py --check`.",
        "// Included by src/core/marc8.cpp inside namespace rapidmarc::marc8::tables.",
        "// Entry: bits 0-20 code point, bit 24 combining, bit 25 maps to nothing; 0 = no mapping.",
        "",
    ]
    single = [f for f in SET_ORDER if f != EACC]
    out.append("inline constexpr unsigned char kSingleByteSets[] = {" + ", ".join(f"0x{f:02X}" for f in single) + "};")
    out.append(f"inline constexpr unsigned char kEaccFinal = 0x{EACC:02X};")
    out.append("")
    for f in single:
        out.append(f"// {sets[f].name} (final byte 0x{f:02X}, '{chr(f)}'): LC profile, indexed by raw byte.")
        out.append(fmt_array("std::uint32_t", f"kLc_{f:02X}", lc_single_byte(sets[f])))
        out.append(f"// {sets[f].name}: pymarc 5.4 profile, indexed by raw byte.")
        out.append(fmt_array("std::uint32_t", f"kPymarc_{f:02X}", pymarc_single_byte(sets[f])))
        out.append("")
    # Lookup from final byte to tables.
    out.append("inline constexpr const std::uint32_t* lc_table_for(unsigned char f) noexcept {")
    out.append("    switch (f) {")
    for f in single:
        out.append(f"    case 0x{f:02X}: return kLc_{f:02X};")
    out.append("    default: return nullptr;")
    out.append("    }")
    out.append("}")
    out.append("inline constexpr const std::uint32_t* pymarc_table_for(unsigned char f) noexcept {")
    out.append("    switch (f) {")
    for f in single:
        out.append(f"    case 0x{f:02X}: return kPymarc_{f:02X};")
    out.append("    default: return nullptr;")
    out.append("    }")
    out.append("}")
    out.append("")
    c1 = [0] * 32
    for marc, (ucs, _alt, comb) in sets[0x45].codes.items():
        if 0x80 <= marc < 0xA0:
            c1[marc - 0x80] = entry(ucs, comb)
    out.append("// C1 controls LC maps (listed in the ANSEL table): NSB, NSE, ZWJ, ZWNJ.  Indexed by byte - 0x80.")
    out.append(fmt_array("std::uint32_t", "kLcC1", c1))
    out.append("")
    dd = double_diacritics(sets[0x45])
    out.append("// LC double diacritics: first half's Unicode value -> 7-bit code of the ANSEL second half.")
    out.append("struct DoubleDiacritic { std::uint32_t ucs; unsigned char second_half; };")
    out.append("inline constexpr DoubleDiacritic kDoubleDiacritics[] = {")
    for u, code in dd:
        out.append(f"    {{0x{u:04X}, 0x{code:02X}}},")
    out.append("};")
    out.append("")
    lc_eacc = eacc_tables(sets[EACC], {})
    index, pages, flat = eacc_layout(lc_eacc)
    out.append(f"// EACC ({len(lc_eacc)} codes).")
    out.append("// Page index: (b1 - 0x20) * 96 + (b2 - 0x20) -> page number (0 = none; page n is kEaccPages[n-1]).")
    out.append(fmt_array("std::uint16_t", "kEaccPageIndex", index, per_line=16, width=4))
    out.append("struct EaccPage { std::uint64_t lo, hi; std::uint32_t base; };")
    out.append(f"inline constexpr EaccPage kEaccPages[{len(pages)}] = {{")
    for lo, hi, base in pages:
        out.append(f"    {{0x{lo:016X}, 0x{hi:016X}, {base}}},")
    out.append("};")
    out.append(fmt_array("std::uint32_t", "kEaccValues", flat))
    out.append("")
    out.append("// pymarc ODD_MAP codes, consulted when a 3-byte code has no mapping: decoded, never a base for")
    out.append("// combining marks, never encoded.")
    out.append("struct EaccOdd { std::uint32_t code; std::uint32_t value; };")
    out.append("inline constexpr EaccOdd kEaccOdd[] = {")
    for code in sorted(EXTRA_EACC_DECODE_ONLY):
        out.append(f"    {{0x{code:06X}, 0x{EXTRA_EACC_DECODE_ONLY[code]:04X}}},")
    out.append("};")
    out.append("// pymarc profile: EACC codes whose value differs from LC (sorted by code).")
    out.append("struct EaccOverride { std::uint32_t code; std::uint32_t value; };")
    out.append("inline constexpr EaccOverride kPymarcEaccOverrides[] = {")
    for code in sorted(PYMARC_EACC_OVERRIDES):
        out.append(f"    {{0x{code:06X}, 0x{PYMARC_EACC_OVERRIDES[code]:06X}}},")
    out.append("};")
    out.append("")
    rev = reverse_table(sets)
    out.append("// Unicode -> MARC-8, sorted by code point then preference.  code: 7-bit code for single-byte")
    out.append("// sets (C1 controls keep 0x80-0x9F), 24-bit code for EACC.  flags: 1 combining, 2 alternate value.")
    out.append("struct Reverse { std::uint32_t ucs; std::uint32_t code; unsigned char set; unsigned char flags; };")
    out.append(f"inline constexpr Reverse kReverse[{len(rev)}] = {{")
    for u, code, f, flags in rev:
        out.append(f"    {{0x{u:04X}, 0x{code:02X}, 0x{f:02X}, {flags}}},")
    out.append("};")
    out.append("")
    return "\n".join(out)


def verify_pymarc(xml_path: Path) -> int:
    """Check that the pymarc profile reproduces pymarc's own CODESETS exactly."""
    from pymarc import marc8_mapping as m  # noqa: PLC0415

    sets = load(xml_path)
    bad = 0
    for f in SET_ORDER:
        theirs = m.CODESETS[f]
        if f == EACC:
            ours = eacc_tables(sets[f], PYMARC_EACC_OVERRIDES)
            ours = {k: (v & 0x1FFFFF, bool(v & COMBINING)) for k, v in ours.items()}
        else:
            t = pymarc_single_byte(sets[f])
            ours = {k: (v & 0x1FFFFF, bool(v & COMBINING)) for k, v in enumerate(t) if v}
        theirs_n = {k: (u, bool(c)) for k, (u, c) in theirs.items() if k >= 0x20 and not 0x80 < k < 0xA0}
        if ours != theirs_n:
            for k in sorted(set(ours) | set(theirs_n)):
                if ours.get(k) != theirs_n.get(k):
                    print(f"set {f:02X} code {k:X}: ours {ours.get(k)} pymarc {theirs_n.get(k)}")
                    bad += 1
    if dict(m.ODD_MAP) != EXTRA_EACC_DECODE_ONLY:
        print("ODD_MAP differs")
        bad += 1
    print("pymarc profile matches pymarc.marc8_mapping" if not bad else f"{bad} differences")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xml", type=Path, default=DEFAULT_XML)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="fail if the output file is not up to date")
    ap.add_argument("--verify-pymarc", action="store_true", help="compare the pymarc profile with pymarc")
    args = ap.parse_args()
    text = generate(args.xml)
    if args.verify_pymarc:
        return verify_pymarc(args.xml)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != text:
            print(f"{args.out} is out of date; run: python tools/gen_marc8_tables.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
