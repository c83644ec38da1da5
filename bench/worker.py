"""One measurement in a fresh process: ``python bench/worker.py '<json spec>'``.

The spec names the library, workload, mode, worker count, files and whether
the canonical (checking) flavour is wanted. The library is imported before the
clock starts (every contestant pays its import once, outside the figure);
everything the mode does, including creating thread or process pools, is
timed. One JSON object goes to stdout: the digest of the output, the elapsed
time and the peak RSS of this process (``VmHWM`` of /proc/self/status: unlike
``getrusage``'s ``ru_maxrss``, it is not inherited from the parent across
fork and exec) and of its largest child (process pools; ``RUSAGE_CHILDREN``).
Running each measurement in its own process makes the peak RSS a per-run figure.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from typing import Any

from contestants import combine, library, silence_process
from modes import MODES, Unavailable


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB (VmHWM; ru_maxrss as a fallback)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the spec once and describe the run."""
    silence_process()
    library(spec["library"])  # import outside the timed region
    mode = MODES[spec["mode"]]
    gc.collect()
    start = time.perf_counter()
    try:
        results = mode(
            spec["library"],
            spec["workload"],
            spec["files"],
            int(spec["workers"]),
            bool(spec.get("canonical", False)),
        )
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    elapsed = time.perf_counter() - start
    digest = combine(results)
    own = peak_rss_kb()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "elapsed_s": elapsed,
        "digest": digest,
        "maxrss_kb": own,
        "children_maxrss_kb": children,
    }


def main() -> int:
    """Entry point: print the measurement as one JSON line."""
    spec = json.loads(sys.argv[1])
    try:
        out = measure(spec)
    except Exception as exc:  # noqa: BLE001 - the harness reports it, keeps going
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
