"""Lossless MARCMaker text (``.mrk``), in the conventions of LC's MARCMaker/MARCBreaker and MarcEdit.

pymarc's MARCMaker text (``str(record)``, ``TextWriter``, ``MARCMakerReader()``) writes data as it
is, so a ``$`` in a value reads back as a new subfield and a ``\\`` written for a blank reads back as
a backslash. This module writes and reads the same line format with *mnemonics*, so that text read
back gives the record that was written (``as_marc()`` byte for byte):

* ``=LDR  leader`` and one ``=TAG  ...`` line per field, a blank line after each record;
* a blank is ``\\`` in the leader, in control fields and in indicators;
* ``$`` and a one-character code start each subfield;
* characters that cannot stand as themselves are written as brace mnemonics: ``{dollar}`` for
  ``$``, ``{bsol}`` for ``\\``, ``{lcub}`` and ``{rcub}`` for ``{`` and ``}``, ``{esc}`` for
  ESC (U+001B), and two hexadecimal digits in braces (``{0A}``, ``{0D}``, ``{09}``, ``{9C}``)
  for every other C0 or C1 control character and DEL, line breaks included.

The names and the ``{XX}`` hexadecimal form are those of the Library of Congress MARCMaker and
MARCBreaker character tables, which MarcEdit's MarcMaker reads (docs/formats.md gives the
sources). Reading also accepts ``{joiner}``, ``{nonjoin}``, lower-case hex digits, CRLF line ends,
a byte order mark, lines of comment starting with ``#`` and any number of blank lines between
records; an unknown ``{name}`` is kept as written. ``&#x...;`` numeric references are data, not
mnemonics: the writer never needs them, and records converted from MARC-8 may hold them literally.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import IO, Any

from .exceptions import PymarcException
from .field import Field, Indicators, Subfield
from .leader import Leader
from .record import Record

# Named mnemonics the writer uses, and the characters they stand for.
_NAMED = {"dollar": "$", "bsol": "\\", "lcub": "{", "rcub": "}", "esc": "\x1b"}
# Also read (LC's names for MARC-8's joiner and non-joiner, which are U+200D and U+200C in Unicode).
_READ_ONLY = {"joiner": "\u200d", "nonjoin": "\u200c"}
_BY_NAME = {**_NAMED, **_READ_ONLY}

# Characters the writer replaces: the mnemonic characters, and every C0/C1 control and DEL.
_SPECIAL = re.compile(r"[$\\{}\x00-\x1f\x7f-\x9f]")
_ESCAPE = {char: "{" + name + "}" for name, char in _NAMED.items()}
# One mnemonic: a name of letters, or two hexadecimal digits.
_MNEMONIC = re.compile(r"\{([A-Za-z]+|[0-9A-Fa-f]{2})\}")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPE.get(char) or f"{{{ord(char):02X}}}"


def escape(text: str, blank: bool = False) -> str:
    """``text`` with every character that cannot stand as itself written as a mnemonic; with
    ``blank=True`` (leader, control fields, indicators) a space is written as ``\\``."""
    text = _SPECIAL.sub(_escape_char, text)
    return text.replace(" ", "\\") if blank else text


def _unescape_match(match: re.Match[str]) -> str:
    name = match.group(1)
    if len(name) == 2 and all(c in "0123456789ABCDEFabcdef" for c in name):
        return chr(int(name, 16))
    return _BY_NAME.get(name, match.group())


def unescape(text: str, blank: bool = False) -> str:
    """Undo :func:`escape`: mnemonics become their characters; with ``blank=True`` a ``\\`` is a
    space. An unknown ``{name}`` is kept as written."""
    if blank:
        text = text.replace("\\", " ")
    if "{" not in text:
        return text
    return _MNEMONIC.sub(_unescape_match, text)


def _one_character(field: Field, what: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1:
        raise ValueError(f"field {field.tag}: {what} {value!r} is not one character; MARCMaker text cannot hold it")
    return value


def field_to_marcmaker(field: Field) -> str:
    """One field as a lossless MARCMaker line (without the line end)."""
    tag = field.tag
    if len(tag) != 3 or tag == "LDR" or _SPECIAL.search(tag) or " " in tag:
        raise ValueError(f"field tag {tag!r} cannot be written as MARCMaker text (three characters, not LDR)")
    if field.is_control_field():
        data = field.data
        if isinstance(data, bytes | bytearray):
            raise ValueError(f"field {tag}: control data is bytes; MARCMaker text needs str")
        return f"={tag}  {escape(data or '', blank=True)}"
    indicators = field.indicators or Indicators(" ", " ")
    parts = [f"={tag}  "]
    for what, indicator in zip(("indicator 1", "indicator 2"), indicators, strict=True):
        parts.append(escape(_one_character(field, what, indicator), blank=True))
    for code, value in field.subfields:
        parts.append("$" + escape(_one_character(field, "subfield code", code)) + escape(value))
    return "".join(parts)


def record_to_marcmaker(record: Record) -> str:
    """The record as lossless MARCMaker text: the leader line and one line per field, each ending
    with ``\\n`` (no blank line after it; :class:`rapidmarc.TextWriter` adds those)."""
    lines = ["=LDR  " + escape(str(record.leader), blank=True)]
    lines.extend(field_to_marcmaker(field) for field in record.fields)
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1024)
def _is_control_tag(tag: str) -> bool:
    return Field(tag).is_control_field()


def _take_unit(text: str, pos: int) -> tuple[str, int]:
    """The character at ``pos`` (a mnemonic counts as one) and the position after it."""
    if text.startswith("{", pos):
        match = _MNEMONIC.match(text, pos)
        if match:
            return match.group(), match.end()
    if pos >= len(text):
        raise ValueError("the line ends too early")
    return text[pos], pos + 1


def _parse_line(line: str) -> Leader | str | Field:
    if not line.startswith("=") or len(line) < 4 or line[4:6].strip(" "):
        raise ValueError('a line is "=TAG  data"')
    tag, data = line[1:4], line[6:]
    if tag == "LDR":
        leader = unescape(data, blank=True)
        return Leader(leader) if len(leader) == 24 else leader
    if _is_control_tag(tag):
        return Field(tag, data=unescape(data, blank=True))
    first, pos = _take_unit(data, 0)
    second, pos = _take_unit(data, pos)
    indicators = Indicators(unescape(first, blank=True), unescape(second, blank=True))
    rest = data[pos:]
    if rest and not rest.startswith("$"):
        raise ValueError("the indicators are not followed by $")
    subfields = []
    for piece in rest.split("$")[1:]:
        code, start = _take_unit(piece, 0)
        subfields.append(Subfield(unescape(code), unescape(piece[start:])))
    return Field(tag, indicators=indicators, subfields=subfields)


def _lines(chunks: Iterable[str | bytes], encoding: str) -> Iterator[str]:
    """Lines of text without their line ends (LF or CRLF), a leading byte order mark dropped."""
    decoder = codecs.getincrementaldecoder(encoding)()
    pending, first = "", True
    for chunk in chunks:
        text = decoder.decode(chunk) if isinstance(chunk, bytes | bytearray) else chunk
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        pending += text
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line.removesuffix("\r")
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending.removesuffix("\r")


def _chunks(handle: IO[Any], size: int = 1 << 16) -> Iterator[str | bytes]:
    while chunk := handle.read(size):
        yield chunk


def read_records(chunks: Iterable[str | bytes], encoding: str = "utf-8") -> Iterator[Record]:
    """Records of lossless MARCMaker text given in pieces (``str``, or ``bytes`` in ``encoding``).
    A line that does not parse raises ``PymarcException('Unable to parse line "..."')``."""
    record: Record | None = None
    for line in _lines(chunks, encoding):
        if not line.strip(" \t"):
            if record is not None:
                yield record
                record = None
            continue
        if line.startswith("#"):
            continue
        try:
            item = _parse_line(line)
        except Exception as exc:
            raise PymarcException(f'Unable to parse line "{line}"') from exc
        if record is None:
            record = Record()
        if isinstance(item, Leader | str):
            record.leader = item
        else:
            record.add_field(item)
    if record is not None:
        yield record


__all__ = ["escape", "field_to_marcmaker", "read_records", "record_to_marcmaker", "unescape"]
