"""Bulk operations that create no Python object per record.

The work (reading, framing, parsing, decoding, selecting values) runs on native threads with the
GIL released; Python objects are made only for the results. Every function takes the same reading
keywords as ``MARCReader`` (rapidmarc.options documents them; they are gathered into one
``ReadOptions``), except that ``workers`` defaults to ``None``, one thread per core, for a path or
``bytes`` (a file object is read in the calling thread). Bad records are skipped, as
``if record is None: continue`` would skip them over a ``MARCReader``; ``strict=True`` raises the
first one's exception instead (with ``record_index``, ``byte_offset`` and ``detail``).

``count``, ``scan``, ``extract``, ``extract_arrow`` and ``convert`` read MARCXML natively with
``from_format="xml"`` (the default, ``"marc"``, is ISO 2709; the format is never guessed): the
records are read from the XML as ``rapidmarc.XMLReader`` reads them (a path to an uncompressed
file or ``bytes`` on ``workers`` threads, cut at record boundaries; a stream in one pass), and XML
that is not well-formed raises ``rapidmarc.exceptions.XMLParseError`` (a
``xml.sax.SAXParseException``) with its line and column. Offsets (``bytes_read``, ``progress``,
``byte_offset``) then count the ISO 2709 bytes of the records read, not bytes of the XML.

``from_format="json"`` reads MARC-in-JSON natively in the same way (``rapidmarc.marcjson``'s
``from_format`` notes; docs/formats.md): a JSON array of records, JSON Lines or concatenated
objects, streamed; JSON that is not well-formed raises ``rapidmarc.exceptions.JSONParseError``
(a ``json.JSONDecodeError``) after the records before it, and a record rapidmarc does not build
natively (a structure pymarc's JSONReader refuses or builds oddly) is a bad record.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from typing import IO, NamedTuple

from . import _core
from ._destination import open_destination, same_file
from .options import _BYTES, _JSON, _XML, ReadOptions, Source, _classify
from .record import Record


class ReadSummary(NamedTuple):
    """What reading a whole source accounted for (``scan()``; ``convert()``'s result has the same
    fields). Every item ``MARCReader`` would yield is counted as good or bad; ``stopped_at`` says
    whether reading ended before the end of the input, so that nothing is lost unsaid."""

    good: int  #: records MARCReader would yield as a Record
    bad: int  #: items it would yield as None (framing or parse errors), skipped
    bytes_read: int  #: the offset one past the last byte framed
    size: int | None  #: the input's size in bytes, when known (a regular file's, a bytes object's)
    #: The framing error reading stopped at (without ``recover``), when it left input unread (or
    #: the size is unknown), else None. ``recover=True`` reads on after it.
    stop_error: Exception | None
    first_error: Exception | None  #: the first bad item's exception (None when there is none)

    @property
    def stopped_at(self) -> int | None:
        """The byte offset reading stopped at before the end of the input, or None."""
        return None if self.stop_error is None else getattr(self.stop_error, "byte_offset", None)

    @property
    def unread(self) -> int | None:
        """Bytes after ``bytes_read`` that were never read: 0 when reading reached the end, None
        when reading stopped and the input's size is unknown (a pipe)."""
        if self.size is not None:
            return max(self.size - self.bytes_read, 0)
        return None if self.stop_error is not None else 0

    @property
    def complete(self) -> bool:
        """True when every byte was read and every record was good."""
        return self.bad == 0 and self.stop_error is None


FROM_FORMATS = ("marc", "xml", "json")
_FORMAT_BITS = {"marc": 0, "xml": _XML, "json": _JSON}


def _classify_format(source: object, from_format: str) -> tuple[int, object]:
    """_classify, with the bits that say the source is MARCXML or MARC-in-JSON."""
    if from_format not in FROM_FORMATS:
        raise ValueError(f"from_format must be one of {FROM_FORMATS}, not {from_format!r}")
    kind, native = _classify(source)
    return kind | _FORMAT_BITS[from_format], native


def _sized(source: object, from_format: str) -> object:
    """The source whose size accounts for the bytes read: MARCXML's and JSON's are counted in the
    ISO 2709 bytes of their records, which have no size known in advance (None: read to the end,
    or the error says where)."""
    return None if from_format != "marc" else source


