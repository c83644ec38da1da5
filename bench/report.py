"""Markdown tables, plots and docs/benchmarks.md from a results JSON.

    python bench/report.py bench/results/latest.json                # report.md + PNGs
    python bench/report.py bench/results/latest.json --docs docs/benchmarks.md

The generated parts of docs/benchmarks.md sit between ``<!-- generated:begin -->``
and ``<!-- generated:end -->``; everything outside them (the reading of the
numbers, written by a person) is kept as it is when the file is regenerated.
A new file gets a template for that prose.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Row = dict[str, Any]
LIBS = ("pymarc", "rmarc", "mrrc", "rapidmarc", "native")
COLORS = {"pymarc": "#7f7f7f", "rmarc": "#9467bd", "mrrc": "#ff7f0e", "rapidmarc": "#1f77b4", "native": "#2ca02c"}
MODE_ORDER = ("sequential", "threads", "threads0", "processes", "asyncio", "bulk", "count", "files", "onefile")
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"
PLOTS = ("throughput.png", "scaling_workers.png", "scaling_size.png", "memory.png")


def _f(x: float | None, fmt: str = ",.0f") -> str:
    return "–" if x is None else format(x, fmt)


def _x(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}×"


def _mode_label(r: Row) -> str:
    mode = r["mode"]
    if r["library"] == "native":
        mode = {"sequential": "sequential", "files": "native threads (files)", "onefile": "native threads (one file)"}[
            mode
        ]
    return mode if mode == "sequential" else f"{mode} ×{r['workers']}"


def _sort_key(r: Row) -> tuple[int, int, int]:
    return (LIBS.index(r["library"]), MODE_ORDER.index(r["mode"]), r["workers"])


def _check(r: Row) -> str:
    if r.get("unavailable"):
        return "n/a"
    if r.get("error"):
        return "**error**"
    return "ok" if r["check"] == "ok" else "**check failed**"


def table(rows: Iterable[Row], ratio_cols: bool = True) -> list[str]:
    """One Markdown table of figures."""
    head = (
        "| library | mode | records/s | MB/s | median s [min–max] | vs pymarc seq "
        "| speed-up | efficiency | peak RSS MB | check |"
    )
    out = [head, "|---|---|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in sorted(rows, key=_sort_key):
        if r.get("unavailable"):
            continue
        if "median_s" not in r:
            err = str(r.get("error", "?")).replace("|", "/")
            err = err if len(err) < 90 else err[:87] + "..."
            out.append(f"| {r['library']} | {_mode_label(r)} | {err} | | | | | | | **error** |")
            continue
        rss = r["maxrss_kb"] / 1024
        if r.get("children_maxrss_kb") and r["mode"] == "processes":
            rss_s = f"{rss:.0f} + {r['children_maxrss_kb'] / 1024:.0f}/worker"
        else:
            rss_s = f"{rss:.0f}"
        eff = r.get("efficiency")
        out.append(
            f"| {r['library']} | {_mode_label(r)} | {_f(r['records_per_s'])} "
            f"| {_f(r['mb_per_s'], '.1f')} | {r['median_s']:.3f} "
            f"[{r['min_s']:.3f}–{r['max_s']:.3f}] | {_x(r.get('vs_pymarc'))} "
            f"| {_x(r.get('speedup'))} | {'–' if eff is None else f'{eff:.0%}'} "
            f"| {rss_s} | {_check(r)} |"
        )
    return out


def _pick(report: dict[str, Any], group: str, **eq: Any) -> list[Row]:
    return [r for r in report["results"] if r["group"] == group and all(r.get(k) == v for k, v in eq.items())]


def _med(rows: list[Row], lib: str, mode: str, workers: int) -> float | None:
    for r in rows:
        if (r["library"], r["mode"], r["workers"]) == (lib, mode, workers):
            return r.get("median_s")
    return None


def seeds_table(report: dict[str, Any]) -> list[str]:
    """The seeds' story (native threads, Python threads, pymarc processes) for this machine."""
    rows = _pick(report, "modes", workload="read")
    workers = sorted({r["workers"] for r in rows if r["workers"] > 1})
    lines = [
        "| scenario | sequential s | " + " | ".join(f"{w} workers s (speed-up)" for w in workers) + " |",
        "|---|---:|" + "---:|" * len(workers),
    ]
    scenarios = [
        ("native C++, N threads over the files", "native", "files"),
        ("native C++, one file on N threads", "native", "onefile"),
        ("rapidmarc, Python threads", "rapidmarc", "threads"),
        ("rapidmarc, Python threads, readers with workers=0", "rapidmarc", "threads0"),
        ("rapidmarc, processes", "rapidmarc", "processes"),
        ("mrrc, Python threads", "mrrc", "threads"),
        ("rmarc, Python threads", "rmarc", "threads"),
        ("pymarc, Python threads", "pymarc", "threads"),
        ("pymarc, processes", "pymarc", "processes"),
    ]
    for label, lib, mode in scenarios:
        seq = _med(rows, lib, "sequential", 1)
        cells = []
        for w in workers:
            t = _med(rows, lib, mode, w)
            cells.append("–" if t is None else f"{t:.3f} ({_x(seq / t if seq else None)})")
        if all(c == "–" for c in cells):
            continue
        lines.append(f"| {label} | {_f(seq, '.3f')} | " + " | ".join(cells) + " |")
    return lines


