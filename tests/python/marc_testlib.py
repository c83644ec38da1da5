"""Helpers shared by the rapidmarc Python tests (this is not a test module).

Everything here works on raw bytes or on duck-typed pymarc-style objects, so
the same helpers serve pymarc (the reference) and rapidmarc (the module under
test).
"""

from __future__ import annotations

import os
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

FT = b"\x1e"  # end of field
RT = b"\x1d"  # end of record
SF = b"\x1f"  # subfield delimiter

DEFAULT_LEADER = b"00000nam a2200000 a 4500"

# Files in <shared>/data/real, by leader/09.
UTF8_FILES = ("loc_386.mrc", "auth_1066.mrc", "nepali_96.mrc", "traject_30.mrc")
MARC8_FILES = (
    "uva_2000.mrc",
    "jazz_1k.mrc",
    "lul_fre_500.mrc",
    "hebrew_20.mrc",
    "solrmarc_spec_76.mrc",
)
REAL_FILES = UTF8_FILES + MARC8_FILES

# Files in <shared>/data/edge (the directory is globbed too when present).
EDGE_FILES = (
    "structural_errors_5.mrc",
    "invalid_utf8_383.mrc",
    "invalid_utf8_383_fixed.mrc",
    "mislabelled_utf8_as_marc8_52.mrc",
    "oversize_record_5.mrc",
)

# Records of the real files that pymarc 5.4 itself does NOT write back byte for
# byte, because its parser drops data on reading: a field with three
# "indicators" (the third is dropped) or an empty trailing subfield delimiter
# (``\x1f\x1e``: empty subfields are skipped). {file name: {record index}}
PYMARC_LOSSY_RECORDS: dict[str, frozenset[int]] = {
    "nepali_96.mrc": frozenset({15}),
    "jazz_1k.mrc": frozenset({382, 472, 473, 639, 787}),
}


def shared_data_dir() -> Path:
    """Where the shared test data lives (``RAPIDMARC_SHARED_DATA`` overrides)."""
    env = os.environ.get("RAPIDMARC_SHARED_DATA")
    if env:
        return Path(env)
    # tests/python/<this file> -> parents[2] is the repo root; data sits beside it.
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def tables_unicode_version() -> str:
    """The Unicode version of rapidmarc's normalisation tables, as src/core/unicode_tables.inc records it."""
    inc = Path(__file__).resolve().parents[2] / "src" / "core" / "unicode_tables.inc"
    found = re.search(r'kUnicodeVersion\[\] = "([0-9.]+)"', inc.read_text(encoding="utf-8"))
    if found is None:
        raise AssertionError(f"{inc} does not record kUnicodeVersion")
    return found.group(1)


def tables_unicodedata() -> ModuleType | None:
    """A ``unicodedata`` module at the tables' Unicode version, or None when this Python has none.

    The standard library's when its version matches (Python 3.13 for Unicode 15.1.0), otherwise the
    ``unicodedata2`` package when it is installed at that version (Python 3.10-3.12; `make deps`).
    """
    version = tables_unicode_version()
    if unicodedata.unidata_version == version:
        return unicodedata
    try:
        import unicodedata2  # type: ignore[import-not-found]
    except ImportError:
        return None
    return unicodedata2 if unicodedata2.unidata_version == version else None


def expected_count(path: Path | str) -> int:
    """The record count encoded in a data file's name.

    ``loc_386.mrc`` -> 386, ``jazz_1k.mrc`` -> 1000.
    """
    count = Path(path).stem.rsplit("_", 1)[1].lower()
    if count.endswith("k"):
        return int(count[:-1]) * 1000
    return int(count)


# ---------------------------------------------------------------------------
# Building raw MARC by hand (independent of any writer under test)
# ---------------------------------------------------------------------------


def df(indicators: bytes | str, *subfields: tuple[str | bytes, str | bytes]) -> bytes:
    """Raw data of a variable data field: indicators + delimited subfields."""
    out = _b(indicators)
    for code, value in subfields:
        out += SF + _b(code) + _b(value)
    return out


def build_record(
    fields: Sequence[tuple[str, bytes | str]],
    leader: bytes | str = DEFAULT_LEADER,
    *,
    length: bytes | None = None,
    base: bytes | None = None,
) -> bytes:
    """Build a canonical ISO 2709 record.

    ``fields`` is a list of (tag, data) where data excludes the field
    terminator. ``length``/``base`` override the 5-byte leader values (to
    produce broken records); by default they are computed.
    """
    directory = b""
    body = b""
    for tag, data in fields:
        chunk = _b(data) + FT
        directory += _b(tag) + b"%04d%05d" % (len(chunk), len(body))
        body += chunk
    directory += FT
    body += RT
    base_address = 24 + len(directory)
    total = base_address + len(body)
    lead = _b(leader)
    assert len(lead) == 24
    lead = (
        (length if length is not None else b"%05d" % total)
        + lead[5:12]
        + (base if base is not None else b"%05d" % base_address)
        + lead[17:]
    )
    return lead + directory + body


