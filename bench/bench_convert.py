"""Whole-file conversion, side by side: ISO 2709 to MARCXML and to MARC-in-JSON.

Contestants, each converting the same corpus file to a file:
  pymarc / rmarc       MARCReader + XMLWriter or JSONWriter (pymarc's API)
  rapidmarc            the same code with ``import rapidmarc`` (native writing per record)
  rapidmarc.convert    one call, native threads (workers=1: parse-ahead only; None: every core)
  rapidmarc CLI        ``rapidmarc convert IN OUT`` as a process (interpreter start-up included)
  yaz-marcdump         ``yaz-marcdump -i marc -o marcxml|json IN > OUT`` (Debian's yaz, C), if installed

Every output is checked against pymarc's bytes before the timings are reported (rmarc writes
JSON with other separators, so only its XML is compared). Rounds are interleaved and the starting
contestant rotates, so noise hits all alike; medians are reported, and only ratios from one run
mean anything on a shared machine.

Usage::

    python bench/bench_convert.py --records 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import importlib
import io
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from corpus import build_corpus  # bench/ is sys.path[0] when run as a script

Converter = Callable[[Path, Path], None]


def writer_converter(module_name: str, fmt: str) -> Converter:
    mod = importlib.import_module(module_name)

    def run(src: Path, dst: Path) -> None:
        text = fmt == "json"
        with open(src, "rb") as fh, open(dst, "w" if text else "wb", encoding="utf-8" if text else None) as out:
            writer = mod.JSONWriter(out) if text else mod.XMLWriter(out)
            for record in mod.MARCReader(fh):
                if record is not None:
                    writer.write(record)
            writer.close(close_fh=False)

    return run


def convert_converter(fmt: str, workers: int | None) -> Converter:
    import rapidmarc

    def run(src: Path, dst: Path) -> None:
        rapidmarc.convert(src, dst, to=fmt, workers=workers)

    return run


def command_converter(command: Callable[[Path, Path], list[str | Path]], to_stdout: bool) -> Converter:
    def run(src: Path, dst: Path) -> None:
        if to_stdout:
            with open(dst, "wb") as out:
                subprocess.run(command(src, dst), stdout=out, check=True)
        else:
            subprocess.run(command(src, dst), check=True)

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / ".cache" / "convert-out")
    args = ap.parse_args()
    src = build_corpus("utf8", args.records)
    args.out.mkdir(parents=True, exist_ok=True)
    size_mb = src.stat().st_size / 1e6

    rows = []
    for fmt in ("xml", "json"):
        contestants: dict[str, Converter] = {}
        for name in ("pymarc", "rmarc", "rapidmarc"):
            try:
                contestants[name] = writer_converter(name, fmt)
            except ImportError as exc:
                print(f"skipping {name}: {exc}", file=sys.stderr)
        contestants["rapidmarc.convert workers=1"] = convert_converter(fmt, 1)
        contestants["rapidmarc.convert workers=all"] = convert_converter(fmt, None)
        contestants["rapidmarc CLI"] = command_converter(
            lambda src, dst, fmt=fmt: [sys.executable, "-m", "rapidmarc", "convert", src, dst, "--to", fmt, "-q"],
            to_stdout=False,
        )
        yaz = shutil.which("yaz-marcdump")
        if yaz:
            yaz_format = "marcxml" if fmt == "xml" else "json"
            contestants["yaz-marcdump"] = command_converter(
                lambda src, dst, yaz=yaz, yaz_format=yaz_format: [yaz, "-i", "marc", "-o", yaz_format, str(src)],
                to_stdout=True,
            )
        else:
            print("skipping yaz-marcdump: not installed (apt install yaz)", file=sys.stderr)

        names = list(contestants)
        outputs = {name: args.out / f"{fmt}-{k}.out" for k, name in enumerate(names)}
        for name in names:  # check first
            contestants[name](src, outputs[name])
        reference = outputs["pymarc"].read_bytes() if "pymarc" in outputs else None
        checks = {}
        for name in names:
            if reference is None or (name == "rmarc" and fmt == "json") or name == "yaz-marcdump":
                checks[name] = "not compared"
            else:
                checks[name] = "ok" if outputs[name].read_bytes() == reference else "DIFFERS from pymarc"

        times: dict[str, list[float]] = {name: [] for name in names}
        for round_no in range(args.repeat):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for name in order:
                start = time.perf_counter()
                contestants[name](src, outputs[name])
                times[name].append(time.perf_counter() - start)
                print(f"  {fmt} round {round_no + 1}/{args.repeat} {name:32} {times[name][-1]:.3f}s", file=sys.stderr)
        base = statistics.median(times["pymarc"]) if "pymarc" in times else None
        yaz_time = statistics.median(times["yaz-marcdump"]) if "yaz-marcdump" in times else None
        for name in names:
            med = statistics.median(times[name])
            ratio = f"{base / med:.1f}x" if base else "-"
            vs_yaz = f"{yaz_time / med:.2f}x" if yaz_time else "-"
            rows.append((fmt, name, args.records / med, size_mb / med, ratio, vs_yaz, checks[name]))

    out = io.StringIO()
    out.write(f"## Conversion of {args.records:,} UTF-8 records ({size_mb:.1f} MB), median of {args.repeat}\n\n")
    out.write(
        "| to | contestant | records/s | MB/s in | vs pymarc | vs yaz-marcdump | output |\n"
        "|---|---|---:|---:|---:|---:|---|\n"
    )
    for fmt, name, rps, mbs, ratio, vs_yaz, check in rows:
        out.write(f"| {fmt} | {name} | {rps:,.0f} | {mbs:.1f} | {ratio} | {vs_yaz} | {check} |\n")
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
