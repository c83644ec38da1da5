"""Nothing lost unsaid: ``scan()`` and ``convert()`` account for every byte of the input, and a
path destination is written by one rule (rapidmarc._destination): regular files through a new
hidden ``.<name>.<random>.partial`` file, keeping their mode; symbolic links followed; FIFOs and
devices in place; nothing else ever removed.

The damaged inputs are real records with damage put in: 18 junk bytes after record 3 (pymarc and
rapidmarc stop there: 383 records unread), a truncated last record, a gzip-compressed copy.
"""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
import threading

import pytest
from marc_testlib import split_records

pytestmark = pytest.mark.rapidmarc_only

JUNK = b"this is not marc!!"  # 18 bytes


def leftovers(directory) -> list[str]:
    """Temporary outputs left in `directory` (hidden or not)."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


@pytest.fixture(scope="module")
def loc(data_dir) -> bytes:
    return (data_dir / "real" / "loc_386.mrc").read_bytes()


@pytest.fixture(scope="module")
def junk_after_3(loc) -> tuple[bytes, int]:
    records = split_records(loc)
    cut = sum(len(r) for r in records[:3])
    return loc[:cut] + JUNK + loc[cut:], cut


@pytest.mark.parametrize("kind", ["path", "bytes", "file object"])
def test_a_framing_error_stops_reading_and_says_where(impl, tmp_path, junk_after_3, kind):
    data, cut = junk_after_3
    path = tmp_path / "junk.mrc"
    path.write_bytes(data)
    source = {"path": str(path), "bytes": data, "file object": None}[kind]
    if source is None:
        source = open(path, "rb")  # noqa: SIM115 - closed below
    try:
        summary = impl.scan(source)
    finally:
        if kind == "file object":
            source.close()
    assert (summary.good, summary.bad) == (3, 1)
    assert summary.stopped_at == cut and type(summary.stop_error).__name__ == "RecordLengthInvalid"
    assert summary.first_error is not None and summary.first_error.byte_offset == cut
    assert not summary.complete
    if kind == "file object":  # a stream's size is unknown once reading stopped
        assert summary.size is None and summary.unread is None
    else:
        assert summary.size == len(data) and summary.unread == len(data) - summary.bytes_read > 500_000
    assert impl.count(source if kind != "file object" else data) == 3


def test_recover_reads_on_and_accounts_for_the_junk(impl, junk_after_3):
    data, _ = junk_after_3
    summary = impl.scan(data, recover=True)
    assert (summary.good, summary.bad, summary.stop_error, summary.unread) == (386, 1, None, 0)
    assert summary.bytes_read == summary.size == len(data)


def test_a_clean_file_is_complete(impl, loc):
    summary = impl.scan(loc, workers=2)
    assert summary == (386, 0, len(loc), len(loc), None, None) and summary.complete


def test_a_truncated_last_record_is_bad_but_nothing_is_unread(impl, loc):
    data = loc[:-100]
    summary = impl.scan(data)
    assert (summary.good, summary.bad, summary.stop_error, summary.unread) == (385, 1, None, 0)
    assert type(summary.first_error).__name__ == "TruncatedRecord"


def test_input_that_is_not_marc_stops_at_byte_0(impl, loc):
    summary = impl.scan(gzip.compress(loc))
    assert (summary.good, summary.stopped_at) == (0, 0) and summary.unread > 0


def test_convert_reports_what_it_read(impl, tmp_path, junk_after_3):
    data, cut = junk_after_3
    source = tmp_path / "junk.mrc"
    source.write_bytes(data)
    result = impl.convert(str(source), tmp_path / "out.xml", to="xml")
    assert result[:3] == (3, 1, 0) and result.stopped_at == cut
    assert result.summary.unread == len(data) - result.bytes_read


# ---------------------------------------------------------------------------
# Destinations: written, not replaced
# ---------------------------------------------------------------------------


def test_a_symlinked_destination_writes_its_target(impl, tmp_path, loc):
    target = tmp_path / "real.mrc"
    target.write_bytes(b"old")
    link = tmp_path / "link.mrc"
    link.symlink_to(target)
    impl.convert(loc, link, to="marc")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == loc
    assert leftovers(tmp_path) == []


def test_a_dangling_symlink_creates_its_target(impl, tmp_path, loc):
    link = tmp_path / "link.mrc"
    link.symlink_to(tmp_path / "new.mrc")
    impl.convert(loc, link, to="marc")
    assert link.is_symlink() and (tmp_path / "new.mrc").read_bytes() == loc


@pytest.mark.parametrize("mode", [0o444, 0o640, 0o600])
def test_the_old_files_mode_is_kept(impl, tmp_path, loc, mode):
    dest = tmp_path / "out.mrc"
    dest.write_bytes(b"old")
    dest.chmod(mode)
    if not os.access(dest, os.W_OK):
        with pytest.raises(PermissionError, match="not writable"):
            impl.convert(loc, dest, to="marc")
        assert dest.read_bytes() == b"old"
        return
    impl.convert(loc, dest, to="marc")
    assert dest.read_bytes() == loc and stat.S_IMODE(dest.stat().st_mode) == mode


def test_a_fifo_is_written_in_place(impl, tmp_path, loc):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    impl.convert(loc, fifo, to="marc")
    reader.join(timeout=60)
    assert received == [loc]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and leftovers(tmp_path) == []


def test_a_device_is_written_in_place(impl, loc):
    before = os.lstat("/dev/null")
    result = impl.convert(loc, "/dev/null", to="xml")
    assert result.records == 386
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not [name for name in os.listdir("/dev") if name.endswith(".partial")]


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
@pytest.mark.parametrize("stdout", ["file", "appended file", "pipe"])
def test_standard_output_through_its_names(loc, tmp_path, name, stdout):
    """``/dev/stdout`` and the other names of an open descriptor are written in place (appending),
    never replaced: the bytes reach what standard output is, and ``>>`` keeps what was there."""
    src = tmp_path / "in.mrc"
    src.write_bytes(loc)
    code = f"import rapidmarc; rapidmarc.convert({str(src)!r}, {name!r}, to='marc')"
    command = [sys.executable, "-c", code]
    if stdout == "pipe":
        run = subprocess.run(command, stdout=subprocess.PIPE, check=True, timeout=120)
        assert run.stdout == loc
        return
    out = tmp_path / "captured.mrc"
    out.write_bytes(b"kept")
    with open(out, "ab" if stdout == "appended file" else "wb") as fh:
        inode = os.fstat(fh.fileno()).st_ino
        subprocess.run(command, stdout=fh, check=True, timeout=120)
    assert out.read_bytes() == (b"kept" if stdout == "appended file" else b"") + loc
    assert out.stat().st_ino == inode  # the same file, not a new one renamed over it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captured.mrc", "in.mrc"]


def test_a_directory_is_refused(impl, tmp_path, loc):
    with pytest.raises(IsADirectoryError):
        impl.convert(loc, tmp_path, to="marc")


def test_converting_onto_the_input_through_a_link_is_refused(impl, tmp_path, loc):
    src = tmp_path / "in.mrc"
    src.write_bytes(loc)
    link = tmp_path / "alias.mrc"
    link.symlink_to(src)
    with pytest.raises(ValueError, match="overwrite its input"):
        impl.convert(str(src), link, to="marc")
    assert src.read_bytes() == loc


def test_a_strict_failure_leaves_the_old_file_and_no_partial(impl, tmp_path, junk_after_3):
    data, _ = junk_after_3
    dest = tmp_path / "out.xml"
    dest.write_bytes(b"old")
    with pytest.raises(impl.exceptions.RecordLengthInvalid):
        impl.convert(data, dest, to="xml", strict=True)
    assert dest.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_files_named_like_a_partial_are_never_touched(impl, tmp_path, loc):
    """A file called OUT.partial, a symbolic link of that name, or the input itself under that
    name, is left as it is (found by review: a fixed temporary name deleted the input)."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    (tmp_path / "out.mrc.partial").symlink_to(victim)
    (tmp_path / "keep.xml.partial").write_bytes(b"precious")
    impl.convert(loc, tmp_path / "out.mrc", to="marc")
    impl.convert(loc, tmp_path / "keep.xml", to="xml")
    assert victim.read_bytes() == b"keep me" and (tmp_path / "out.mrc").read_bytes() == loc
    assert (tmp_path / "keep.xml.partial").read_bytes() == b"precious"
    source = tmp_path / "data.partial"
    source.write_bytes(loc)
    result = impl.convert(str(source), tmp_path / "data", to="marc")
    assert result.records == 386 and source.read_bytes() == loc == (tmp_path / "data").read_bytes()


def test_the_output_is_private_while_it_is_written_and_gets_the_umask_mode(impl, tmp_path, loc):
    modes = []

    def look(_done):
        modes.extend(stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob(".*.partial"))

    impl.convert(loc * 20, tmp_path / "new.xml", to="xml", workers=1, progress=look)
    assert modes and set(modes) == {0o600}
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.xml").stat().st_mode) == 0o666 & ~umask


def test_a_name_of_255_bytes_can_be_written(impl, tmp_path, loc):
    dest = tmp_path / ("n" * 251 + ".mrc")
    impl.convert(loc, dest, to="marc")
    assert dest.read_bytes() == loc and leftovers(tmp_path) == []


def test_a_missing_directory_says_so(impl, tmp_path, loc):
    with pytest.raises(FileNotFoundError, match="directory does not exist"):
        impl.convert(loc, tmp_path / "nowhere" / "out.mrc", to="marc")