def files200_section(report: dict[str, Any]) -> list[str]:
    """Issue #4's scenario: the table and its three ratios."""
    rows = _pick(report, "files200")
    if not rows:
        return []
    corpus = report["corpora"].get(rows[0]["corpus"], {})
    lines = [
        f"Corpus: {corpus.get('records', 0):,} UTF-8 records, "
        f"{corpus.get('bytes', 0) / 1e6:.0f} MB in {corpus.get('files', 1)} files; "
        "workload: `title` of every record (path readers); “vs pymarc” is against "
        "pymarc with one process.",
        "",
        *table(rows),
        "",
        "| ratio | measured | target |",
        "|---|---:|---:|",
    ]
    for name, v in report["files200_ratios"].items():
        val = v.get("value")
        ok = "" if val is None else (" ✓" if val >= v["target"] else " ✗")
        lines.append(f"| {name} | {_x(val)}{ok} | ≥ {v['target']:.1f}× |")
    return lines


def callgrind_section(report: dict[str, Any]) -> list[str]:
    """Instructions per record."""
    cg = report.get("callgrind")
    if not cg:
        return ["Not measured in this run (full plan, or `--callgrind`)."]
    if "error" in cg:
        return [f"Not measured: {cg['error']}."]
    lines = [
        f"{cg['records']:,} UTF-8 records; (instructions reading them − instructions "
        "reading an empty file) / records, all threads counted.",
        "",
        "| library | workload | instructions / record | vs pymarc |",
        "|---|---|---:|---:|",
    ]
    per = cg["per_record"]
    for key, v in per.items():
        lib, workload = key.split(" ", 1)
        ref = per.get(f"pymarc {'read' if workload == 'title' else workload}", {})
        if "instructions" not in v:
            lines.append(f"| {lib} | {workload} | error | |")
            continue
        ratio = ref.get("instructions", 0) / v["instructions"] if v["instructions"] else None
        lines.append(f"| {lib} | {workload} | {v['instructions']:,.0f} | {_x(ratio)} |")
    return lines


# Differences found and explained while building the suite (pymarc 5.4.0, mrrc 0.9.2).
KNOWN = {
    ("mrrc", "values"): "mrrc's `get_fields()` returns fields grouped by tag instead of in "
    "record order, and drops a malformed 260 field that pymarc keeps",
    ("mrrc", "marc"): "mrrc writes the fields grouped by tag, not in the record's order",
    ("mrrc", "json"): "mrrc lists the fields grouped by tag, not in the record's order",
    ("mrrc", "xml"): "mrrc's record_to_xml returns a str with an XML declaration and the namespace on "
    "<record>, puts the tag attribute first and writes non-ASCII characters as UTF-8 (pymarc: bytes, "
    "no declaration, &#N; references)",
}