def _plain_size(path: str | os.PathLike[str]) -> int | None:
    """The size of the records a path holds, when known before reading: a regular file's size,
    unless it is gzip-compressed (read decompressed, so its size says nothing), else None."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # never opened again: a FIFO would wait for a writer, a pipe lose bytes
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            return None if fh.read(2) == b"\x1f\x8b" else st.st_size
    except OSError:
        return None


def _source_size(source: object) -> int | None:
    """The size of a source in bytes when known before reading (a bytes object's, a plain file's)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).nbytes
    if isinstance(source, str | os.PathLike):
        return _plain_size(source)
    return None


def _summary(tally: dict, source: object) -> dict:
    """The ReadSummary fields of a native tally: the input's size, and a stop only when it left
    bytes unread (or the size is unknown): a truncated last record ends at the end of the input."""
    return _summary_of_size(tally, _source_size(source))


def _summary_of_size(tally: dict, size: int | None) -> dict:
    """_summary for an input whose size (or None) is already known."""
    stop = tally["stop"]
    if stop is not None and size is not None and tally["end"] >= size:
        stop = None  # the failing item ran to the end of the input: nothing is unread
    if stop is not None and type(stop).__name__ == "TruncatedRecord":
        stop = None  # the input ended inside the record
    if size is None and stop is None:
        size = tally["end"]  # read to the end (a pipe, a file object): every byte was framed
    return {
        "good": tally["good"],
        "bad": tally["bad"],
        "bytes_read": tally["end"],
        "size": size,
        "stop_error": stop,
        "first_error": tally["first_error"],
    }


def _read_summary(tally: dict, size: int | None) -> ReadSummary:
    """The ReadSummary of a native tally (used by ArrowColumns.summary)."""
    return ReadSummary(**_summary_of_size(tally, size))


def scan(
    source: Source,
    *,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
    from_format: str = "marc",
    progress: Callable[[int], object] | None = None,
) -> ReadSummary:
    """Read all of ``source`` natively and account for it: good and bad records, where reading
    ended and why (``ReadSummary``). ``count()`` is ``scan().good``. ``progress``, if given, is
    called after each batch (about 1 MiB) with the number of input bytes read so far. An
    ``OSError`` raised part-way (a corrupt ``.gz``, a failing disk) carries ``summary``: the
    accounting of what was read before it.

    >>> scan("damaged.mrc")  # doctest: +SKIP
    ReadSummary(good=3, bad=1, bytes_read=2815, size=485127, stop_error=RecordLengthInvalid(...), ...)
    """
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify_format(source, from_format)
    try:
        tally = _core.count(native, kind, options, progress)
    except OSError as exc:
        read_before = getattr(exc, "read_before", None)
        if read_before is not None:  # what was read before the error; how much more there was is unknown
            exc.summary = ReadSummary(  # type: ignore[attr-defined]
                good=read_before["good"],
                bad=read_before["bad"],
                bytes_read=read_before["end"],
                size=None,
                stop_error=None,
                first_error=read_before["first_error"],
            )
        raise
    return ReadSummary(**_summary(tally, _sized(source, from_format)))


def count(
    source: Source,
    *,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
    from_format: str = "marc",
) -> int:
    """Number of good records in ``source``: those ``MARCReader`` would yield as a Record. Bad
    records, and the input after a framing error, are not counted: ``scan()`` says how much.

    >>> count("records.mrc", workers=2)  # doctest: +SKIP
    386
    """
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify_format(source, from_format)
    return int(_core.count(native, kind, options)["good"])


SHAPES = ("list", "first", "join")
DEFAULT_SEPARATOR = "; "


class ExtractedColumns(dict):
    """What ``extract`` returns: a dict of columns (spec -> one item per good record), with what
    the read skipped: ``summary`` (a ``ReadSummary``: good and bad records, where reading ended)
    and ``errors`` (the exceptions of the first 100 bad records, in input order)."""

    summary: ReadSummary
    errors: list[Exception]


