"""Side-by-side read throughput: pymarc, rmarc, mrrc and rapidmarc (issue "core").

Workloads
  count   ``for r in MARCReader(...)``: parse and count records.
  fields  as ``count`` plus ``r.title`` and ``f.value()`` for every field in
          ``r.get_fields()``: the cost a typical pymarc consumer pays.

``yaz-marcdump`` (Debian's yaz, C) takes part in ``count`` only: ``yaz-marcdump -n -p FILE``
parses every record and prints one line per record, which is counted; it has no Python values to
offer ``fields``. Its time includes starting the program.

The contestant ``floor`` is no library: it yields records built before the clock starts, whose
``title`` is a stored str and whose ``get_fields()`` and ``value()`` are C calls that return
stored objects. The same workload over it times what the loop itself costs the interpreter
(iterating, calling, ``len``, the sums, the CRC): no library can be faster than that through this
API, so ``floor``'s "vs pymarc" is the ceiling of any library's ratio on this machine, and a
library's time minus the floor's is what the library itself costs.

Each (workload, contestant) pair runs ``--repeat`` times, interleaved
round-robin (with the starting contestant rotated every round) so that noise on
a shared machine hits every contestant alike; the median time is reported.
Only ratios measured in one run are meaningful, never absolute figures.

Results are checked before they are reported: every contestant must see the
same number of records and, on UTF-8 corpora, the same titles (CRC-32) and the
same total length of field values as pymarc. Differences are printed as
warnings, never hidden. On MARC-8 corpora decoders may legitimately differ, so
only record counts are required and the rest is printed as notes.

Usage::

    python bench/bench_read.py --kind utf8 --records 100000 --repeat 3 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from corpus import KINDS, build_corpus  # bench/ is sys.path[0] when run as a script

# (records, title CRC-32, total chars of field values)
Check = tuple[int, int, int]
CHECK_NAMES = ("records", "title crc32", "value chars")
Results = dict[tuple[str, str], dict[str, Any]]
CONTESTANTS = ("pymarc", "rmarc", "mrrc", "rapidmarc", "yaz-marcdump", "floor")
ONLY_WORKLOADS = {"yaz-marcdump": {"count"}}  # contestants that cannot run every workload
PEERS = ("mrrc", "rmarc")  # "best peer" = the faster of these two
FILE_OBJECT_READERS = {"pymarc", "rmarc"}  # users hand these an open binary file
REQUIRED_TEXT_CHECKS = {"utf8", "peer"}  # corpora without MARC-8 records


def open_reader(name: str, mod: ModuleType, path: Path, stack: contextlib.ExitStack) -> Iterable[Any]:
    """Create ``name``'s MARCReader the way its users typically do."""
    if name in FILE_OBJECT_READERS:
        return mod.MARCReader(stack.enter_context(path.open("rb")))
    reader = mod.MARCReader(str(path))
    if callable(getattr(reader, "close", None)):
        stack.callback(reader.close)
    return reader


def count_records(reader: Iterable[Any]) -> Check:
    """Workload ``count``: iterate and count, skipping ``None`` (bad) records."""
    n = 0
    for record in reader:
        if record is not None:
            n += 1
    return n, 0, 0


def title_and_values(reader: Iterable[Any]) -> Check:
    """Workload ``fields``: title plus every field's value; results feed the checks.

    Only cheap aggregates (one CRC per title, ``len`` of each value) are kept,
    so the checking adds little next to the work being measured.
    """
    n = crc = chars = 0
    for record in reader:
        if record is None:
            continue
        n += 1
        crc = zlib.crc32(((record.title or "") + "\x1e").encode("utf-8", "backslashreplace"), crc)
        for field in record.get_fields():
            chars += len(field.value())
    return n, crc, chars


