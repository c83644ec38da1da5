"""Writers, as in pymarc: MARCWriter (ISO 2709), JSONWriter (MARC-in-JSON), XMLWriter (MARCXML)
and TextWriter (MARCMaker-style text).

A writer is not safe to share between threads without a lock: records are written with one
``write`` call each, but the order of concurrent writes is not defined.
"""

from __future__ import annotations

import json
from typing import IO, Any

from .exceptions import WriteNeedsRecord
from .marcmaker import record_to_marcmaker
from .marcxml import _record_xml, record_to_xml_node  # noqa: F401  (pymarc.writer's namespace has it)
from .record import Record


class Writer:
    """Base class: checks that what is written is a Record."""

    def __init__(self, file_handle: IO[Any]) -> None:
        self.file_handle: IO[Any] | None = file_handle

    def write(self, record: Record) -> None:
        if not isinstance(record, Record):
            raise WriteNeedsRecord

    def close(self, close_fh: bool = True) -> None:
        """Close the writer, and the file handle too unless close_fh is False."""
        if close_fh and self.file_handle:
            self.file_handle.close()
        self.file_handle = None


class MARCWriter(Writer):
    """Write records as ISO 2709 to a binary file object.

    ``encoding`` (a rapidmarc addition) chooses the character encoding of the output: ``None``
    writes what pymarc writes (``record.as_marc()``: UTF-8 for records read with
    ``to_unicode=True``), ``"utf-8"`` converts every record to UTF-8 (leader/09 ``a``) and
    ``"marc8"`` to MARC-8 (leader/09 blank; characters MARC-8 cannot hold become numeric character
    references such as ``&#x20AC;``, LC's lossless convention).
    """

    def __init__(self, file_handle: IO[Any], *, encoding: str | None = None) -> None:
        super().__init__(file_handle)
        if encoding is not None and encoding.lower() not in ("utf-8", "utf8", "marc8", "marc-8"):
            raise ValueError(f"MARCWriter encoding must be None, 'utf-8' or 'marc8', not {encoding!r}")
        self.encoding = encoding

    def write(self, record: Record) -> None:
        Writer.write(self, record)
        if self.file_handle:
            self.file_handle.write(record.as_marc(self.encoding))


class TextWriter(Writer):
    """Write records as MARCMaker-style text to a text file object, a blank line between.

    By default each record is written as ``str(record)``, as pymarc does: data as it is, so a
    ``$`` in a value or a ``\\`` reads back as something else. ``mnemonics=True`` (a rapidmarc
    addition) writes lossless MARCMaker text in the conventions of LC's MARCMaker and MarcEdit
    (``rapidmarc.marcmaker.record_to_marcmaker``: ``\\`` for blanks in the leader, control fields
    and indicators; ``{dollar}``, ``{bsol}``, ``{lcub}``, ``{rcub}``, ``{esc}`` and ``{XX}`` for
    characters that cannot stand as themselves), which ``MARCMakerReader(..., mnemonics=True)``
    reads back into the same records. A field it cannot represent (an indicator or subfield code
    that is not one character, a tag that is not three) raises ``ValueError`` naming it.
    """

    def __init__(self, file_handle: IO[str], *, mnemonics: bool = False) -> None:
        super().__init__(file_handle)
        self.write_count = 0
        self.mnemonics = mnemonics

    def write(self, record: Record) -> None:
        Writer.write(self, record)
        if self.file_handle:
            text = record_to_marcmaker(record) if self.mnemonics else str(record)
            if self.write_count > 0:
                self.file_handle.write("\n")
            self.file_handle.write(text)
            self.write_count += 1


class JSONWriter(Writer):
    """Write records as one JSON array of MARC-in-JSON objects to a text file object.

    The array is only complete once the writer is closed (``close(close_fh=False)`` keeps the file
    open). Records that were read and not touched are written natively from their bytes.
    """

    def __init__(self, file_handle: IO[str]) -> None:
        super().__init__(file_handle)
        self.write_count = 0
        if self.file_handle:
            self.file_handle.write("[")

    def write(self, record: Record) -> None:
        Writer.write(self, record)
        if self.file_handle:
            text = record._export_json(True)
            if text is None:
                text = json.dumps(record.as_dict(), separators=(",", ":"))
            self.file_handle.write("," + text if self.write_count else text)
            self.write_count += 1

    def close(self, close_fh: bool = True) -> None:
        if self.file_handle:
            self.file_handle.write("]")
        Writer.close(self, close_fh)


class XMLWriter(Writer):
    """Write records as a MARCXML collection (UTF-8) to a binary file object.

    The collection is only complete once the writer is closed (``close(close_fh=False)`` keeps the
    file open). Records that were read and not touched are written natively from their bytes.
    """

    def __init__(self, file_handle: IO[bytes]) -> None:
        super().__init__(file_handle)
        if self.file_handle:
            self.file_handle.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            self.file_handle.write(b'<collection xmlns="http://www.loc.gov/MARC21/slim">')

    def write(self, record: Record) -> None:
        Writer.write(self, record)
        if self.file_handle:
            self.file_handle.write(_record_xml(record, True))

    def close(self, close_fh: bool = True) -> None:
        if self.file_handle:
            self.file_handle.write(b"</collection>")
        Writer.close(self, close_fh)


__all__ = ["JSONWriter", "MARCWriter", "TextWriter", "Writer", "XMLWriter"]