def _column_plan(
    specs: Sequence[str],
    shape: str | Mapping[str, str],
    separator: str | Mapping[str, str],
    record_column: bool | str,
    offset_column: bool | str,
) -> tuple[list[str], list[str], list[str], str, str]:
    """The specs, one shape and one separator per spec, and the names of the record and offset
    columns ("" for none), checked."""
    if isinstance(specs, str):
        raise TypeError("specs must be a sequence of field specs such as ['001', '245$a'], not a str")
    specs = list(specs)
    for spec in specs:
        if not isinstance(spec, str):
            raise TypeError(f"a spec is a str such as '245$a', not {type(spec).__name__}")

    def per_spec(value: str | Mapping[str, str], default: str, what: str) -> list[str]:
        if isinstance(value, str):
            return [value] * len(specs)
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in specs]
            if unknown:
                raise ValueError(f"{what} names {unknown[0]!r}, which is not one of the specs {specs}")
            out = [value.get(spec, default) for spec in specs]
            for v in out:
                if not isinstance(v, str):
                    raise TypeError(f"a {what} is a str, not {type(v).__name__}")
            return out
        raise TypeError(f"{what} must be a str or a mapping of spec to str, not {type(value).__name__}")

    shapes = per_spec(shape, "list", "shape")
    for sh in shapes:
        if sh not in SHAPES:
            raise ValueError(f"a column shape is one of {SHAPES}, not {sh!r}")
    separators = per_spec(separator, DEFAULT_SEPARATOR, "separator")

    def column_name(value: bool | str, default: str, what: str) -> str:
        if value is True:
            return default
        if value is False or value is None:
            return ""
        if isinstance(value, str) and value:
            return value
        raise TypeError(f"{what} is True, False or a column name, not {value!r}")

    record_name = column_name(record_column, "record", "record_column")
    offset_name = column_name(offset_column, "offset", "offset_column")
    if record_name and record_name == offset_name:
        raise ValueError(f"the record and offset columns would both be named {record_name!r}")
    for name in (record_name, offset_name):
        if name and name in specs:
            raise ValueError(f"the column name {name!r} is also a spec: name the column otherwise")
    return specs, shapes, separators, record_name, offset_name


def extract(
    source: Source,
    specs: Sequence[str],
    *,
    shape: str | Mapping[str, str] = "list",
    separator: str | Mapping[str, str] = DEFAULT_SEPARATOR,
    record_column: bool | str = False,
    offset_column: bool | str = False,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
    from_format: str = "marc",
) -> ExtractedColumns:
    """Columns of values: for each spec, one item per good record, of that record's values.

    Specs are MARCspecs (docs/columns.md): ``"LDR"``, ``"LDR/6"``, ``"008/35-37"``, ``"001"``,
    ``"245"`` (a data field's ``value()``), ``"245$a"``, ``"245$a-c"``, ``"650$a$x"``, ``"6..$a"``,
    ``"245^1"`` (an indicator), ``"650[0]$a"`` (the first 650), ``"650$a{^2=\\0}"`` (a condition);
    and rapidmarc's earlier forms ``"650$ax"`` and ``"6XX$a"``. A malformed or unsupported spec
    raises ``ValueError`` naming the position and the reason. Text is decoded as ``MARCReader``
    decodes it (``bytes`` values with ``to_unicode=False``).

    ``shape`` says what one record's item is, for every spec (a str) or per spec (a mapping,
    others being ``"list"``): ``"list"`` every value (a list, empty when there is none),
    ``"first"`` the first value, ``"join"`` every value joined by ``separator`` (a str, or a
    mapping per spec; ``"; "`` by default); both scalars are ``None`` when there is no value.
    ``record_column=True`` adds a ``"record"`` column first: each record's 0-based index in the
    input, counting bad records; ``offset_column=True`` an ``"offset"`` column: the byte offset of
    its first byte (a str instead of True names the column).

    The result is a dict (``ExtractedColumns``) whose ``summary`` says what the read skipped (the
    count of bad records is exact) and whose ``errors`` holds the first bad records' exceptions.

    >>> cols = extract("records.mrc", ["001", "245$a", "650$a"], shape={"001": "first"})  # doctest: +SKIP
    >>> cols["001"][0], cols["245$a"][0], cols.summary.bad  # doctest: +SKIP
    ('ocm0001', ['Moby Dick /'], 0)
    """
    spec_list, shapes, separators, record_name, offset_name = _column_plan(
        specs, shape, separator, record_column, offset_column
    )
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify_format(source, from_format)
    columns, account = _core.extract(native, kind, spec_list, shapes, separators, record_name, offset_name, options)
    out = ExtractedColumns(columns)
    out.summary = _read_summary(account, _source_size(_sized(source, from_format)))
    out.errors = account["errors"]
    return out


