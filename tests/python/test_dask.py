"""rapidmarc.dask: read_marc and read_marc_records on a real distributed.LocalCluster (two worker
processes, one thread each), compared with one process reading each file (extract_arrow,
MARCReader): every real and edge file, cut at many block sizes, both recover modes."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA_DIR

dask = pytest.importorskip("dask", reason="rapidmarc.dask needs dask (pip install rapidmarc[dask])")
distributed = pytest.importorskip("distributed", reason="the cluster tests need distributed")
fsspec = pytest.importorskip("fsspec", reason="rapidmarc.dask reads through fsspec")
pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

import rapidmarc  # noqa: E402
from rapidmarc import dask as rdask  # noqa: E402

FIELDS = ["001", "LDR/6", "245$a", "650$a", "100$a"]
SHAPE = {"001": "first", "LDR/6": "first", "100$a": "join"}
FILES = sorted((DATA_DIR / "real").glob("*.mrc")) + sorted((DATA_DIR / "edge").glob("*.mrc"))
KIB = 1024
BLOCKSIZES = [KIB, 7 * KIB, 64 * KIB, None]
# Partitions per read on the cluster at most (its scheduling costs a few ms a task on a busy machine);
# the in-process test below cuts files finer, and tests/cpp/test_parallel.cpp every file at 333 bytes.
MAX_CLUSTER_PARTITIONS = 40


def _records_of(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        n = int(data[pos : pos + 5])
        out.append(data[pos : pos + n])
        pos += n
    return out


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> list[Path]:
    """Files with framing damage, made from nepali_96.mrc (no file of the shared data breaks the
    chain of byte ranges; these do, at every block size below, so the re-read of broken spans is
    what makes them read right)."""
    source = DATA_DIR / "real" / "nepali_96.mrc"
    if not source.is_file():
        pytest.skip(f"shared MARC test data not found at {DATA_DIR}")
    recs = _records_of(source.read_bytes())
    made = {}
    r = list(recs)
    r[40] = b"12x45" + r[40][5:]  # a length that is not a number
    made["bad_length"] = r
    r = list(recs)
    r.insert(21, b"this is no MARC record " * 130)  # 3 KB of junk between two records
    made["junk"] = r
    r = list(recs)
    r[60] = b"%05d" % (len(r[60]) + 300) + r[60][5:]  # a length that runs into the next record
    made["long_length"] = r
    r = list(recs)
    r[80] = r[80][:-1] + b"X"  # no record terminator
    made["no_terminator"] = r
    r = list(recs)
    fake = b"\x1d" + b"00030nam a22" + b"x" * 17 + b"\x1d"  # a plausible record start inside a record
    for i in range(0, len(r), 2):
        rec = bytearray(r[i])
        for at in (len(rec) // 4, len(rec) // 2, 3 * len(rec) // 4):
            rec[at : at + len(fake)] = fake
        r[i] = bytes(rec)
    made["false_starts"] = r
    directory = tmp_path_factory.mktemp("damaged")
    out = []
    for name, parts in made.items():
        out.append(directory / f"damaged_{name}.mrc")
        out[-1].write_bytes(b"".join(parts))
    out.append(directory / "damaged_truncated.mrc")
    out[-1].write_bytes(b"".join(recs)[:-300])
    return out


@pytest.fixture(scope="module")
def client():
    if not FILES:
        pytest.skip(f"shared MARC test data not found at {DATA_DIR}")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _expected(path: Path, recover: bool, **kw):
    cols = rapidmarc.extract_arrow(
        str(path), FIELDS, shape=SHAPE, record_column=True, offset_column=True, recover=recover, workers=1, **kw
    )
    return pa.table(cols).to_pylist(), cols.summary, cols.errors


def _rows(frame) -> list[dict]:
    return pa.Table.from_pandas(frame, preserve_index=False).to_pylist()


def _error_facts(errors) -> list[tuple]:
    return [(type(e).__name__, e.record_index, e.byte_offset) for e in errors]


def _summary_facts(s) -> tuple:
    return (
        s.good,
        s.bad,
        s.bytes_read,
        s.size,
        s.stopped_at,
        type(s.stop_error).__name__,
        type(s.first_error).__name__,
        getattr(s.first_error, "byte_offset", None),
    )


def _check(path: Path, recover: bool, frame, file_summary, blocksize) -> None:
    rows, summary, errors = _expected(path, recover)
    label = f"{path.name} blocksize={blocksize} recover={recover}"
    got = _rows(frame)
    assert len(got) == len(rows), label
    assert got == rows, label
    assert file_summary.path.endswith(path.name)
    assert _summary_facts(file_summary.summary) == _summary_facts(summary), label
    assert _error_facts(file_summary.errors) == _error_facts(errors), label


def _compute_reads(reads, **kwargs) -> list[tuple]:
    """(frame, summaries) of many MarcReads in one dask.compute, as MarcRead.compute does for one."""
    computed = dask.compute(*[(r.frame.to_delayed(optimize_graph=False), r.summary) for r in reads], **kwargs)
    return [(pd.concat(parts), summaries) for parts, summaries in computed]


def _reads(files: list[Path], recover: bool):
    """(path, blocksize, MarcRead) for every file and block size a cluster read takes."""
    out = []
    for path in files:
        size = path.stat().st_size
        for bs in BLOCKSIZES:
            if bs is not None and size // bs > MAX_CLUSTER_PARTITIONS:
                continue
            read = rdask.read_marc_with_summary(
                str(path), FIELDS, shape=SHAPE, record_column=True, offset_column=True, blocksize=bs, recover=recover
            )
            out.append((path, bs, read))
    return out


@pytest.mark.parametrize("recover", [False, True])
def test_every_file_on_the_cluster_reads_as_one_process(client, damaged, recover):
    reads = _reads(FILES + damaged, recover)
    assert any(bs == KIB for _, bs, _ in reads) and any(bs is None for _, bs, _ in reads)
    computed = _compute_reads([r for _, _, r in reads], scheduler=client)
    for (path, bs, read), (frame, summaries) in zip(reads, computed, strict=True):
        size = path.stat().st_size
        assert read.frame.npartitions == (1 if bs is None else max(1, -(-size // bs)))
        assert len(summaries) == 1
        _check(path, recover, frame, summaries[0], bs)


@pytest.mark.parametrize("recover", [False, True])
def test_every_file_cut_finely_in_one_process(damaged, recover):
    """The same comparison at block sizes down to 1 KiB, with Dask's in-process scheduler (the
    tasks are the cluster's; only where they run differs), on the damaged and the smaller files
    (tests/cpp/test_parallel.cpp cuts every file at 333 bytes and more with the same framing)."""
    for path in [p for p in FILES if p.stat().st_size < 150_000] + damaged:
        for bs in (KIB, 3 * KIB + 17):
            read = rdask.read_marc_with_summary(
                str(path), FIELDS, shape=SHAPE, record_column=True, offset_column=True, blocksize=bs, recover=recover
            )
            frame, summaries = read.compute(scheduler="sync")
            _check(path, recover, frame, summaries[0], bs)


@pytest.mark.parametrize("recover", [False, True])
def test_the_damaged_files_break_the_chain(damaged, recover):
    """Each damaged file's blocks do not chain on their own at any block size the tests use (so
    the comparisons above test the chain check and the re-read of broken spans)."""
    options = rapidmarc.ReadOptions(workers=1, recover=recover)
    for path in damaged:
        size = path.stat().st_size
        for bs in (KIB, 3 * KIB + 17, 7 * KIB):
            expected, broken = 0, False
            for begin in range(0, size, bs):  # the chain check of rapidmarc.dask._plan_file
                start, end, clean, _items = rapidmarc._core.frame_range(str(path), size, begin, begin + bs, options)
                if start is None:
                    broken |= expected < min(begin + bs, size)
                    continue
                broken |= start != expected or not clean
                expected = end
            assert broken, (path.name, bs)


def _marcreader_account(path: Path, recover: bool) -> tuple[list[bytes], list[tuple]]:
    """What MARCReader yields for a file: the good records' bytes and the bad items' exceptions."""
    good, bad = [], []
    with rapidmarc.MARCReader(str(path), recover=recover) as reader:
        for r in reader:
            if r is None:
                bad.append(reader.current_exception)
            else:
                good.append(r._raw_bytes())
    return good, _error_facts(bad)


def test_records_bag_equals_marcreader(client, damaged):
    paths = [p for p in FILES if p.stat().st_size < 40_000] + damaged
    reads = [
        (path, recover, rdask.read_marc_records_with_summary(str(path), blocksize=7 * KIB, recover=recover))
        for path in paths
        for recover in (False, True)
    ]
    computed = [read.compute(scheduler=client) for _, _, read in reads]
    assert any(summaries[0].summary.bad for _, summaries in computed)  # the damaged files have bad records
    for (path, recover, read), (records, summaries) in zip(reads, computed, strict=True):
        label = (path.name, recover)
        assert read.bag.npartitions == -(-path.stat().st_size // (7 * KIB))
        good, bad = _marcreader_account(path, recover)
        assert [r._raw_bytes() for r in records] == good, label
        [s] = summaries
        assert s.path.endswith(path.name)
        assert _summary_facts(s.summary) == _summary_facts(rapidmarc.scan(str(path), recover=recover)), label
        assert s.summary.good == len(good) and s.summary.bad == len(bad), label
        assert _error_facts(s.errors) == bad[:100], label
    # read_marc_records is the same bag without the summary
    bag = rdask.read_marc_records(str(damaged[0]), blocksize=7 * KIB)
    assert [r._raw_bytes() for r in bag.compute(scheduler="sync")] == _marcreader_account(damaged[0], False)[0]


def test_records_summary_counts_decoding_errors():
    """A record the core reads but Python's codec refuses (file_encoding) is bad in the summary too."""
    path = DATA_DIR / "real" / "hebrew_20.mrc"  # MARC-8: decoded with file_encoding's codec
    for file_encoding in ("ascii", "iso8859-1"):
        kw = dict(force_utf8=False, file_encoding=file_encoding)
        records_got, [s] = rdask.read_marc_records_with_summary(str(path), blocksize=KIB, **kw).compute(
            scheduler="sync"
        )
        with rapidmarc.MARCReader(str(path), **kw) as reader:
            items = list(reader)
        bad = [i for i, r in enumerate(items) if r is None]
        assert len(records_got) == len(items) - len(bad)
        assert (s.summary.good, s.summary.bad) == (len(items) - len(bad), len(bad))
        assert [e.record_index for e in s.errors] == bad
        if file_encoding == "ascii":
            assert bad, "hebrew MARC-8 has bytes above 0x7F: ascii must refuse some records"
            assert type(s.summary.first_error) is type(s.errors[0])


