"""Run the benchmark suite: ``python bench/run.py --plan quick`` (or ``full``).

1. Build the corpora (cached in bench/.cache) and the native program (CMake,
   build/bench).
2. Verify: each (corpus, workload, library) runs once, untimed, computing the
   canonical digest of its output; every library is compared with pymarc
   (records, titles, values, as_marc bytes, JSON). Mismatches become visible
   ``check failed`` flags in the report, never a crash.
3. Time: all cases, ``repeat`` rounds, interleaved round-robin with the start
   rotated each round so that noise on a shared machine hits all alike. Each
   run is a fresh process (peak RSS per run) whose output digest must equal
   the library's verified digest, in every mode.
4. Callgrind (full plan or ``--callgrind``): instructions per record.
5. Write ``results-<plan>-<date>.json`` and ``latest.json`` in the results
   folder, then the Markdown report and plots (report.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import callgrind
from contestants import CANONICAL_KEYS, RAW_KEYS
from corpus import REPO_ROOT
from plan import PARALLEL_MODES, PLANS, Case, Corpus

BENCH = Path(__file__).resolve().parent
NATIVE_BUILD = REPO_ROOT / "build" / "bench"
NATIVE_BIN = NATIVE_BUILD / "native_bench"
RUN_TIMEOUT_S = 900
NATIVE_MODES = {"sequential": "seq", "files": "files", "onefile": "onefile"}


def log(msg: str) -> None:
    """Progress goes to stderr; stdout carries only the final report path."""
    print(msg, file=sys.stderr, flush=True)


def build_native() -> str | None:
    """Configure and build bench/native_bench.cpp; return an error text or None."""
    gen = ["-G", "Ninja"] if subprocess.run(["which", "ninja"], capture_output=True).returncode == 0 else []
    steps = [
        [
            "cmake",
            "-S",
            str(REPO_ROOT),
            "-B",
            str(NATIVE_BUILD),
            *gen,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DRAPIDMARC_BUILD_BENCH=ON",
        ],
        ["cmake", "--build", str(NATIVE_BUILD), "--target", "native_bench", "-j2"],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return f"{' '.join(cmd[:2])} failed: {(proc.stderr or proc.stdout)[-400:]}"
    return None


def native_modes() -> set[str]:
    """Modes the built native program supports (``onefile`` needs parallel.hpp)."""
    out = subprocess.run([str(NATIVE_BIN), "--modes"], capture_output=True, text=True)
    return set(out.stdout.split())


def run_once(case: Case, files: list[str], canonical: bool = False) -> dict[str, Any]:
    """One run of ``case`` in a fresh process; returns the worker's JSON."""
    env = dict(os.environ)
    if case.library == "native":
        cmd = [
            str(NATIVE_BIN),
            "--workload",
            case.workload,
            "--mode",
            NATIVE_MODES[case.mode],
            "--threads",
            str(case.workers),
            *files,
        ]
    else:
        spec = {
            "library": case.library,
            "workload": case.workload,
            "mode": case.mode,
            "workers": case.workers,
            "files": files,
            "canonical": canonical,
        }
        cmd = [sys.executable, str(BENCH / "worker.py"), json.dumps(spec)]
        if case.library == "mrrc" and case.mode == "bulk":
            env["RAYON_NUM_THREADS"] = str(case.workers)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {RUN_TIMEOUT_S}s"}
    lines = proc.stdout.strip().splitlines()
    try:
        out: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    if case.library == "native" and "elapsed_s" in out:
        out["digest"] = {k: out.pop(k) for k in ("records", "titles") if k in out}
    return out


