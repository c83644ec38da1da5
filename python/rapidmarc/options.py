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
* ``marc8_mapping``: ``"lc"`` (the default) converts MARC-8 with the Library of Congress code
  tables; ``"pymarc"`` with pymarc 5.4's own table, giving pymarc's text exactly. They differ only
  for ANSEL's ligature and double-tilde halves (docs/marc8.md).
"""

from __future__ import annotations

import os
from typing import IO, BinaryIO

_PATH, _BYTES, _FILE = 0, 1, 2
# Bits over the kind: the source is MARCXML; MARC elements in the slim namespace only (pymarc's
# XmlHandler(strict=True)) or in any namespace (XmlHandler(strict=False)); neither: slim or none.
_XML, _XML_SLIM_ONLY, _XML_ANY_NAMESPACE = 4, 8, 16
_JSON = 32  # the source is MARC-in-JSON (a JSON array, JSON Lines or concatenated objects)

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO | IO[bytes]

UTF8_HANDLING = ("strict", "replace", "ignore")
MARC8_MAPPINGS = ("lc", "pymarc")
MAX_WORKERS = 1024  # threads per reader; more only costs memory


class ReadOptions:
    """Every setting of how records are read (see the module documentation for each one).

    Immutable and validated on creation. (A plain class rather than a dataclass: importing
    dataclasses costs a dozen modules, and every ``import rapidmarc`` would pay for them.)
    """

    __slots__ = (
        "to_unicode", "force_utf8", "utf8_handling", "file_encoding", "encoding", "strict", "recover", "workers",
        "marc8_mapping",
    )  # fmt: skip

    to_unicode: bool
    force_utf8: bool
    utf8_handling: str
    file_encoding: str
    encoding: str | None
    strict: bool
    recover: bool
    workers: int | None
    marc8_mapping: str

    def __init__(
        self,
        to_unicode: bool = True,
        force_utf8: bool = False,
        utf8_handling: str = "strict",
        file_encoding: str = "iso8859-1",
        encoding: str | None = None,
        strict: bool = False,
        recover: bool = False,
        workers: int | None = 1,
        marc8_mapping: str = "lc",
    ) -> None:
        if utf8_handling not in UTF8_HANDLING:
            raise ValueError(f"utf8_handling must be one of {UTF8_HANDLING}, not {utf8_handling!r}")
        if not isinstance(file_encoding, str):
            raise TypeError(f"file_encoding must be a codec name, not {file_encoding!r}")
        # An unknown codec is not refused here: as in pymarc, it fails (LookupError) only when a
        # record needs it, and a file of UTF-8 records never does.
        if marc8_mapping not in MARC8_MAPPINGS:
            raise ValueError(f"marc8_mapping must be one of {MARC8_MAPPINGS}, not {marc8_mapping!r}")
        if encoding not in (None, "auto"):
            raise ValueError(f"encoding must be None (follow leader/09) or 'auto', not {encoding!r}")
        if workers is not None and (
            not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= MAX_WORKERS
        ):
            raise ValueError(f"workers must be an int from 0 to {MAX_WORKERS} or None, not {workers!r}")
        values = {
            # Truth values, as pymarc takes them.
            "to_unicode": bool(to_unicode),
            "force_utf8": bool(force_utf8),
            "utf8_handling": utf8_handling,
            "file_encoding": file_encoding,
            "encoding": encoding,
            "strict": bool(strict),
            "recover": bool(recover),
            "workers": workers,
            "marc8_mapping": marc8_mapping,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ReadOptions is immutable; make a new one instead of setting {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ReadOptions is immutable; cannot delete {name!r}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReadOptions) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[ReadOptions], tuple[object, ...]]:
        return (ReadOptions, self._values())  # pickles by its constructor arguments, in __slots__ order

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"ReadOptions({fields})"


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
