"""MARCspec selection in extract / extract_arrow, side by side, as ratios of one baseline.

    python bench/bench_marcspec.py [copies] [repeats]

The input is every real file in ../shared/data/real concatenated `copies` times (bytes in memory,
so nothing is timed but reading, parsing and selecting). Each row is one call of
``extract_arrow(data, specs, ...)`` with ``workers=1`` (one parsing thread: steadier numbers on a
shared machine), its best time of `repeats`, and its ratio to the baseline row (the specs
``extract`` took before MARCspec). A row for pymarc computes the MARCspec row's values from
records it reads (MARCReader), on the first file only, scaled by bytes.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pyarrow as pa
import pymarc
import rapidmarc

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"

EARLIER = ["LDR", "001", "245", "245$a", "650$ax", "6XX$a"]
MARCSPEC = ["LDR/6", "008/7-10", "008/35-37", "245^1", "650^2", "650[0]$a", "245$a-c", "245$a/#"]
CONDITIONS = ["650$a{^2=\\0}", "650$a{$x}", "245$a{LDR/6=\\a}", "020$a{$q~\\pbk}", "6..$a{^2!=\\7}"]

ROWS = [
    ("earlier forms, list (baseline)", EARLIER, {}),
    # "[0-#]" (every occurrence) selects the same values through the general selector.
    ("earlier forms, general path", [s[:3] + "[0-#]" + s[3:] for s in EARLIER], {}),
    ("earlier forms, shape=first", EARLIER, {"shape": "first"}),
    ("earlier forms, shape=join", EARLIER, {"shape": "join"}),
    ("earlier forms + record, offset", EARLIER, {"record_column": True, "offset_column": True}),
    ("positions, indicators, indexes", MARCSPEC, {}),
    ("conditions", CONDITIONS, {}),
]


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def pymarc_marcspec(path: Path) -> list:
    """MARCSPEC's values computed from pymarc records (what a user would write without it)."""
    out = []
    with open(path, "rb") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in pymarc.MARCReader(fh):
            if r is None:
                continue
            f008 = r.get_fields("008")
            f650 = r.get_fields("650")
            out.append(
                [
                    str(r.leader)[6],
                    [f.data[7:11] for f in f008],
                    [f.data[35:38] for f in f008],
                    [f.indicator1 for f in r.get_fields("245")],
                    [f.indicator2 for f in f650],
                    f650[0].get_subfields("a") if f650 else [],
                    [sf.value for f in r.get_fields("245") for sf in f.subfields if sf.code in "abc"],
                    [sf.value[-1:] for f in r.get_fields("245") for sf in f.subfields if sf.code == "a"],
                ]
            )
    return out


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    files = sorted(REAL.glob("*.mrc"))
    data = b"".join(f.read_bytes() for f in files) * copies
    records = rapidmarc.count(data)
    print(f"{records} records, {len(data) / 1e6:.1f} MB, workers=1, best of {repeats}")
    print(f"{'specs':40} {'seconds':>8} {'ratio':>6}")
    pa.table(rapidmarc.extract_arrow(data, EARLIER, workers=1))  # warm up (page cache, allocator)
    base = None
    for name, specs, kw in ROWS:
        t = best(lambda specs=specs, kw=kw: pa.table(rapidmarc.extract_arrow(data, specs, workers=1, **kw)), repeats)
        base = base or t
        print(f"{name:40} {t:8.3f} {t / base:6.2f}")
    first = files[0]
    t = best(lambda: pymarc_marcspec(first), 1) * len(data) / first.stat().st_size
    print(f"{'pymarc: positions, indicators, indexes':40} {t:8.3f} {t / base:6.2f}  (scaled from {first.name})")


if __name__ == "__main__":
    main()
