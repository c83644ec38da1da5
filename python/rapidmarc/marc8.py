"""MARC-8 text, as pymarc's ``pymarc.marc8`` module offers it: ``marc8_to_unicode`` and the
``MARC8ToUnicode`` converter object.

Both decode natively (src/core/marc8.cpp) with pymarc 5.4's control flow: escape sequences, the
order of combining marks, what is dropped, and NFC normalisation of the result. The mapping is the
Library of Congress code tables by default; ``MARC8ToUnicode(..., pymarc_mapping=True)`` uses
pymarc's own table instead, which differs only for ANSEL's ligature and double-tilde halves (see
docs/marc8.md). Deliberate differences from pymarc, both documented there: an unmappable character
becomes a space as in pymarc but no "Unable to parse character" line is written to stderr, and the
converter carries its G0/G1 state from one ``translate`` call to the next as pymarc's does.
"""

from __future__ import annotations

from . import _core
from ._core import marc8_to_unicode

__all__ = ["MARC8ToUnicode", "marc8_to_unicode"]


class MARC8ToUnicode:
    """Converts MARC-8 bytes to Unicode text, keeping the designated character sets between calls.

    ``g0`` and ``g1`` are the final bytes of the sets designated as G0 and G1 (Basic Latin ``0x42``
    and ANSEL ``0x45`` to begin with); an escape sequence in the text changes them, and the change
    holds for the next ``translate`` call, as with pymarc's converter.
    """

    basic_latin = 0x42
    ansel = 0x45

    def __init__(self, G0: int = basic_latin, G1: int = ansel, quiet: bool = False, *, pymarc_mapping: bool = False):
        self.g0 = G0
        self.g0_set = {b"(", b",", b"$"}
        self.g1 = G1
        self.g1_set = {b")", b"-", b"$"}
        self.quiet = quiet
        self.pymarc_mapping = pymarc_mapping

    def translate(self, marc8_string: bytes) -> str:
        """The NFC text of ``marc8_string``; TypeError where pymarc's converter raises it (an escape
        sequence cut off by the end of the data)."""
        if not marc8_string:
            return ""
        text, self.g0, self.g1 = _core.marc8_translate(bytes(marc8_string), self.g0, self.g1, self.pymarc_mapping)
        return text
