"""How records are read: one validated options object for every reading entry point.

``MARCReader``, ``count``, ``extract``, ``extract_arrow``, ``convert``, ``read_range`` and
``parse_records`` take the same reading keywords (pymarc's, plus rapidmarc's ``strict``,
``recover``, ``workers`` and ``encoding``), build one ``ReadOptions`` from them and hand it whole
to the native core, which reads it in one place. An option means the same thing everywhere:

* ``to_unicode`` (pymarc): decode text; ``False`` keeps values as ``bytes``.
* ``force_utf8`` (pymarc): read every record as UTF-8 whatever leader/09 says.
* ``utf8_handling`` (pymarc): ``"strict"``, ``"replace"`` or ``"ignore"``, Python's UTF-8 error
  handling for subfield values.
* ``file_encoding`` (pymarc): the codec for records that are not UTF-8. The default
  ``"iso8859-1"`` means what it means in pymarc: MARC-8 subfields, ISO 8859-1 control fields.
  The native text writers (``extract``, ``extract_arrow``, ``convert``) support only the default
  and refuse another with a ``ValueError`` that names it.
* ``encoding``: ``None`` follows leader/09 (pymarc); ``"auto"`` trusts the bytes over it.
* ``strict``: raise the first bad record's exception instead of skipping it (``None`` from a
  reader); it carries ``record_index``, ``byte_offset`` and ``detail``.
* ``recover``: after a framing error, resynchronise at the next plausible record and go on.
* ``workers``: native threads for a path or ``bytes`` (``None``: one per core, ``0``: the calling
  thread). It never changes a result, only how fast it comes.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from typing import IO, BinaryIO

_PATH, _BYTES, _FILE = 0, 1, 2

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | IO[bytes]

UTF8_HANDLING = ("strict", "replace", "ignore")


@dataclass(frozen=True)
class ReadOptions:
    """Every setting of how records are read (see the module documentation for each one)."""

    to_unicode: bool = True
    force_utf8: bool = False
    utf8_handling: str = "strict"
    file_encoding: str = "iso8859-1"
    encoding: str | None = None
    strict: bool = False
    recover: bool = False
    workers: int | None = 1

    def __post_init__(self) -> None:
        for name in ("to_unicode", "force_utf8", "strict", "recover"):  # truth values, as pymarc takes them
            object.__setattr__(self, name, bool(getattr(self, name)))
        if self.utf8_handling not in UTF8_HANDLING:
            raise ValueError(f"utf8_handling must be one of {UTF8_HANDLING}, not {self.utf8_handling!r}")
        if not isinstance(self.file_encoding, str):
            raise TypeError(f"file_encoding must be a codec name, not {self.file_encoding!r}")
        codecs.lookup(self.file_encoding)  # LookupError for an unknown codec, as decoding would raise
        if self.encoding not in (None, "auto"):
            raise ValueError(f"encoding must be None (follow leader/09) or 'auto', not {self.encoding!r}")
        workers = self.workers
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 0):
            raise ValueError(f"workers must be an int >= 0 or None, not {workers!r}")


def _classify(source: object) -> tuple[int, object]:
    """(kind, native source) for a path, a bytes-like object or a binary file object."""
    if isinstance(source, str | os.PathLike):
        return _PATH, os.fsdecode(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return _BYTES, source
    if hasattr(source, "read"):
        return _FILE, source
    raise TypeError(f"expected a path, bytes or a binary file object, not {type(source).__name__}")


__all__ = ["ReadOptions", "Source"]