def checks_section(report: dict[str, Any]) -> list[str]:
    """What was verified and what differed."""
    lines = [
        "Before timing, every (corpus, workload, library) ran once untimed and its output was "
        "compared with pymarc's: record count, CRC-32 of the titles (pymarc's `title`: 245 $a "
        "and $b; built from the 245 field for mrrc, whose `title` is 245 $a only), CRC-32 of "
        "every field's `value()` with whitespace runs collapsed (mrrc does not strip subfield "
        "values), CRC-32 of `as_marc()` bytes, and CRC-32 of the JSON re-serialised with "
        "sorted keys (rmarc writes compact separators). Text is compared with ANSEL's ligature "
        "halves mapped as LC's tables map them (the one documented MARC-8 difference between "
        "pymarc and rapidmarc, docs/marc8.md). Every timed run, in every mode, had "
        "to reproduce its library's verified output.",
        "",
    ]
    if not report["mismatches"]:
        lines.append("All checks passed: every contestant produced pymarc's output.")
    else:
        lines += ["| corpus | workload | library | check | note |", "|---|---|---|---|---|"]
        for m in report["mismatches"]:
            note = KNOWN.get((m["library"], m["check"]), "")
            if m["kind"] in ("marc8", "mixed"):
                note = "**check failed**: MARC-8 decoding differs from pymarc's"
            else:
                note = f"**check failed**{': ' + note if note else ''}"
            lines.append(f"| {m['corpus']} | {m['workload']} | {m['library']} | {m['check']} | {note} |")
    for r in report["results"]:
        if r.get("error"):
            lines.append(f"\nerror: {r['library']} {r['workload']} {_mode_label(r)}: {r['error']}")
        elif "verified run" in r.get("check", ""):
            lines.append(
                f"\n**check failed** during timing: {r['library']} {r['workload']} "
                f"{_mode_label(r)} on {r['corpus']}: {r['check']}"
            )
    return lines


