"""MARC-in-JSON -> ISO 2709, side by side: rapidmarc.convert(from_format="json"), yaz-marcdump
-i json -o marc, and pymarc (JSONReader + MARCWriter).

    python bench/bench_marcjson.py [records] [pymarc_records] [rounds]

The input is a JSON array (what JSONWriter and rapidmarc.convert write) built from the real
records in ../shared/data/real (MARC-8 ones converted to UTF-8 by rapidmarc), repeated to
`records`; rapidmarc also reads the same records as JSON Lines and as concatenated objects
(pretty-printed, as yaz-marcdump -o json writes them). pymarc is timed on the first
`pymarc_records` and its time scaled to `records`, which the table says. The rapidmarc runs and
pymarc's are interleaved in `rounds` rounds (default 3) and each row gives the median wall-clock
time and the median CPU time of the process (the machine is shared: CPU time moves less); the
ratio column is pymarc's time over the row's, for both. yaz-marcdump reads one
JSON record per input (it stops at the second with "extra characters"; on a large array it was
seen to run for minutes without output, so it is stopped after 60 s): the table says how many
records it wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
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
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {layout: Path(tmp) / f"in.{layout}" for layout in ("array", "lines", "concatenated")}
        for layout, path in inputs.items():
            build(n, path, layout)
        small = Path(tmp) / "small.json"
        build(m, small)
        out = Path(tmp) / "out.mrc"
        sizes = {layout: path.stat().st_size for layout, path in inputs.items()}

        def with_pymarc() -> None:
            with open(out, "wb") as fh, open(small, encoding="utf-8") as src:
                writer = pymarc.MARCWriter(fh)
                for record in pymarc.JSONReader(src):  # type: ignore[arg-type]
                    writer.write(record)

        times: dict[str, list[tuple[float, float]]] = {name: [] for name in [*inputs, "pymarc"]}
        for _ in range(rounds):
            for layout, path in inputs.items():
                times[layout].append(
                    timed(lambda p=path: rapidmarc.convert(str(p), str(out), to="marc", from_format="json"))
                )
                assert rapidmarc.count(str(out)) == n
            wall, cpu = timed(with_pymarc)
            times["pymarc"].append((wall * n / m, cpu * n / m))
        yaz: float | None = None
        # yaz reads one JSON record per input and has been seen to spin on a large array
        with open(out, "wb") as fh, contextlib.suppress(subprocess.TimeoutExpired):
            yaz = timed(
                lambda: subprocess.run(
                    ["yaz-marcdump", "-i", "json", "-o", "marc", str(inputs["array"])], stdout=fh, timeout=60
                )
            )[0]
        yaz_records = rapidmarc.count(str(out))

    def median(values: list[float]) -> float:
        return statistics.median(values)

    wall = {name: median([t[0] for t in ts]) for name, ts in times.items()}
    cpu = {name: median([t[1] for t in ts]) for name, ts in times.items()}
    print(
        f"{n} records, MARC-in-JSON -> ISO 2709 ({sizes['array'] / 1e6:.0f} MB as an array, "
        f"{sizes['lines'] / 1e6:.0f} MB as JSON Lines, {sizes['concatenated'] / 1e6:.0f} MB concatenated); "
        f"median of {rounds} interleaved rounds"
    )
    print("| tool | wall s | CPU s | records/s (wall) | pymarc / this (wall) | pymarc / this (CPU) |")
    print("|---|---|---|---|---|---|")
    names = {
        "array": "rapidmarc.convert(from_format='json'), JSON array",
        "lines": "rapidmarc.convert(from_format='json'), JSON Lines",
        "concatenated": "rapidmarc.convert(from_format='json'), concatenated objects",
        "pymarc": f"pymarc JSONReader + MARCWriter (timed on {m}, scaled)",
    }
    for name, label in names.items():
        print(
            f"| {label} | {wall[name]:.2f} | {cpu[name]:.2f} | {n / wall[name]:,.0f} | "
            f"{wall['pymarc'] / wall[name]:.1f}x | {cpu['pymarc'] / cpu[name]:.1f}x |"
        )
    took = "stopped after 60 s" if yaz is None else f"{yaz:.2f}"
    print(f"| yaz-marcdump -i json -o marc: wrote {yaz_records} record(s) of {n} | {took} | - | - | - | - |")


if __name__ == "__main__":
    main()