class RangeResult(NamedTuple):
    """What ``read_range`` read from one byte range."""

    records: list[Record | None]  #: the records that start in the range, None for a bad one
    errors: list[BaseException]  #: the exception of each None, in order
    start: int | None  #: offset of the first record starting in the range (None: no record does)
    end: int  #: offset just after the last record read
    clean: bool  #: False if framing stopped at damage inside the range


def read_range(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview,
    start: int,
    end: int,
    *,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
) -> RangeResult:
    """The records that *start* in bytes ``[start, end)`` of a file or ``bytes``, read natively.

    This is the unit of work of a partitioned reader (one Dask partition, one job of a cluster):
    cut a file anywhere, e.g. with ``byte_ranges``, and every record belongs to exactly one range,
    the one it starts in (its bytes may run past ``end``). A range finds its first record by
    looking for a plausible record start (a record terminator followed by a record whose length
    field leads to another terminator); a well-formed file is therefore partitioned exactly.
    Damaged data can mislead that search, so a coordinator should check the chain: ranges cover
    the input exactly when every result is ``clean`` and each one with records ``start``s where
    the previous one with records ``end``ed (and the first starts at 0). Where that fails, read
    the affected span with ``MARCReader`` (and ``recover=True``) instead.

    A path must be a regular file: a pipe, a FIFO, a device, ``/dev/stdin`` or ``/dev/fd/N`` can
    be read only once, in order, so ``read_range`` raises ``io.UnsupportedOperation`` (an
    ``OSError`` and a ``ValueError``) for it, never an empty result; ``MARCReader``, ``count``,
    ``extract`` and ``convert`` stream such a path.

    A range is read by one thread (``workers`` is accepted and changes nothing); framing stops at
    the first framing error inside it whatever ``recover`` says, since a range's reader cannot know
    what came before it (``clean`` is then False). ``strict=True`` raises the first bad record's
    exception instead of listing it, and the framing error that made a range unclean.
    """
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify(source)  # a file object is refused natively: it cannot be read at an offset
    if start < 0 or end < start:
        raise ValueError(f"need 0 <= start <= end, not start={start}, end={end}")
    out = _core.read_range(native, kind, start, end, options)
    return RangeResult(out["records"], out["errors"], out["start"], out["end"], out["clean"])


