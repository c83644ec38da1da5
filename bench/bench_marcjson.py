"""MARC-in-JSON -> ISO 2709, side by side: rapidmarc.convert(from_format="json"), yaz-marcdump
-i json -o marc, and pymarc (JSONReader + MARCWriter).

    python bench/bench_marcjson.py [records] [pymarc_records]

The input is a JSON array (what JSONWriter and rapidmarc.convert write) built from the real
records in ../shared/data/real (MARC-8 ones converted to UTF-8 by rapidmarc), repeated to
`records`; rapidmarc also reads the same records as JSON Lines. pymarc is timed on the first
`pymarc_records` and its time scaled to `records`, which the table says. yaz-marcdump reads one
JSON record per input (it stops at the second with "extra characters"; on a large array it was
seen to run for minutes without output, so it is stopped after 60 s): the table says how many
records it wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
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


def build(n: int, path: Path, lines: bool = False) -> None:
    records = objects()
    with open(path, "wb") as out:
        out.write(b"" if lines else b"[")
        for i in range(n):
            if i and not lines:
                out.write(b",")
            out.write(records[i % len(records)])
            if lines:
                out.write(b"\n")
        out.write(b"" if lines else b"]")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        doc, lines, small = Path(tmp) / "in.json", Path(tmp) / "in.jsonl", Path(tmp) / "small.json"
        out = Path(tmp) / "out.mrc"
        build(n, doc)
        build(n, lines, lines=True)
        build(m, small)
        size = doc.stat().st_size
        ours = timed(lambda: rapidmarc.convert(str(doc), str(out), to="marc", from_format="json"))
        assert rapidmarc.count(str(out)) == n
        ours_lines = timed(lambda: rapidmarc.convert(str(lines), str(out), to="marc", from_format="json"))
        assert rapidmarc.count(str(out)) == n
        yaz: float | None = None
        # yaz reads one JSON record per input and has been seen to spin on a large array
        with open(out, "wb") as fh, contextlib.suppress(subprocess.TimeoutExpired):
            yaz = timed(
                lambda: subprocess.run(["yaz-marcdump", "-i", "json", "-o", "marc", str(doc)], stdout=fh, timeout=60)
            )
        yaz_records = rapidmarc.count(str(out))

        def with_pymarc() -> None:
            with open(out, "wb") as fh, open(small, encoding="utf-8") as src:
                writer = pymarc.MARCWriter(fh)
                for record in pymarc.JSONReader(src):  # type: ignore[arg-type]
                    writer.write(record)

        py = timed(with_pymarc) * n / m
    print(f"{n} records, {size / 1e6:.0f} MB of MARC-in-JSON -> ISO 2709")
    print("| tool | seconds | records/s | vs rapidmarc |")
    print("|---|---|---|---|")
    for name, t in (
        ("rapidmarc.convert(from_format='json'), JSON array", ours),
        ("rapidmarc.convert(from_format='json'), JSON Lines", ours_lines),
        (f"pymarc JSONReader + MARCWriter (timed on {m}, scaled)", py),
    ):
        print(f"| {name} | {t:.2f} | {n / t:,.0f} | {t / ours:.1f}x |")
    took = "stopped after 60 s" if yaz is None else f"{yaz:.2f}"
    print(f"| yaz-marcdump -i json -o marc: wrote {yaz_records} record(s) of {n} | {took} | - | - |")


if __name__ == "__main__":
    main()
