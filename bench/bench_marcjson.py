"""MARC-in-JSON side by side, two questions, each like with like:

* reading records, what a user iterates: rapidmarc.JSONReader(path, native=True) (records built
  natively, streaming) against pymarc.JSONReader (json.load of the document, then a Record per
  object). Issue #13's "30x pymarc's JSONReader" is this table's CPU column.
* converting to ISO 2709: rapidmarc.convert(from_format="json", to="marc") (no Python objects)
  against pymarc's JSONReader + MARCWriter; and yaz-marcdump -i json -o marc.

    python bench/bench_marcjson.py [records] [pymarc_records] [rounds]

The input is a JSON array (what JSONWriter and rapidmarc.convert write) built from the real
records in ../shared/data/real (MARC-8 ones converted to UTF-8 by rapidmarc), repeated to
`records`; rapidmarc also reads the same records as JSON Lines and as concatenated objects
(pretty-printed, as yaz-marcdump -o json writes them); pymarc reads only the array (it reads
neither of the others). pymarc is timed on the first `pymarc_records` (default: two passes over the
corpus, 10,348 records, so that the sample has the corpus' mix of record sizes) and its time
scaled to `records`, which the tables say. The rapidmarc runs and pymarc's are interleaved in `rounds`
rounds (default 3) and each row gives the median wall-clock time and the median CPU time of the
process, every thread included (the machine is shared: CPU time moves less than wall time under
load); the ratio columns are pymarc's time over the row's. The load average is printed with the
tables. yaz-marcdump reads one JSON record per input (it stops at the second with "extra
characters"; on a large array it was seen to run for minutes without output, so it is stopped
after 60 s): the last line says how many records it wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymarc
import rapidmarc

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def objects() -> list[bytes]:
    out = []
    for f in sorted(REAL.glob("*.mrc")):
        buf = io.BytesIO()
        rapidmarc.convert(str(f), buf, to="json", utf8_leader=True)
        out.extend(json.dumps(obj, separators=(",", ":")).encode() for obj in json.loads(buf.getvalue()))
    return out


def build(n: int, path: Path, layout: str = "array") -> None:
    """`layout`: "array", "lines" (JSON Lines) or "concatenated" (pretty-printed objects)."""
    records = objects()
    if layout == "concatenated":
        records = [json.dumps(json.loads(r), indent=2).encode() for r in records]
    with open(path, "wb") as out:
        out.write(b"[" if layout == "array" else b"")
        for i in range(n):
            if i and layout == "array":
                out.write(b",")
            out.write(records[i % len(records)])
            if layout == "lines":
                out.write(b"\n")
        out.write(b"]" if layout == "array" else b"")


def timed(fn) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the process)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    # pymarc's sample: whole passes over the corpus (records differ in size from file to file: the
    # first 500 average 418 bytes of JSON, all of them 1,711), so that it has the mix of the input
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 2 * len(objects())
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {layout: Path(tmp) / f"in.{layout}" for layout in ("array", "lines", "concatenated")}
        for layout, path in inputs.items():
            build(n, path, layout)
        small = Path(tmp) / "small.json"
        build(m, small)
        out = Path(tmp) / "out.mrc"
        sizes = {layout: path.stat().st_size for layout, path in inputs.items()}

        def pymarc_read() -> None:
            with open(small, encoding="utf-8") as src:
                count = sum(1 for _ in pymarc.JSONReader(src))  # type: ignore[arg-type]
            assert count == m

        def pymarc_convert() -> None:
            with open(out, "wb") as fh, open(small, encoding="utf-8") as src:
                writer = pymarc.MARCWriter(fh)
                for record in pymarc.JSONReader(src):  # type: ignore[arg-type]
                    writer.write(record)

        def rapidmarc_read(path: Path) -> None:
            count = sum(1 for record in rapidmarc.JSONReader(str(path), native=True) if record is not None)
            assert count == n

        times: dict[str, list[tuple[float, float]]] = {}

        def add(name: str, timing: tuple[float, float], scale: float = 1.0) -> None:
            times.setdefault(name, []).append((timing[0] * scale, timing[1] * scale))

        for _ in range(rounds):
            for layout, path in inputs.items():
                add(f"read {layout}", timed(lambda p=path: rapidmarc_read(p)))
            add("read pymarc", timed(pymarc_read), n / m)
            for layout, path in inputs.items():
                add(
                    f"convert {layout}",
                    timed(lambda p=path: rapidmarc.convert(str(p), str(out), to="marc", from_format="json")),
                )
                assert rapidmarc.count(str(out)) == n
            add("convert pymarc", timed(pymarc_convert), n / m)
        yaz: float | None = None
        # yaz reads one JSON record per input and has been seen to spin on a large array
        with open(out, "wb") as fh, contextlib.suppress(subprocess.TimeoutExpired, FileNotFoundError):
            yaz = timed(
                lambda: subprocess.run(
                    ["yaz-marcdump", "-i", "json", "-o", "marc", str(inputs["array"])], stdout=fh, timeout=60
                )
            )[0]
        yaz_records = rapidmarc.count(str(out))
    load_after = os.getloadavg()

    wall = {name: statistics.median([t[0] for t in ts]) for name, ts in times.items()}
    cpu = {name: statistics.median([t[1] for t in ts]) for name, ts in times.items()}
    print(
        f"{n} records ({sizes['array'] / 1e6:.0f} MB as a JSON array, {sizes['lines'] / 1e6:.0f} MB as JSON "
        f"Lines, {sizes['concatenated'] / 1e6:.0f} MB concatenated); median of {rounds} interleaved rounds; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    layouts = {"array": "JSON array", "lines": "JSON Lines", "concatenated": "concatenated objects"}
    tables = {
        "read": (
            "Reading records (what a user iterates):",
            "rapidmarc.JSONReader(path, native=True)",
            f"pymarc.JSONReader over the array (timed on {m}, scaled)",
        ),
        "convert": (
            "Converting to ISO 2709 (a file of records):",
            "rapidmarc.convert(from_format='json', to='marc')",
            f"pymarc JSONReader + MARCWriter over the array (timed on {m}, scaled)",
        ),
    }
    for kind, (title, ours, theirs) in tables.items():
        print()
        print(title)
        print()
        print("| tool | input | wall s | CPU s | records/s (wall) | pymarc / this (wall) | pymarc / this (CPU) |")
        print("|---|---|---|---|---|---|---|")
        base = f"{kind} pymarc"
        for layout, label in [*layouts.items(), ("pymarc", "JSON array")]:
            name = f"{kind} {layout}"
            tool = theirs if layout == "pymarc" else ours
            print(
                f"| {tool} | {label} | {wall[name]:.2f} | {cpu[name]:.2f} | {n / wall[name]:,.0f} | "
                f"{wall[base] / wall[name]:.1f}x | {cpu[base] / cpu[name]:.1f}x |"
            )
    took = "stopped after 60 s" if yaz is None else f"{yaz:.2f} s"
    print()
    print(f"yaz-marcdump -i json -o marc on the array: wrote {yaz_records} record(s) of {n} ({took})")


if __name__ == "__main__":
    main()
