"""Parallel reading and the bulk operations: exactly the sequential reader's results, in order,
with native work done without the GIL."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
from marc_testlib import EDGE_FILES, REAL_FILES

rapidmarc = pytest.importorskip("rapidmarc")
pymarc = pytest.importorskip("pymarc")
pytestmark = pytest.mark.rapidmarc_only


def outcome(reader) -> list[tuple]:
    """Everything observable about a reader's output, record by record."""
    out = []
    for record in reader:
        if record is None:
            exc = reader.current_exception
            out.append(("error", type(exc).__name__, str(exc), exc.record_index, exc.byte_offset, reader.current_chunk))
        else:
            out.append(("record", record._raw_bytes(), record.title, [f.value() for f in record.fields]))
    return out


def all_files(data_dir):
    return [data_dir / "real" / n for n in REAL_FILES] + [data_dir / "edge" / n for n in EDGE_FILES]


@pytest.mark.parametrize("recover", [False, True])
def test_parallel_reader_equals_sequential_on_every_file(data_dir, recover):
    for path in all_files(data_dir):
        expected = outcome(rapidmarc.MARCReader(path, recover=recover))
        for workers in (2, 3, None):
            got = outcome(rapidmarc.MARCReader(path, recover=recover, workers=workers))
            assert got == expected, (path.name, workers)
        got = outcome(rapidmarc.MARCReader(path.read_bytes(), recover=recover, workers=2))
        assert got == expected, (path.name, "bytes")


def test_parallel_reader_on_a_large_file_matches(tmp_path, data_dir):
    # Large enough for many ranges (512 KiB), with records straddling every range boundary.
    data = b"".join((data_dir / "real" / n).read_bytes() for n in ("loc_386.mrc", "uva_2000.mrc")) * 4
    path = tmp_path / "big.mrc"
    path.write_bytes(data)
    seq = [r.as_marc() for r in rapidmarc.MARCReader(path)]
    par = [r.as_marc() for r in rapidmarc.MARCReader(path, workers=2)]
    assert len(par) == (386 + 2000) * 4
    assert par == seq


def test_workers_argument_is_checked(loc_bytes):
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers"):
            rapidmarc.MARCReader(loc_bytes, workers=bad)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize("source", ["path", "bytes"])
def test_workers_zero_reads_in_the_calling_thread(data_dir, tmp_path, source):
    # Four copies of a 2.3 MB file: more than the parse-ahead thread may hold ready (2 batches of
    # at most 1 MiB, and one in progress), so that thread is still alive, waiting for room, when
    # the first record is taken (with one copy it could finish the file and exit before that).
    path = tmp_path / "uva_2000_x4.mrc"
    path.write_bytes((data_dir / "real" / "uva_2000.mrc").read_bytes() * 4)
    target = path if source == "path" else path.read_bytes()

    # Thread ids, not counts: other libraries of the test process (pyarrow's pool, ...) may start
    # threads of their own at any time. A reader's thread is one that starts with it and ends with
    # it (a joined thread can stay listed in /proc/self/task a moment after pthread_join returns).
    def tids() -> set[str]:
        return set(os.listdir("/proc/self/task"))

    def gone(threads: set[str]) -> set[str]:
        deadline = time.monotonic() + 10
        while not threads - tids() and time.monotonic() < deadline:
            time.sleep(0.01)
        return threads - tids()

    before = tids()
    ahead = rapidmarc.MARCReader(target)  # workers=1: one parse-ahead thread
    next(ahead)
    started = tids() - before
    assert started
    del ahead
    gc.collect()
    assert gone(started)  # the parse-ahead thread ends with its reader
    before = tids()
    reader = rapidmarc.MARCReader(target, workers=0)
    first = next(reader)
    during = tids() - before
    got = [first._raw_bytes()] + [r._raw_bytes() for r in reader]
    del reader
    gc.collect()
    time.sleep(0.2)
    assert not during - tids()  # no thread of its own: nothing started with it ended with it
    assert got == [r._raw_bytes() for r in rapidmarc.MARCReader(path)]
    assert rapidmarc.count(target, workers=0) == len(got)
    assert rapidmarc.extract(target, ["001"], workers=0) == rapidmarc.extract(target, ["001"], workers=2)
    assert len(rapidmarc.parse_records(path.read_bytes(), workers=0)) == len(got)


def test_a_file_object_with_workers_reads_sequentially(data_dir):
    path = data_dir / "real" / "loc_386.mrc"
    with open(path, "rb") as fh:
        got = [r.as_marc() for r in rapidmarc.MARCReader(fh, workers=4)]
    assert got == [r.as_marc() for r in rapidmarc.MARCReader(path)]


# ---------------------------------------------------------------------------------------------
# count / extract / parse_records


@pytest.mark.parametrize("workers", [1, 2, None])
def test_count_equals_the_readers_good_records(data_dir, workers):
    for path in all_files(data_dir):
        expected = sum(1 for r in rapidmarc.MARCReader(path) if r is not None)
        assert rapidmarc.count(path, workers=workers) == expected, path.name
        assert rapidmarc.count(path.read_bytes(), workers=workers) == expected, path.name
        with open(path, "rb") as fh:
            assert rapidmarc.count(fh, workers=workers) == expected, path.name


