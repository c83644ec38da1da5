"""gzip-compressed input (issue #12 item 2): a path holding gzip data, whatever its name, is read
as the records it holds, natively (zlib, off the GIL), by MARCReader, count, scan, extract,
extract_arrow, convert and the command line; damage in the compressed data is an OSError naming
the file, never a quiet end of the records."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest

pytestmark = pytest.mark.rapidmarc_only


@pytest.fixture(scope="module")
def loc(data_dir) -> bytes:
    return (data_dir / "real" / "loc_386.mrc").read_bytes()


@pytest.fixture
def gz_path(tmp_path, loc):
    path = tmp_path / "records.dat"  # the name says nothing: the content decides
    path.write_bytes(gzip.compress(loc))
    return path


@pytest.fixture(autouse=True)
def _needs_zlib(impl):
    if not impl._core.gzip_supported():
        pytest.skip("this build has no zlib")


@pytest.mark.parametrize("workers", [0, 1, 2, None])
def test_every_entry_point_reads_the_records(impl, gz_path, loc, workers):
    expected = [r.as_marc() for r in impl.MARCReader(loc)]
    reader_workers = 1 if workers is None else workers
    assert [r.as_marc() for r in impl.MARCReader(str(gz_path), workers=reader_workers)] == expected
    assert impl.count(gz_path, workers=workers) == 386
    summary = impl.scan(gz_path, workers=workers)
    assert summary.complete and summary.bytes_read == summary.size == len(loc)  # the decompressed size
    assert impl.extract(gz_path, ["001"], workers=workers) == impl.extract(loc, ["001"])
    out = gz_path.with_suffix(".mrc")
    impl.convert(gz_path, out, to="marc", workers=workers)
    assert out.read_bytes() == b"".join(expected)


def test_concatenated_gzip_files_are_one_stream(impl, tmp_path, loc):
    path = tmp_path / "two.mrc.gz"
    path.write_bytes(gzip.compress(loc) + gzip.compress(loc))
    assert impl.count(path) == 2 * 386


@pytest.mark.parametrize("cut", [20, 1000, -9, -1])
def test_a_truncated_gz_is_an_error_naming_the_file(impl, tmp_path, loc, cut):
    data = gzip.compress(loc)
    path = tmp_path / "cut.mrc.gz"
    path.write_bytes(data[:cut])
    for run in (lambda: impl.count(path), lambda: list(impl.MARCReader(str(path))), lambda: impl.scan(path)):
        with pytest.raises(OSError, match="truncated") as raised:
            run()
        assert str(path) in str(raised.value)


def test_corrupt_gzip_data_is_an_error(impl, tmp_path, loc):
    data = bytearray(gzip.compress(loc))
    data[len(data) // 2] ^= 0x5A
    path = tmp_path / "bad.mrc.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match="corrupt|truncated"):
        impl.count(path)


@pytest.mark.parametrize("where", [0.2, 0.35, 0.5, 0.65, 0.8])
def test_corrupt_gzip_data_is_an_error_wherever_the_damage_falls(impl, tmp_path, loc, where):
    # Past the first read the garbage that damaged deflate data decompresses to stops framing
    # before zlib notices the damage; the reader then checks the rest of the stream.
    data = bytearray(gzip.compress(loc * 12))  # 6 MB decompressed
    data[int(len(data) * where)] ^= 0x5A
    path = tmp_path / "bad.mrc.gz"
    path.write_bytes(bytes(data))
    for run in (lambda: impl.count(path), lambda: impl.scan(path), lambda: impl.count(path, workers=0)):
        with pytest.raises(OSError, match="corrupt|truncated") as raised:
            run()
        assert str(path) in str(raised.value)
    reader = impl.MARCReader(str(path))
    good = 0
    with pytest.raises(OSError, match="corrupt|truncated"):
        for record in reader:
            good += record is not None
    # What came before the damage was handed out first.
    assert good > (386 * 12 * where) * 0.8


def _damaged_gz(tmp_path, loc, where: float):
    data = bytearray(gzip.compress(loc * 12))
    data[int(len(data) * where)] ^= 0x5A
    path = tmp_path / f"bad{where}.mrc.gz"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("where", [0.3, 0.5, 0.6, 0.8])  # garbage that frames, that parses, that decodes
def test_strict_reading_reports_the_corrupt_gzip_not_its_garbage(impl, tmp_path, loc, where):
    path = _damaged_gz(tmp_path, loc, where)
    for run in (
        lambda: list(impl.MARCReader(str(path), strict=True)),
        lambda: impl.count(path, strict=True),
        lambda: impl.scan(path, strict=True),
        lambda: impl.count(path, strict=True, workers=0),
    ):
        with pytest.raises(OSError, match="corrupt"):
            run()


def test_records_before_gzip_damage_at_the_end_are_all_read(impl, tmp_path, loc):
    # Bytes zlib decompressed before it found the damage are handed out before the error.
    path = tmp_path / "junk.mrc.gz"
    path.write_bytes(gzip.compress(loc) + b"junk after the member")
    reader = impl.MARCReader(str(path))
    records = []
    with pytest.raises(OSError, match="not gzip|corrupt"):
        for record in reader:
            records.append(record)
    assert len(records) == 386 and None not in records


def test_validate_goes_on_after_an_input_that_fails_part_way(tmp_path, loc):
    from rapidmarc import cli

    bad = _damaged_gz(tmp_path, loc, 0.3)
    good = tmp_path / "good.mrc"
    good.write_bytes(loc)
    run = subprocess.run(
        [sys.executable, "-m", "rapidmarc", "validate", str(bad), str(good)], capture_output=True, timeout=120
    )
    assert run.returncode == cli.EXIT_ERROR
    err, out = run.stderr.decode(), run.stdout.decode()
    assert str(bad) in err and "corrupt" in err and "read before the error" in err
    assert f"{good}: 386 good, 0 bad" in out  # the next input was validated


def test_the_command_line_reads_gzip_files_and_pipes(gz_path, loc):
    run = subprocess.run([sys.executable, "-m", "rapidmarc", "count", gz_path], capture_output=True, timeout=60)
    assert run.returncode == 0 and run.stdout.decode().startswith("386\t")
    run = subprocess.run(
        [sys.executable, "-m", "rapidmarc", "count", "-"], input=gzip.compress(loc), capture_output=True, timeout=60
    )
    assert run.returncode == 0 and run.stdout == b"386\t<stdin>\n"


def test_gzip_of_something_that_is_not_marc_is_named(tmp_path):
    path = tmp_path / "notes.gz"
    path.write_bytes(gzip.compress(b"Dear colleague, the records follow.\n" * 40))
    run = subprocess.run([sys.executable, "-m", "rapidmarc", "count", path], capture_output=True, timeout=60)
    assert run.returncode == 3 and "not ISO 2709 MARC but plain text" in run.stderr.decode()


def test_an_input_failing_part_way_still_accounts_for_what_was_read(impl, tmp_path, loc):
    bad = _damaged_gz(tmp_path, loc, 0.8)
    with pytest.raises(OSError) as raised:
        impl.scan(bad)
    summary = raised.value.summary
    assert summary.good > 386 * 12 * 0.6 and summary.size is None and summary.bytes_read > 0
    good = tmp_path / "good.mrc"
    good.write_bytes(loc)
    run = subprocess.run(
        [sys.executable, "-m", "rapidmarc", "count", str(bad), str(good)], capture_output=True, timeout=120
    )
    err, out = run.stderr.decode(), run.stdout.decode()
    assert run.returncode == 2 and f"{summary.good} good and {summary.bad} bad records read before the error" in err
    assert f"386\t{good}" in out