def _copies(directory: Path, names: list[str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i, name in enumerate(names):
        target = directory / f"{i:02d}_{name}"
        shutil.copyfile(DATA_DIR / "real" / name, target)
        out.append(target)
    return out


def _concat_expected(paths: list[Path]) -> list[dict]:
    rows = []
    for p in paths:
        rows.extend(dict(path=str(p), **row) for row in _expected(p, False)[0])
    return rows


def test_glob_and_file_urls_on_the_cluster(client, tmp_path):
    paths = _copies(tmp_path / "many", ["traject_30.mrc", "hebrew_20.mrc", "nepali_96.mrc"])
    ddf = rdask.read_marc(
        f"file://{tmp_path}/many/*.mrc",
        FIELDS,
        shape=SHAPE,
        record_column=True,
        offset_column=True,
        path_column=True,
        blocksize="8KiB",
    )
    got = _rows(ddf.compute(scheduler=client))
    assert got == _concat_expected(paths)  # file 2's records after file 1's, each numbered in its file
    single = rdask.read_marc(f"file://{paths[0]}", ["001"], shape="first", blocksize=5000).compute(scheduler=client)
    assert single["001"].tolist() == rapidmarc.extract(str(paths[0]), ["001"], shape="first")["001"]


def test_memory_filesystem_through_file_objects(damaged):
    """fsspec's memory filesystem (per process, so read in this one): the file-object path."""
    fs = fsspec.filesystem("memory")
    names = ["traject_30.mrc", "hebrew_20.mrc"]
    junk = next(p for p in damaged if "junk" in p.name)
    paths = [DATA_DIR / "real" / n for n in names] + [junk]
    try:
        for p in paths:
            fs.pipe(f"/rapidmarc-test/{p.name}", p.read_bytes())
        for recover in (False, True):
            read = rdask.read_marc_with_summary(
                "memory://rapidmarc-test/*.mrc",
                FIELDS,
                shape=SHAPE,
                record_column=True,
                offset_column=True,
                blocksize=2 * KIB,
                recover=recover,
            )
            frame, summaries = read.compute(scheduler="threads")
            order = sorted(paths, key=lambda p: p.name)
            rows = []
            for p, s in zip(order, summaries, strict=True):
                expected_rows, summary, _ = _expected(p, recover)
                rows.extend(expected_rows)
                assert _summary_facts(s.summary) == _summary_facts(summary)
            assert _rows(frame) == rows
        bag = rdask.read_marc_records(f"memory://rapidmarc-test/{junk.name}", blocksize=KIB, recover=True)
        expected = [r._raw_bytes() for r in rapidmarc.MARCReader(str(junk), recover=True) if r is not None]
        assert [r._raw_bytes() for r in bag.compute(scheduler="sync")] == expected
    finally:
        fs.rm("/rapidmarc-test", recursive=True)


def test_meta_dtypes_and_empty_file(tmp_path):
    empty = tmp_path / "empty.mrc"
    empty.write_bytes(b"")
    ddf = rdask.read_marc(str(empty), ["001", "650$a"], shape={"001": "first"}, record_column=True)
    assert [str(t) for t in ddf.dtypes] == ["int64[pyarrow]", "string[pyarrow]", "list<item: string>[pyarrow]"]
    frame = ddf.compute(scheduler="sync")
    assert len(frame) == 0 and list(frame.columns) == ["record", "001", "650$a"]
    with pytest.raises(FileNotFoundError):
        rdask.read_marc(str(tmp_path / "none-*.mrc"), ["001"])
    with pytest.raises(ValueError):
        rdask.read_marc(str(empty), ["001"], path_column="001")
    gz = tmp_path / "records.mrc.gz"
    gz.write_bytes(gzip.compress((DATA_DIR / "real" / "traject_30.mrc").read_bytes()))
    with pytest.raises(ValueError, match="gzip"):  # never an empty frame
        rdask.read_marc(str(gz), ["001"], blocksize=KIB).compute(scheduler="sync")


def _doc_example() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "parallel.md").read_text(encoding="utf-8")
    marker = "<!-- run by tests/python/test_dask.py -->"
    assert marker in text
    block = re.search(r"```python\n(.*?)```", text[text.index(marker) :], re.S)
    assert block
    return block.group(1)


def test_the_documented_groupby_runs_on_the_cluster(client, tmp_path, monkeypatch):
    paths = _copies(tmp_path / "records", ["loc_386.mrc", "traject_30.mrc", "auth_1066.mrc"])
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_doc_example(), "docs/parallel.md", "exec"), namespace)  # uses the active Client
    per_type = namespace["per_type"]
    expected: dict[str, int] = {}
    for p in paths:
        for value in rapidmarc.extract(str(p), ["LDR/6"], shape="first")["LDR/6"]:
            expected[value] = expected.get(value, 0) + 1
    assert per_type.to_dict() == expected
    assert namespace["ddf"].npartitions > len(paths)  # 64 KiB blocks: files were cut


def test_without_dask_the_import_names_the_extra():
    code = (
        "import sys; sys.modules['dask'] = None\n"
        "try:\n    import rapidmarc.dask\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install rapidmarc[dask]" in out
