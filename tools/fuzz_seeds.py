"""Write a libFuzzer seed corpus: single records, pairs and cut-off records from MARC files.

Usage: python tools/fuzz_seeds.py OUT_DIR FILE.mrc [FILE.mrc ...]

Seeds for tests/fuzz/fuzz_reader.cpp start with one options byte (see that file); seeds for
fuzz_marc8 are subfield values of the MARC-8 records (leader/09 blank) among the inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

RT, FT, SF = b"\x1d", b"\x1e", b"\x1f"


def records(data: bytes) -> list[bytes]:
    return [chunk + RT for chunk in data.split(RT) if chunk]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    (out / "reader").mkdir(parents=True, exist_ok=True)
    (out / "marc8").mkdir(parents=True, exist_ok=True)
    n = 0
    for name in argv[1:]:
        recs = records(Path(name).read_bytes())[:40]
        for i, rec in enumerate(recs):
            pair = rec + (recs[i + 1] if i + 1 < len(recs) else b"")
            for flags, body in ((0, rec), (1, pair), (5, pair[: len(pair) * 2 // 3]), (8, rec)):
                (out / "reader" / f"{Path(name).stem}-{i}-{flags}").write_bytes(bytes([flags]) + body)
            if len(rec) > 24 and rec[9:10] == b" ":
                for k, value in enumerate(rec.split(SF)[1:6]):
                    (out / "marc8" / f"{Path(name).stem}-{i}-{k}").write_bytes(value.split(FT)[0][1:])
            n += 1
    print(f"{n} records seeded into {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
