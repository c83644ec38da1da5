"""Streams that trickle or fail: records reach the caller as they arrive (a pipe that pauses), and
a stream that fails part-way delivers every complete record before the error, as pymarc does
(issue #11 item 4)."""

from __future__ import annotations

import io
import os
import threading

import pytest
import rapidmarc
from marc_testlib import split_records


class _FailingRaw(io.RawIOBase):
    """A raw stream over `data` that raises OSError once a read reaches byte `fail_at`."""

    def __init__(self, data: bytes, fail_at: int, step: int = 1 << 30):
        self.data, self.fail_at, self.step, self.pos = data, fail_at, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.pos >= self.fail_at:
            raise OSError("connection reset by peer")
        n = min(len(buffer), self.step, self.fail_at - self.pos, len(self.data) - self.pos)
        buffer[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def _until_error(module, stream) -> tuple[list[bytes], BaseException | None]:
    """The good records read before the stream's error, and the error, if one was raised."""
    got: list[bytes] = []
    try:
        for record in module.MARCReader(stream):
            if record is not None:
                got.append(record.as_marc())
    except OSError as exc:
        return got, exc
    return got, None


@pytest.mark.rapidmarc_only
@pytest.mark.parametrize("buffered", [False, True], ids=["raw", "buffered"])
def test_a_stream_that_fails_delivers_every_complete_record_first(loc_bytes, pymarc_ref, buffered):
    fail_at = 200_000
    expected, expected_error = _until_error(pymarc_ref, _FailingRaw(loc_bytes, fail_at))

    def stream():
        raw = _FailingRaw(loc_bytes, fail_at)
        return io.BufferedReader(raw) if buffered else raw

    got, error = _until_error(rapidmarc, stream())
    # pymarc takes the failing read's short answer for a truncated record and stops; rapidmarc
    # raises the stream's own error, after the same records.
    assert expected_error is None
    assert isinstance(error, OSError) and "connection reset" in str(error)
    complete = sum(1 for r in split_records(loc_bytes) if loc_bytes.index(r) + len(r) <= fail_at)
    assert len(expected) == complete > 100
    assert len(got) == complete
    assert got == [rapidmarc.Record(data=r).as_marc() for r in split_records(loc_bytes)[:complete]]


@pytest.mark.rapidmarc_only
@pytest.mark.parametrize("buffered", [False, True], ids=["raw", "buffered"])
def test_a_record_from_a_pipe_that_pauses_arrives_at_once(loc_bytes, buffered):
    records = split_records(loc_bytes)
    read_fd, write_fd = os.pipe()
    first_seen = threading.Event()
    waited_in_vain = []

    def writer():
        with os.fdopen(write_fd, "wb") as out:
            out.write(records[0])
            out.flush()
            # The rest is sent only once the reader has the first record (or after a long wait,
            # so that a reader that waits for more cannot hang the test; it fails it instead).
            if not first_seen.wait(timeout=20):
                waited_in_vain.append(True)
            out.write(b"".join(records[1:]))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with os.fdopen(read_fd, "rb", buffering=-1 if buffered else 0) as stream:
            reader = rapidmarc.MARCReader(stream)
            first = next(reader)
            first_seen.set()
            rest = list(reader)
    finally:
        first_seen.set()
        thread.join(timeout=30)
    assert not waited_in_vain, "the reader waited for more input before handing out a record"
    assert first is not None and first.as_marc() == rapidmarc.Record(data=records[0]).as_marc()
    assert len(rest) == len(records) - 1
