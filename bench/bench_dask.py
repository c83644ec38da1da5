"""rapidmarc.dask.read_marc on a distributed.LocalCluster with 2 workers against 1, and against one
process's extract_arrow, measured side by side in one run.

    python bench/bench_dask.py [records] [repeats] [blocksize]

The input is the "mixed" corpus of bench/corpus.py (every real file's records cycled to `records`,
100,000 by default, about 100 MB; cached in bench/.cache). Rows, each the best wall time of
`repeats` (default 3):

* ``extract_arrow(workers=1)``: one process, one parsing thread, to a pyarrow Table;
* on a LocalCluster of 1 worker process (one thread), then of 2 (one thread each), the file cut
  into `blocksize` blocks (default 8MiB, so that 2 workers have work to share), a new collection
  for each run: ``read_marc(...).compute()`` (the whole pandas frame gathered on the client: its
  transfer and concatenation are serial) and ``read_marc(...).map_partitions(len).compute()`` (the
  rows counted where they were read, as a reduction or ``to_parquet`` would use them).

It prints the ratios 1 worker / 2 workers (the speed-up; the issue's target is 1.6x on 2 free
cores) and read_marc / extract_arrow (the overhead of Dask: scheduling, the framing pass,
conversion to pandas, and for the whole frame its transfer to the client), with the load average
before and after: on a shared machine, read the ratios, not the times.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pyarrow as pa
import rapidmarc
from distributed import Client, LocalCluster
from rapidmarc.dask import read_marc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import build_corpus  # noqa: E402

FIELDS = ["001", "LDR/6", "245$a", "650$a", "100$a", "008/35-37"]
SHAPE = {"001": "first", "LDR/6": "first", "100$a": "join", "008/35-37": "first"}


_last: list[float] = []  # the times of the last best() call


def best(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    _last[:] = times
    return min(times), result


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    blocksize = sys.argv[3] if len(sys.argv) > 3 else "8MiB"
    path = str(build_corpus("mixed", records))
    size = os.path.getsize(path)
    print(
        f"corpus: {records} records, {size / 1e6:.1f} MB, blocksize {blocksize}; load average before {os.getloadavg()}"
    )

    def single() -> int:
        return pa.table(
            rapidmarc.extract_arrow(path, FIELDS, shape=SHAPE, record_column=True, offset_column=True, workers=1)
        ).num_rows

    t_single, rows = best(single, repeats)
    results = {"extract_arrow, 1 process, workers=1": t_single}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            ) as cluster,
            Client(cluster) as client,
        ):
            client.wait_for_workers(workers)

            def frame():  # a new collection each run: new keys, so nothing is left from the last run
                return read_marc(path, FIELDS, shape=SHAPE, record_column=True, offset_column=True, blocksize=blocksize)

            parts = frame().npartitions
            t, n = best(lambda: len(frame().compute()), repeats)
            assert n == rows, (n, rows)
            print(f"  ({workers} worker(s), whole frame to the client: times {[round(x, 3) for x in _last]})")
            results[f"read_marc(...).compute(), {workers} worker(s), {parts} partitions"] = t
            t, n = best(lambda: int(frame().map_partitions(len).compute().sum()), repeats)
            assert n == rows, (n, rows)
            print(f"  ({workers} worker(s), rows counted on the workers: times {[round(x, 3) for x in _last]})")
            results[f"read_marc(...).map_partitions(len), {workers} worker(s)"] = t
    width = max(len(k) for k in results)
    for name, t in results.items():
        print(f"{name:<{width}}  {t:8.3f} s  {size / t / 1e6:7.1f} MB/s")
    v = list(results.values())
    t1, t1n, t2, t2n = v[1], v[2], v[3], v[4]
    print(f"speed-up 2 workers / 1 worker: whole frame {t1 / t2:.2f}x, counted on the workers {t1n / t2n:.2f}x")
    print(
        f"overhead vs extract_arrow(workers=1): whole frame {t1 / t_single:.2f}x (1 worker), {t2 / t_single:.2f}x "
        f"(2 workers); counted on the workers {t1n / t_single:.2f}x (1 worker), {t2n / t_single:.2f}x (2 workers)"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