WORKLOADS: dict[str, Callable[[Iterable[Any]], Check]] = {
    "count": count_records,
    "fields": title_and_values,
}


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence logging, Python warnings and stderr chatter (pymarc's MARC-8 decoder
    writes one stderr line per unmappable character) so the terminal stays usable;
    the libraries still do the work of producing the messages."""
    with (
        open(os.devnull, "w") as devnull,
        contextlib.redirect_stderr(devnull),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def timed_run(name: str, mod: ModuleType, path: Path, workload: str) -> tuple[float, Check]:
    """One timed pass; reader construction and file opening are included."""
    gc.collect()
    if name == "yaz-marcdump":
        start = time.perf_counter()
        run = subprocess.run([mod.COMMAND, "-n", "-p", str(path)], capture_output=True, check=True)
        elapsed = time.perf_counter() - start
        return elapsed, (run.stdout.count(b"<!-- Record "), 0, 0)
    with quiet(), contextlib.ExitStack() as stack:
        start = time.perf_counter()
        check = WORKLOADS[workload](open_reader(name, mod, path, stack))
        elapsed = time.perf_counter() - start
    return elapsed, check


class _FloorRecord:
    """A record of the ``floor`` contestant: what the workloads read, stored."""

    __slots__ = ("title", "get_fields")


class _FloorField:
    __slots__ = ("value",)


class FloorReader:
    """The ``floor`` contestant's MARCReader: its records are built once per corpus, untimed, from
    what rapidmarc reads (so the checks still compare them with pymarc's). ``get_fields`` and
    ``value`` are the ``__next__`` of an ``itertools.repeat``: a C call returning a stored object."""

    __version__ = "-"
    _built: dict[Path, list[_FloorRecord]] = {}

    def __init__(self, path: str | Path) -> None:
        self._records = self._build(Path(path))

    @classmethod
    def _build(cls, path: Path) -> list[_FloorRecord]:
        if path not in cls._built:
            import itertools

            import rapidmarc

            records = []
            for source in rapidmarc.MARCReader(str(path)):
                if source is None:
                    continue
                fields = []
                for f in source.get_fields():
                    field = _FloorField()
                    field.value = itertools.repeat(f.value()).__next__
                    fields.append(field)
                record = _FloorRecord()
                record.title = source.title
                record.get_fields = itertools.repeat(fields).__next__
                records.append(record)
            cls._built[path] = records
        return cls._built[path]

    def __iter__(self) -> Iterator[_FloorRecord]:
        return iter(self._records)


def load_contestants(
    names: Sequence[str],
) -> tuple[dict[str, ModuleType], dict[str, str]]:
    """Import each contestant; failures become 'missing' entries, not crashes."""
    found, missing = {}, {}
    for name in names:
        try:
            if name == "yaz-marcdump":
                command = shutil.which("yaz-marcdump")
                if command is None:
                    missing[name] = "not installed (apt install yaz)"
                    continue
                found[name] = ModuleType(name)
                found[name].COMMAND = command  # type: ignore[attr-defined]
                continue
            if name == "floor":
                found[name] = ModuleType("floor")
                found[name].MARCReader = FloorReader  # type: ignore[attr-defined]
                found[name].__version__ = FloorReader.__version__  # type: ignore[attr-defined]
                continue
            found[name] = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a broken build is also "missing"
            missing[name] = f"{type(exc).__name__}: {exc}"
    return found, missing


def version_of(name: str, mod: ModuleType) -> str:
    """Installed distribution version, falling back to ``__version__``."""
    if name == "floor":
        return "(no library: the loop's own cost)"
    if name == "yaz-marcdump":
        run = subprocess.run([mod.COMMAND, "-V"], capture_output=True, text=True)
        return run.stdout.split()[2] if run.stdout.startswith("YAZ version:") else "?"
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return str(getattr(mod, "__version__", "?"))


def verify(results: Results, kind: str) -> list[dict[str, Any]]:
    """Compare each contestant's checks with the reference library's.

    The reference is pymarc (the API rapidmarc promises to match), else the first
    contestant present. A mismatch is ``required`` when it is a record count, or
    any check on a corpus without MARC-8 records.
    """
    found = []
    for workload in WORKLOADS:
        rows = {n: r["check"] for (w, n), r in results.items() if w == workload and "check" in r}
        if not rows:
            continue
        ref = next(n for n in CONTESTANTS if n in rows)
        for lib, check in rows.items():
            for i, what in enumerate(CHECK_NAMES[: 1 if workload == "count" else 3]):
                if check[i] != rows[ref][i]:
                    found.append(
                        {
                            "workload": workload,
                            "library": lib,
                            "check": what,
                            "value": check[i],
                            "reference": ref,
                            "expected": rows[ref][i],
                            "required": i == 0 or kind in REQUIRED_TEXT_CHECKS,
                        }
                    )
    return found


def run_rounds(mods: dict[str, ModuleType], path: Path, repeat: int) -> Results:
    """Time every (workload, contestant) ``repeat`` times, round-robin."""
    results: Results = {(w, n): {"times": []} for w in WORKLOADS for n in mods if w in ONLY_WORKLOADS.get(n, WORKLOADS)}
    names = list(mods)
    for rnd in range(repeat):
        shift = rnd % max(len(names), 1)
        for workload in WORKLOADS:
            for name in names[shift:] + names[:shift]:
                if (workload, name) not in results:
                    continue
                row = results[(workload, name)]
                if "error" in row:
                    continue
                try:
                    elapsed, check = timed_run(name, mods[name], path, workload)
                except Exception as exc:  # noqa: BLE001 - report it, keep going
                    row["error"] = f"{type(exc).__name__}: {exc}"
                    continue
                row["times"].append(elapsed)
                if row.setdefault("check", check) != check:
                    row["error"] = f"result changed between runs: {check}"
                print(
                    f"  round {rnd + 1}/{repeat} {workload:6} {name:9} {elapsed:7.3f}s",
                    file=sys.stderr,
                )
    return results


def summarise(results: Results, n_records: int, size: int) -> None:
    """Add median time, rates and ratios to each successful row, in place."""
    for row in results.values():
        if row["times"] and "error" not in row:
            row["median_s"] = statistics.median(row["times"])
            row["records_per_s"] = n_records / row["median_s"]
            row["mb_per_s"] = size / 1e6 / row["median_s"]
    for (workload, _), row in results.items():
        if "median_s" in row:
            med = {n: r.get("median_s") for (w, n), r in results.items() if w == workload}
            peers = [t for n in PEERS if (t := med.get(n))]
            base = med.get("pymarc")
            row["vs_pymarc"] = base / row["median_s"] if base else None
            row["vs_best_peer"] = min(peers) / row["median_s"] if peers else None
            floor = med.get("floor")
            row["us_beyond_floor"] = (row["median_s"] - floor) / n_records * 1e6 if floor else None


def fmt_ratio(x: float | None) -> str:
    """Format a speed ratio; a dash when the baseline was not measured."""
    return f"{x:.2f}x" if x else "-"


def print_report(
    args: argparse.Namespace,
    size: int,
    versions: dict[str, str],
    missing: dict[str, str],
    results: Results,
    mismatches: list[dict[str, Any]],
) -> None:
    """Print the Markdown table, then missing contestants and check mismatches."""
    print(
        f"## Read throughput: {args.kind} corpus, {args.records:,} records, "
        f"{size / 1e6:.1f} MB, median of {args.repeat}\n"
    )
    libs = ", ".join(f"{n} {v}" for n, v in versions.items())
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs; {libs}\n")
    print("| workload | library | records/s | MB/s | vs pymarc | vs best of mrrc/rmarc | µs/record beyond floor |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (workload, name), row in results.items():
        if "median_s" in row:
            beyond = row.get("us_beyond_floor")
            print(
                f"| {workload} | {name} | {row['records_per_s']:,.0f} "
                f"| {row['mb_per_s']:.1f} | {fmt_ratio(row['vs_pymarc'])} "
                f"| {fmt_ratio(row['vs_best_peer'])} | {'-' if beyond is None else f'{beyond:.3f}'} |"
            )
        else:
            print(f"| {workload} | {name} | failed: {row.get('error')} | | | | |")
    print()
    for name, why in missing.items():
        print(f"missing: {name} ({why})")
    for m in mismatches:
        label = "WARNING: check mismatch" if m["required"] else "note (MARC-8 data)"
        print(f"{label}: {m['workload']}: {m['library']} {m['check']} {m['value']} != {m['reference']} {m['expected']}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit status 1 if rapidmarc failed or failed a check."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=KINDS, default="utf8")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(CONTESTANTS), help="e.g. pymarc,rapidmarc")
    ap.add_argument("--json", type=Path, help="also write full results here")
    args = ap.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    if unknown := wanted - set(CONTESTANTS):
        ap.error(f"unknown contestant(s) {sorted(unknown)}; choose from {CONTESTANTS}")

    path = build_corpus(args.kind, args.records)
    size = path.stat().st_size
    path.read_bytes()  # warm the page cache so the first contestant is not penalised
    mods, missing = load_contestants([n for n in CONTESTANTS if n in wanted])
    versions = {n: version_of(n, m) for n, m in mods.items()}
    if "floor" in mods:
        FloorReader(path)  # built before any clock starts
    results = run_rounds(mods, path, args.repeat)
    summarise(results, args.records, size)
    mismatches = verify(results, args.kind)
    print_report(args, size, versions, missing, results, mismatches)

    if args.json:
        report = {
            "corpus": {
                "kind": args.kind,
                "records": args.records,
                "bytes": size,
                "path": str(path),
            },
            "repeat": args.repeat,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
            "versions": versions,
            "modules": {n: getattr(m, "__file__", None) for n, m in mods.items()},
            "missing": missing,
            "results": [{"workload": w, "library": n, **r} for (w, n), r in results.items()],
            "mismatches": mismatches,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    ours = [r for (_, n), r in results.items() if n == "rapidmarc"]
    failed = any("error" in r for r in ours) or any(
        m["required"] and "rapidmarc" in (m["library"], m["reference"]) for m in mismatches
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
