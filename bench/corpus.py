"""Deterministic benchmark corpora built from the shared real MARC files.

The real files are small (a few thousand records), far too short to time a fast
reader reliably, so benchmarks cycle through their records in a fixed order
(files sorted by name, records in file order) until the requested count is
reached. The same (kind, n_records) therefore always yields byte-identical
files, which keeps runs on different days and machines comparable.

Corpora are cached under ``bench/.cache/`` (git-ignored). A cached file is
reused only if its size equals the size the sources imply; files are written
to a temporary name and renamed, so an interrupted build never looks complete.

Usage::

    python bench/corpus.py --kind utf8 --records 100000
    python bench/corpus.py --kind mixed --records 100000 --files 8
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

RECORD_TERMINATOR = 0x1D

# Which shared files make up each corpus kind. Listed explicitly rather than
# discovered so that adding a file to the shared folder never silently changes
# what an existing benchmark measures.
UTF8_FILES = ("auth_1066", "loc_386", "nepali_96", "traject_30")
MARC8_FILES = ("hebrew_20", "jazz_1k", "lul_fre_500", "solrmarc_spec_76", "uva_2000")
SOURCES: dict[str, tuple[str, ...]] = {
    "utf8": tuple(f"real/{n}.mrc" for n in UTF8_FILES),
    "marc8": tuple(f"real/{n}.mrc" for n in MARC8_FILES),
    "mixed": tuple(f"real/{n}.mrc" for n in sorted(UTF8_FILES + MARC8_FILES)),
    "peer": ("peer/mrrc_realistic_2000.mrc",),
}
# Leader/09 each kind must have: 'a' = UCS/Unicode, ' ' = MARC-8.
EXPECTED_LEADER09 = {
    "utf8": {"a"},
    "marc8": {" "},
    "mixed": {"a", " "},
    "peer": {"a", " "},
}
KINDS = tuple(SOURCES)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO_ROOT / "bench" / ".cache"


def shared_dir() -> Path:
    """Return the shared data folder (``$RAPIDMARC_SHARED`` or ``<repo>/../shared``)."""
    env = os.environ.get("RAPIDMARC_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def split_records(data: bytes, origin: str = "<bytes>") -> list[bytes]:
    """Split ISO 2709 data into records, checking both framings agree.

    Each record states its length in leader/00-04 and ends with 0x1D. Trusting
    only one of the two would let a damaged source produce a corpus whose
    record count differs from what the benchmark assumes, so any disagreement
    is an error.
    """
    records, pos = [], 0
    while pos < len(data):
        head = data[pos : pos + 5]
        if not head.isdigit():
            raise ValueError(f"{origin}: bad record length {head!r} at byte {pos}")
        end = pos + int(head)
        if end > len(data) or data[end - 1] != RECORD_TERMINATOR:
            raise ValueError(f"{origin}: record at byte {pos} not terminated by 0x1D")
        records.append(data[pos:end])
        pos = end
    if len(records) != data.count(bytes([RECORD_TERMINATOR])):
        raise ValueError(f"{origin}: stray 0x1D inside a record")
    return records


def source_records(kind: str) -> list[bytes]:
    """Return the records of ``kind`` in the fixed corpus order."""
    if kind not in SOURCES:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    records: list[bytes] = []
    for rel in SOURCES[kind]:
        path = shared_dir() / "data" / rel
        file_records = split_records(path.read_bytes(), str(path))
        bad = {chr(r[9]) for r in file_records} - EXPECTED_LEADER09[kind]
        if bad:
            raise ValueError(f"{path}: leader/09 {sorted(bad)} does not fit kind {kind!r}")
        records.extend(file_records)
    return records


def _write_cycle(path: Path, records: Sequence[bytes], start: int, count: int) -> Path:
    """Write ``count`` records cycling from index ``start``; reuse if complete."""
    m = len(records)
    expected = sum(len(records[(start + i) % m]) for i in range(count))
    if path.is_file() and path.stat().st_size == expected:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        for i in range(count):
            out.write(records[(start + i) % m])
    os.replace(tmp, path)
    return path


def build_corpus(kind: str, n_records: int, cache_dir: Path | None = None) -> Path:
    """Build (or reuse) a file of exactly ``n_records`` records of ``kind``."""
    if n_records <= 0:
        raise ValueError("n_records must be positive")
    cache = cache_dir or DEFAULT_CACHE
    return _write_cycle(cache / f"{kind}-{n_records}.mrc", source_records(kind), 0, n_records)


def build_split(kind: str, n_records: int, n_files: int, cache_dir: Path | None = None) -> list[Path]:
    """Write the ``build_corpus`` record stream divided among ``n_files`` files.

    File ``i`` holds records ``[i*n//k, (i+1)*n//k)`` of the same stream, so the
    parts concatenated equal the single-file corpus and the sizes differ by at
    most one record: many-files-on-many-threads runs then do the same work as
    single-file runs.
    """
    if n_records <= 0 or not 0 < n_files <= n_records:
        raise ValueError("need 0 < n_files <= n_records")
    cache = cache_dir or DEFAULT_CACHE
    records = source_records(kind)
    folder = cache / f"{kind}-{n_records}-split{n_files}"
    bounds = [i * n_records // n_files for i in range(n_files + 1)]
    return [
        _write_cycle(folder / f"part-{i:03d}.mrc", records, lo, hi - lo)
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: build a corpus and print its path (one path per line when split)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=KINDS, default="utf8")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=1, help="split into this many files")
    ap.add_argument("--cache-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.files == 1:
        print(build_corpus(args.kind, args.records, args.cache_dir))
    else:
        print(*build_split(args.kind, args.records, args.files, args.cache_dir), sep="\n")


if __name__ == "__main__":
    main()
