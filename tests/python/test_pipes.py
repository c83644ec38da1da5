"""Paths that cannot seek stream with every engine (issue #11 item 2).

A pipe (``/dev/fd/N`` of a subprocess's stdout, ``/dev/stdin``, bash's ``<(...)``) or a FIFO
(``os.mkfifo``) used to read as zero records with ``workers=2`` or ``None`` (``convert`` wrote a
valid empty document) and to fail with "Illegal seek" with ``workers`` 0 and 1. Every reading entry
point must now give exactly what it gives for the regular file; those that need random access
(``read_range``, ``byte_ranges``, ``extract_arrow(lazy=True)``) must refuse such a path clearly.

Nothing here may hang the suite: every read runs on a thread joined with a timeout, and a reader
stuck on a pipe or FIFO is unblocked (its writer killed or connected) before the test fails.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import select
import shutil
import subprocess
import sys
import threading
import time

import pytest
import rapidmarc

pytestmark = pytest.mark.rapidmarc_only

TIMEOUT = 60  # seconds for one read; a correct one takes well under a second
WORKERS = (0, 1, 2, None)
CHUNK = 4093  # the writers feed the data in small, odd-sized pieces


@pytest.fixture(scope="module")
def loc_path(data_dir):
    path = data_dir / "real" / "loc_386.mrc"  # 525 KB: many pipe buffers
    if not path.exists():
        pytest.skip(f"{path} missing")
    return path


def _run(fn, unblock):
    """fn() on a daemon thread, waited for at most TIMEOUT seconds; unblock() frees a stuck reader."""
    out: dict[str, object] = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
            out["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    if thread.is_alive():
        unblock()
        thread.join(5)
        pytest.fail(f"reading did not finish within {TIMEOUT} s")
    if "error" in out:
        raise out["error"]
    return out["value"]


@contextlib.contextmanager
def _pipe(path):
    """/dev/fd/N of a real pipe: the read end of `cat path`'s stdout, held by this process."""
    proc = subprocess.Popen(["cat", os.fspath(path)], stdout=subprocess.PIPE)
    try:
        yield f"/dev/fd/{proc.stdout.fileno()}", proc.kill  # killing cat ends the pipe: EOF
    finally:
        proc.kill()
        proc.stdout.close()
        proc.wait(TIMEOUT)


class _FifoWriter:
    """Feeds a file into a FIFO from a thread, once a reader has opened it (polled, so that a reader
    that never comes cannot hang the test; ``connected`` says whether one came)."""

    def __init__(self, fifo, data: bytes):
        self.fifo, self.data = fifo, data
        self.connected = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def _write(self):
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                time.sleep(0.001)
        self.connected = True
        try:  # non-blocking writes, so that close() stops a writer whose reader went quiet
            view = memoryview(self.data)
            while view and not self.stop.is_set():
                if select.select([], [fd], [], 0.05)[1]:
                    with contextlib.suppress(BlockingIOError):
                        view = view[os.write(fd, view[:CHUNK]) :]
        except BrokenPipeError:  # the reader went away early
            pass
        finally:
            os.close(fd)

    def unblock(self):
        """Frees a reader stuck in open() waiting for a writer (it then sees end of file)."""
        self.stop.set()
        with contextlib.suppress(OSError):
            os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))

    def close(self):
        self.stop.set()
        self.thread.join(TIMEOUT)


@contextlib.contextmanager
def _fifo(tmp_path, path):
    fifo = tmp_path / "records.fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    writer = _FifoWriter(fifo, path.read_bytes())
    try:
        yield str(fifo), writer
    finally:
        writer.close()


def _through(kind, tmp_path, path, fn):
    """fn(name) where name is `path` streamed through a pipe or a FIFO."""
    if kind == "pipe":
        with _pipe(path) as (name, unblock):
            return _run(lambda: fn(name), unblock)
    with _fifo(tmp_path, path) as (name, writer):
        return _run(lambda: fn(name), writer.unblock)


def _records(source, workers):
    with rapidmarc.MARCReader(source, workers=workers) as reader:
        return [(r._raw_bytes(), r.title) if r is not None else None for r in reader]


def _convert(source, to, workers):
    out = io.BytesIO()
    result = rapidmarc.convert(source, out, to=to, workers=workers)
    return result, out.getvalue()


def _arrow(source, workers):
    pa = pytest.importorskip("pyarrow")
    return pa.table(rapidmarc.extract_arrow(source, ["001", "245$a", "650$a"], workers=workers))


SPECS = ["001", "245$a", "650$a", "LDR"]

# Every streaming entry point, as fn(source, workers).
ENTRY_POINTS = {
    "MARCReader": _records,
    "count": lambda s, w: rapidmarc.count(s, workers=w),
    "extract": lambda s, w: rapidmarc.extract(s, SPECS, workers=w),
    "extract_arrow": _arrow,
    "convert_json": lambda s, w: _convert(s, "json", w),
    "convert_xml": lambda s, w: _convert(s, "xml", w),
    "convert_marc": lambda s, w: _convert(s, "marc", w),
}


