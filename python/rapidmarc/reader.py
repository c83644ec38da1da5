"""MARCReader: pymarc's reader, reading natively.

Given a path, the file is opened, read and parsed in C++ with the GIL released. Given a binary
file object, it is read in 1 MiB chunks with ``readinto`` (the GIL is held only for that call)
and parsed with the GIL released. ``bytes`` are parsed in place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from . import _core
from .record import Record

_PATH, _BYTES, _FILE = 0, 1, 2


class Reader:
    """Base class of rapidmarc's iterating readers (as in pymarc)."""


class MARCReader(_core.Reader, Reader):
    """Iterate over the records of ISO 2709 data, exactly as pymarc's MARCReader does.

    ``marc_target`` is a path (str or os.PathLike), raw MARC ``bytes``/``bytearray``/
    ``memoryview``, or a binary file object. The pymarc arguments mean what they mean there.
    A bad record yields ``None`` and sets ``current_exception`` and ``current_chunk``; after a
    framing error (RecordLengthInvalid, TruncatedRecord, EndOfRecordNotFound) iteration ends.
    ``permissive`` is accepted and, as in pymarc, changes nothing.

    rapidmarc adds two keyword-only options:

    * ``strict=True`` raises the exception instead of yielding ``None``; it carries
      ``record_index``, ``byte_offset`` and ``detail``.
    * ``recover=True`` resynchronises at the next plausible record after a framing error and
      goes on reading, instead of ending iteration.

    >>> with MARCReader("records.mrc") as reader:  # doctest: +SKIP
    ...     titles = [record.title for record in reader if record]
    """

    def __init__(
        self,
        marc_target: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | IO[bytes],
        to_unicode: bool = True,
        force_utf8: bool = False,
        hide_utf8_warnings: bool = False,
        utf8_handling: str = "strict",
        file_encoding: str = "iso8859-1",
        permissive: bool = False,
        *,
        strict: bool = False,
        recover: bool = False,
    ) -> None:
        source: object
        if isinstance(marc_target, str | os.PathLike):
            kind, source = _PATH, os.fsdecode(marc_target)
            self.file_handle: Any = None
        elif isinstance(marc_target, bytes | bytearray | memoryview):
            kind, source = _BYTES, marc_target
            self.file_handle = None
        elif hasattr(marc_target, "read"):
            kind, source = _FILE, marc_target
            self.file_handle = marc_target
        else:
            raise TypeError(f"MARCReader needs a path, bytes or a binary file object, not {type(marc_target).__name__}")
        super().__init__(source, kind, to_unicode, force_utf8, utf8_handling, file_encoding, strict, recover)
        self.to_unicode = to_unicode
        self.force_utf8 = force_utf8
        self.hide_utf8_warnings = hide_utf8_warnings
        self.utf8_handling = utf8_handling
        self.file_encoding = file_encoding
        self.permissive = permissive
        self.strict = strict
        self.recover = recover

    def close(self) -> None:
        """Close the file object given to the reader (a path's file is closed natively)."""
        if self.file_handle is not None:
            self.file_handle.close()

    def __enter__(self) -> MARCReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> MARCReader:
        return self

    if TYPE_CHECKING:  # at run time __next__ is the native one: no Python frame per record

        def __next__(self) -> Record | None: ...


def map_records(f: Callable[[Record | None], Any], *files: Any) -> None:
    """Apply `f` to every record of every file (paths, bytes or file objects)."""
    for file in files:
        for record in MARCReader(file):
            f(record)


__all__ = ["MARCReader", "Reader", "map_records"]
