"""rapidmarc's UTF-8 decoder (src/python/text.cpp, str_from_utf8) against CPython's codec.

Every value of a UTF-8 record becomes a str through one native decoder that sizes the str exactly
(one allocation, the narrowest kind) instead of CPython's growing writer. It must give the same
str as ``bytes.decode("utf-8")``, in CPython's canonical form (a str of the wrong kind compares
unequal to the same text), and for bytes that are not UTF-8 the same
UnicodeDecodeError. Skipped with RAPIDMARC_TEST_IMPL=pymarc.
"""

from __future__ import annotations

import random

import pytest
import rapidmarc
from marc_testlib import build_record, df
from rapidmarc import _core

pytestmark = pytest.mark.rapidmarc_only

decode = _core._decode_utf8

# Code points at the edges of the str kinds and of the UTF-8 sequence lengths.
EDGES = [
    0x00, 0x01, 0x1F, 0x20, 0x7E, 0x7F,  # ASCII (1-byte kind)
    0x80, 0xA0, 0xE9, 0xFF,  # Latin-1 (1-byte kind, 2-byte UTF-8)
    0x100, 0x7FF,  # 2-byte kind, 2-byte UTF-8
    0x800, 0x905, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFF,  # 2-byte kind, 3-byte UTF-8
    0x10000, 0x1F600, 0x10FFFF,  # 4-byte kind, 4-byte UTF-8
]  # fmt: skip


def same_str(got: str, want: str) -> None:
    assert type(got) is str
    assert got == want  # CPython compares the kinds (1, 2 or 4 bytes a character) first
    assert got.isascii() == want.isascii()  # the ASCII flag, which the kind does not show
    assert hash(got) == hash(want)


def outcome(data: bytes):
    try:
        return ("ok", data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return ("error", e.encoding, e.start, e.end, e.reason, e.object)


def native_outcome(data: bytes):
    try:
        return ("ok", decode(data))
    except UnicodeDecodeError as e:
        return ("error", e.encoding, e.start, e.end, e.reason, e.object)


def test_edges_alone_and_in_ascii():
    for cp in EDGES:
        text = chr(cp)
        same_str(decode(text.encode()), text)
        for padded in ("abc" + text, text + "abcdefghijk", "0123456789" + text + "xyz"):
            same_str(decode(padded.encode()), padded)


def test_every_pair_of_edges():
    for a in EDGES:
        for b in EDGES:
            text = chr(a) + "long ascii run " + chr(b)
            same_str(decode(text.encode()), text)


def test_empty():
    same_str(decode(b""), "")


def test_random_valid_text_of_every_kind():
    rng = random.Random(20261202)
    pools = [
        (0x20, 0x7E),
        (0x80, 0xFF),
        (0x100, 0x7FF),
        (0x800, 0xD7FF),
        (0xE000, 0xFFFF),
        (0x10000, 0x10FFFF),
    ]
    for _ in range(3000):
        length = rng.choice([0, 1, 2, 7, 8, 9, 15, 16, 17, 40, 200])
        chosen = rng.sample(pools, rng.randint(1, len(pools)))
        text = "".join(chr(rng.randint(*rng.choice(chosen))) for _ in range(length))
        same_str(decode(text.encode()), text)


def test_invalid_bytes_raise_as_cpython():
    cases = [
        b"\x80",
        b"abc\xbf",
        b"\xc0\x80",  # overlong NUL
        b"\xc1\xbf",
        b"\xc2",  # cut off
        b"abcdefgh\xc3",
        b"\xe0\x80\x80",  # overlong
        b"\xe0\x9f\xbf",
        b"\xed\xa0\x80",  # surrogate U+D800
        b"\xed\xbf\xbf",  # surrogate U+DFFF
        b"\xe2\x82",  # cut off
        b"\xf0\x8f\xbf\xbf",  # overlong
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xf5\x80\x80\x80",
        b"\xff",
        b"\xf0\x9f\x98",  # cut off
        b"ok \xc3\xa9 then \xe2\x28\xa1",
    ]
    for data in cases:
        assert outcome(data)[0] == "error", data
        assert native_outcome(data) == outcome(data), data


def test_random_bytes_agree_with_cpython():
    rng = random.Random(7)
    alphabet = [0x41, 0x20, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0,
                0xF4, 0xF5, 0xFF]  # fmt: skip
    valid = 0
    for _ in range(20000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        want = outcome(data)
        got = native_outcome(data)
        assert got == want, data
        if want[0] == "ok":
            same_str(got[1], want[1])
            valid += 1
    assert valid > 100  # the alphabet makes valid sequences too


def test_values_of_a_utf8_record():
    leader = "00000nam a2200000 a 4500"
    pieces = [chr(cp) for cp in EDGES if cp >= 0x20]
    title = " ".join(pieces[:8])
    subtitle = " ".join(pieces[8:])
    record = rapidmarc.Record(
        build_record(
            [
                ("001", "id" + chr(0xE9) + chr(0x10000)),
                ("245", df("10", ("a", title), ("b", subtitle))),
                ("500", df("  ", ("a", "  " + chr(0x905) + " x "), ("b", chr(0xA0) + "nbsp" + chr(0x3000)))),
            ],
            leader,
        )
    )
    same_str(record.title, f"{title} {subtitle}")  # pymarc joins $a and $b unstripped
    same_str(record["001"].value(), "id" + chr(0xE9) + chr(0x10000))
    same_str(record["245"]["b"], subtitle)
    # value(): each subfield stripped as str.strip() strips (U+00A0 and U+3000 are whitespace).
    same_str(record["500"].value(), chr(0x905) + " x nbsp")
    same_str(record["500"].subfields[1].value, chr(0xA0) + "nbsp" + chr(0x3000))
