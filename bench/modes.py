"""Execution modes: how the per-file task of contestants.py is run over a set of files.

Every mode takes the same files (one corpus split into parts; concatenated they
are the single-file corpus) and returns one `FileResult` per file, in file
order, so that the harness can check that every mode did the same work.

sequential  the files one after another in the calling thread.
threads     ``ThreadPoolExecutor(max_workers=N).map`` over the files.
threads0    rapidmarc: the same pool, readers opened with ``workers=0`` (each parses in
            its pool thread instead of a parse-ahead thread of its own).
processes   ``ProcessPoolExecutor(max_workers=N).map`` over the files. Creating
            the pool, starting the workers and pickling the results (the
            titles, for workloads that extract them) are inside the timed
            region: that is what a user pays.
asyncio     N concurrent pipelines (seed 004): each takes a file and loops
            read → process → write: a batch of records is read in a thread
            (``asyncio.to_thread``), processed on the event loop, and the
            output lines written to a file in a thread.
bulk        the library's own parallel API over each file in turn, N workers:
            mrrc's ``RecordBoundaryScanner`` + ``parse_batch_parallel`` (rayon,
            ``RAYON_NUM_THREADS=N`` is set before mrrc is imported) and
            rapidmarc's ``MARCReader(path, workers=N)`` when that exists.
count       rapidmarc's ``rapidmarc.count(path, workers=N)`` (workload ``read``)
            and ``rapidmarc.extract(path, ["245$a", "245$b"], workers=N)``
            (workload ``title``) when they exist.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from contestants import FileResult, library, run_file, run_records

ModeFn = Callable[[str, str, Sequence[str], int, bool], list[FileResult]]
ASYNC_WORKLOADS = {"read", "title", "extract"}


class Unavailable(Exception):
    """The library does not offer what this mode needs (reported, not a failure)."""


def sequential(name: str, workload: str, files: Sequence[str], workers: int, canonical: bool) -> list[FileResult]:
    """One file after another in this thread (``workers`` is ignored)."""
    return [run_file(name, workload, canonical, f) for f in files]


def threads(name: str, workload: str, files: Sequence[str], workers: int, canonical: bool) -> list[FileResult]:
    """A thread pool of ``workers`` threads, one task per file."""
    task = functools.partial(run_file, name, workload, canonical)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, files))


def threads_inline(name: str, workload: str, files: Sequence[str], workers: int, canonical: bool) -> list[FileResult]:
    """rapidmarc only: the thread pool of ``threads``, each reader opened with ``workers=0``, so it
    parses in its pool thread (GIL released) instead of starting a parse-ahead thread of its own."""
    if name != "rapidmarc":
        raise Unavailable("MARCReader(path, workers=0) is rapidmarc's")
    lib = library(name)

    def task(path: str) -> FileResult:
        try:
            reader = lib.mod.MARCReader(path, workers=0)
        except (TypeError, ValueError) as exc:
            raise Unavailable("MARCReader(path, workers=0) not available") from exc
        with reader:
            return run_records(lib, workload, reader, canonical)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, files))


def processes(name: str, workload: str, files: Sequence[str], workers: int, canonical: bool) -> list[FileResult]:
    """A process pool of ``workers`` processes (default start method), one task per file."""
    task = functools.partial(run_file, name, workload, canonical)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, files))


BATCH = 500  # records per read step of an asyncio pipeline


def _take(it: Iterator[Any], n: int) -> list[Any]:
    return list(itertools.islice(it, n))


async def _pipeline(name: str, workload: str, path: str, out_dir: str, index: int) -> FileResult:
    """read → process → write for one file; blocking steps go to threads."""
    lib = library(name)
    total = FileResult(titles=[] if workload != "read" else None)
    with lib.open(path) as reader, open(os.path.join(out_dir, f"{index:04d}.txt"), "w", encoding="utf-8") as out:
        it = iter(reader)
        while batch := await asyncio.to_thread(_take, it, BATCH):  # read
            part = run_records(lib, workload, batch, False)  # process (event loop)
            total.records += part.records
            for key, value in part.ints.items():
                total.ints[key] = total.ints.get(key, 0) + value
            if part.titles is not None and total.titles is not None:
                total.titles.extend(part.titles)
                text = "\n".join(part.titles) + "\n"
            else:
                text = f"{part.records}\n"
            await asyncio.to_thread(out.write, text)  # write
    return total


async def _run_pipelines(
    name: str, workload: str, files: Sequence[str], workers: int, out_dir: str
) -> list[FileResult]:
    limit = asyncio.Semaphore(workers)

    async def one(i: int, path: str) -> FileResult:
        async with limit:
            return await _pipeline(name, workload, path, out_dir, i)

    return list(await asyncio.gather(*(one(i, f) for i, f in enumerate(files))))


def asyncio_pipelines(
    name: str, workload: str, files: Sequence[str], workers: int, canonical: bool
) -> list[FileResult]:
    """``workers`` concurrent asyncio pipelines over the files."""
    if workload not in ASYNC_WORKLOADS:
        raise Unavailable(f"asyncio pipelines run {sorted(ASYNC_WORKLOADS)} only")
    with tempfile.TemporaryDirectory(prefix="rapidmarc-bench-") as out_dir:
        return asyncio.run(_run_pipelines(name, workload, files, workers, out_dir))


def bulk(name: str, workload: str, files: Sequence[str], workers: int, canonical: bool) -> list[FileResult]:
    """The library's own parallel reader, one file at a time."""
    lib = library(name)
    results = []
    for path in files:
        if name == "mrrc":
            with open(path, "rb") as fh:
                buf = fh.read()
            bounds = lib.mod.RecordBoundaryScanner().scan(buf)
            parsed = lib.mod.parse_batch_parallel(bounds, buf)
            # The raw rayon results lack the pymarc-style API; wrap them the way
            # mrrc's own MARCReader does for every record it yields.
            wrap = getattr(lib.mod, "_wrap_record", None)
            records: Any = map(wrap, parsed) if wrap else parsed
            results.append(run_records(lib, workload, records, canonical))
        elif name == "rapidmarc":
            try:
                reader = lib.mod.MARCReader(path, workers=workers)
            except TypeError as exc:
                raise Unavailable("MARCReader(path, workers=N) not available") from exc
            with reader:
                results.append(run_records(lib, workload, reader, canonical))
        else:
            raise Unavailable(f"{name} has no parallel reader")
    return results