def markdown(report: dict[str, Any], plot_dir: str) -> str:
    """The whole report as Markdown; plots referenced relative to ``plot_dir``."""
    m, v = report["machine"], report["versions"]
    lines = [
        f"Plan **{report['plan']}** (median of {report['repeat']} runs, min–max in brackets), "
        f"{report['date']}, {report['duration_s'] / 60:.1f} minutes.",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_bytes'] / 2**30:.0f} GiB, "
        f"{m['platform']}; Python {m['python']} (process start method `{m['start_method']}`)."
        + (
            f" Parallel capacity: 2 threads hashing (GIL released) ran {m['parallel_capacity_2']:.2f}× "
            "as fast as 1: the ceiling for any 2-worker figure below."
            if m.get("parallel_capacity_2")
            else ""
        ),
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
    ]
    for w in report.get("warnings", []):
        lines += [f"**WARNING: {w}**", ""]
    if report.get("missing"):
        lines += [f"- missing: {k}: {why}" for k, why in report["missing"].items()] + [""]
    unavailable = sorted(
        {f"{r['library']} {r['mode']}: {r['unavailable']}" for r in report["results"] if r.get("unavailable")}
    )
    if unavailable:
        lines += ["Not available in this build (skipped):", ""]
        lines += [f"- {u}" for u in unavailable] + [""]
    lines += ["### Checks", "", *checks_section(report), ""]
    lines += ["### Seeds' table on this machine (`read`)", "", *seeds_table(report), ""]
    for workload in ("read", "extract"):
        rows = _pick(report, "modes", workload=workload)
        if rows:
            c = report["corpora"][rows[0]["corpus"]]
            lines += [
                f"### Throughput by library and mode: `{workload}`",
                "",
                f"{c['records']:,} UTF-8 records, {c['bytes'] / 1e6:.1f} MB, in {c['files']} files.",
                "",
                *table(rows),
                "",
            ]
    wl = _pick(report, "workloads")
    if wl:
        lines += ["### Other workloads (sequential)", ""]
        for corpus, workload in sorted({(r["corpus"], r["workload"]) for r in wl}):
            rows = [r for r in wl if (r["corpus"], r["workload"]) == (corpus, workload)]
            c = report["corpora"][corpus]
            lines += [
                f"`{workload}` on the {c['kind']} corpus ({c['records']:,} records, {c['bytes'] / 1e6:.1f} MB):",
                "",
                *table(rows),
                "",
            ]
    bk = _pick(report, "bulk")
    if bk:
        c = report["corpora"][bk[0]["corpus"]]
        lines += [
            "### The libraries' own parallel APIs (`read`, peer fixture)",
            "",
            f"{c['records']:,} records of mrrc's own benchmark file, {c['bytes'] / 1e6:.1f} "
            f"MB in {c['files']} files (mrrc's `parse_batch_parallel` rejects a record of "
            "the real UTF-8 corpus that its `MARCReader` accepts).",
            "",
            *table(bk),
            "",
        ]
    sz = _pick(report, "sizes")
    if sz:
        lines += [
            "### Corpus size (`read`, sequential)",
            "",
            "| library | " + " | ".join(f"{n:,} records" for n in sorted({r["records"] for r in sz})) + " |",
            "|---|" + "---:|" * len({r["records"] for r in sz}),
        ]
        for lib in LIBS:
            cells = []
            for n in sorted({r["records"] for r in sz}):
                r = next((r for r in sz if r["library"] == lib and r["records"] == n), None)
                cells.append(
                    "–"
                    if not r or "records_per_s" not in r
                    else f"{r['records_per_s']:,.0f}/s, {r['maxrss_kb'] / 1024:.0f} MB"
                )
            if any(c != "–" for c in cells):
                lines.append(f"| {lib} | " + " | ".join(cells) + " |")
        lines.append("")
    if f2 := files200_section(report):
        lines += ["### Issue #4: several files, threads against processes", "", *f2, ""]
    lines += ["### Instructions per record (callgrind)", "", *callgrind_section(report), ""]
    lines += ["### Plots", ""]
    lines += [f"![{p[:-4]}]({plot_dir}/{p})" for p in PLOTS]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- plots