def with_leader_bytes(record: bytes, pos: int, value: bytes) -> bytes:
    """Return ``record`` with ``value`` written at byte offset ``pos``."""
    return record[:pos] + value + record[pos + len(value) :]


def split_records(data: bytes) -> list[bytes]:
    """Split a canonical MARC stream on the leader lengths."""
    out = []
    pos = 0
    while pos < len(data):
        n = int(data[pos : pos + 5])
        out.append(data[pos : pos + n])
        pos += n
    return out


def _b(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


# ---------------------------------------------------------------------------
# Normalising records for comparison
# ---------------------------------------------------------------------------


def field_shape(field) -> tuple:
    """A plain-data view of one field: equal views mean equal fields."""
    if field.control_field:
        return (field.tag, "control", field.data)
    return (
        field.tag,
        tuple(field.indicators),
        [(sf.code, sf.value) for sf in field.subfields],
    )


def record_shape(record) -> tuple:
    """Leader plus the shape of every field, in order."""
    return (str(record.leader), [field_shape(f) for f in record.fields])


def skeleton(record) -> tuple:
    """Encoding-independent structure: tags, indicators, subfield codes."""
    out = []
    for f in record.fields:
        if f.control_field:
            out.append((f.tag, None, None))
        else:
            out.append((f.tag, tuple(f.indicators), [sf.code for sf in f.subfields]))
    return (str(record.leader), out)


def read_all(module, source, **kwargs) -> list:
    """All items (records or None) a module's MARCReader yields for ``source``."""
    reader = module.MARCReader(source, **kwargs)
    return list(reader)


def read_outcomes(module, source, **kwargs) -> list[tuple]:
    """Per item: (record or None, exception type or None, current_chunk)."""
    reader = module.MARCReader(source, **kwargs)
    out = []
    for item in reader:
        exc = reader.current_exception
        out.append((item, type(exc) if exc is not None else None, reader.current_chunk))
    return out


def first_mismatch(left: Iterable, right: Iterable) -> tuple[int, object, object] | None:
    """Index and values of the first differing pair, or None if all equal."""
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        if a != b:
            return i, a, b
    return None


# ---------------------------------------------------------------------------
# Small generated streams, good and broken
# ---------------------------------------------------------------------------

GOOD = build_record([("001", b"rec1"), ("245", df("10", ("a", "First title")))])
GOOD2 = build_record([("001", b"rec2"), ("245", df("00", ("a", "Second"), ("b", "title")))])
GOOD_BASE = int(GOOD[12:17])


def with_length(record: bytes, delta: int) -> bytes:
    return with_leader_bytes(record, 0, b"%05d" % (len(record) + delta))


def with_base(record: bytes, value: bytes) -> bytes:
    return with_leader_bytes(record, 12, value)


NO_FIELDS = build_record([])
SHORT_LEADER = b"00010abcd" + RT
BAD_UTF8 = build_record([("245", df("10", ("a", b"\xc3(")))])
BAD_INDICATOR = build_record([("245", df(b"\xe90", ("a", "x")))])
BAD_ENTRY_LENGTH = GOOD[:27] + b"00x4" + GOOD[31:]

# name: (stream, [(exception name or None for a record, current_chunk), ...])
READER_CASES = {
    "empty": (b"", []),
    "two_good": (GOOD + GOOD2, [(None, GOOD), (None, GOOD2)]),
    "truncated_record_at_end": (GOOD + GOOD2[:40], [(None, GOOD), ("TruncatedRecord", GOOD2[:40])]),
    "under_5_bytes_at_end": (GOOD + b"012", [(None, GOOD), ("TruncatedRecord", b"012")]),
    "non_digit_length_is_fatal": (
        GOOD + b"abcde" + GOOD2[5:] + GOOD,
        [(None, GOOD), ("RecordLengthInvalid", b"abcde")],
    ),
    "length_too_short_is_fatal": (
        with_length(GOOD, -10) + GOOD2,
        [("EndOfRecordNotFound", with_length(GOOD, -10)[:-10])],
    ),
    "length_too_long_is_fatal": (
        with_length(GOOD, 10) + GOOD2 + GOOD,
        [("EndOfRecordNotFound", with_length(GOOD, 10) + GOOD2[:10])],
    ),
    "length_too_long_at_end": (
        GOOD + with_length(GOOD2, 10),
        [(None, GOOD), ("TruncatedRecord", with_length(GOOD2, 10))],
    ),
    "missing_end_of_record": (GOOD[:-1] + b"x" + GOOD2, [("EndOfRecordNotFound", GOOD[:-1] + b"x")]),
    "base_address_zero": (
        with_base(GOOD, b"00000") + GOOD2,
        [("BaseAddressNotFound", with_base(GOOD, b"00000")), (None, GOOD2)],
    ),
    "base_address_past_end": (
        with_base(GOOD, b"%05d" % len(GOOD)) + GOOD2,
        [("BaseAddressInvalid", with_base(GOOD, b"%05d" % len(GOOD))), (None, GOOD2)],
    ),
    "base_address_not_digits": (
        with_base(GOOD, b"0004x") + GOOD2,
        [("ValueError", with_base(GOOD, b"0004x")), (None, GOOD2)],
    ),
    "directory_length_not_multiple_of_12": (
        with_base(GOOD, b"%05d" % (GOOD_BASE + 1)) + GOOD2,
        [("RecordDirectoryInvalid", with_base(GOOD, b"%05d" % (GOOD_BASE + 1))), (None, GOOD2)],
    ),
    "directory_entry_length_not_digits": (BAD_ENTRY_LENGTH + GOOD2, [("ValueError", BAD_ENTRY_LENGTH), (None, GOOD2)]),
    "no_fields": (NO_FIELDS + GOOD2, [("NoFieldsFound", NO_FIELDS), (None, GOOD2)]),
    "leader_too_short": (SHORT_LEADER + GOOD2, [("RecordLeaderInvalid", SHORT_LEADER), (None, GOOD2)]),
    "non_ascii_leader": (
        with_leader_bytes(GOOD, 7, b"\xe9") + GOOD2,
        [("UnicodeDecodeError", with_leader_bytes(GOOD, 7, b"\xe9")), (None, GOOD2)],
    ),
    "non_ascii_indicator": (BAD_INDICATOR + GOOD2, [("UnicodeDecodeError", BAD_INDICATOR), (None, GOOD2)]),
    "invalid_utf8": (GOOD + BAD_UTF8 + GOOD2, [(None, GOOD), ("UnicodeDecodeError", BAD_UTF8), (None, GOOD2)]),
}


# ---------------------------------------------------------------------------
# Deterministic fuzz inputs
# ---------------------------------------------------------------------------


def random_inputs(seed: int, count: int) -> list[bytes]:
    """Random byte strings; half of them start like a record length."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        size = rng.randrange(0, 400)
        body = bytes(rng.randrange(256) for _ in range(size))
        if i % 2:
            body = b"%05d" % rng.randrange(0, 500) + body
        if i % 3 == 0:
            # sprinkle MARC delimiters so the parser gets past framing sometimes
            body = bytes(rng.choice((0x1D, 0x1E, 0x1F)) if rng.random() < 0.1 else b for b in body)
        out.append(body)
    return out


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One random corruption of ``data``: byte flips, truncation, deletion, ..."""
    buf = bytearray(data)
    kind = rng.choice(("flip", "truncate", "delete", "insert", "leader", "delimiter"))
    if not buf:
        kind = "insert"
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif kind == "truncate":
        del buf[rng.randrange(len(buf)) :]
    elif kind == "delete":
        start = rng.randrange(len(buf))
        del buf[start : start + rng.randint(1, 50)]
    elif kind == "insert":
        pos = rng.randrange(len(buf) + 1)
        buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
    elif kind == "leader":
        # corrupt the structural numbers: leader lengths or a directory entry
        pos = rng.randrange(min(len(buf), 24 + 12 * 6))
        buf[pos] = rng.choice(b"0123456789 x-\x1e")
    else:
        buf[rng.randrange(len(buf))] = rng.choice((0x1D, 0x1E, 0x1F))
    return bytes(buf)


def mutated_inputs(seed: int, count: int, samples: Sequence[bytes]) -> list[bytes]:
    """``count`` corrupted streams of 1-3 consecutive sample records each."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        start = rng.randrange(len(samples))
        stream = b"".join(samples[start : start + rng.randint(1, 3)])
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            stream = mutate(rng, stream)
        out.append(stream)
    return out


def fuzz_samples(data_dir: Path | None, per_file: int = 40) -> list[bytes]:
    """Real records to mutate (the first ``per_file`` of some real files)."""
    samples = [GOOD, GOOD2]
    if data_dir is not None:
        for name in ("loc_386.mrc", "nepali_96.mrc", "traject_30.mrc", "auth_1066.mrc", "uva_2000.mrc"):
            path = Path(data_dir) / "real" / name
            if path.is_file():
                samples.extend(split_records(path.read_bytes())[:per_file])
    return samples
