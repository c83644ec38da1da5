"""MARCXML -> ISO 2709, side by side: rapidmarc.convert(from_format="xml") with the fast engine
(a path: the hand-written scanner) and with the expat engine (the same file as a Python file
object: a stream is read with expat), yaz-marcdump -i marcxml -o marc, and pymarc
(parse_xml_to_array + MARCWriter).

    python bench/bench_marcxml.py [records] [pymarc_records] [repeats]

The input is built from the real records in ../shared/data/real (MARC-8 ones converted to UTF-8
by rapidmarc), repeated to `records`. pymarc is timed on the first `pymarc_records` (it is slow)
and its time scaled to `records`, which the table says. Each other tool runs `repeats` times in
turn (the machine is shared: the best time of each counts) and all must write the same records.
The peak RSS of the fast engine's conversion is measured in a child process.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymarc
import rapidmarc

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def build(n: int, path: Path) -> None:
    records = []
    for f in sorted(REAL.glob("*.mrc")):
        buf = io.BytesIO()
        rapidmarc.convert(str(f), buf, to="xml", utf8_leader=True)
        body = buf.getvalue()
        start = body.index(b"<record")
        end = body.rindex(b"</collection>")
        records.extend(r + b"</record>" for r in body[start:end].split(b"</record>") if r.strip())
    with open(path, "wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">')
        for i in range(n):
            out.write(records[i % len(records)])
        out.write(b"</collection>\n")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def peak_rss_mb(xml: Path, out: Path) -> float:
    """The peak RSS of a child process converting `xml` with the fast engine."""
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would be the parent's.
    code = (
        "import sys, rapidmarc; "
        "rapidmarc.convert(sys.argv[1], sys.argv[2], to='marc', from_format='xml'); "
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(xml), str(out)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        xml, small = Path(tmp) / "in.xml", Path(tmp) / "small.xml"
        outs = {k: Path(tmp) / f"{k}.mrc" for k in ("fast", "expat", "yaz", "pymarc")}
        build(n, xml)
        build(m, small)
        size = xml.stat().st_size

        def fast() -> None:
            rapidmarc.convert(str(xml), str(outs["fast"]), to="marc", from_format="xml")

        def expat() -> None:
            with open(xml, "rb") as fh:
                rapidmarc.convert(fh, str(outs["expat"]), to="marc", from_format="xml")

        def yaz() -> None:
            with open(outs["yaz"], "wb") as fh:
                subprocess.run(["yaz-marcdump", "-i", "marcxml", "-o", "marc", str(xml)], stdout=fh, check=True)

        best = {"fast": float("inf"), "expat": float("inf"), "yaz": float("inf")}
        for _ in range(repeats):
            for name, fn in (("fast", fast), ("expat", expat), ("yaz", yaz)):
                best[name] = min(best[name], timed(fn))
        assert rapidmarc.count(str(outs["fast"])) == n
        assert outs["fast"].read_bytes() == outs["expat"].read_bytes()

        def with_pymarc() -> None:
            with open(outs["pymarc"], "wb") as fh:
                writer = pymarc.MARCWriter(fh)
                for record in pymarc.parse_xml_to_array(str(small)):
                    writer.write(record)

        py = timed(with_pymarc) * n / m
        rss = peak_rss_mb(xml, outs["fast"])
    ours = best["fast"]
    print(f"{n} records, {size / 1e6:.0f} MB of MARCXML -> ISO 2709 (best of {repeats})")
    print("| tool | seconds | records/s | vs fast engine |")
    print("|---|---|---|---|")
    for name, t in (
        ("rapidmarc.convert(from_format='xml'), fast engine (a path)", ours),
        ("rapidmarc.convert(from_format='xml'), expat engine (a file object)", best["expat"]),
        ("yaz-marcdump -i marcxml -o marc", best["yaz"]),
        (f"pymarc parse_xml_to_array + MARCWriter (timed on {m}, scaled)", py),
    ):
        print(f"| {name} | {t:.2f} | {n / t:,.0f} | {t / ours:.1f}x |")
    print(f"peak RSS of the fast engine's conversion: {rss:.0f} MB")


if __name__ == "__main__":
    main()
