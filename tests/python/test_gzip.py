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