def verify(
    cases: list[Case], paths: dict[Corpus, list[str]]
) -> tuple[dict[tuple[Corpus, str, str], dict[str, Any]], list[dict[str, Any]]]:
    """Untimed canonical pass per (corpus, workload, library), then the cross-check.

    Returns the reference digests (used to check every timed run) and the list
    of differences from pymarc.
    """
    refs: dict[tuple[Corpus, str, str], dict[str, Any]] = {}
    for case in cases:
        key = (case.corpus, case.workload, case.library)
        if key in refs:
            continue
        probe = Case(case.group, case.corpus, case.library, case.workload, "sequential")
        out = run_once(probe, paths[case.corpus], canonical=True)
        refs[key] = out
        log(f"verify {case.corpus.label:18} {case.workload:9} {case.library:9} {out.get('digest') or out.get('error')}")
    mismatches = []
    for (corpus, workload, lib), out in refs.items():
        ref = refs.get((corpus, workload, "pymarc"))
        if lib == "pymarc" or not ref or "digest" not in ref or "digest" not in out:
            continue
        for name in sorted(CANONICAL_KEYS & ref["digest"].keys() & out["digest"].keys()):
            if out["digest"][name] != ref["digest"][name]:
                mismatches.append(
                    {
                        "corpus": corpus.label,
                        "kind": corpus.kind,
                        "workload": workload,
                        "library": lib,
                        "check": name,
                        "value": out["digest"][name],
                        "pymarc": ref["digest"][name],
                    }
                )
    return refs, mismatches


