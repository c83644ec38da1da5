"""Eight threads at once on readers and records, compared with one thread doing the same work.

It runs on every build. With the GIL it checks the locking logic (a shared reader hands each
record out once, a record edited by one thread while others read it stays whole); on a
free-threaded CPython (3.13t, `make test-freethreaded`) the threads really run at the same time
in the extension's Record, Field and Reader code, which is what it is for. Every comparison is
exact: nothing may be lost, duplicated or changed by running in parallel.

The threads start together (a barrier) and take turns with the switch interval set very short, so
that with the GIL too they interleave inside each other's work as much as they can.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

rapidmarc = pytest.importorskip("rapidmarc")

THREADS = 8
# Two UTF-8 and two MARC-8 real files (936 records), and a damaged file whose bad records (invalid
# UTF-8: 85 of its 383) come back as None with an exception.
FILES = ("loc_386.mrc", "traject_30.mrc", "lul_fre_500.mrc", "hebrew_20.mrc")
DAMAGED = "invalid_utf8_383.mrc"
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


@pytest.fixture(autouse=True)
def fast_switching():
    """With the GIL: switch threads every 10 µs instead of every 5 ms."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


@pytest.fixture(scope="module")
def paths(data_dir) -> list[Path]:
    found = [data_dir / "real" / name for name in FILES] + [data_dir / "edge" / DAMAGED]
    missing = [p.name for p in found if not p.is_file()]
    if missing:
        pytest.skip(f"missing data files: {', '.join(missing)}")
    return found


