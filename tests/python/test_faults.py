"""Fault injection: destinations that fill up or fail, sources that fail part-way.

* ``convert(path, dest_path)`` when the disk fills (``RLIMIT_FSIZE`` in a subprocess, SIGXFSZ
  ignored, so writes fail with EFBIG): ``OSError``, no ``<dest>.partial`` left, an existing
  destination untouched byte for byte; the same through ``python -m rapidmarc convert``.
* a destination file object whose ``write()`` raises at its k-th call: that exception propagates,
  and nothing is written after it.
* a source file object whose k-th read raises, for every k: ``MARCReader`` delivers exactly the
  records complete before the failing read, then raises that exception; ``count``, ``extract``,
  ``extract_arrow`` and ``convert`` raise it (never a partial result).
"""

from __future__ import annotations

import errno
import io
import resource
import signal
import subprocess
import sys
import textwrap

import pytest
from marc_testlib import split_records

pytestmark = pytest.mark.rapidmarc_only

EXTENSION = {"xml": ".xml", "json": ".json", "marc": ".mrc"}
OLD = b"an existing destination that a failed conversion must leave as it is\n"


@pytest.fixture(scope="module")
def loc_file(data_dir):
    return data_dir / "real" / "loc_386.mrc"


def _full_size(impl, source, to, tmp_path) -> int:
    reference = tmp_path / f"reference{EXTENSION[to]}"
    impl.convert(source, reference, to=to)
    return reference.stat().st_size


def _limits(size: int) -> dict[str, int]:
    """File size limits: no byte, part of the first batch, all but the last byte (which fails
    only when the buffered file is flushed and closed)."""
    return {"nothing": 0, "part": 64 * 1024, "all but one byte": size - 1}


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


# ---------------------------------------------------------------------------
# The disk fills: convert() and the command line
# ---------------------------------------------------------------------------

