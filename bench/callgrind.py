"""Instructions per record under callgrind: the stable metric on a noisy machine.

Wall-clock times on a shared 2-core machine move by tens of percent from run to
run; the number of instructions executed barely moves. For every library this
runs ``valgrind --tool=callgrind`` twice on the same small UTF-8 corpus: once
reading all records and once reading an empty file (interpreter start-up, imports
and opening the reader), and reports ``(I_all - I_none) / records``. Threads are
included: callgrind counts instructions on every thread (rapidmarc parses on a
worker thread), so this is total work, not elapsed time. PYTHONHASHSEED is fixed,
so that two runs of the same build give the same count.

Usage: ``python bench/callgrind.py --records 2000`` (slow: a minute or two).
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
from typing import Any

from contestants import PYTHON_LIBRARIES
from corpus import build_corpus

BENCH = Path(__file__).resolve().parent
TARGET = """
import sys
sys.path.insert(0, {bench!r})
from contestants import run_file, library
library({lib!r})
run_file({lib!r}, {workload!r}, False, {path!r})
"""


def _instructions(cmd: list[str], out_dir: Path, tag: str) -> int:
    """Total instructions (Ir) of ``cmd`` under callgrind, all threads."""
    out = out_dir / f"{tag}.out"
    # A fixed hash seed: string hashing decides dict layouts, which otherwise move the count by
    # tens of instructions per record from run to run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--separate-threads=no", f"--callgrind-out-file={out}", *cmd],
        check=True,
        capture_output=True,
        timeout=1800,
        env=env,
    )
    text = out.read_text(errors="replace")
    m = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if not m:
        raise RuntimeError(f"no instruction total in {out}")
    return int(m.group(1))


def measure(
    records: int, native_bin: Path | None, libraries: tuple[str, ...] = PYTHON_LIBRARIES, repeat: int = 1
) -> dict[str, Any]:
    """Instructions per record for each Python library (read and extract) and native."""
    if not shutil.which("valgrind"):
        return {"error": "valgrind not installed"}
    path = str(build_corpus("utf8", records))
    result: dict[str, Any] = {"records": records, "corpus": "utf8", "per_record": {}}
    with tempfile.TemporaryDirectory(prefix="rapidmarc-cg-") as tmp:
        out_dir = Path(tmp)
        empty = out_dir / "empty.mrc"
        empty.write_bytes(b"")
        bench = str(BENCH)
        for lib in libraries:
            for workload in ("read", "extract"):
                try:
                    # The same program over an empty file and over the corpus: start-up, imports and
                    # opening a reader cancel out. Each pair is repeated and the median kept, since
                    # address-space layout still moves a run by a few instructions per record.
                    pairs = [
                        [
                            _instructions(
                                [sys.executable, "-c", TARGET.format(bench=bench, lib=lib, workload=workload, path=p)],
                                out_dir,
                                f"{lib}-{workload}-{r}-{i}",
                            )
                            for i, p in enumerate((str(empty), path))
                        ]
                        for r in range(repeat)
                    ]
                except (subprocess.SubprocessError, RuntimeError, OSError) as exc:
                    result["per_record"][f"{lib} {workload}"] = {"error": str(exc)[-300:]}
                    continue
                per_record = sorted((full - none) / records for none, full in pairs)
                result["per_record"][f"{lib} {workload}"] = {
                    "instructions": statistics.median(per_record),
                    "runs": per_record,
                }
                print(
                    f"callgrind {lib} {workload}: {statistics.median(per_record):,.0f} per record "
                    f"(runs: {', '.join(f'{x:,.0f}' for x in per_record)})",
                    file=sys.stderr,
                )
        if native_bin is not None and native_bin.exists():
            for workload in ("read", "title"):
                counts = [
                    _instructions([str(native_bin), "--workload", workload, str(p)], out_dir, f"native-{workload}-{i}")
                    for i, p in enumerate((empty, path))
                ]
                result["per_record"][f"native {workload}"] = {
                    "instructions": (counts[1] - counts[0]) / records,
                    "baseline": counts[0],
                    "total": counts[1],
                }
    return result


def main() -> int:
    """CLI: print the measurements as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--native", type=Path, default=None, help="path of native_bench")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is reported")
    ap.add_argument(
        "--libraries",
        default=",".join(PYTHON_LIBRARIES),
        help="comma-separated Python libraries to measure (A/B two builds: --libraries rapidmarc with PYTHONPATH set)",
    )
    args = ap.parse_args()
    libraries = tuple(name for name in args.libraries.split(",") if name)
    unknown = sorted(set(libraries) - set(PYTHON_LIBRARIES))
    if unknown:
        ap.error(f"unknown libraries {unknown}; choose from {PYTHON_LIBRARIES}")
    print(json.dumps(measure(args.records, args.native, libraries, args.repeat), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