def time_cases(
    cases: list[Case],
    paths: dict[Corpus, list[str]],
    repeat: int,
    refs: dict[tuple[Corpus, str, str], dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """``repeat`` interleaved rounds over all cases."""
    rows: dict[str, dict[str, Any]] = {c.key: {"times": [], "rss_kb": [], "children_rss_kb": []} for c in cases}
    started = time.monotonic()
    for rnd in range(repeat):
        shift = (rnd * len(cases)) // max(repeat, 1)
        for i, case in enumerate(cases[shift:] + cases[:shift]):
            row = rows[case.key]
            if "error" in row or "unavailable" in row:
                continue
            out = run_once(case, paths[case.corpus])
            if "unavailable" in out or "error" in out:
                row.update({k: out[k] for k in ("unavailable", "error") if k in out})
                continue
            ref = refs.get((case.corpus, case.workload, case.library), {}).get("digest", {})
            bad = [k for k in RAW_KEYS & out["digest"].keys() & ref.keys() if out["digest"][k] != ref[k]]
            if bad:
                got = ", ".join(f"{k} {out['digest'][k]} (verified: {ref[k]})" for k in sorted(bad))
                row["run_check"] = f"output differs from the verified run: {got}"
            row["times"].append(out["elapsed_s"])
            row["rss_kb"].append(out.get("maxrss_kb", 0))
            row["children_rss_kb"].append(out.get("children_maxrss_kb", 0))
            if i % 20 == 0:
                log(
                    f"round {rnd + 1}/{repeat} case {i + 1}/{len(cases)} "
                    f"({time.monotonic() - started:.0f}s) {case.key} {out['elapsed_s']:.3f}s"
                )
    return rows


def summarise(
    cases: list[Case],
    rows: dict[str, dict[str, Any]],
    sizes: dict[Corpus, int],
    mismatches: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Turn raw runs into figures: median/min/max, rates, ratios, checks."""
    out = []
    by_key = {c.key: c for c in cases}
    medians = {k: statistics.median(r["times"]) for k, r in rows.items() if r["times"]}

    def median_of(case: Case, library: str, mode: str) -> float | None:
        twin = Case(case.group, case.corpus, library, case.workload, mode, 1)
        return medians.get(twin.key)

    for key, row in rows.items():
        case = by_key[key]
        res: dict[str, Any] = {
            "group": case.group,
            "corpus": case.corpus.label,
            "kind": case.corpus.kind,
            "records": case.corpus.records,
            "files": case.corpus.files,
            "bytes": sizes[case.corpus],
            "library": case.library,
            "workload": case.workload,
            "mode": case.mode,
            "workers": case.workers,
            "times_s": row["times"],
        }
        for k in ("error", "unavailable"):
            if k in row:
                res[k] = row[k]
        failed = [
            m
            for m in mismatches
            if m["corpus"] == case.corpus.label and m["workload"] == case.workload and m["library"] == case.library
        ]
        checks = [f"{m['check']} differs from pymarc" for m in failed]
        if "run_check" in row:
            checks.append(row["run_check"])
        res["check"] = "; ".join(checks) if checks else "ok"
        if key in medians:
            med = medians[key]
            res.update(
                {
                    "median_s": med,
                    "min_s": min(row["times"]),
                    "max_s": max(row["times"]),
                    "records_per_s": case.corpus.records / med,
                    "mb_per_s": sizes[case.corpus] / 1e6 / med,
                    "maxrss_kb": max(row["rss_kb"]),
                    "children_maxrss_kb": max(row["children_rss_kb"]),
                }
            )
            base = median_of(case, "pymarc", "sequential")
            if case.group == "files200":
                base = None
                for m in ("processes", "threads"):
                    twin = Case(case.group, case.corpus, "pymarc", case.workload, m, 1)
                    base = base or medians.get(twin.key)
            res["vs_pymarc"] = base / med if base else None
            own = median_of(case, case.library, "sequential")
            if own is None and case.workers > 1:  # groups without a sequential case
                own = medians.get(Case(case.group, case.corpus, case.library, case.workload, case.mode, 1).key)
            if case.mode in PARALLEL_MODES and own:
                res["speedup"] = own / med
                res["efficiency"] = own / med / case.workers
        out.append(res)
    return out


def files200_ratios(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue #4's three ratios, from the files200 group."""
    med = {(r["library"], r["mode"], r["workers"]): r.get("median_s") for r in results if r["group"] == "files200"}

    def ratio(a: tuple[str, str, int], b: tuple[str, str, int]) -> float | None:
        ta, tb = med.get(a), med.get(b)
        return tb / ta if ta and tb else None

    return {
        "native 2 threads / 1 thread": {"value": ratio(("native", "files", 2), ("native", "files", 1)), "target": 1.8},
        "native one file 2 threads / 1 thread": {
            "value": ratio(("native", "onefile", 2), ("native", "onefile", 1)),
            "target": 1.8,
        },
        "rapidmarc Python threads 2 / 1": {
            "value": ratio(("rapidmarc", "threads", 2), ("rapidmarc", "threads", 1)),
            "target": 1.6,
        },
        "rapidmarc Python threads 2 / 1, readers with workers=0": {
            "value": ratio(("rapidmarc", "threads0", 2), ("rapidmarc", "threads0", 1)),
            "target": 1.6,
        },
        "rapidmarc 2 threads / pymarc 2 processes": {
            "value": ratio(("rapidmarc", "threads", 2), ("pymarc", "processes", 2)),
            "target": 10.0,
        },
    }


def probe_parallelism(workers: int = 2, mb: int = 64) -> float:
    """How many cores this machine really gives right now: the speed-up of ``workers``
    threads hashing (hashlib releases the GIL) over one thread doing the same total work.
    On a shared VM this is often well below the CPU count, and it caps every parallel mode."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    buf = bytes(mb << 20)

    def work(_: int) -> None:
        hashlib.sha256(buf).digest()

    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(workers):
            work(i)
        t1 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, range(workers)))
        t2 = time.perf_counter()
        best = max(best, (t1 - t0) / (t2 - t1))
    return best


def machine() -> dict[str, Any]:
    """CPU, memory, OS and Python of this run."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    except OSError:
        mem = 0
    import multiprocessing

    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_bytes": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "start_method": multiprocessing.get_start_method(),
        "parallel_capacity_2": round(probe_parallelism(), 2),
    }


def rapidmarc_build() -> str:
    """Path and mtime of the installed rapidmarc extension: a reinstall during a run shows."""
    import importlib.util

    spec = importlib.util.find_spec("rapidmarc")
    if not spec or not spec.origin:
        return "not installed"
    cores = sorted(Path(spec.origin).parent.glob("_core*.so"))
    if not cores:
        return str(Path(spec.origin).parent)
    stamp = dt.datetime.fromtimestamp(cores[0].stat().st_mtime, dt.timezone.utc)
    return f"{cores[0]} built {stamp.isoformat(timespec='seconds')}"


def versions() -> dict[str, str]:
    """Exact versions of the contestants and of the native build's compiler."""
    out = {}
    for name in ("pymarc", "rmarc", "mrrc", "rapidmarc", "matplotlib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        out["rapidmarc commit"] = rev or "?"
        cxx = subprocess.run(["c++", "--version"], capture_output=True, text=True)
        out["c++"] = cxx.stdout.splitlines()[0] if cxx.stdout else "?"
    except OSError:
        pass
    return out


def main(argv: list[str] | None = None) -> int:
    """Run a plan and write results, report and plots."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", choices=sorted(PLANS), default="quick")
    ap.add_argument("--out", type=Path, default=BENCH / "results")
    ap.add_argument("--only", help="comma-separated libraries (pymarc,rmarc,mrrc,rapidmarc,native)")
    ap.add_argument("--groups", help="comma-separated groups (modes,workloads,sizes,files200)")
    ap.add_argument("--repeat", type=int, help="override the plan's repetitions")
    ap.add_argument("--callgrind", action="store_true", help="also count instructions")
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args(argv)

    plan = PLANS[args.plan]()
    cases = plan.cases
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c.library in keep]
    if args.groups:
        keep = set(args.groups.split(","))
        cases = [c for c in cases if c.group in keep]
    repeat = args.repeat or plan.repeat
    cg_records = 0 if args.no_callgrind else (plan.callgrind_records or (2000 if args.callgrind else 0))
    began = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    build_before = rapidmarc_build()

    missing: dict[str, str] = {}
    if any(c.library == "native" for c in cases) or cg_records:
        log("building bench/native_bench.cpp ...")
        if err := build_native():
            missing["native"] = err
        else:
            supported = native_modes()
            if "onefile" not in supported:
                missing["native onefile"] = (
                    "rapidmarc/parallel.hpp (ParallelReader) not present: the one-file parallel mode is a stub"
                )
            cases = [c for c in cases if c.library != "native" or NATIVE_MODES[c.mode] in supported]
    cases = [c for c in cases if not (c.library == "native" and "native" in missing)]

    log(f"building corpora for {len(cases)} cases ...")
    corpora = sorted({c.corpus for c in cases}, key=lambda c: (c.kind, c.records, c.files))
    paths = {c: [str(p) for p in c.paths()] for c in corpora}
    sizes = {c: sum(Path(p).stat().st_size for p in paths[c]) for c in corpora}
    for c in corpora:  # warm the page cache, in chunks: this process's RSS stays small
        for p in paths[c]:
            with open(p, "rb") as fh:
                while fh.read(1 << 24):
                    pass

    refs, mismatches = verify(cases, paths)
    log(f"verified in {time.monotonic() - began:.0f}s; {len(mismatches)} difference(s) from pymarc; timing ...")
    rows = time_cases(cases, paths, repeat, refs)
    results = summarise(cases, rows, sizes, mismatches)

    cg: dict[str, Any] | None = None
    if cg_records:
        log(f"callgrind on {cg_records} records ...")
        cg = callgrind.measure(cg_records, NATIVE_BIN if "native" not in missing else None)

    warnings = []
    if (build_after := rapidmarc_build()) != build_before:
        warnings.append(
            f"rapidmarc was reinstalled during the run ({build_before} -> {build_after}): "
            "its figures mix two builds; run again"
        )
    report = {
        "plan": plan.name,
        "warnings": warnings,
        "rapidmarc_build": build_after,
        "repeat": repeat,
        "date": started_at.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - began, 1),
        "machine": machine(),
        "versions": versions(),
        "missing": missing,
        "corpora": {
            c.label: {"kind": c.kind, "records": c.records, "files": c.files, "bytes": sizes[c]} for c in corpora
        },
        "results": results,
        "mismatches": mismatches,
        "reference_digests": [
            {"corpus": c.label, "workload": w, "library": lib, **out} for (c, w, lib), out in refs.items()
        ],
        "files200_ratios": files200_ratios(results),
        "callgrind": cg,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"results-{plan.name}-{stamp}.json"
    text = json.dumps(report, indent=1) + "\n"
    path.write_text(text)
    (args.out / "latest.json").write_text(text)
    log(f"wrote {path} after {report['duration_s']:.0f}s")

    import report as report_mod  # matplotlib is imported only here

    md = report_mod.write_report(report, args.out)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