def run_threads(work: Callable[[int], object]) -> list[object]:
    """work(0..THREADS-1) on THREADS threads started together; their results, or the first error."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS
    errors: list[BaseException] = []

    def body(slot: int) -> None:
        try:
            barrier.wait()
            results[slot] = work(slot)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def digest(record) -> str:
    """Everything a script reads from a record: title, each field's tag and value(), as_marc()."""
    h = hashlib.sha256()
    h.update(repr(record.title).encode("utf-8", "surrogatepass"))
    for field in record.fields:
        h.update(field.tag.encode())
        h.update(field.value().encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    h.update(record.as_marc())
    return h.hexdigest()


def read_digests(reader) -> list[str]:
    """Digest of each item a reader yields; a bad record is its exception's class and chunk."""
    out = []
    for record in reader:
        if record is None:
            exc = reader.current_exception
            out.append(f"bad {type(exc).__name__} {hashlib.sha256(reader.current_chunk).hexdigest()}")
        else:
            out.append(digest(record))
    return out


def edit(record, mark: str) -> None:
    """A typical script's edit: upper-case 245 $a, change an indicator, add a field, drop 5XX."""
    for field in record.get_fields("245"):
        field.subfields = [
            rapidmarc.Subfield(sf.code, sf.value.upper() if sf.code == "a" else sf.value) for sf in field.subfields
        ]
        field.indicator2 = "0"
    record.remove_fields("500", "504")
    record.add_field(
        rapidmarc.Field(tag="999", indicators=rapidmarc.Indicators(" ", " "), subfields=[rapidmarc.Subfield("a", mark)])
    )


# How each thread opens its own reader: every engine (parse-ahead worker, caller's thread,
# parallel ranges) and every kind of source.
OPENERS: tuple[Callable[[Path], object], ...] = (
    lambda p: rapidmarc.MARCReader(p),
    lambda p: rapidmarc.MARCReader(p, workers=0),
    lambda p: rapidmarc.MARCReader(p, workers=2),
    lambda p: rapidmarc.MARCReader(p.read_bytes()),
    lambda p: rapidmarc.MARCReader(p.open("rb")),
)


def test_own_readers_match_one_thread(paths):
    """(a) Each thread reads every file with its own reader: each gets exactly the single-threaded
    result, bad records (None and their exception) included."""
    reference = {p.name: read_digests(rapidmarc.MARCReader(p)) for p in paths}
    assert sum(len(v) for v in reference.values()) > 1300
    assert any(d.startswith("bad ") for d in reference[DAMAGED])

    def work(slot: int) -> dict[str, list[str]]:
        got = {}
        for i, p in enumerate(paths):
            with OPENERS[(slot + i) % len(OPENERS)](p) as reader:
                got[p.name] = read_digests(reader)
        return got

    for got in run_threads(work):
        assert got == reference


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_one_shared_reader_hands_out_each_record_once(paths, workers):
    """(b) One reader iterated by all threads: together they get every item exactly once, and
    reading current_chunk / current_offset meanwhile is safe."""
    corpus = b"".join(p.read_bytes() for p in paths)
    reference = Counter(read_digests(rapidmarc.MARCReader(corpus)))
    total = sum(reference.values())
    reader = rapidmarc.MARCReader(corpus, workers=workers)

    def work(_: int) -> list[str]:
        got = []
        for record in reader:
            chunk, offset = reader.current_chunk, reader.current_offset
            assert isinstance(chunk, bytes) and isinstance(offset, int)
            if record is not None:
                got.append(digest(record))
        return got

    results = run_threads(work)
    good = Counter(d for d in reference.elements() if not d.startswith("bad "))
    assert Counter(d for part in results for d in part) == good
    assert sum(len(part) for part in results) == sum(good.values()) and total > sum(good.values())
    with pytest.raises(StopIteration):
        next(reader)


def own_and_reference(path: Path) -> tuple[list[str], list[bytes]]:
    """Digests of the records of `path`, and their as_marc() after edit(), in one thread."""
    records = list(rapidmarc.MARCReader(path))
    before = [digest(r) for r in records]
    for r in records:
        edit(r, "edited")
    return before, [r.as_marc() for r in records]


def test_edits_and_as_marc_on_shared_and_own_records(paths):
    """(c) Shared records: thread t edits the records i with i % 8 == t while every thread reads all
    of them (title, every value(), as_marc(), which must always parse back as a whole record). Own
    records: each thread edits its own copies. Afterwards every record is exactly the one-thread
    result."""
    path = paths[0]
    before, reference = own_and_reference(path)
    shared = list(rapidmarc.MARCReader(path))
    ids = [r["001"].data for r in shared]
    n = len(shared)
    own_paths = paths[1:4]
    own_reference = [own_and_reference(p)[1] for p in own_paths]

    def work(slot: int) -> list[bytes]:
        for i in range(n):
            k = (i * 7 + slot * 53) % n  # each thread walks the records in its own order
            record = shared[k]
            if k % THREADS == slot:
                edit(record, "edited")
                continue
            # Before, during or after its edit, but a whole record either way.
            parsed = rapidmarc.Record(data=record.as_marc())
            assert parsed["001"].data == ids[k]
            assert isinstance(record.title, str)
            for field in record.fields:
                assert isinstance(field.value(), str)
        own = list(rapidmarc.MARCReader(own_paths[slot % len(own_paths)]))
        for r in own:
            edit(r, "edited")
        return [r.as_marc() for r in own]

    results = run_threads(work)
    assert [r.as_marc() for r in shared] == reference
    for slot, own in enumerate(results):
        assert own == own_reference[slot % len(own_paths)]
    # A new reading of the file still matches: editing shared records did not leak into the bytes
    # a reader hands out.
    assert [digest(r) for r in rapidmarc.MARCReader(path)] == before


def test_importing_rapidmarc_keeps_the_gil_as_the_build_has_it():
    """On a free-threaded build, importing rapidmarc must not turn the GIL back on (the extension
    declares Py_mod_gil = Py_MOD_GIL_NOT_USED); with the GIL, the check is that the probe runs."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    probe = "import sys, rapidmarc; f = getattr(sys, '_is_gil_enabled', None); print(f() if f else True)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("False" if FREE_THREADED else "True"), out.stderr


def _iter_fields(records) -> Iterator[object]:
    for r in records:
        yield from r.fields


def field_state(f) -> tuple:
    return (f.tag, f.value(), None if f.is_control_field() else list(f.subfields))


def test_shared_lazy_fields_materialise_once(paths):
    """All threads turn the same lazy fields into Python objects at once (value(), subfields): each
    field ends with one consistent state that matches a one-thread read. The threads walk the fields
    in the same order, so that they meet on the same field; 20 rounds of fresh fields. (Without
    the per-field lock in field_type.cpp it crashed a free-threaded build in 6 runs out of 6.)"""
    path = paths[2]  # MARC-8: values go through the MARC-8 decoder
    reference = [field_state(f) for f in _iter_fields(rapidmarc.MARCReader(path))]
    for _ in range(20):
        fields = list(_iter_fields(rapidmarc.MARCReader(path)))
        for got in run_threads(lambda _slot, fields=fields: [field_state(f) for f in fields]):
            assert got == reference
