"""File objects that lie: every reading entry point checks what a file object's readinto() or
read() returns, as CPython's BufferedReader checks a raw stream, instead of trusting a count that
would make it read memory nobody wrote or drop data without a word."""

from __future__ import annotations

import io

import pytest
import rapidmarc

pytestmark = pytest.mark.rapidmarc_only


def _readers(stream):
    """Every entry point that reads a file object, each as a thunk."""
    return {
        "MARCReader": lambda: list(rapidmarc.MARCReader(stream())),
        "count": lambda: rapidmarc.count(stream()),
        "extract": lambda: rapidmarc.extract(stream(), ["001"]),
        "extract_arrow": lambda: rapidmarc.extract_arrow(stream(), ["001"]),
        "convert": lambda: rapidmarc.convert(stream(), io.BytesIO(), to="xml"),
    }


class _ReadInto:
    """A raw stream whose readinto() reports `answer(len(buffer))` after filling what it can."""

    def __init__(self, data: bytes, answer):
        self.data, self.answer = data, answer

    def readinto(self, buffer):
        n = min(len(buffer), len(self.data))
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return self.answer(len(buffer), n)

    def read(self, n=-1):  # pragma: no cover - readinto is preferred
        raise AssertionError("read() called although readinto() exists")


class _Read:
    """A stream without readinto() whose read(n) returns `answer(n)`."""

    def __init__(self, answer):
        self.answer = answer

    def read(self, n=-1):
        return self.answer(n)


LYING_READINTO = {
    "over-reports": (lambda size, n: size + 100_000, OSError, "invalid length"),
    "over-reports by one": (lambda size, n: size + 1, OSError, "invalid length"),
    "negative": (lambda size, n: -1, OSError, "invalid length"),
    "a str": (lambda size, n: "12", TypeError, "returned str"),
    "None (non-blocking, no data)": (lambda size, n: None, BlockingIOError, "non-blocking"),
}


@pytest.mark.parametrize("case", list(LYING_READINTO))
@pytest.mark.parametrize("entry", ["MARCReader", "count", "extract", "extract_arrow", "convert"])
def test_a_lying_readinto_raises_a_clear_error(case, entry, loc_bytes):
    answer, error, words = LYING_READINTO[case]
    run = _readers(lambda: _ReadInto(loc_bytes, answer))[entry]
    with pytest.raises(error, match=words):
        run()


def test_an_honest_readinto_reads_everything(loc_bytes):
    stream = _ReadInto(loc_bytes, lambda size, n: n)
    assert rapidmarc.count(stream) == rapidmarc.count(loc_bytes) > 0


LYING_READ = {
    "more than asked": (lambda n: b"0" * (n + 1), OSError, "returned"),
    "a str": (lambda n: "00000", TypeError, "binary mode"),
    "None (non-blocking, no data)": (lambda n: None, BlockingIOError, "non-blocking"),
}


@pytest.mark.parametrize("case", list(LYING_READ))
def test_a_lying_read_raises_a_clear_error(case):
    answer, error, words = LYING_READ[case]
    for run in _readers(lambda: _Read(answer)).values():
        with pytest.raises(error, match=words):
            run()
