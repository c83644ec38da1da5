"""Stopping early: close() releases a reader at once, and Ctrl-C stops a native bulk call between
batches (removing a conversion's partial output) instead of being noticed only when it is done."""

from __future__ import annotations

import _thread
import os
import threading

import pytest
import rapidmarc

pytestmark = pytest.mark.rapidmarc_only


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_close_releases_a_path_reader_at_once(data_dir, workers):
    path = data_dir / "real" / "uva_2000.mrc"
    before_fds, before_threads = _fds(), threading.active_count()
    reader = rapidmarc.MARCReader(path, workers=workers)
    next(reader)
    reader.close()
    # The native worker threads are not Python threads; their file descriptors tell instead.
    assert _fds() <= before_fds
    assert threading.active_count() == before_threads
    with pytest.raises(ValueError, match="closed"):
        next(reader)
    reader.close()  # closing twice is harmless


@pytest.mark.parametrize("source", ["bytes", "file"])
def test_close_stops_a_bytes_or_file_reader(loc_bytes, source, tmp_path):
    if source == "file":
        path = tmp_path / "x.mrc"
        path.write_bytes(loc_bytes)
        handle = open(path, "rb")  # noqa: SIM115 - closed by the reader
        reader = rapidmarc.MARCReader(handle)
    else:
        handle = None
        reader = rapidmarc.MARCReader(loc_bytes)
    with reader:
        assert next(reader) is not None
    with pytest.raises(ValueError, match="closed"):
        next(reader)
    if handle is not None:
        assert handle.closed


def test_ctrl_c_stops_a_conversion_and_leaves_no_output(loc_bytes, tmp_path):
    source = tmp_path / "big.mrc"
    source.write_bytes(loc_bytes * 400)  # about 400 batches: seconds of work, interrupted at once
    destination = tmp_path / "big.xml"
    timer = threading.Timer(0.05, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            rapidmarc.convert(source, destination, to="xml", workers=1)
    finally:
        timer.cancel()
    # Stopped between batches: nothing renamed into place, and the partial file removed.
    assert not destination.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_closing_a_reader_of_a_pipe_lets_its_python_writer_run(loc_bytes, tmp_path):
    """A path reader's worker may be blocked reading a pipe that a Python thread of the same
    process writes: close() (and collection) must join it without holding the GIL, or the writer
    can never run and the process hangs. Run in a subprocess, so that a hang fails the test."""
    import subprocess
    import sys
    import textwrap

    source = tmp_path / "loc.mrc"
    source.write_bytes(loc_bytes)
    script = textwrap.dedent(
        f"""
        import os, threading, rapidmarc
        data = open({str(source)!r}, "rb").read()
        first = int(data[:5])
        read_fd, write_fd = os.pipe()
        def writer():
            with os.fdopen(write_fd, "wb") as out:
                out.write(data[:first]); out.flush()
                threading.Event().wait(0.5)   # pauses; needs the GIL to go on
                try:
                    out.write(data[first:])
                except BrokenPipeError:       # the reader is gone: that is the point
                    pass
        t = threading.Thread(target=writer); t.start()
        reader = rapidmarc.MARCReader(f"/dev/fd/{{read_fd}}", workers=1)
        assert next(reader) is not None
        reader.close()
        os.close(read_fd)
        t.join()
        print("closed")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed"


@pytest.mark.parametrize("call", ["MARCReader", "count"])
def test_ctrl_c_stops_a_reader_waiting_on_a_quiet_pipe(loc_bytes, tmp_path, call):
    """A pipe that sends one record and then stays silent: Ctrl-C must stop the wait for more at
    once, not when the writer next writes. In a subprocess, so that a wait that ignores the
    interrupt fails the test by its timeout instead of hanging the suite."""
    import subprocess
    import sys
    import textwrap

    source = tmp_path / "loc.mrc"
    source.write_bytes(loc_bytes)
    work = {
        "MARCReader": "reader = rapidmarc.MARCReader(path, workers=1); next(reader); next(reader)",
        "count": "rapidmarc.count(path, workers=1)",
    }[call]
    script = textwrap.dedent(
        f"""
        import _thread, os, threading, rapidmarc
        data = open({str(source)!r}, "rb").read()
        first = int(data[:5])
        read_fd, write_fd = os.pipe()
        out = os.fdopen(write_fd, "wb")
        out.write(data[:first]); out.flush()          # one record, then silence
        path = f"/dev/fd/{{read_fd}}"
        threading.Timer(0.3, _thread.interrupt_main).start()
        try:
            {work}
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
        out.close()                                   # lets the reader's worker end
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "interrupted", (done.stdout, done.stderr)


def test_a_reader_held_by_its_own_exceptions_traceback_is_collected():
    """strict=True raises the reader's current_exception; its traceback holds the frame that holds
    the reader. The collector must see the reader's side of that cycle (found by fuzz_python)."""
    import contextlib
    import gc
    import weakref

    from marc_testlib import build_record

    bad = build_record([("001", b"x"), ("245", b"10\x1faT")], length=b"abcde")

    def read_and_fail():
        reader = rapidmarc.MARCReader(bad, strict=True)
        with contextlib.suppress(rapidmarc.RecordLengthInvalid):
            next(reader)
        return weakref.ref(reader)

    ref = read_and_fail()
    gc.collect()
    assert ref() is None