def test_count_strict_raises_the_first_error(data_dir):
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    first = None
    reader = rapidmarc.MARCReader(path)
    for record in reader:
        if record is None:
            first = reader.current_exception
            break
    assert first is not None
    with pytest.raises(type(first)) as info:
        rapidmarc.count(path, strict=True, workers=2)
    assert info.value.record_index == first.record_index
    assert info.value.byte_offset == first.byte_offset


@pytest.mark.parametrize("name", REAL_FILES)
def test_extract_equals_pymarc(data_dir, name):
    path = data_dir / "real" / name
    specs = ["LDR", "001", "245", "245$a", "650$ax", "6XX$a", "999$z"]
    cols = rapidmarc.extract(path, specs, workers=2)
    marc8 = name in ("uva_2000.mrc", "jazz_1k.mrc", "lul_fre_500.mrc", "hebrew_20.mrc", "solrmarc_spec_76.mrc")
    # Compare text pymarc decodes the same way as rapidmarc today; MARC-8 text via the reader.
    with open(path, "rb") as fh:
        reference = [r for r in (rapidmarc.MARCReader(fh) if marc8 else pymarc.MARCReader(fh)) if r is not None]
    assert all(len(c) == len(reference) for c in cols.values())
    for i, r in enumerate(reference):
        assert cols["LDR"][i] == [str(r.leader)]
        assert cols["001"][i] == [f.data for f in r.get_fields("001")]
        assert cols["245"][i] == [f.value() for f in r.get_fields("245")]
        assert cols["245$a"][i] == [v for f in r.get_fields("245") for v in f.get_subfields("a")]
        assert cols["650$ax"][i] == [v for f in r.get_fields("650") for v in f.get_subfields("a", "x")]
        six = [f for f in r.fields if f.tag.startswith("6")]
        assert cols["6XX$a"][i] == [v for f in six for v in f.get_subfields("a")]
        assert cols["999$z"][i] == [v for f in r.get_fields("999") for v in f.get_subfields("z")]


def test_extract_bytes_and_options(data_dir):
    path = data_dir / "real" / "loc_386.mrc"
    raw = rapidmarc.extract(path, ["245$a"], to_unicode=False)
    text = rapidmarc.extract(path, ["245$a"])
    assert [[v.decode() for v in row] for row in raw["245$a"]] == text["245$a"]
    with pytest.raises(ValueError, match="invalid field spec '24'"):
        rapidmarc.extract(path, ["24"])
    with pytest.raises(TypeError):
        rapidmarc.extract(path, "245$a")
    with pytest.raises(ValueError, match="file_encoding"):
        rapidmarc.extract(path, ["245$a"], file_encoding="cp1252")


def test_extract_skips_bad_records_or_raises_in_strict_mode(data_dir):
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    good = [r for r in rapidmarc.MARCReader(path) if r is not None]
    cols = rapidmarc.extract(path, ["001"])
    assert cols["001"] == [[f.data for f in r.get_fields("001")] for r in good]
    with pytest.raises(UnicodeDecodeError):
        rapidmarc.extract(path, ["001"], strict=True)
    replaced = rapidmarc.extract(path, ["245$a"], utf8_handling="replace")
    expected = [r for r in rapidmarc.MARCReader(path, utf8_handling="replace") if r is not None]
    assert replaced["245$a"] == [[v for f in r.get_fields("245") for v in f.get_subfields("a")] for r in expected]


def test_parse_records_from_a_stream_and_from_a_list(data_dir):
    data = (data_dir / "real" / "loc_386.mrc").read_bytes()
    expected = [r.as_marc() for r in rapidmarc.MARCReader(data)]
    assert [r.as_marc() for r in rapidmarc.parse_records(data, workers=2)] == expected
    records = rapidmarc.parse_records(expected, workers=2)
    assert [r.as_marc() for r in records] == expected
    assert all(isinstance(r, rapidmarc.Record) for r in records)


def test_parse_records_marks_bad_items(data_dir):
    good = next(iter(rapidmarc.MARCReader(data_dir / "real" / "loc_386.mrc"))).as_marc()
    items = [good, b"garbage!", bytearray(good)]
    out = rapidmarc.parse_records(items)
    assert out[0] is not None and out[2] is not None and out[1] is None
    with pytest.raises(rapidmarc.RecordLeaderInvalid) as info:  # as Record(data=b"garbage!") raises
        rapidmarc.parse_records(items, strict=True)
    assert info.value.record_index == 1
    with pytest.raises(TypeError):
        rapidmarc.parse_records("text")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Processes (sharing a reader between threads and the GIL: test_threads.py)


def _titles(path: str) -> list[str | None]:
    return [r.title for r in rapidmarc.MARCReader(path)]


def test_records_pickle_and_work_in_a_process_pool(data_dir):
    path = data_dir / "real" / "loc_386.mrc"
    records = list(rapidmarc.MARCReader(path, workers=2))
    copies = pickle.loads(pickle.dumps(records))
    assert [r.as_marc() for r in copies] == [r.as_marc() for r in records]
    # Workers start fresh and import rapidmarc themselves ("spawn", as on macOS and Windows; Python 3.14
    # defaults to "forkserver" on Linux). Forking this test process, which holds other libraries'
    # threads (pyarrow's, polars', DuckDB's), is what Python 3.12 and later warn against.
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_titles, [str(path)] * 2))
    assert results == [[r.title for r in records]] * 2
