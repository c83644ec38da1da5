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

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | IO[bytes]


def _classify(source: object) -> tuple[int, object]:
    """(kind, native source) for a path, a bytes-like object or a binary file object."""
    if isinstance(source, str | os.PathLike):
        return _PATH, os.fsdecode(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return _BYTES, source
    if hasattr(source, "read"):
        return _FILE, source
    raise TypeError(f"expected a path, bytes or a binary file object, not {type(source).__name__}")


def _workers(workers: int | None) -> int:
    """Native worker count: None means one per core (-1 natively), 0 the calling thread."""
    if workers is None:
        return -1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ValueError(f"workers must be an int >= 0 or None, not {workers!r}")
    return workers


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
    * ``encoding="auto"`` trusts the bytes over leader/09: a record flagged MARC-8 whose data is
      valid UTF-8 (non-ASCII, no escape sequences) is read as UTF-8, and a record flagged UTF-8
      whose data is not UTF-8 but converts cleanly as MARC-8 is read as MARC-8. Such a record's
      leader/09 is corrected, and its index is listed in ``corrected_records``. The default
      (``None``) follows leader/09, as pymarc does.
    * ``workers=N`` parses a path or ``bytes`` on N threads (``None``: one per core), split into
      byte ranges at record boundaries; records still arrive in file order, exactly as with the
      default ``workers=1`` (one thread parsing one batch ahead). ``workers=0`` reads and parses in
      the calling thread (without the GIL while native code runs): the choice for a thread pool of
      readers, which would otherwise start one parsing thread per reader. A file object is always
      read in the calling thread.

    >>> with MARCReader("records.mrc") as reader:  # doctest: +SKIP
    ...     titles = [record.title for record in reader if record]
    """

    def __init__(
        self,
        marc_target: Source,
        to_unicode: bool = True,
        force_utf8: bool = False,
        hide_utf8_warnings: bool = False,
        utf8_handling: str = "strict",
        file_encoding: str = "iso8859-1",
        permissive: bool = False,
        *,
        strict: bool = False,
        recover: bool = False,
        workers: int | None = 1,
        encoding: str | None = None,
    ) -> None:
        if encoding not in (None, "auto"):
            raise ValueError(f"encoding must be None (follow leader/09) or 'auto', not {encoding!r}")
        try:
            kind, source = _classify(marc_target)
        except TypeError:
            raise TypeError(
                f"MARCReader needs a path, bytes or a binary file object, not {type(marc_target).__name__}"
            ) from None
        self.file_handle: Any = marc_target if kind == _FILE else None
        super().__init__(
            source,
            kind,
            to_unicode,
            force_utf8,
            utf8_handling,
            file_encoding,
            strict,
            recover,
            _workers(workers),
            encoding == "auto",
        )
        self.to_unicode = to_unicode
        self.force_utf8 = force_utf8
        self.hide_utf8_warnings = hide_utf8_warnings
        self.utf8_handling = utf8_handling
        self.file_encoding = file_encoding
        self.permissive = permissive
        self.strict = strict
        self.recover = recover
        self.workers = workers
        self.encoding = encoding

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
