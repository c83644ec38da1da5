"""The native engine against the hardware (issue #16): ``python bench/bench_engine.py``.

For each corpus (UTF-8 and MARC-8 real records replicated to ``--records``), side by side in one
run, interleaved round-robin (``--repeat`` rounds, the order rotated each round):

- ``floor``: native_bench reads the file with the same FileSource reads and counts record
  terminators with memchr -- what any reader must at least do (the page cache is warm: every
  variant reads the same file, and one untimed run primes it);
- ``parse 1T``: RecordReader + parse_record on one thread (the C++ sequential path);
- ``onefile 1T`` / ``onefile 2T``: the single-file parallel engine (ParallelReader) with 1 and 2
  workers; their ratio is the two-core scaling of one file.

It reports the median and the spread (min-max) of each, GB/s, the parse's share of the floor,
and the 2T/1T ratio; with ``--callgrind``, instructions per record of each stage of the
sequential parse (framing, directory and field checks, UTF-8 validation) from one callgrind
run, which load does not distort. Wall times on a loaded machine are noise: run it on an idle
machine (``uptime`` is printed before and after) and compare ratios from one run. Each corpus
is read from a copy in ``--memory-dir`` (default ``/dev/shm``, a tmpfs; ``none``: where it was
built): on this VM the page cache is reclaimed while the benchmark runs (DAMON), so a file warmed
by one round could be read from disk again in a later one.

Options: ``--records 100000 --repeat 7 --kinds utf8,marc8 --callgrind --json out.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import REPO_ROOT, build_corpus

BUILD = REPO_ROOT / "build" / "bench"
NATIVE = BUILD / "native_bench"


def build() -> None:
    gen = ["-G", "Ninja"] if subprocess.run(["which", "ninja"], capture_output=True).returncode == 0 else []
    subprocess.run(
        [
            "cmake",
            "-S",
            str(REPO_ROOT),
            "-B",
            str(BUILD),
            *gen,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DRAPIDMARC_BUILD_BENCH=ON",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(BUILD), "--target", "native_bench", "-j2"], check=True, capture_output=True)


VARIANTS = {
    "floor": ["--workload", "floor"],
    "parse 1T": ["--workload", "read", "--mode", "seq"],
    "onefile 1T": ["--workload", "read", "--mode", "onefile", "--threads", "1"],
    "onefile 2T": ["--workload", "read", "--mode", "onefile", "--threads", "2"],
}


def run(args: list[str], path: Path) -> dict:
    out = subprocess.run([str(NATIVE), *args, str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# Stages of the sequential parse, as callgrind's inclusive costs of these functions.
STAGES = {
    "framing (RecordReader::next)": r"RecordReader::next\(",
    "parse_record (directory, checks)": r"rapidmarc::parse_record\(",
    "  of which UTF-8 validation": r"utf8_valid_blocks|utf8_valid_ssse3|is_valid_utf8",
}


def callgrind_stages(path: Path, records: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                str(NATIVE),
                "--workload",
                "read",
                str(path),
            ],
            check=True,
            capture_output=True,
        )
        text = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", str(out)], check=True, capture_output=True, text=True
        ).stdout
    total = int(re.search(r"^\s*([\d,]+) .*PROGRAM TOTALS", text, re.M).group(1).replace(",", ""))
    result = {"total per record": total / records}
    for name, pattern in STAGES.items():
        best = 0
        for line in text.splitlines():
            m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+\*?\s*(.*)$", line)
            if m and re.search(pattern, m.group(2)):
                best = max(best, int(m.group(1).replace(",", "")))
        result[name] = best / records
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--kinds", default="utf8,marc8")
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--callgrind-records", type=int, default=20_000)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--memory-dir",
        type=Path,
        default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
        help="copy each corpus here first (default /dev/shm, a tmpfs; 'none' to read it where built)",
    )
    args = ap.parse_args()
    if args.memory_dir is not None and str(args.memory_dir) == "none":
        args.memory_dir = None

    build()
    print(f"load average before: {os.getloadavg()}")
    report: dict = {"records": args.records, "repeat": args.repeat, "load_before": os.getloadavg(), "kinds": {}}
    for kind in args.kinds.split(","):
        path = build_corpus(kind, args.records)
        copy = None
        if args.memory_dir is not None:
            # The page cache of this VM is reclaimed under the benchmark (DAMON reclaims cold pages:
            # a "warm" file is read from disk again some rounds later); a tmpfs copy stays in memory.
            copy = args.memory_dir / f"rapidmarc-bench-{os.getpid()}-{path.name}"
            shutil.copyfile(path, copy)
            path = copy
        size = path.stat().st_size
        names = list(VARIANTS)
        times: dict[str, list[float]] = {n: [] for n in names}
        try:
            for n in names:  # untimed: warm the page cache and check every variant counts every record
                got = run(VARIANTS[n], path)
                if got["records"] != args.records:
                    raise SystemExit(f"{kind} {n}: {got['records']} records, expected {args.records}")
            for r in range(args.repeat):
                for n in names[r % len(names) :] + names[: r % len(names)]:
                    times[n].append(run(VARIANTS[n], path)["elapsed_s"])
        finally:
            if copy is not None:
                copy.unlink()
        rows = {}
        floor = statistics.median(times["floor"])
        print(f"\n{kind}: {args.records:,} records, {size / 1e6:.1f} MB, {args.repeat} interleaved rounds")
        print(f"  {'variant':<12} {'median s':>9} {'min-max s':>17} {'GB/s':>6} {'floor %':>8}")
        for n in names:
            med = statistics.median(times[n])
            rows[n] = {"median_s": med, "min_s": min(times[n]), "max_s": max(times[n]), "gb_s": size / med / 1e9}
            print(
                f"  {n:<12} {med:9.4f} {min(times[n]):8.4f}-{max(times[n]):<8.4f} {size / med / 1e9:6.2f} "
                f"{100 * floor / med:7.0f}%"
            )
        ratio = rows["onefile 1T"]["median_s"] / rows["onefile 2T"]["median_s"]
        per_round = [a / b for a, b in zip(times["onefile 1T"], times["onefile 2T"], strict=True)]
        print(f"  onefile 2T / 1T: {ratio:.2f}x (per round {min(per_round):.2f}-{max(per_round):.2f})")
        entry = {"bytes": size, "variants": rows, "two_thread_ratio": ratio, "two_thread_ratio_rounds": per_round}
        if args.callgrind:
            cpath = build_corpus(kind, args.callgrind_records)
            stages = callgrind_stages(cpath, args.callgrind_records)
            entry["callgrind_per_record"] = stages
            print(f"  callgrind, instructions per record ({args.callgrind_records:,} records):")
            for k, v in stages.items():
                print(f"    {k:<44} {v:8.0f}")
        report["kinds"][kind] = entry
    report["load_after"] = os.getloadavg()
    print(f"\nload average after: {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
