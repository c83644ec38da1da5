"""Tables of MARC data: the long table (``extract_long``) and files of columns (``to_parquet``,
``to_csv``), on top of the native Arrow columns of ``rapidmarc.bulk`` (docs/columns.md).

``extract_long`` needs nothing but rapidmarc: its result is an Arrow C stream that pyarrow, polars
or DuckDB take. Writing Parquet or CSV needs pyarrow (``pip install rapidmarc[arrow]``); without
it those functions raise ``ModuleNotFoundError`` saying so.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, NamedTuple

from . import _core
from ._destination import open_destination, same_file
from .bulk import DEFAULT_SEPARATOR, ReadSummary, _classify_format, _sized, _source_size, extract_arrow
from .options import _JSON, _XML, ReadOptions, Source

PYARROW_HINT = "pip install rapidmarc[arrow]"
# An offset column asked for progress only, dropped before writing (no spec has a blank).
_PROGRESS_OFFSET = " offset"


def require_pyarrow(what: str) -> Any:
    """pyarrow, or ModuleNotFoundError naming ``what`` needs it and how to install it."""
    try:
        return importlib.import_module("pyarrow")
    except ImportError as exc:  # ModuleNotFoundError, or a broken installation
        raise ModuleNotFoundError(
            f"{what} needs pyarrow, which is not installed: {PYARROW_HINT} (or pip install pyarrow)",
            name="pyarrow",
        ) from exc


def split_specs(text: str) -> list[str]:
    """The specs of a comma-separated list (``"001,245$a,650$a{$x=\\a,b}"``): a comma inside a
    condition's braces or escaped by a backslash belongs to the spec."""
    specs: list[str] = []
    current: list[str] = []
    depth, escaped = 0, False
    for c in text:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
        elif c == "," and depth == 0:
            specs.append("".join(current).strip())
            current = []
            continue
        current.append(c)
    specs.append("".join(current).strip())
    return [s for s in specs if s]


def _field_list(fields: str | Sequence[str] | None) -> list[str]:
    if fields is None:
        return []
    if isinstance(fields, str):
        return split_specs(fields)
    out = list(fields)
    for f in out:
        if not isinstance(f, str):
            raise TypeError(f"a field is a str such as '650' or '6XX$a', not {type(f).__name__}")
    return out


