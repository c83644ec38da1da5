"""pymarc's raw MARC-8 mapping tables, as ``pymarc.marc8_mapping`` has them.

``CODESETS`` maps the final byte of each character set (``0x42`` Basic Latin, ``0x45`` ANSEL,
``0x31`` EACC, ...) to a dictionary ``{code: (unicode code point, combining 0/1)}``; each is also a
module constant ``CHARSET_42``, ``CHARSET_45``, ... ``ODD_MAP`` holds the six 3-byte codes
Innovative Interfaces systems wrote for punctuation. rapidmarc does not decode with these
dictionaries: they are built, when this module is imported, from the tables the native decoder uses in its pymarc
profile (generated from the Library of Congress code tables with pymarc's few differences,
src/core/marc8_tables.inc), so they equal pymarc's, entry for entry. The LC mapping rapidmarc uses by
default differs from them as docs/marc8.md lists.
"""

from __future__ import annotations

from . import _core

# Codes pymarc's dictionaries hold but its decoder never looks up (it drops bytes below 0x20 and
# 0x81-0x9F first): ESC, GS, RS and US in Basic Latin, and in ANSEL the four C1 controls LC's
# table lists (NSB, NSE, ZWJ, ZWNJ). Kept so that the dictionaries are pymarc's exactly.
_UNREACHABLE = {
    0x42: {0x1B: (0x1B, 0), 0x1D: (0x1D, 0), 0x1E: (0x1E, 0), 0x1F: (0x1F, 0)},
    0x45: {0x88: (0x98, 0), 0x89: (0x9C, 0), 0x8D: (0x200D, 0), 0x8E: (0x200C, 0)},
}


def _charset(final: int) -> dict[int, tuple[int, int]]:
    table = dict(_UNREACHABLE.get(final, {}))
    table.update((code, (ucs, int(combining))) for code, ucs, combining in _core.marc8_code_table(final, True))
    return dict(sorted(table.items()))


CHARSET_34 = _charset(0x34)
CHARSET_45 = _charset(0x45)
CHARSET_33 = _charset(0x33)
CHARSET_32 = _charset(0x32)
CHARSET_31 = _charset(0x31)
CHARSET_70 = _charset(0x70)
CHARSET_51 = _charset(0x51)
CHARSET_53 = _charset(0x53)
CHARSET_42 = _charset(0x42)
CHARSET_62 = _charset(0x62)
CHARSET_67 = _charset(0x67)
CHARSET_4E = _charset(0x4E)

CODESETS = {
    0x34: CHARSET_34, 0x45: CHARSET_45, 0x33: CHARSET_33, 0x32: CHARSET_32, 0x31: CHARSET_31, 0x70: CHARSET_70,
    0x51: CHARSET_51, 0x53: CHARSET_53, 0x42: CHARSET_42, 0x62: CHARSET_62, 0x67: CHARSET_67, 0x4E: CHARSET_4E,
}  # fmt: skip

ODD_MAP = dict(_core.marc8_odd_codes())

__all__ = [
    "CHARSET_31", "CHARSET_32", "CHARSET_33", "CHARSET_34", "CHARSET_42", "CHARSET_45", "CHARSET_4E", "CHARSET_51",
    "CHARSET_53", "CHARSET_62", "CHARSET_67", "CHARSET_70", "CODESETS", "ODD_MAP",
]  # fmt: skip