def byte_ranges(source: str | os.PathLike[str] | bytes | bytearray | memoryview, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous, nearly equal byte ranges covering ``source`` (a path or bytes), for
    ``read_range``. Cuts fall anywhere; records are assigned to the range they start in.

    A path must be a regular file (its size is what is cut): a pipe, FIFO or device raises
    ``io.UnsupportedOperation``, a directory ``IsADirectoryError``; neither is opened."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    if isinstance(source, str | os.PathLike):
        path = os.fsdecode(source)
        st = os.stat(path)  # not opened: opening a FIFO would wait for its writer and take its data
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(st.st_mode):
            raise io.UnsupportedOperation(
                f"byte_ranges() needs random access, and {path!r} is not a regular file (a pipe, FIFO or device "
                "has no size and can be read only once, in order): read it with MARCReader, count, extract or "
                "convert, which stream it"
            )
        size = st.st_size
    else:
        size = memoryview(source).nbytes
    cuts = [size * k // parts for k in range(parts + 1)]
    return [(cuts[k], cuts[k + 1]) for k in range(parts)]


def extract_arrow(
    source: Source,
    specs: Sequence[str],
    *,
    shape: str | Mapping[str, str] = "list",
    separator: str | Mapping[str, str] = DEFAULT_SEPARATOR,
    record_column: bool | str = False,
    offset_column: bool | str = False,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
    from_format: str = "marc",
    lazy: bool = False,
) -> _core.ArrowColumns:
    """The values ``extract`` selects, as Apache Arrow columns, without a Python object per value.

    The result implements the Arrow PyCapsule interface (``__arrow_c_stream__``): hand it to
    ``pyarrow.table(...)``, ``pyarrow.RecordBatchReader.from_stream(...)``, or any other consumer
    of Arrow C streams (polars, DuckDB, ...); it can be consumed any number of times. There is one
    row per good record and one column per spec, named by the spec (specs and the keywords
    ``shape``, ``separator``, ``record_column`` and ``offset_column`` as for ``extract``). A
    ``"list"`` column is ``list<string>`` (the record's values; ``list<binary>`` with
    ``to_unicode=False``), a ``"first"`` or ``"join"`` column is ``string`` (``binary``), null
    where the record has no value, which CSV writers take; the record and offset columns are
    ``int64``. The columns are built on the native threads that parse, one Arrow record batch per
    parsed batch (about 1 MiB of input), and handed over without copying.

    Bad records are skipped and counted: ``summary`` is a ``ReadSummary`` of the read and
    ``errors`` the first 100 bad records' exceptions; the schema's metadata also holds
    ``rapidmarc.good_records``, ``rapidmarc.bad_records`` and ``rapidmarc.first_error``.

    With ``lazy=True`` (a path to a regular file only: it is read again per consumption, which a
    pipe or FIFO cannot be) nothing is read until a consumer asks: each consumption reads
    the file again and hands over each batch as it is parsed, so a dump larger than memory streams
    through, e.g. ``duckdb.sql("select ... from cols")`` or ``pyarrow.RecordBatchReader.from_stream``.
    ``num_rows`` is then ``None``, as are ``summary`` and ``errors`` until a consumption has read
    to the end (they then describe the last such read), and the schema has no metadata; in strict
    mode the first bad record ends the stream with an error that names it.

    >>> import pyarrow as pa  # doctest: +SKIP
    >>> cols = extract_arrow("records.mrc", ["001", "245$a"], shape={"001": "first"})  # doctest: +SKIP
    >>> table = pa.table(cols)  # doctest: +SKIP
    """
    spec_list, shapes, separators, record_name, offset_name = _column_plan(
        specs, shape, separator, record_column, offset_column
    )
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify_format(source, from_format)
    if lazy and kind & (_XML | _JSON):
        raise ValueError("extract_arrow(lazy=True) reads ISO 2709; read MARCXML and JSON with lazy=False")
    size = _source_size(_sized(source, from_format))
    return _core.extract_arrow(
        native, kind, spec_list, shapes, separators, record_name, offset_name, options, lazy, size
    )


def parse_records(
    data: bytes | bytearray | memoryview | Sequence[bytes],
    *,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
) -> list[Record | None]:
    """Parse raw MARC on native threads into a list of Records (``None`` for a bad record).

    ``data`` is either a stream of records (``bytes``), split as ``MARCReader`` splits it, or a
    list of ``bytes`` holding one record each (as ``Record(data=...)`` takes them; ``recover`` then
    changes nothing, since each item is framed by its caller).
    """
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    if isinstance(data, bytes | bytearray | memoryview):
        kind, native = _classify(data)
        assert kind == _BYTES
    elif isinstance(data, list | tuple):
        native = data
    else:
        raise TypeError(f"parse_records() needs bytes or a list of bytes, not {type(data).__name__}")
    return _core.parse_records(native, options)


class ConvertResult(NamedTuple):
    """What ``convert`` wrote, and what it read (as ``ReadSummary`` accounts for it)."""

    records: int  #: records written
    bad: int  #: records skipped because MARCReader would yield None for them
    unconvertible: int  #: good records skipped because their text did not convert
    bytes_read: int = 0  #: the offset one past the last byte framed
    size: int | None = None  #: the input's size in bytes, when known
    stop_error: Exception | None = None  #: the framing error reading stopped at, leaving input unread
    first_error: Exception | None = None  #: the first bad item's exception

    @property
    def stopped_at(self) -> int | None:
        """The byte offset reading stopped at before the end of the input, or None."""
        return self.summary.stopped_at

    @property
    def summary(self) -> ReadSummary:
        """The reading side as a ``ReadSummary`` (good: records written plus unconvertible)."""
        return ReadSummary(
            self.records + self.unconvertible, self.bad, self.bytes_read, self.size, self.stop_error, self.first_error
        )


FORMATS = ("json", "xml", "marc")


def convert(
    source: Source,
    destination: str | os.PathLike[str] | IO[bytes],
    to: str = "json",
    *,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    strict: bool = False,
    recover: bool = False,
    workers: int | None = None,
    marc8_mapping: str = "lc",
    from_format: str = "marc",
    progress: Callable[[int], object] | None = None,
    utf8_leader: bool = False,
) -> ConvertResult:
    """Write every good record of ``source`` to ``destination`` in another format, natively.

    ``to`` is ``"json"`` (a JSON array, exactly what pymarc's ``JSONWriter`` writes for the records
    ``MARCReader`` yields), ``"xml"`` (a MARCXML collection, as ``XMLWriter`` writes it) or
    ``"marc"`` (the good records' bytes unchanged: a cleaned copy). MARC-8 records are converted
    to Unicode as ``MARCReader`` converts them. ``destination`` is a path or a binary file object.
    A path is written natively, without the GIL, by the rule of every rapidmarc writer: a regular
    file is written to a hidden temporary file beside it and renamed into place once complete, keeping the old
    file's mode, so an error, a strict-mode exception or Ctrl-C never leaves a partial file under
    the real name; a symbolic link's target is written; a FIFO or device is written in place. A
    file object is written batch by batch (short writes are retried). Bad records are skipped and
    counted; ``strict=True`` raises the first one's exception instead (a file object's output then
    ends early and is not a complete document). The result says what was read: ``stop_error`` is
    set when a framing error stopped reading with input left unread; when that happened at the
    very first byte (the source is not MARC at all), a path destination is left as it was, not
    replaced by an empty document. ``progress``, if given, is
    called after each batch (about 1 MiB) with the number of input bytes consumed so far.
    ``utf8_leader=True`` writes leader/09 ``a`` in JSON and MARCXML, since their text is Unicode
    whatever the record was read as (a MARC-8 record's leader says blank): tools that trust
    leader/09, such as yaz-marcdump, then read the characters right. The default writes the leader
    as read, as pymarc's writers do; ``rapidmarc convert`` sets it.

    >>> convert("records.mrc", "records.xml", to="xml")  # doctest: +SKIP
    ConvertResult(records=386, bad=0, unconvertible=0, bytes_read=485127, size=485127, ...)
    """
    if to not in FORMATS:
        raise ValueError(f"convert() writes one of {FORMATS}, not {to!r}")
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify_format(source, from_format)
    if isinstance(destination, str | os.PathLike):
        if isinstance(source, str | os.PathLike) and os.path.exists(destination) and same_file(source, destination):
            raise ValueError(f"convert() would overwrite its input {os.fsdecode(source)!r}")
        if to != "marc" and not options.to_unicode:
            raise ValueError("convert() writes text for 'json' and 'xml': to_unicode must be True")
        try:
            with open_destination(destination) as out:
                result = _core.convert(
                    native, kind, out.fileno(), to, options, progress, os.fsdecode(destination), utf8_leader
                )
                if _nothing_read(result):
                    raise _KeepDestination
        except _KeepDestination:
            pass
    elif hasattr(destination, "write"):
        result = _core.convert(native, kind, destination, to, options, progress, "", utf8_leader)
    else:
        raise TypeError(f"destination must be a path or a binary file object, not {type(destination).__name__}")
    fields = _read_fields(result, _sized(source, from_format))
    return ConvertResult(result["records"], result["bad"], result["unconvertible"], **fields)


class _KeepDestination(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside open_destination() to leave the old destination as it was."""


def _nothing_read(result: dict) -> bool:
    """True when reading stopped at the first byte with nothing written (the input is not MARC):
    a path destination is then left as it was rather than replaced by an empty document."""
    stop = result["stop"]
    return result["records"] == 0 and stop is not None and getattr(stop, "byte_offset", None) == 0


def _read_fields(result: dict, source: object) -> dict:
    fields = _summary(result, source)
    del fields["good"], fields["bad"]
    return fields


__all__ = [
    "ConvertResult",
    "ExtractedColumns",
    "ReadSummary",
    "RangeResult",
    "byte_ranges",
    "convert",
    "count",
    "extract",
    "extract_arrow",
    "parse_records",
    "read_range",
    "scan",
]
