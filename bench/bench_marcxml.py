"""MARCXML -> ISO 2709, side by side: rapidmarc.convert(from_format="xml") with the fast engine
(a path: the hand-written scanner) on 1 and 2 threads (workers=1: one parse-ahead thread; workers=2:
the document cut into byte ranges scanned on a pool, MarcXmlParallelReader) and with the expat
engine (the same file as a Python file object: a stream is read with expat), yaz-marcdump -i
marcxml -o marc, and pymarc (parse_xml_to_array + MARCWriter).

    python bench/bench_marcxml.py [records] [pymarc_records] [repeats]
    python bench/bench_marcxml.py --rss [gigabytes]       # peak RSS on a >= 1 GB document
    python bench/bench_marcxml.py --callgrind [records]   # instructions, 1 and 2 workers

The input is built from the real records in ../shared/data/real (MARC-8 ones converted to UTF-8
by rapidmarc), repeated to `records`. pymarc is timed on the first `pymarc_records` (it is slow)
and its time scaled to `records`, which the table says. Each other tool runs `repeats` times in
turn (the machine is shared: the best time of each counts) and all must write the same records.
Next to each wall time is the CPU time (user + system, of this process or of yaz's) of that best
run: on a loaded machine the wall-time ratio of 2 threads to 1 says what the machine gave, the CPU
times say what the work cost. The 2-thread speed-up is also given as the median (and spread) of
the per-round ratios, each round running 1 and then 2 workers back to back, for convert() and for
count() (count writes nothing: the parse alone). The peak RSS of the conversion is measured in a
child process.

--rss builds a document of at least `gigabytes` GB (default 1) in bench/.cache (never committed;
deleted afterwards) and measures the peak RSS (VmHWM) of a child process running convert() and
count() with 1 and 2 workers. --callgrind counts the instructions of each thread of a child process
converting `records` (default 10,000) with 1 and 2 workers, and the speed-up on 2 idle cores those
counts allow (callgrind_mode says how), the stable figure while the machine is shared.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
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


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its waited-for children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of fn()."""
    c = cpu_seconds()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t, cpu_seconds() - c


def child_peak_rss_mb(code: str, *args: str) -> float:
    """The peak RSS (VmHWM) of a child Python process running `code` with `args` as sys.argv[1:]."""
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would be the parent's.
    code += "; print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024


def convert_code(workers: int) -> str:
    return (
        "import sys, rapidmarc; "
        f"rapidmarc.convert(sys.argv[1], sys.argv[2], to='marc', from_format='xml', workers={workers})"
    )


def count_code(workers: int) -> str:
    return f"import sys, rapidmarc; print(rapidmarc.count(sys.argv[1], from_format='xml', workers={workers}))"


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as tmp:
        xml, small = Path(tmp) / "in.xml", Path(tmp) / "small.xml"
        outs = {k: Path(tmp) / f"{k}.mrc" for k in ("fast1", "fast2", "expat", "yaz", "pymarc")}
        build(n, xml)
        build(m, small)
        size = xml.stat().st_size

        def fast(workers: int):
            def run() -> None:
                rapidmarc.convert(str(xml), str(outs[f"fast{workers}"]), to="marc", from_format="xml", workers=workers)

            return run

        def expat() -> None:
            with open(xml, "rb") as fh:
                rapidmarc.convert(fh, str(outs["expat"]), to="marc", from_format="xml", workers=1)

        def yaz() -> None:
            with open(outs["yaz"], "wb") as fh:
                subprocess.run(["yaz-marcdump", "-i", "marcxml", "-o", "marc", str(xml)], stdout=fh, check=True)

        def counter(workers: int):
            def run() -> None:
                assert rapidmarc.count(str(xml), from_format="xml", workers=workers) == n

            return run

        tools = {"fast1": fast(1), "fast2": fast(2), "count1": counter(1), "count2": counter(2)}
        tools |= {"expat": expat, "yaz": yaz}
        best = {k: (float("inf"), 0.0) for k in tools}
        walls: dict[str, list[float]] = {k: [] for k in tools}
        before = load()
        for _ in range(repeats):
            for name, fn in tools.items():
                wall, cpu = timed(fn)
                walls[name].append(wall)
                if wall < best[name][0]:
                    best[name] = (wall, cpu)
        after = load()
        assert rapidmarc.count(str(outs["fast1"])) == n
        assert outs["fast1"].read_bytes() == outs["fast2"].read_bytes() == outs["expat"].read_bytes()

        def with_pymarc() -> None:
            with open(outs["pymarc"], "wb") as fh:
                writer = pymarc.MARCWriter(fh)
                for record in pymarc.parse_xml_to_array(str(small)):
                    writer.write(record)

        py_wall, py_cpu = timed(with_pymarc)
        py = (py_wall * n / m, py_cpu * n / m)
        rss = {w: child_peak_rss_mb(convert_code(w), str(xml), str(outs["fast1"])) for w in (1, 2)}
    ours = best["fast1"][0]
    print(f"{n} records, {size / 1e6:.0f} MB of MARCXML -> ISO 2709, best of {repeats}")
    print(f"({before} before, {after} after)")
    print("| tool | seconds | CPU seconds | records/s | vs fast engine, 1 thread |")
    print("|---|---|---|---|---|")
    for name, (wall, cpu) in (
        ("rapidmarc.convert(from_format='xml', workers=1), fast engine (a path)", best["fast1"]),
        ("rapidmarc.convert(from_format='xml', workers=2), fast engine (a path)", best["fast2"]),
        ("rapidmarc.convert(from_format='xml'), expat engine (a file object)", best["expat"]),
        ("yaz-marcdump -i marcxml -o marc", best["yaz"]),
        (f"pymarc parse_xml_to_array + MARCWriter (timed on {m}, scaled)", py),
    ):
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {n / wall:,.0f} | {wall / ours:.2f}x |")
    print(f"2 threads / 1 thread: {best['fast1'][0] / best['fast2'][0]:.2f}x faster (wall, best against best)")
    for what, one, two in (("convert", "fast1", "fast2"), ("count", "count1", "count2")):
        # The same round's 1-worker and 2-worker runs, one after the other: the fairest pairs on a
        # machine whose speed drifts; their median and spread.
        ratios = sorted(a / b for a, b in zip(walls[one], walls[two], strict=True))
        print(
            f"{what}, 2 workers / 1 in the same round: median {statistics.median(ratios):.2f}x "
            f"(rounds {ratios[0]:.2f}-{ratios[-1]:.2f}x); median wall 1 worker "
            f"{statistics.median(walls[one]):.3f} s, 2 workers {statistics.median(walls[two]):.3f} s"
        )
    print(f"yaz / fast engine, 1 thread: {best['yaz'][0] / ours:.1f}x; pymarc / it: {py[0] / ours:.0f}x")
    print(f"peak RSS of the conversion: {rss[1]:.0f} MB with 1 worker, {rss[2]:.0f} MB with 2")


