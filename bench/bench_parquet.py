"""Parquet (and CSV) writing rate: to_parquet / to_csv next to extract_arrow / extract_long alone.

    python bench/bench_parquet.py [records] [repeats] [workers]

The input is a corpus of `records` real records (bench/corpus.py, kind "mixed": the shared real
files cycled, UTF-8 and MARC-8), in a file, so each row reads it as a user would: lazily, batch
by batch. Rows, each its best of `repeats` (wall and CPU seconds of the whole process, all
threads):

* the wide table (a few specs of every kind) consumed batch by batch without writing
  (``extract_arrow(lazy=True)`` through ``pyarrow.RecordBatchReader``): the columns alone;
* the same written with ``to_parquet`` (zstd) and ``to_csv`` (values joined);
* the long table consumed alone (``extract_long(lazy=True)``), and written with ``to_parquet``.

Rates are records and input megabytes per wall second; the last column is the ratio to the
matching "alone" row. Then the peak RSS of a fresh process that writes the long table to Parquet
from the path (streamed: bounded memory) and from the file's bytes (read whole first), to show
that streaming keeps memory flat whatever the input's size. Timings on a shared machine are
noisy: compare the ratios within one run, and read them next to the load average printed before
and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import rapidmarc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import build_corpus  # noqa: E402

SPECS = ["001", "008/7-10", "245$a", "650$a", "100$a", "020$a"]
SHAPES = {"001": "first", "008/7-10": "first", "245$a": "first"}


def consume(columns) -> int:
    rows = 0
    for batch in pa.RecordBatchReader.from_stream(columns):
        rows += batch.num_rows
    return rows


def best(fn, repeats: int) -> tuple[float, float, object]:
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


RSS_SCRIPT = """
import resource, sys, rapidmarc
from pathlib import Path
src = sys.argv[1] if sys.argv[2] == "path" else Path(sys.argv[1]).read_bytes()
rapidmarc.to_parquet(src, sys.argv[3], long=True, workers=int(sys.argv[4]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(corpus: Path, how: str, out: Path, workers: int) -> float:
    """Peak RSS (MB) of a fresh process writing the long table of `corpus` read as `how`."""
    args = [sys.executable, "-c", RSS_SCRIPT, str(corpus), how, str(out), str(workers)]
    return int(subprocess.run(args, check=True, capture_output=True, text=True).stdout) / 1024


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    corpus = build_corpus("mixed", n)
    size = corpus.stat().st_size
    records = rapidmarc.count(corpus)
    print(f"{records} records, {size / 1e6:.1f} MB ({corpus.name}), workers={workers}, best of {repeats}")
    print(f"load average before: {load()}")
    kw = {"workers": workers}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rows = [
            (
                "wide: extract_arrow alone",
                None,
                lambda: consume(rapidmarc.extract_arrow(corpus, SPECS, shape=SHAPES, lazy=True, **kw)),
            ),
            (
                "wide: to_parquet",
                out / "wide.parquet",
                lambda: rapidmarc.to_parquet(corpus, out / "wide.parquet", SPECS, shape=SHAPES, **kw).rows,
            ),
            (
                "wide: to_csv",
                out / "wide.csv",
                lambda: rapidmarc.to_csv(corpus, out / "wide.csv", SPECS, **kw).rows,
            ),
            ("long: extract_long alone", None, lambda: consume(rapidmarc.extract_long(corpus, lazy=True, **kw))),
            (
                "long: to_parquet",
                out / "long.parquet",
                lambda: rapidmarc.to_parquet(corpus, out / "long.parquet", long=True, **kw).rows,
            ),
        ]
        consume(rapidmarc.extract_arrow(corpus, SPECS, lazy=True, **kw))  # warm up the page cache
        print(
            f"{'row':28} {'wall s':>7} {'cpu s':>7} {'rows':>9} {'rec/s':>9} {'MB/s':>7} {'out MB':>7} {'vs alone':>8}"
        )
        alone = 0.0
        for name, path, fn in rows:
            wall, cpu, written = best(fn, repeats)
            if path is None:
                alone = wall
            out_mb = f"{path.stat().st_size / 1e6:7.1f}" if path is not None else f"{'-':>7}"
            print(
                f"{name:28} {wall:7.3f} {cpu:7.3f} {written:9d} {records / wall:9.0f} {size / 1e6 / wall:7.1f} "
                f"{out_mb} {wall / alone:8.2f}"
            )
        for how in ("path", "bytes"):
            rss = peak_rss_mb(corpus, how, out / "rss.parquet", workers)
            print(f"peak RSS, long table to Parquet from the {how:5}: {rss:7.1f} MB (input {size / 1e6:.1f} MB)")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
