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
    assert not (tmp_path / "big.xml.partial").exists()