def rss_mode(gigabytes: float) -> None:
    cache = Path(__file__).resolve().parent / ".cache"
    cache.mkdir(exist_ok=True)
    xml, out = cache / "big.xml", cache / "big.mrc"
    try:
        build_bytes(int(gigabytes * 1e9), xml)
        size = xml.stat().st_size
        print(f"{size / 1e9:.2f} GB of MARCXML ({load()})")
        print("| run | workers | peak RSS (MB) | seconds |")
        print("|---|---|---|---|")
        for workers in (1, 2):
            for what, code, args in (
                ("convert(to='marc', from_format='xml')", convert_code(workers), (str(xml), str(out))),
                ("count(from_format='xml')", count_code(workers), (str(xml),)),
            ):
                t = time.perf_counter()
                rss = child_peak_rss_mb(code, *args)
                print(f"| {what} | {workers} | {rss:.0f} | {time.perf_counter() - t:.1f} |", flush=True)
        print(f"({load()})")
    finally:
        xml.unlink(missing_ok=True)
        out.unlink(missing_ok=True)


def callgrind_mode(n: int) -> None:
    """Instructions per thread (callgrind --separate-threads) of convert() with 1 and 2 workers.

    The main thread holds Python's start-up (measured alone and subtracted: it is the same serial
    prologue in both), the head scan and the consumer's chain check and writing. On 2 idle cores a
    run takes at least max(busiest thread, all instructions / 2), so the ratio of those bounds is the
    speed-up of 2 workers over 1 that the instruction counts allow."""

    def per_thread(out_file: Path, cmd: list[str]) -> list[int]:
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out_file}", *cmd],
            check=True,
            capture_output=True,
        )
        threads = []
        for part in sorted(out_file.parent.glob(out_file.name + "-*")):
            line = next(x for x in part.read_text(errors="replace").splitlines() if x.startswith("totals:"))
            threads.append(int(line.split()[1]))
        return threads

    with tempfile.TemporaryDirectory() as tmp:
        xml, out = Path(tmp) / "in.xml", Path(tmp) / "out.mrc"
        build(n, xml)
        start_up = sum(per_thread(Path(tmp) / "cg.start", [sys.executable, "-c", "import sys, rapidmarc"]))
        print(f"Python start-up and import: {start_up / 1e6:,.0f} million instructions (subtracted below)")
        bounds = {}
        for workers in (1, 2):
            threads = per_thread(
                Path(tmp) / f"cg.{workers}", [sys.executable, "-c", convert_code(workers), str(xml), str(out)]
            )
            threads[0] -= start_up
            bounds[workers] = max(max(threads), sum(threads) / 2)
            listed = ", ".join(f"{t / 1e6:,.0f}" for t in threads)
            print(
                f"workers={workers}: {sum(threads) / 1e6:,.0f} million instructions; per thread (main first): {listed}"
            )
        print(f"speed-up of 2 workers over 1 the counts allow on 2 idle cores: {bounds[1] / bounds[2]:.2f}x")


def build_bytes(target: int, path: Path) -> None:
    """A collection of at least `target` bytes of real records, repeated."""
    one = Path(str(path) + ".one")
    build(1000, one)
    body = one.read_bytes()
    one.unlink()
    start, end = body.index(b"<record"), body.rindex(b"</collection>")
    head, records = body[:start], body[start:end]
    with open(path, "wb") as out:
        out.write(head)
        written = len(head)
        while written < target:
            out.write(records)
            written += len(records)
        out.write(b"</collection>\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rss":
        rss_mode(float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
    elif len(sys.argv) > 1 and sys.argv[1] == "--callgrind":
        callgrind_mode(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
    else:
        main()
