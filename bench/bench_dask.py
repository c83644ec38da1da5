"""rapidmarc.dask.read_marc on a distributed.LocalCluster with 2 workers against 1, and against one
process's extract_arrow, measured side by side in one run.

    python bench/bench_dask.py [records] [repeats] [blocksize]

The input is the "mixed" corpus of bench/corpus.py (every real file's records cycled to `records`,
100,000 by default, about 100 MB; cached in bench/.cache). Rows, each the best wall time of
`repeats` (default 3):

* ``extract_arrow(workers=1)``: one process, one parsing thread, to a pyarrow Table;
* ``read_marc(...).compute()`` on a LocalCluster of 1 worker process (one thread), then of 2
  (one thread each), cut into `blocksize` blocks (default 8MiB, so that 2 workers have work to share),
  the pandas frame gathered on the client.

It prints the ratios 1 worker / 2 workers (the speed-up; the issue's target is 1.6x on 2 free
cores) and read_marc(1 worker) / extract_arrow (the overhead of Dask: scheduling, the framing pass,
conversion to pandas and the transfer of the frame to the client), with the load average before
and after: on a shared machine, read the ratios, not the times.
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


def best(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
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
            frame = read_marc(path, FIELDS, shape=SHAPE, record_column=True, offset_column=True, blocksize=blocksize)
            client.wait_for_workers(workers)
            t, n = best(lambda f=frame: len(f.compute()), repeats)
            assert n == rows, (n, rows)
            results[f"read_marc on LocalCluster, {workers} worker(s), {frame.npartitions} partitions"] = t
    width = max(len(k) for k in results)
    for name, t in results.items():
        print(f"{name:<{width}}  {t:8.3f} s  {size / t / 1e6:7.1f} MB/s")
    t1, t2 = list(results.values())[1:]
    print(f"speed-up 2 workers / 1 worker: {t1 / t2:.2f}x")
    print(
        f"overhead read_marc(1 worker) / extract_arrow(workers=1): {t1 / t_single:.2f}x; "
        f"read_marc(2 workers) / extract_arrow: {t2 / t_single:.2f}x"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
