"""MARCXML -> ISO 2709, side by side: rapidmarc.convert(from_format="xml"), yaz-marcdump
-i marcxml -o marc, and pymarc (parse_xml_to_array + MARCWriter).

    python bench/bench_marcxml.py [records] [pymarc_records]

The input is built from the real records in ../shared/data/real (MARC-8 ones converted to UTF-8
by rapidmarc), repeated to `records`. pymarc is timed on the first `pymarc_records` (it is slow)
and its time scaled to `records`, which the table says.
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        xml, small, out = Path(tmp) / "in.xml", Path(tmp) / "small.xml", Path(tmp) / "out.mrc"
        build(n, xml)
        build(m, small)
        size = xml.stat().st_size
        ours = timed(lambda: rapidmarc.convert(str(xml), str(out), to="marc", from_format="xml"))
        assert rapidmarc.count(str(out)) == n
        yaz = timed(
            lambda: subprocess.run(
                ["yaz-marcdump", "-i", "marcxml", "-o", "marc", str(xml)], stdout=subprocess.DEVNULL, check=True
            )
        )

        def with_pymarc() -> None:
            with open(out, "wb") as fh:
                writer = pymarc.MARCWriter(fh)
                for record in pymarc.parse_xml_to_array(str(small)):
                    writer.write(record)

        py = timed(with_pymarc) * n / m
    print(f"{n} records, {size / 1e6:.0f} MB of MARCXML -> ISO 2709")
    print("| tool | seconds | records/s | vs rapidmarc |")
    print("|---|---|---|---|")
    for name, t in (
        ("rapidmarc.convert(from_format='xml')", ours),
        ("yaz-marcdump -i marcxml -o marc", yaz),
        (f"pymarc parse_xml_to_array + MARCWriter (timed on {m}, scaled)", py),
    ):
        print(f"| {name} | {t:.2f} | {n / t:,.0f} | {t / ours:.1f}x |")


if __name__ == "__main__":
    main()