@pytest.mark.parametrize("workers", WORKERS, ids=lambda w: f"workers={w}")
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("kind", ["pipe", "fifo"])
def test_non_seekable_path_reads_as_the_regular_file(tmp_path, loc_path, kind, entry, workers):
    fn = ENTRY_POINTS[entry]
    expected = fn(str(loc_path), workers)
    got = _through(kind, tmp_path, loc_path, lambda name: fn(name, workers))
    assert got == expected
    if entry == "count":
        assert got == 386


def test_damaged_file_through_a_pipe_reads_as_the_regular_file(tmp_path, data_dir):
    path = data_dir / "edge" / "structural_errors_5.mrc"
    if not path.exists():
        pytest.skip(f"{path} missing")
    for workers in WORKERS:
        for recover in (False, True):

            def read(source, workers=workers, recover=recover):
                with rapidmarc.MARCReader(source, workers=workers, recover=recover) as reader:
                    return [
                        (r._raw_bytes() if r is not None else None, type(reader.current_exception).__name__)
                        for r in reader
                    ]

            expected = read(str(path))
            assert expected
            assert _through("pipe", tmp_path, path, read) == expected


@pytest.mark.parametrize("workers", WORKERS, ids=lambda w: f"workers={w}")
def test_dev_stdin_and_process_substitution(loc_path, workers):
    """The paths of the issue: /dev/stdin fed by a pipe, and bash's <(...), in a fresh process."""
    program = f"import rapidmarc, sys; print(rapidmarc.count(sys.argv[1], workers={workers!r}))"
    stdin = subprocess.run(
        [sys.executable, "-c", program, "/dev/stdin"],
        input=loc_path.read_bytes(),
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert stdin.returncode == 0, stdin.stderr.decode()
    assert stdin.stdout.decode().strip() == "386"
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is needed for <(...)")
    substituted = subprocess.run(
        [bash, "-c", 'exec "$0" -c "$1" <(cat "$2")', sys.executable, program, os.fspath(loc_path)],
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert substituted.returncode == 0, substituted.stderr.decode()
    assert substituted.stdout.decode().strip() == "386"


def test_read_range_and_byte_ranges_refuse_a_pipe(loc_path):
    with _pipe(loc_path) as (name, unblock):
        with pytest.raises(io.UnsupportedOperation, match="read_range.*not a regular file"):
            _run(lambda: rapidmarc.read_range(name, 0, 1 << 20), unblock)
        with pytest.raises(io.UnsupportedOperation, match="byte_ranges.*not a regular file"):
            rapidmarc.byte_ranges(name, 4)
    # io.UnsupportedOperation is both an OSError and a ValueError
    assert issubclass(io.UnsupportedOperation, OSError) and issubclass(io.UnsupportedOperation, ValueError)


def test_read_range_and_byte_ranges_refuse_a_fifo_without_opening_it(tmp_path, loc_path):
    with _fifo(tmp_path, loc_path) as (name, writer):
        with pytest.raises(io.UnsupportedOperation, match="read_range.*not a regular file"):
            _run(lambda: rapidmarc.read_range(name, 0, 1 << 20), writer.unblock)
        with pytest.raises(io.UnsupportedOperation, match="byte_ranges.*not a regular file"):
            rapidmarc.byte_ranges(name, 4)
        assert not writer.connected  # refused by stat(): the FIFO's data is left for its reader


@pytest.mark.parametrize("kind", ["pipe", "fifo"])
def test_lazy_extract_arrow_refuses_a_non_seekable_path(tmp_path, loc_path, kind):
    def lazy(name):
        with pytest.raises(ValueError, match=r"lazy=True.*not a regular file"):
            rapidmarc.extract_arrow(name, ["001"], lazy=True)
        return True

    if kind == "pipe":
        with _pipe(loc_path) as (name, unblock):
            assert _run(lambda: lazy(name), unblock)
    else:
        with _fifo(tmp_path, loc_path) as (name, writer):
            assert _run(lambda: lazy(name), writer.unblock)
            assert not writer.connected
    # a regular file is still read lazily
    assert rapidmarc.extract_arrow(str(loc_path), ["001"], lazy=True).lazy


@pytest.mark.parametrize("workers", WORKERS, ids=lambda w: f"workers={w}")
def test_directory_is_an_error_not_zero_records(tmp_path, workers):
    with pytest.raises(IsADirectoryError):
        rapidmarc.count(str(tmp_path), workers=workers)
    with pytest.raises(IsADirectoryError):
        rapidmarc.MARCReader(str(tmp_path), workers=workers)
    with pytest.raises(IsADirectoryError):
        rapidmarc.read_range(str(tmp_path), 0, 100)
    with pytest.raises(IsADirectoryError):
        rapidmarc.byte_ranges(str(tmp_path), 2)
    with pytest.raises(IsADirectoryError):
        rapidmarc.extract_arrow(str(tmp_path), ["001"], lazy=True)
