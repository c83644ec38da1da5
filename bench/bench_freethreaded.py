"""Thread scaling of pure-Python record work: 1 thread vs 2, with the GIL and without it.

The workload is what a typical script does per record: ``record.title`` and ``field.value()`` for
every field of ``record.get_fields()``. The corpus (``--kind`` ``--records``, from corpus.py) is
split into two files of half the records each. "1 thread" reads both halves one after the other;
"2 threads" reads one half in each of two threads at once. Each reader is
``MARCReader(path, workers=0)``, which parses in the calling thread (no parse-ahead thread), so
exactly two threads do all the work.

With the GIL only one thread runs Python at a time, so 2 threads gain only the share of the time
spent in native code that releases it. On a free-threaded CPython (3.13t) both threads run the
Python work at once, and the speedup (1-thread time / 2-thread time) can approach 2 on two idle
cores. Every interpreter given runs in its own process, the interpreters taking turns round by round
(the first one rotated) so that load on a shared machine hits all alike; the median of ``--repeat``
rounds is reported with the process CPU time, and the load average before and after. Both modes
must read the same records and values (a count and a checksum), or the run fails.

Usage::

    python bench/bench_freethreaded.py                              # this Python, and the
    #   free-threaded venv of `make test-freethreaded` if it exists (build/freethreaded/venv-py313t)
    python bench/bench_freethreaded.py --python /usr/bin/python3 --python build/freethreaded/venv-py313t/bin/python
    python bench/bench_freethreaded.py --records 40000 --repeat 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FREETHREADED = REPO_ROOT / "build" / "freethreaded" / "venv-py313t" / "bin" / "python"


# ---- worker side (runs inside each interpreter)


def work(path: str) -> tuple[int, int]:
    """title + every value() of one file: (records, checksum of the text)."""
    import rapidmarc

    n = 0
    crc = 0
    for record in rapidmarc.MARCReader(path, workers=0):
        n += 1
        crc = zlib.crc32((record.title or "").encode("utf-8", "surrogatepass"), crc)
        for field in record.get_fields():
            crc = zlib.crc32(field.value().encode("utf-8", "surrogatepass"), crc)
    return n, crc


def one_thread(halves: Sequence[str]) -> list[tuple[int, int]]:
    return [work(p) for p in halves]


def two_threads(halves: Sequence[str]) -> list[tuple[int, int]]:
    results: list[tuple[int, int]] = [(0, 0)] * len(halves)
    barrier = threading.Barrier(len(halves))

    def body(i: int) -> None:
        barrier.wait()
        results[i] = work(halves[i])

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(halves))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def worker(halves: Sequence[str], first: str) -> dict[str, object]:
    import sysconfig

    import rapidmarc

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    work(halves[0])  # warm up: imports, caches, the file in the page cache
    out: dict[str, object] = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil,
        "rapidmarc": rapidmarc.__version__,
    }
    modes = {"1": one_thread, "2": two_threads}
    order = ["1", "2"] if first == "1" else ["2", "1"]
    checks = {}
    for mode in order:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        checks[mode] = modes[mode](halves)
        out[f"wall_{mode}"] = time.perf_counter() - wall0
        out[f"cpu_{mode}"] = time.process_time() - cpu0
    if checks["1"] != checks["2"]:
        raise SystemExit(f"1 and 2 threads read different records: {checks['1']} != {checks['2']}")
    out["records"] = sum(n for n, _ in checks["1"])
    return out


# ---- orchestrator


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--python", action="append", default=None, help="an interpreter with rapidmarc installed (repeatable)"
    )
    ap.add_argument("--kind", default="mixed", help="corpus kind (bench/corpus.py)")
    ap.add_argument("--records", type=int, default=50000, help="records in the corpus (split in two halves)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds; the median is reported")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--worker", nargs=3, metavar=("FIRST", "HALF1", "HALF2"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        first, *halves = args.worker
        print(json.dumps(worker(halves, first)))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from corpus import build_split

    pythons = args.python or [sys.executable] + ([str(DEFAULT_FREETHREADED)] if DEFAULT_FREETHREADED.exists() else [])
    halves = [str(p) for p in build_split(args.kind, args.records, 2)]
    # A Python with no PYTHON_GIL in its environment keeps the GIL as its build has it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    runs: dict[str, list[dict[str, object]]] = {p: [] for p in pythons}
    load_before = loadavg()
    for r in range(args.repeat):
        rotated = pythons[r % len(pythons) :] + pythons[: r % len(pythons)]
        for py in rotated:
            cmd = [py, __file__, "--worker", "1" if r % 2 == 0 else "2", *halves]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{py}: failed\n{done.stderr}", file=sys.stderr)
                return 1
            runs[py].append(json.loads(done.stdout.strip().splitlines()[-1]))
    load_after = loadavg()

    print(
        f"{args.records} records ({args.kind}) in 2 halves; median of {args.repeat}; load average "
        f"before {load_before}, after {load_after} ({os.cpu_count()} CPUs)"
    )
    print(
        f"{'python':<28} {'GIL':<4} {'1 thread s':>10} {'2 threads s':>11} {'speedup':>8} {'CPU 1 s':>8} {'CPU 2 s':>8}"
    )
    summary = []
    for py in pythons:
        rs = runs[py]
        med = {k: statistics.median(float(x[k]) for x in rs) for k in ("wall_1", "wall_2", "cpu_1", "cpu_2")}
        head = rs[0]
        label = f"{head['python']}{'t' if head['free_threaded'] else ''}"
        speedup = med["wall_1"] / med["wall_2"]
        print(
            f"{label:<28} {'on' if head['gil_enabled'] else 'off':<4} {med['wall_1']:>10.3f} "
            f"{med['wall_2']:>11.3f} {speedup:>8.2f} {med['cpu_1']:>8.3f} {med['cpu_2']:>8.3f}"
        )
        summary.append({**head, **med, "speedup": speedup, "runs": rs})
    if len({s["records"] for s in summary}) != 1:
        print("interpreters read different record counts", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "records": args.records,
                    "kind": args.kind,
                    "repeat": args.repeat,
                    "load_before": load_before,
                    "load_after": load_after,
                    "results": summary,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