def _titles_from_columns(cols: Any) -> list[str]:
    """pymarc's title (first $a, then " " and first $b) from extract()'s columns.

    ``extract`` returns ``{spec: [values of record 0, values of record 1, ...]}``
    with every $a (every $b) of every 245; pymarc looks at the first 245 only, so
    a record with two 245 fields would differ, and the verification would say so.
    """
    titles = []
    for a_vals, b_vals in zip(cols["245$a"], cols["245$b"], strict=True):
        a = a_vals[0] if a_vals else None
        b = b_vals[0] if b_vals else None
        titles.append(f"{a} {b}" if a and b else (a or ""))
    return titles


def count_api(name: str, workload: str, files: Sequence[str], workers: int, canonical: bool) -> list[FileResult]:
    """rapidmarc.count / rapidmarc.extract (bulk APIs without Record objects)."""
    mod = library(name).mod
    if name != "rapidmarc" or workload not in ("read", "title"):
        raise Unavailable("only rapidmarc.count (read) and rapidmarc.extract (title)")
    results = []
    for path in files:
        if workload == "read":
            if not hasattr(mod, "count"):
                raise Unavailable("rapidmarc.count not available")
            results.append(FileResult(records=int(mod.count(path, workers=workers))))
        else:
            if not hasattr(mod, "extract"):
                raise Unavailable("rapidmarc.extract not available")
            titles = _titles_from_columns(mod.extract(path, ["245$a", "245$b"], workers=workers))
            results.append(FileResult(records=len(titles), titles=titles))
    return results


MODES: dict[str, ModeFn] = {
    "sequential": sequential,
    "threads": threads,
    "threads0": threads_inline,
    "processes": processes,
    "asyncio": asyncio_pipelines,
    "bulk": bulk,
    "count": count_api,
}