def extract_long(
    source: Source,
    *,
    fields: str | Sequence[str] | None = None,
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
    """The long table of ``source``: one row per subfield, as Arrow columns (docs/columns.md).

    Columns: ``record`` (int64: the record's 0-based index in the input, counting bad records),
    ``offset`` (int64: its byte offset), ``field`` (int32: the field's position in
    ``Record.fields``; null for the leader), ``tag``, ``ind1``, ``ind2``, ``code`` and ``value``
    (strings, named as MARCXML's attributes). A data field gives one row per subfield (a field
    without subfields one row, its ``code`` and ``value`` null); a control field one row, its data
    in ``value`` and null indicators and code; the leader one row, tag ``"LDR"``. Rows come in
    record order, and in field and subfield order within a record.

    ``fields`` selects rows: a comma-separated str or a sequence of ``"LDR"``, tags (``"245"``),
    tag patterns (``"6XX"``, ``"6.."``) and tags with subfield codes (``"650$a"``, ``"6XX$ax"``:
    only those subfields). By default every field and the leader.

    Text is what ``MARCReader`` gives (values of MARC-8 records converted, ``utf8_handling``
    applied natively); with ``to_unicode=False`` the ``value`` column is ``binary`` (the bytes as
    they are) and tags, indicators and codes stay strings (ISO 8859-1, as the reader's str).
    Everything else is as ``extract_arrow``: one Arrow record batch per parsed batch, built on
    the parsing threads; ``summary``, ``errors`` and the schema's ``rapidmarc.*`` metadata account
    for the bad records skipped; ``lazy=True`` streams a regular file batch by batch.

    >>> import duckdb  # doctest: +SKIP
    >>> long = extract_long("records.mrc", fields="650")  # doctest: +SKIP
    >>> duckdb.sql("select value, count(*) from long where ind2 = '0' and code = 'a' group by 1")  # doctest: +SKIP
    """
    options = ReadOptions(
        to_unicode, force_utf8, utf8_handling, file_encoding, encoding, strict, recover, workers, marc8_mapping
    )
    kind, native = _classify_format(source, from_format)
    if lazy and kind & (_XML | _JSON):
        raise ValueError("extract_long(lazy=True) reads ISO 2709; read MARCXML and JSON with lazy=False")
    size = _source_size(_sized(source, from_format))
    return _core.extract_long(native, kind, _field_list(fields), options, lazy, size)


class TableResult(NamedTuple):
    """What ``to_parquet`` or ``to_csv`` wrote, and what it read."""

    rows: int  #: rows written (good records for the wide table; subfields for the long one)
    summary: ReadSummary  #: the read: good and bad records, where reading ended

    @property
    def good(self) -> int:
        return self.summary.good

    @property
    def bad(self) -> int:
        return self.summary.bad


class _KeepDestination(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside open_destination() to leave the old destination as it was."""


def _streamable(source: object, from_format: str) -> bool:
    """Can the columns be read lazily, batch by batch (a regular file of ISO 2709)?"""
    if from_format != "marc" or not isinstance(source, str | os.PathLike):
        return False
    try:
        return stat.S_ISREG(os.stat(source).st_mode)
    except OSError:
        return False


def _write_table(
    fmt: str,
    source: Source,
    destination: str | os.PathLike[str] | IO[bytes],
    fields: str | Sequence[str] | None,
    long: bool,
    shape: str | Mapping[str, str] | None,
    separator: str | Mapping[str, str] | None,
    record_column: bool | str,
    offset_column: bool | str,
    read: dict[str, Any],
    progress: Callable[[int], object] | None,
    make_writer: Callable[[Any, Any, Any], Any],
) -> TableResult:
    what = f"to_{fmt}()"
    pa = require_pyarrow(what)
    strict = read.pop("strict")
    lazy = _streamable(source, read["from_format"])
    if isinstance(destination, str | os.PathLike):
        if isinstance(source, str | os.PathLike) and os.path.exists(destination) and same_file(source, destination):
            raise ValueError(f"{what} would overwrite its input {os.fsdecode(source)!r}")
    elif not hasattr(destination, "write"):
        raise TypeError(f"destination must be a path or a binary file object, not {type(destination).__name__}")
    # Lazily the read runs non-strict and a bad record is raised at the end (the output is then
    # not committed), so that the caller gets rapidmarc's exception, not Arrow's message.
    if long:
        if record_column is not False or offset_column is not False:
            raise ValueError(f"{what}: the long table always has its record and offset columns")
        if shape is not None or separator is not None:
            raise ValueError(f"{what}: shape and separator shape the wide table; the long table has one value a row")

        def make_columns() -> _core.ArrowColumns:
            return extract_long(source, fields=fields, strict=strict and not lazy, lazy=lazy, **read)

    else:
        specs = _field_list(fields)
        if not specs:
            raise ValueError(f"{what} needs fields= (MARCspecs such as '001,245$a'), or long=True for the long table")
        if shape is None:
            shape = "join" if fmt == "csv" else "list"
        if fmt == "csv":
            if isinstance(shape, Mapping):  # the specs it does not name are joined too
                shape = {**dict.fromkeys(specs, "join"), **shape}
            shapes = [shape] if isinstance(shape, str) else list(shape.values())
            if "list" in shapes:
                raise ValueError(f"{what}: CSV holds no lists: use shape='join' (the default) or 'first'")
        if not offset_column and progress is not None:
            offset_column = _PROGRESS_OFFSET
        wide_shape, wide_separator = shape, DEFAULT_SEPARATOR if separator is None else separator

        def make_columns() -> _core.ArrowColumns:
            return extract_arrow(
                source,
                specs,
                shape=wide_shape,
                separator=wide_separator,
                record_column=record_column,
                offset_column=offset_column,
                strict=strict and not lazy,
                lazy=lazy,
                **read,
            )

    rows = 0
    summary: ReadSummary | None = None

    def write(out: Any) -> None:
        nonlocal rows, summary
        columns = make_columns()  # once the destination is known to be writable (an eager read reads now)
        reader = pa.RecordBatchReader.from_stream(columns)
        schema = reader.schema
        hidden = [i for i, name in enumerate(schema.names) if name == _PROGRESS_OFFSET]
        offsets = schema.get_field_index(offset_column if isinstance(offset_column, str) else "offset")
        if hidden:
            schema = schema.remove(hidden[0])
        writer = make_writer(out, schema, pa)
        try:
            for batch in reader:
                if progress is not None and batch.num_rows and offsets >= 0:
                    progress(int(batch.column(offsets)[-1].as_py()))
                if hidden:
                    batch = batch.drop_columns([_PROGRESS_OFFSET])
                writer.write_batch(batch)
                rows += batch.num_rows
            summary = columns.summary
            assert summary is not None  # read to its end
            if strict and summary.first_error is not None:
                raise summary.first_error
            if rows == 0 and summary.stop_error is not None and getattr(summary.stop_error, "byte_offset", None) == 0:
                raise _KeepDestination  # not MARC at all: the old destination stays
            if hasattr(writer, "add_key_value_metadata"):
                writer.add_key_value_metadata(summary_metadata(summary))
        finally:
            writer.close()

    try:
        if isinstance(destination, str | os.PathLike):
            with open_destination(destination) as out:
                write(out)
        else:
            write(destination)
    except _KeepDestination:
        pass
    assert summary is not None
    if progress is not None:
        progress(summary.bytes_read)
    return TableResult(rows, summary)


def summary_metadata(summary: ReadSummary) -> dict[str, str]:
    """The read's account as key/value metadata (as extract_arrow's schema carries it)."""
    out = {"rapidmarc.good_records": str(summary.good), "rapidmarc.bad_records": str(summary.bad)}
    if summary.first_error is not None:
        out["rapidmarc.first_error"] = str(summary.first_error)
    if summary.stop_error is not None:
        out["rapidmarc.stop_error"] = str(summary.stop_error)
    return out


def to_parquet(
    source: Source,
    destination: str | os.PathLike[str] | IO[bytes],
    fields: str | Sequence[str] | None = None,
    *,
    long: bool = False,
    shape: str | Mapping[str, str] | None = None,
    separator: str | Mapping[str, str] | None = None,
    record_column: bool | str = False,
    offset_column: bool | str = False,
    compression: str = "zstd",
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
) -> TableResult:
    """Write the columns of ``source`` to a Parquet file: ``extract_arrow``'s wide table of the
    MARCspecs ``fields`` (a comma-separated str or a sequence; ``shape`` (``"list"`` by default),
    ``separator``, ``record_column``, ``offset_column`` as there), or with ``long=True``
    ``extract_long``'s long table (``fields`` then selects fields, as there; it takes no shape).
    Needs pyarrow (``pip install rapidmarc[arrow]``).

    A regular ISO 2709 file is streamed: each parsed batch becomes a row group as it is read, so
    memory stays bounded whatever the file's size. Other sources (bytes, file objects, pipes,
    MARCXML, MARC-in-JSON) are read whole first. A path destination is written to a temporary
    file beside it and renamed into place when complete (rapidmarc._destination), so an error
    leaves no partial file; the input is never overwritten. The file's key/value metadata holds
    the read's account (``rapidmarc.good_records``, ``rapidmarc.bad_records``,
    ``rapidmarc.first_error``, ``rapidmarc.stop_error``); the result has it as ``summary``.
    ``strict=True`` raises the first bad record's exception and writes nothing. ``progress``, if
    given, is called after each batch with the byte offset reached.

    >>> to_parquet("records.mrc", "records.parquet", "001,245$a,650$a")  # doctest: +SKIP
    TableResult(rows=386, summary=ReadSummary(good=386, bad=0, ...))
    """
    read = dict(
        to_unicode=to_unicode,
        force_utf8=force_utf8,
        utf8_handling=utf8_handling,
        file_encoding=file_encoding,
        encoding=encoding,
        strict=strict,
        recover=recover,
        workers=workers,
        marc8_mapping=marc8_mapping,
        from_format=from_format,
    )

    def make_writer(out: Any, schema: Any, pa: Any) -> Any:
        return importlib.import_module("pyarrow.parquet").ParquetWriter(out, schema, compression=compression)

    return _write_table(
        "parquet",
        source,
        destination,
        fields,
        long,
        shape,
        separator,
        record_column,
        offset_column,
        read,
        progress,
        make_writer,
    )


def to_csv(
    source: Source,
    destination: str | os.PathLike[str] | IO[bytes],
    fields: str | Sequence[str] | None = None,
    *,
    long: bool = False,
    shape: str | Mapping[str, str] | None = None,
    separator: str | Mapping[str, str] | None = None,
    record_column: bool | str = False,
    offset_column: bool | str = False,
    delimiter: str = ",",
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
) -> TableResult:
    """``to_parquet``'s tables as CSV (``delimiter="\\t"``: TSV), with a header line. A record's
    values of one spec are joined by ``separator`` (``shape="join"``, the default, also for the
    specs a mapping does not name; ``"first"``
    keeps the first; CSV has no lists). A null (no value) is an empty cell, an empty string ``""``.
    CSV has no place for metadata: the result's ``summary`` accounts for the read. Streaming, the
    destination rule, ``strict`` and ``progress`` as ``to_parquet``. Needs pyarrow.
    """
    read = dict(
        to_unicode=to_unicode,
        force_utf8=force_utf8,
        utf8_handling=utf8_handling,
        file_encoding=file_encoding,
        encoding=encoding,
        strict=strict,
        recover=recover,
        workers=workers,
        marc8_mapping=marc8_mapping,
        from_format=from_format,
    )

    def make_writer(out: Any, schema: Any, pa: Any) -> Any:
        pcsv = importlib.import_module("pyarrow.csv")
        return pcsv.CSVWriter(out, schema, write_options=pcsv.WriteOptions(delimiter=delimiter))

    return _write_table(
        "csv",
        source,
        destination,
        fields,
        long,
        shape,
        separator,
        record_column,
        offset_column,
        read,
        progress,
        make_writer,
    )


__all__ = ["TableResult", "extract_long", "split_specs", "to_csv", "to_parquet"]
