"""Writers, as in pymarc: MARCWriter (ISO 2709) and TextWriter (MARCMaker-style text).

A writer is not safe to share between threads without a lock: records are written with one
``write`` call each, but the order of concurrent writes is not defined.
"""

from __future__ import annotations

from typing import IO, Any

from .exceptions import WriteNeedsRecord
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
    """Write records as MARCMaker-style text to a text file object, a blank line between."""

    def __init__(self, file_handle: IO[str]) -> None:
        super().__init__(file_handle)
        self.write_count = 0

    def write(self, record: Record) -> None:
        Writer.write(self, record)
        if self.file_handle:
            if self.write_count > 0:
                self.file_handle.write("\n")
            self.file_handle.write(str(record))
            self.write_count += 1


__all__ = ["MARCWriter", "TextWriter", "Writer"]
