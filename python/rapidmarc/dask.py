"""MARC files as Dask collections: ``read_marc`` (a ``dask.dataframe``) and ``read_marc_records``
(a ``dask.bag`` of Records), partitioned by byte ranges of each file (docs/parallel.md).

Dask is optional: ``pip install rapidmarc[dask]`` installs dask, distributed, fsspec and pyarrow.

How a file is read, so that the result is exactly what one process reading it gives:

1. The file is cut into blocks of ``blocksize`` bytes, one partition each (``npartitions`` is known
   when the collection is made). A record belongs to the block its first byte is in.
2. One small task per block frames it natively (no parsing, no copy): where its first record starts,
   where its last one ends, whether framing stopped at damage, and how many items it holds.
3. One task per file checks the chain: each block must start where the previous one ended. Where it
   does not (damage, or a block that began at a false start inside damaged data), that task reads the
   broken span with the sequential reader's exact semantics (``recover`` included, framing only)
   until it reaches the start of a later block that is intact, where the chain resumes. It also
   numbers every block's first record, so ``record_column`` is the record's index in the file.
4. Each partition task depends on its file's check and either extracts its block natively (Arrow
   columns built on the worker, no Python object per record), or, for the block where the chain
   broke, reads the broken span sequentially; the blocks inside that span are empty partitions.

Files are opened through fsspec: a local path is read natively (``pread``), any other filesystem
through its file objects' ``seek`` and ``read``.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

try:
    import dask
    import dask.bag as _db
    import dask.dataframe as _dd
    import fsspec
    import pandas as pd
    import pyarrow as pa
    from dask.utils import parse_bytes
    from fsspec.implementations.local import LocalFileSystem
except ImportError as _missing:  # tested by hiding dask (test_dask.py)
    raise ImportError(
        f"rapidmarc.dask needs dask[dataframe], fsspec and pyarrow ({_missing}): pip install rapidmarc[dask]"
    ) from _missing

from . import _core
from .bulk import DEFAULT_SEPARATOR, ReadSummary, _column_plan, _read_summary
from .options import ReadOptions

if TYPE_CHECKING:
    from dask.delayed import Delayed

    from .record import Record

__all__ = [
    "FileSummary",
    "MarcRead",
    "MarcRecordsRead",
    "read_marc",
    "read_marc_records",
    "read_marc_records_with_summary",
    "read_marc_with_summary",
]

PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
# extract_arrow_part's column arguments: specs, shapes, separators, record and offset column names
_Columns = tuple[list[str], list[str], list[str], str, str]
_KEPT_ERRORS = 100  # as extract_arrow keeps them


class FileSummary(NamedTuple):
    """What reading one file accounted for: ``summary`` as ``extract_arrow(...).summary`` says it
    (good and bad records, where reading ended and why), and the first 100 bad records' exceptions
    (``record_index`` and ``byte_offset`` are the file's)."""

    path: str
    summary: ReadSummary
    errors: list[Exception]


class MarcRead(NamedTuple):
    """``read_marc_with_summary``'s result: compute both at once with ``compute()`` (they share
    their tasks: the files are read once)."""

    frame: _dd.DataFrame
    summary: Delayed  # computes to list[FileSummary], one per file in the frame's order

    def compute(self, **kwargs: Any) -> tuple[pd.DataFrame, list[FileSummary]]:
        """The pandas frame and the files' summaries, computed together (``kwargs`` go to
        ``dask.compute``). Not ``dask.compute(frame, summary)``: Dask does not keep the order of a
        dataframe and a ``Delayed`` computed together; the frame's partitions are computed as
        ``Delayed`` objects (the same tasks) and concatenated here instead."""
        parts = self.frame.to_delayed(optimize_graph=False)
        frames, summary = dask.compute(parts, self.summary, **kwargs)
        return pd.concat(frames) if frames else self.frame._meta, summary


class _Block(NamedTuple):
    path: str
    size: int
    begin: int
    end: int


def _expand(paths_or_glob: PathArg, storage_options: Mapping[str, Any] | None) -> tuple[Any, list[str]]:
    """The filesystem and the files to read, in order: a glob's matches sorted, a list as given."""
    items = [paths_or_glob] if isinstance(paths_or_glob, str | os.PathLike) else list(paths_or_glob)
    if not items:
        raise ValueError("read_marc() needs at least one path")
    urls = [os.fspath(p) for p in items]
    fs, _token, _paths = fsspec.core.get_fs_token_paths(urls[0], storage_options=dict(storage_options or {}))
    paths: list[str] = []
    for url in urls:
        stripped = fs._strip_protocol(url)
        if _glob.has_magic(url):
            matches = sorted(fs.glob(stripped))
            paths.extend(m for m in matches if fs.isfile(m))
        else:
            paths.append(stripped)
    if not paths:
        raise FileNotFoundError(f"no file matches {urls if len(urls) > 1 else urls[0]!r}")
    return fs, paths


def _blocks(fs: Any, paths: list[str], blocksize: int | str | None) -> list[list[_Block]]:
    size_of_block = None if blocksize is None else parse_bytes(blocksize)
    if size_of_block is not None and size_of_block < 1:
        raise ValueError(f"blocksize must be at least 1 byte, not {blocksize!r}")
    out = []
    for path in paths:
        info = fs.info(path)
        if info.get("type") == "directory":
            raise IsADirectoryError(path)
        size = int(info["size"])
        step = size if size_of_block is None else size_of_block
        cuts = list(range(0, size, max(step, 1))) or [0]
        out.append([_Block(path, size, b, min(b + max(step, 1), size)) for b in cuts])
    return out


def _is_local(fs: Any) -> bool:
    return isinstance(fs, LocalFileSystem)


class _Opened:
    """The native source for a file: a local path as is (read natively), else an fsspec file."""

    def __init__(self, fs: Any, path: str) -> None:
        self.fs, self.path, self.file = fs, path, None

    def __enter__(self) -> object:
        if _is_local(self.fs):
            return self.path
        self.file = self.fs.open(self.path, "rb")
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


# ---- tasks (run on the workers) ---------------------------------------------------------------


def _frame_block(fs: Any, block: _Block, options: dict[str, Any]) -> tuple[int | None, int, bool, int]:
    """Phase 1: the block's framing facts (start or None, end, clean, items)."""
    with _Opened(fs, block.path) as source:
        if block.begin == 0 and block.size >= 2:
            if isinstance(source, str):
                with open(source, "rb") as fh:
                    magic = fh.read(2)
            else:
                magic = source.read(2)  # type: ignore[attr-defined]
            if magic == b"\x1f\x8b":
                raise ValueError(
                    f"{block.path!r} is gzip-compressed, and a deflate stream cannot be cut into byte ranges: "
                    "read it with rapidmarc.extract_arrow (one task per file), or decompress it first"
                )
        return _core.frame_range(source, block.size, block.begin, block.end, ReadOptions(**options))


def _plan_file(fs: Any, blocks: list[_Block], facts: list[tuple], options: dict[str, Any]) -> list[tuple]:
    """The chain check of one file: for each block ("range", base, items), ("span", begin, stop,
    base, items) or ("empty",), where base is the index in the file of the partition's first item
    and items how many the partition holds (checked again when it is read)."""
    plan: list[tuple] = []
    expected = 0  # where the next record must begin
    index = 0  # the index of the next item in the file
    k, n = 0, len(blocks)
    size = blocks[0].size
    while k < n:
        start, end, clean, items = facts[k]
        chained = expected >= blocks[k].end if start is None else start == expected and clean
        if chained:
            if start is None:
                plan.append(("empty",))
            else:
                plan.append(("range", index, items))
                index += items
                expected = end
            k += 1
            continue
        if expected >= size:  # the sequential reader has nothing left here
            plan.append(("empty",))
            k += 1
            continue
        # The chain broke: the sequential reader from `expected` decides, until it reaches the
        # start of a later intact block.
        later = {facts[j][0]: j for j in range(k + 1, n) if facts[j][0] is not None and facts[j][2]}
        with _Opened(fs, blocks[k].path) as source:
            span_items, span_end, rejoin = _core.frame_span(
                source, size, expected, sorted(later), ReadOptions(**options)
            )
        stop = size if rejoin is None else rejoin
        plan.append(("span", expected, stop, index, span_items))
        index += span_items
        j = n if rejoin is None else later[rejoin]
        plan.extend([("empty",)] * (j - k - 1))
        expected = stop if rejoin is not None else max(span_end, expected)
        k = j
    return plan


def _read_part(fs: Any, block: _Block, step: tuple, read: Any) -> Any:
    """Runs read(source, span, begin, end, base) for a planned partition; None for an empty one."""
    if step[0] == "empty":
        return None
    with _Opened(fs, block.path) as source:
        if step[0] == "range":
            return read(source, False, block.begin, block.end, step[1]), step[2]
        return read(source, True, step[1], step[2], step[3]), step[4]


def _changed(block: _Block, expected: int, got: int) -> RuntimeError:
    return RuntimeError(
        f"{block.path!r} changed while being read: bytes {block.begin}-{block.end} held {expected} items when framed "
        f"and {got} when read"
    )


def _columns_part(
    fs: Any, block: _Block, plan: list[tuple], k: int, columns: _Columns, options: dict[str, Any], path_name: str
) -> tuple[pd.DataFrame, dict | None]:
    """Phase 2: one partition as a pandas DataFrame, and its account (None when empty)."""
    opts = ReadOptions(**options)

    def read(source: object, span: bool, begin: int, end: int, base: int) -> Any:
        return _core.extract_arrow_part(source, block.size, span, begin, end, base, *columns, opts)

    got = _read_part(fs, block, plan[k], read)
    if got is None:
        return _to_pandas(_empty_columns(columns, opts), block.path, path_name), None
    (arrow, account), items = got
    if account["good"] + account["bad"] != items:
        raise _changed(block, items, account["good"] + account["bad"])
    return _to_pandas(arrow, block.path, path_name), account


def _records_part(
    fs: Any, block: _Block, plan: list[tuple], k: int, options: dict[str, Any]
) -> tuple[list[Record], dict | None]:
    """Phase 2 of read_marc_records: one partition's good records, and its account (None when empty)."""
    opts = ReadOptions(**options)

    def read(source: object, span: bool, begin: int, end: int, base: int) -> Any:
        return _core.read_part_records(source, block.size, span, begin, end, base, opts)

    got = _read_part(fs, block, plan[k], read)
    if got is None:
        return [], None
    (records, account), expected = got
    if account["good"] + account["bad"] != expected:
        raise _changed(block, expected, account["good"] + account["bad"])
    return records, account


def _file_summary(path: str, size: int, accounts: list[dict | None]) -> FileSummary:
    """One file's partitions' accounts, in order, as the account of one sequential read."""
    tally: dict[str, Any] = {"good": 0, "bad": 0, "end": 0, "first_error": None, "stop": None}
    errors: list[Exception] = []
    for a in accounts:
        if a is None or a["good"] + a["bad"] == 0:
            continue
        tally["good"] += a["good"]
        tally["bad"] += a["bad"]
        tally["end"] = a["end"]
        tally["stop"] = a["stop"]  # the last item's framing error, if the last item is one
        if tally["first_error"] is None:
            tally["first_error"] = a["first_error"]
        errors.extend(a["errors"][: _KEPT_ERRORS - len(errors)])
    return FileSummary(path, _read_summary(tally, size), errors)


def _summaries(files: list[tuple[str, int]], accounts: list[list[dict | None]]) -> list[FileSummary]:
    return [_file_summary(path, size, a) for (path, size), a in zip(files, accounts, strict=True)]


def _partitions(
    files: list[list[_Block]], plans: list[Delayed], part: Callable[[_Block, Delayed, int], Any]
) -> tuple[list[Delayed], Delayed]:
    """Phase 2 of both readers: ``part(block, plan, k)`` (a ``Delayed`` of two outputs: the
    partition and its account) for every block of every file, in file order; the partitions, and a
    ``Delayed`` of one ``FileSummary`` per file built from the accounts."""
    partitions: list[Delayed] = []
    accounts: list[list[Delayed]] = []
    for blocks, plan in zip(files, plans, strict=True):
        accounts.append([])
        for k, block in enumerate(blocks):
            partition, account = part(block, plan, k)
            partitions.append(partition)
            accounts[-1].append(account)
    summary = dask.delayed(_summaries, pure=False)([(b[0].path, b[0].size) for b in files], accounts)
    return partitions, summary


# ---- pandas -----------------------------------------------------------------------------------


def _empty_columns(columns: _Columns, opts: ReadOptions) -> Any:
    arrow, _account = _core.extract_arrow_part(b"", 0, False, 0, 0, 0, *columns, opts)
    return arrow


def _to_pandas(arrow: Any, path: str, path_name: str) -> pd.DataFrame:
    frame = pa.table(arrow).to_pandas(types_mapper=pd.ArrowDtype)
    if path_name:
        frame.insert(0, path_name, pd.Series([path] * len(frame), dtype=pd.ArrowDtype(pa.string()), index=frame.index))
    return frame


# ---- the collections --------------------------------------------------------------------------


def _options(**kw: Any) -> dict[str, Any]:
    ReadOptions(**kw)  # validated here, on the client, once
    return kw


def _plans(fs: Any, files: list[list[_Block]], options: dict[str, Any]) -> list[Delayed]:
    # pure=False here and below: each collection has keys of its own, so a file read again is read
    # again, never answered from results a cluster still holds for an earlier collection.
    frame_block = dask.delayed(_frame_block, pure=False)
    plan_file = dask.delayed(_plan_file, pure=False)
    return [plan_file(fs, blocks, [frame_block(fs, b, options) for b in blocks], options) for blocks in files]


def read_marc_with_summary(
    paths_or_glob: PathArg,
    fields: Sequence[str],
    *,
    blocksize: int | str | None = "128MiB",
    storage_options: Mapping[str, Any] | None = None,
    shape: str | Mapping[str, str] = "list",
    separator: str | Mapping[str, str] = DEFAULT_SEPARATOR,
    record_column: bool | str = False,
    offset_column: bool | str = False,
    path_column: bool | str = False,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    encoding: str | None = None,
    recover: bool = False,
    marc8_mapping: str = "lc",
) -> MarcRead:
    """``read_marc``'s frame, and a ``Delayed`` that computes to one ``FileSummary`` per file: what
    reading skipped (bad records, a framing error that ended a file early), as ``extract_arrow``'s
    ``summary`` and ``errors`` say it for one process. Compute both together,
    ``frame, summaries = read_marc_with_summary(...).compute()``, so the files are read once."""
    specs, shapes, separators, record_name, offset_name = _column_plan(
        fields, shape, separator, record_column, offset_column
    )
    path_name = "path" if path_column is True else (path_column or "")
    if not isinstance(path_name, str):
        raise TypeError(f"path_column is True, False or a column name, not {path_column!r}")
    if path_name and path_name in (*specs, record_name, offset_name):
        raise ValueError(f"the path column {path_name!r} would have the name of another column")
    options = _options(
        to_unicode=to_unicode,
        force_utf8=force_utf8,
        utf8_handling=utf8_handling,
        encoding=encoding,
        recover=recover,
        workers=1,
        marc8_mapping=marc8_mapping,
    )
    columns = (specs, shapes, separators, record_name, offset_name)
    meta = _to_pandas(_empty_columns(columns, ReadOptions(**options)), "", path_name)
    fs, paths = _expand(paths_or_glob, storage_options)
    files = _blocks(fs, paths, blocksize)
    part = dask.delayed(_columns_part, pure=False, nout=2)
    frames, summary = _partitions(
        files, _plans(fs, files, options), lambda block, plan, k: part(fs, block, plan, k, columns, options, path_name)
    )
    return MarcRead(_dd.from_delayed(frames, meta=meta, verify_meta=False), summary)


def read_marc(
    paths_or_glob: PathArg,
    fields: Sequence[str],
    *,
    blocksize: int | str | None = "128MiB",
    storage_options: Mapping[str, Any] | None = None,
    shape: str | Mapping[str, str] = "list",
    separator: str | Mapping[str, str] = DEFAULT_SEPARATOR,
    record_column: bool | str = False,
    offset_column: bool | str = False,
    path_column: bool | str = False,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    encoding: str | None = None,
    recover: bool = False,
    marc8_mapping: str = "lc",
) -> _dd.DataFrame:
    """MARC files (ISO 2709) as a ``dask.dataframe.DataFrame``: one row per good record, one column
    per MARCspec of ``fields``, exactly as ``rapidmarc.extract_arrow`` reads each file in one process.

    ``paths_or_glob`` is a path or URL, a glob (matches read in sorted order) or a list of them; URLs
    go through fsspec (``storage_options`` are its filesystem's options). Each file is cut into
    ``blocksize`` blocks (a number of bytes or a string such as ``"64MiB"``; ``None``: one partition
    per file), one partition each; rows come file by file, in file order.

    ``shape``, ``separator``, ``record_column``, ``offset_column`` and the reading keywords are
    ``extract_arrow``'s; the record and offset columns are the record's index and byte offset in its
    *file*. ``path_column=True`` adds a first column ``"path"`` (or the name given) holding the
    file's path as its filesystem names it. Every column has an Arrow-backed pandas dtype
    (``pd.ArrowDtype``): ``int64[pyarrow]``, ``string[pyarrow]`` for ``"first"`` and ``"join"``
    columns (``binary`` with ``to_unicode=False``) and ``list<item: string>[pyarrow]`` for ``"list"``
    columns. Each partition's index counts from 0.

    Bad records are skipped and counted, as by ``extract_arrow``: ``read_marc_with_summary`` gives
    the counts and errors with the frame. Damaged files are read exactly as one process reads them,
    ``recover`` included (see the module documentation for how).

    >>> ddf = read_marc("dumps/*.mrc", ["001", "245$a"], shape="first")  # doctest: +SKIP
    """
    return read_marc_with_summary(
        paths_or_glob,
        fields,
        blocksize=blocksize,
        storage_options=storage_options,
        shape=shape,
        separator=separator,
        record_column=record_column,
        offset_column=offset_column,
        path_column=path_column,
        to_unicode=to_unicode,
        force_utf8=force_utf8,
        utf8_handling=utf8_handling,
        encoding=encoding,
        recover=recover,
        marc8_mapping=marc8_mapping,
    ).frame


class MarcRecordsRead(NamedTuple):
    """``read_marc_records_with_summary``'s result: compute both at once with ``compute()`` (they
    share their tasks: the files are read once)."""

    bag: _db.Bag
    summary: Delayed  # computes to list[FileSummary], one per file in the bag's order

    def compute(self, **kwargs: Any) -> tuple[list[Record], list[FileSummary]]:
        """``(records, summaries)``, computed together (``kwargs`` go to ``dask.compute``); the
        bag's partitions are computed as ``Delayed`` objects (the same tasks) and joined in order."""
        parts = self.bag.to_delayed(optimize_graph=False)
        lists, summaries = dask.compute(parts, self.summary, **kwargs)
        return [r for part in lists for r in part], summaries


def read_marc_records_with_summary(
    paths_or_glob: PathArg,
    *,
    blocksize: int | str | None = "128MiB",
    storage_options: Mapping[str, Any] | None = None,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    recover: bool = False,
    marc8_mapping: str = "lc",
) -> MarcRecordsRead:
    """``read_marc_records``'s bag, and a ``Delayed`` that computes to one ``FileSummary`` per file:
    the records skipped as bad (``MARCReader``'s ``None`` items, decoding errors included) and a
    framing error that ended a file early, with the first 100 exceptions, as ``MARCReader`` would
    have raised them into ``current_exception``. ``bag, summary = ...``; compute both with
    ``records, summaries = read_marc_records_with_summary(...).compute()``."""
    options = _options(
        to_unicode=to_unicode,
        force_utf8=force_utf8,
        utf8_handling=utf8_handling,
        file_encoding=file_encoding,
        encoding=encoding,
        recover=recover,
        workers=1,
        marc8_mapping=marc8_mapping,
    )
    fs, paths = _expand(paths_or_glob, storage_options)
    files = _blocks(fs, paths, blocksize)
    part = dask.delayed(_records_part, pure=False, nout=2)
    parts, summary = _partitions(
        files, _plans(fs, files, options), lambda block, plan, k: part(fs, block, plan, k, options)
    )
    return MarcRecordsRead(_db.from_delayed(parts), summary)


def read_marc_records(
    paths_or_glob: PathArg,
    *,
    blocksize: int | str | None = "128MiB",
    storage_options: Mapping[str, Any] | None = None,
    to_unicode: bool = True,
    force_utf8: bool = False,
    utf8_handling: str = "strict",
    file_encoding: str = "iso8859-1",
    encoding: str | None = None,
    recover: bool = False,
    marc8_mapping: str = "lc",
) -> _db.Bag:
    """MARC files as a ``dask.bag.Bag`` of ``Record`` objects: the records ``MARCReader`` yields for
    each file, in order, without the ``None`` items of bad records (partitioned as ``read_marc``).
    Records travel between processes pickled as their bytes. The bad records are skipped, not lost
    unsaid: ``read_marc_records_with_summary`` gives the bag with a per-file count of them and
    their exceptions."""
    return read_marc_records_with_summary(
        paths_or_glob,
        blocksize=blocksize,
        storage_options=storage_options,
        to_unicode=to_unicode,
        force_utf8=force_utf8,
        utf8_handling=utf8_handling,
        file_encoding=file_encoding,
        encoding=encoding,
        recover=recover,
        marc8_mapping=marc8_mapping,
    ).bag