CONVERT_SCRIPT = textwrap.dedent(
    """
    import resource, signal, sys
    import rapidmarc
    source, destination, to, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        result = rapidmarc.convert(source, destination, to=to)
    except OSError as exc:
        print(f"OSError {exc.errno} {exc.filename}")
    else:
        print(f"returned {result}")
    """
)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("limit", ["nothing", "part", "all but one byte"])
@pytest.mark.parametrize("to", ["xml", "json", "marc"])
def test_convert_to_a_full_disk_raises_and_leaves_nothing(impl, loc_file, tmp_path, to, limit, existing):
    size = _full_size(impl, loc_file, to, tmp_path)
    destination = tmp_path / f"out{EXTENSION[to]}"
    if existing:
        destination.write_bytes(OLD)
    run = subprocess.run(
        [sys.executable, "-c", CONVERT_SCRIPT, str(loc_file), str(destination), to, str(_limits(size)[limit])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"OSError {errno.EFBIG} {destination}"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    if existing:
        assert destination.read_bytes() == OLD
    else:
        assert not destination.exists()


def _cli_convert(source, destination, limit: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rapidmarc", "convert", str(source), str(destination), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size(limit),
    )


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("limit", ["nothing", "part", "all but one byte"])
@pytest.mark.parametrize("to", ["xml", "json", "marc"])
def test_cli_convert_to_a_full_disk_fails_in_one_line(impl, loc_file, tmp_path, to, limit, existing):
    size = _full_size(impl, loc_file, to, tmp_path)
    destination = tmp_path / f"out{EXTENSION[to]}"
    if existing:
        destination.write_bytes(OLD)
    run = _cli_convert(loc_file, destination, _limits(size)[limit])
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("rapidmarc convert: ") and "File too large" in lines[0]
    assert run.stdout == ""
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    if existing:
        assert destination.read_bytes() == OLD
    else:
        assert not destination.exists()


@pytest.mark.parametrize("source_format", ["marc", "xml"])
def test_cli_text_output_to_a_full_disk_names_the_output(impl, loc_file, tmp_path, source_format):
    """The record-by-record paths (here: to MARCMaker text) fail in one line naming the output,
    and leave nothing behind."""
    source = loc_file
    if source_format == "xml":
        source = tmp_path / "in.xml"
        impl.convert(loc_file, source, to="xml")
    destination = tmp_path / "out.mrk"
    run = _cli_convert(source, destination, 64 * 1024)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert str(destination) in run.stderr and str(errno.EFBIG) in run.stderr
    assert not destination.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_cli_convert_from_xml_to_a_full_disk_leaves_nothing(impl, loc_file, tmp_path):
    source = tmp_path / "in.xml"
    impl.convert(loc_file, source, to="xml")
    destination = tmp_path / "out.mrc"
    destination.write_bytes(OLD)
    run = _cli_convert(source, destination, 64 * 1024)
    assert run.returncode != 0 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xml", "out.mrc"]
    assert destination.read_bytes() == OLD


# ---------------------------------------------------------------------------
# A destination file object that fails
# ---------------------------------------------------------------------------


class WriteFailed(Exception):
    pass


FAILURES = {
    "OSError": lambda: OSError(errno.ENOSPC, "No space left on device"),
    "an Exception": lambda: WriteFailed("the destination broke"),
    "KeyboardInterrupt": lambda: KeyboardInterrupt(),
}


class FailingWriter(io.RawIOBase):
    """write() raises `error` at its k-th call (and records every call)."""

    def __init__(self, fail_at: int, error: BaseException) -> None:
        self.fail_at, self.error = fail_at, error
        self.calls = 0
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.error
        self.data += data
        return len(data)


@pytest.fixture(scope="module")
def several_batches(data_dir):
    """2.2 MB of MARC-8 records: a conversion writes it in 3 to 5 calls."""
    return data_dir / "real" / "uva_2000.mrc"


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("source_kind", ["path", "bytes"])
@pytest.mark.parametrize("to", ["xml", "json", "marc"])
def test_a_failing_destination_write_propagates(impl, several_batches, to, source_kind, failure):
    source = str(several_batches) if source_kind == "path" else several_batches.read_bytes()
    complete = FailingWriter(0, WriteFailed())
    expected = impl.convert(source, complete, to=to)
    assert complete.calls >= 3  # several batches: failures at the start, in the middle, at the end
    for k in range(1, complete.calls + 1):
        error = FAILURES[failure]()
        writer = FailingWriter(k, error)
        with pytest.raises(type(error)) as raised:
            impl.convert(source, writer, to=to)
        assert raised.value is error, k
        assert writer.calls == k, f"write() called again after its failure at call {k}"
        assert bytes(writer.data) == bytes(complete.data[: len(writer.data)])
    # A failure that never comes: the whole output, as without one.
    writer = FailingWriter(complete.calls + 1, WriteFailed())
    assert impl.convert(source, writer, to=to) == expected
    assert writer.data == complete.data


# ---------------------------------------------------------------------------
# A source file object that fails at its k-th read
# ---------------------------------------------------------------------------


class SourceFailed(OSError):
    pass


class FailingSource(io.RawIOBase):
    """A raw stream giving at most `chunk` bytes per readinto(), raising at call `fail_at`."""

    def __init__(self, data: bytes, chunk: int, fail_at: int | None) -> None:
        self.data, self.chunk, self.fail_at = data, chunk, fail_at
        self.pos = self.calls = 0
        self.error = SourceFailed(errno.EIO, "injected read failure")
        self.failed_at: int | None = None  # bytes delivered before the failing read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.calls += 1
        if self.calls == self.fail_at:
            self.failed_at = self.pos
            raise self.error
        n = min(len(buffer), self.chunk, len(self.data) - self.pos)
        buffer[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


class FailingReadOnly(FailingSource):
    """The same with read(n) only."""

    readinto = None  # type: ignore[assignment]

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls == self.fail_at:
            self.failed_at = self.pos
            raise self.error
        n = self.chunk if n < 0 else min(n, self.chunk)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out


CHUNK = 97  # bytes per read: a record takes several reads, and reads end anywhere in a record


@pytest.fixture(scope="module")
def short_stream(data_dir) -> tuple[bytes, list[bytes]]:
    """Five real records (about 3 KB), UTF-8 and MARC-8."""
    records = split_records((data_dir / "real" / "loc_386.mrc").read_bytes())[264:267]
    records += split_records((data_dir / "real" / "uva_2000.mrc").read_bytes())[1370:1372]
    return b"".join(records), records


ENTRY_POINTS = {
    "count": lambda impl, src: impl.count(src),
    "extract": lambda impl, src: impl.extract(src, ["001", "245$a"]),
    "extract_arrow": lambda impl, src: impl.extract_arrow(src, ["001"]).num_rows,
    "convert json": lambda impl, src: impl.convert(src, io.BytesIO(), to="json"),
    "convert marc": lambda impl, src: impl.convert(src, io.BytesIO(), to="marc"),
}

STREAMS = {"readinto": FailingSource, "read": FailingReadOnly}


def _reads_needed(stream_type, data: bytes, run) -> int:
    stream = stream_type(data, CHUNK, None)
    run(stream)
    assert stream.pos == len(data)
    return stream.calls


@pytest.mark.parametrize("recover", [False, True], ids=["default", "recover"])
@pytest.mark.parametrize("stream", list(STREAMS))
def test_marcreader_delivers_the_complete_records_then_raises(impl, short_stream, stream, recover):
    data, records = short_stream
    ends = [sum(map(len, records[: i + 1])) for i in range(len(records))]
    needed = _reads_needed(STREAMS[stream], data, lambda s: list(impl.MARCReader(s, recover=recover)))
    assert needed > len(data) // CHUNK  # every byte was read in chunks, and every read can fail
    for k in range(1, needed + 1):
        source = STREAMS[stream](data, CHUNK, k)
        reader = impl.MARCReader(source, recover=recover)
        delivered = []
        with pytest.raises(SourceFailed) as raised:
            for record in reader:
                assert record is not None, (k, reader.current_exception)
                delivered.append(reader.current_chunk)
        assert raised.value is source.error
        complete = [r for r, end in zip(records, ends, strict=True) if end <= source.failed_at]
        assert delivered == complete, f"read {k} failed after {source.failed_at} bytes"
    # A failure that never comes: every record, no exception.
    reader = impl.MARCReader(STREAMS[stream](data, CHUNK, needed + 1), recover=recover)
    assert [reader.current_chunk for _ in reader] == records


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("stream", list(STREAMS))
def test_bulk_entry_points_raise_a_failing_read(impl, short_stream, entry, stream):
    data, records = short_stream
    run = ENTRY_POINTS[entry]
    expected = run(impl, data)
    needed = _reads_needed(STREAMS[stream], data, lambda s: run(impl, s))
    for k in range(1, needed + 1):
        source = STREAMS[stream](data, CHUNK, k)
        try:
            got = run(impl, source)
        except SourceFailed as exc:
            assert exc is source.error
        else:
            pytest.fail(f"read {k} failed after {source.failed_at} bytes, yet {entry} returned {got!r}")
    # A failure that never comes: the whole result.
    assert run(impl, STREAMS[stream](data, CHUNK, needed + 1)) == expected
    assert impl.count(data) == len(records)