def plots(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the four PNGs; returns their paths (none if matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    ok = [r for r in report["results"] if "median_s" in r]

    # 1. throughput by library and mode
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, workload in zip(axes, ("read", "extract"), strict=True):
        rows = sorted((r for r in ok if r["group"] == "modes" and r["workload"] == workload), key=_sort_key)
        labels = [f"{r['library']} {_mode_label(r)}" + ("" if r["check"] == "ok" else " (check failed)") for r in rows]
        ax.barh(range(len(rows)), [r["records_per_s"] for r in rows], color=[COLORS[r["library"]] for r in rows])
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.invert_yaxis()
        if rows:  # a partial run (--groups / --only) may have no rows here; log scale needs data
            ax.set_xscale("log")
        ax.set_xlabel("records/s (log scale)")
        ax.set_title(f"{workload}: throughput by library and mode")
    fig.tight_layout()
    written.append(_save(fig, out_dir / "throughput.png", plt))

    # 2. scaling with workers
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, (group, workload) in zip(axes, (("modes", "read"), ("files200", "title")), strict=True):
        rows = [r for r in ok if r["group"] == group and r["workload"] == workload]
        for lib in LIBS:
            seq = _med(rows, lib, "sequential", 1)
            for mode in MODE_ORDER[1:]:
                pts = sorted((r["workers"], r["median_s"]) for r in rows if r["library"] == lib and r["mode"] == mode)
                if not pts:
                    continue
                base = seq or pts[0][1]
                style = {
                    "threads": "-",
                    "threads0": "-",
                    "files": "-",
                    "processes": "--",
                    "asyncio": ":",
                    "bulk": "-.",
                    "count": "-.",
                    "onefile": "-.",
                }[mode]
                ax.plot(
                    [w for w, _ in pts],
                    [base / t for _, t in pts],
                    style,
                    marker="o",
                    color=COLORS[lib],
                    label=f"{lib} {mode}",
                )
        top = max((r["workers"] for r in rows), default=1)
        ax.plot([1, top], [1, top], color="#cccccc", lw=1, label="ideal")
        ax.set_xlabel("workers")
        ax.set_ylabel("speed-up over the same library's sequential (or 1-worker) run")
        ax.set_title(f"scaling with workers: {group} / {workload}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    written.append(_save(fig, out_dir / "scaling_workers.png", plt))

    # 3. scaling with corpus size
    fig, ax = plt.subplots(figsize=(7, 5))
    plotted = False
    for lib in LIBS:
        pts = sorted((r["records"], r["records_per_s"]) for r in ok if r["group"] == "sizes" and r["library"] == lib)
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", color=COLORS[lib], label=lib)
            plotted = True
    if plotted:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("records in the corpus")
    ax.set_ylabel("records/s (sequential read)")
    ax.set_title("scaling with corpus size")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    written.append(_save(fig, out_dir / "scaling_size.png", plt))

    # 4. memory
    fig, ax = plt.subplots(figsize=(12, 5.5))
    rows = sorted((r for r in ok if r["group"] == "modes" and r["workload"] == "extract"), key=_sort_key)
    own = [r["maxrss_kb"] / 1024 for r in rows]
    kids = [(r["children_maxrss_kb"] / 1024 * r["workers"]) if r["mode"] == "processes" else 0 for r in rows]
    ax.barh(range(len(rows)), own, color=[COLORS[r["library"]] for r in rows], label="process")
    ax.barh(range(len(rows)), kids, left=own, color="#dddddd", label="workers (processes mode)")
    ax.set_yticks(range(len(rows)), [f"{r['library']} {_mode_label(r)}" for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("peak RSS, MB (process + workers, largest worker × N)")
    ax.set_title("memory: extract, by library and mode")
    ax.legend()
    fig.tight_layout()
    written.append(_save(fig, out_dir / "memory.png", plt))
    return written


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- outputs


def write_report(report: dict[str, Any], out_dir: Path) -> Path:
    """results folder: report.md and the plots. Returns the report path."""
    plots(report, out_dir / "plots")
    path = out_dir / "report.md"
    path.write_text(f"# Benchmark report ({report['plan']})\n\n" + markdown(report, "plots"))
    return path


TEMPLATE = """# Benchmarks

How fast rapidmarc reads MARC compared with pymarc, rmarc and mrrc, sequentially, with threads,
with processes and in asyncio pipelines, and how close the Python package gets to the native C++
reader. Regenerate the figures with:

```sh
make bench-full                                                   # about 20 minutes
python bench/report.py bench/results/latest.json --docs docs/benchmarks.md
```

<!-- The text outside the generated block is kept when the figures are regenerated. -->

## What the numbers mean

(Write the reading of the figures here.)

## Figures

{BEGIN}
{END}
"""


def write_docs(report: dict[str, Any], docs: Path) -> None:
    """Regenerate the generated block of ``docs`` and copy the plots next to it."""
    plot_dir = docs.parent / "benchmarks"
    plot_dir.mkdir(parents=True, exist_ok=True)
    written = plots(report, plot_dir)
    if not written:
        print("matplotlib missing: plots not regenerated", file=sys.stderr)
    text = docs.read_text() if docs.exists() else TEMPLATE.format(BEGIN=BEGIN, END=END)
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n## Figures\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = markdown(report, plot_dir.name)
    docs.write_text(f"{head}{BEGIN}\n{body}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    """CLI."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path, help="a results JSON written by bench/run.py")
    ap.add_argument("--docs", type=Path, help="regenerate this Markdown file's figures")
    ap.add_argument("--out", type=Path, help="results folder (default: next to the JSON)")
    args = ap.parse_args(argv)
    report = json.loads(args.results.read_text())
    out = args.out or args.results.parent
    print(write_report(report, out))
    if args.docs:
        write_docs(report, args.docs)
        print(args.docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
