"""rapidmarc's additions to the pymarc API (skipped with RAPIDMARC_TEST_IMPL=pymarc).

* MARCReader sources: a path (str / os.PathLike), bytes, any binary file object;
  the reader is a context manager.
* ``strict=True``: raise the exception pymarc would have put in
  ``current_exception``, with ``record_index`` and ``byte_offset``.
* ``recover=True``: after a fatal framing error, resynchronise at the next
  plausible record instead of ending.
* ``Record.as_marc()`` refuses (ValueError) fields over 9,999 bytes and records
  over 99,999 bytes, and what a reader would misframe: a delimiter or terminator byte in a
  value, in control data, an indicator or a tag, and a leader that is not ASCII.
* Oversize records (leader length 99999 but longer) are read.
* Records pickle; nothing in shared/data/edge or random input crashes.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
from marc_testlib import (
    FT,
    GOOD,
    GOOD2,
    READER_CASES,
    RT,
    SF,
    build_record,
    df,
    expected_count,
    field_shape,
    read_outcomes,
    record_shape,
    shared_data_dir,
    split_records,
    with_length,
)

pytestmark = pytest.mark.rapidmarc_only

HERE = Path(__file__).resolve().parent


def marcs(records) -> list[bytes]:
    return [r.as_marc() for r in records]


def split_on_terminator(data: bytes) -> list[bytes]:
    """Records by their 0x1D terminator (works for oversize records too)."""
    out, pos = [], 0
    while pos < len(data):
        end = data.index(RT, pos) + 1
        out.append(data[pos:end])
        pos = end
    return out


class ReadOnlyStream:
    """A minimal binary stream: read() only, no seek/fileno/readinto."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        return self._buf.read(size)

    def close(self) -> None:
        self.closed = True


class FsPath:
    """An os.PathLike that is not a pathlib.Path."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)

    def __fspath__(self) -> str:
        return self._path


# ---------------------------------------------------------------------------
# Sources and context manager
# ---------------------------------------------------------------------------

SOURCES = ["str_path", "pathlib", "pathlike", "bytes", "open_file", "bytesio", "gzip", "read_only"]


def _open_source(kind: str, path: Path, tmp_path: Path):
    if kind == "str_path":
        return str(path)
    if kind == "pathlib":
        return path
    if kind == "pathlike":
        return FsPath(path)
    if kind == "bytes":
        return path.read_bytes()
    if kind == "open_file":
        return open(path, "rb")  # noqa: SIM115 -- the reader owns and closes it
    if kind == "bytesio":
        return io.BytesIO(path.read_bytes())
    if kind == "read_only":
        return ReadOnlyStream(path.read_bytes())
    gz = tmp_path / (path.name + ".gz")
    gz.write_bytes(gzip.compress(path.read_bytes()))
    return gzip.open(gz, "rb")


@pytest.mark.parametrize("kind", SOURCES)
def test_every_source_gives_the_same_records(impl, pymarc_ref, real_path, tmp_path, kind):
    with open(real_path, "rb") as fh:
        expected = list(pymarc_ref.MARCReader(fh, to_unicode=False))
    source = _open_source(kind, real_path, tmp_path)
    reader = impl.MARCReader(source, to_unicode=False)
    try:
        actual = list(reader)
    finally:
        reader.close()
    assert len(actual) == expected_count(real_path)
    assert [record_shape(r) for r in actual] == [record_shape(r) for r in expected]
    assert marcs(actual) == marcs(expected)


@pytest.mark.parametrize("kind", ["str_path", "pathlib", "bytesio", "gzip"])
def test_sources_agree_with_default_options(impl, utf8_path, tmp_path, kind):
    by_path = list(impl.MARCReader(utf8_path))
    with impl.MARCReader(_open_source(kind, utf8_path, tmp_path)) as reader:
        other = list(reader)
    assert len(by_path) == expected_count(utf8_path)
    assert [record_shape(r) for r in other] == [record_shape(r) for r in by_path]
    assert marcs(other) == marcs(by_path)


def test_context_manager(impl, utf8_path):
    with impl.MARCReader(utf8_path) as reader:
        assert iter(reader) is reader
        records = list(reader)
    assert len(records) == expected_count(utf8_path)
    reader.close()  # closing twice is harmless


def test_context_manager_early_exit_and_file_object(impl, utf8_path):
    with impl.MARCReader(str(utf8_path)) as reader:
        first = next(reader)
    assert first is not None and first.as_marc() == split_records(utf8_path.read_bytes())[0]
    with open(utf8_path, "rb") as fh, impl.MARCReader(fh) as reader:
        assert next(reader).as_marc() == first.as_marc()


def test_close_mid_iteration(impl, utf8_path):
    reader = impl.MARCReader(utf8_path)
    assert next(reader) is not None
    reader.close()


def test_missing_path_raises_oserror(impl, tmp_path):
    with pytest.raises(OSError):
        list(impl.MARCReader(tmp_path / "does-not-exist.mrc"))
    with pytest.raises(OSError):
        list(impl.MARCReader(str(tmp_path / "does-not-exist.mrc")))


def test_empty_file(impl, tmp_path):
    empty = tmp_path / "empty.mrc"
    empty.write_bytes(b"")
    assert list(impl.MARCReader(empty)) == []
    assert list(impl.MARCReader(empty, strict=True)) == []
    assert list(impl.MARCReader(empty, recover=True)) == []


def test_path_reader_reports_errors_like_bytes_reader(impl, tmp_path):
    data = GOOD + with_length(GOOD2, 10) + GOOD
    path = tmp_path / "broken.mrc"
    path.write_bytes(data)
    from_path = [(type(e), c) for _, e, c in read_outcomes(impl, path)]
    from_bytes = [(type(e), c) for _, e, c in read_outcomes(impl, data)]
    assert from_path == from_bytes
    assert [c for _, c in from_path] == [GOOD, with_length(GOOD2, 10) + GOOD[:10]]


# ---------------------------------------------------------------------------
# strict=True
# ---------------------------------------------------------------------------


def _first_error(expected):
    """(index, exception name, byte offset) of the first failing item, or None."""
    offset = 0
    for index, (name, chunk) in enumerate(expected):
        if name is not None:
            return index, name, offset
        offset += len(chunk)
    return None


def _exception_class(impl, name: str) -> type:
    return {"ValueError": ValueError, "UnicodeDecodeError": UnicodeDecodeError}.get(name) or getattr(impl, name)


@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
@pytest.mark.parametrize("case", READER_CASES.values(), ids=READER_CASES.keys())
def test_strict_raises_pymarc_exception_with_position(impl, tmp_path, case, as_path):
    stream, expected = case
    source = stream
    if as_path:
        source = tmp_path / "case.mrc"
        source.write_bytes(stream)
    reader = impl.MARCReader(source, strict=True)
    failure = _first_error(expected)
    if failure is None:
        assert marcs(reader) == [chunk for _, chunk in expected]
        return
    index, name, offset = failure
    got = []
    with pytest.raises(_exception_class(impl, name)) as info:
        for record in reader:
            got.append(record)
    assert type(info.value) is _exception_class(impl, name)
    assert info.value.record_index == index
    assert info.value.byte_offset == offset
    assert marcs(got) == [chunk for _, chunk in expected[:index]]


def test_strict_on_real_files_reads_everything(impl, real_path):
    records = list(impl.MARCReader(real_path, strict=True, to_unicode=False))
    assert len(records) == expected_count(real_path)
    assert None not in records


def test_strict_position_in_a_real_file(impl, pymarc_ref, data_dir):
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not path.is_file():
        pytest.skip(f"missing {path}")
    outcomes = read_outcomes(pymarc_ref, path.read_bytes())
    index = next(i for i, (_, exc, _) in enumerate(outcomes) if exc is not None)
    offset = sum(len(chunk) for _, _, chunk in outcomes[:index])
    with pytest.raises(UnicodeDecodeError) as info:
        list(impl.MARCReader(path, strict=True))
    assert (info.value.record_index, info.value.byte_offset) == (index, offset)
    # without to_unicode the first failure is a broken directory further on
    raw = read_outcomes(pymarc_ref, path.read_bytes(), to_unicode=False)
    index = next(i for i, (_, exc, _) in enumerate(raw) if exc is not None)
    offset = sum(len(chunk) for _, _, chunk in raw[:index])
    with pytest.raises(impl.RecordDirectoryInvalid) as info:
        list(impl.MARCReader(path, strict=True, to_unicode=False))
    assert (info.value.record_index, info.value.byte_offset) == (index, offset)


def test_strict_error_is_catchable_as_pymarc_exception(impl):
    with pytest.raises(impl.PymarcException) as info:
        list(impl.MARCReader(GOOD + b"abcde" + GOOD2, strict=True))
    assert isinstance(info.value, impl.RecordLengthInvalid)
    assert isinstance(info.value, impl.FatalReaderError)
    assert (info.value.record_index, info.value.byte_offset) == (1, len(GOOD))


# ---------------------------------------------------------------------------
# recover=True
# ---------------------------------------------------------------------------

GARBAGE = b"garbage without any record terminator"
GOOD3 = build_record([("001", b"rec3"), ("100", df("1 ", ("a", "Third, Author")))])
FATAL = {"RecordLengthInvalid", "TruncatedRecord", "EndOfRecordNotFound"}

# name: (stream, records before the damage, records after it)
# The damaged chunk yields None and is not re-read. The first record after the
# damage often begins inside the bytes pymarc's framing consumed (a truncated
# record swallows the start of the next one), or right after garbage with no
# record terminator before it.
RECOVER_CASES = {
    "bad_length_digits": (GOOD + GARBAGE + GOOD3 + GOOD2, [GOOD], [GOOD3, GOOD2]),
    "bad_length_at_start": (b"xxxxx" + GOOD + GOOD3, [], [GOOD, GOOD3]),
    "record_truncated_mid_stream": (GOOD + GOOD2[:40] + GOOD3 + GOOD, [GOOD], [GOOD3, GOOD]),
    "length_too_short": (GOOD + with_length(GOOD2, -10) + GOOD3 + GOOD, [GOOD], [GOOD3, GOOD]),
    "length_too_long": (GOOD + with_length(GOOD2, 10) + GOOD3 + GOOD, [GOOD], [GOOD3, GOOD]),
    "missing_terminator": (GOOD + GOOD2[:-1] + b"x" + GOOD3 + GOOD, [GOOD], [GOOD3, GOOD]),
}


@pytest.mark.parametrize("case", RECOVER_CASES.values(), ids=RECOVER_CASES.keys())
def test_recover_resynchronises(impl, pymarc_ref, case):
    """Reading goes on after a framing error, with the records that follow it."""
    stream, head, tail = case
    expected = read_outcomes(pymarc_ref, stream)
    outcomes = read_outcomes(impl, stream, recover=True)
    items = [rec for rec, _, _ in outcomes]
    records = marcs(r for r in items if r is not None)
    assert records[: len(head)] == head
    after = records[len(head) :]
    assert after, "nothing read after the damage"
    assert after == tail[-len(after) :], "records after the damage are not the stream's last records"
    # the first failure is reported exactly like pymarc reports it ...
    first_none = items.index(None)
    assert first_none == len(head)
    assert outcomes[first_none][1].__name__ == expected[-1][1].__name__
    assert issubclass(outcomes[first_none][1], impl.FatalReaderError)
    # ... but reading goes on where pymarc stops
    assert len(records) > sum(rec is not None for rec, _, _ in expected)


@pytest.mark.parametrize("case", RECOVER_CASES.values(), ids=RECOVER_CASES.keys())
def test_recover_loses_no_good_record(impl, case):
    """Resynchronisation finds the very next record, not the one after a terminator."""
    stream, head, tail = case
    records = marcs(r for r in impl.MARCReader(stream, recover=True) if r is not None)
    assert records == head + tail


@pytest.mark.parametrize("name", ["truncated_record_at_end", "under_5_bytes_at_end", "length_too_long_at_end"])
def test_recover_at_end_of_stream(impl, name):
    stream, expected = READER_CASES[name]
    outcomes = read_outcomes(impl, stream, recover=True)
    assert [exc.__name__ if exc else None for _, exc, _ in outcomes] == [n for n, _ in expected]


@pytest.mark.parametrize("name", [n for n, (_, exp) in READER_CASES.items() if not FATAL & {e for e, _ in exp}])
def test_recover_leaves_non_fatal_errors_alone(impl, name):
    stream, expected = READER_CASES[name]
    outcomes = read_outcomes(impl, stream, recover=True)
    assert [(exc.__name__ if exc else None, chunk) for _, exc, chunk in outcomes] == expected


def _damaged_loc(loc_bytes: bytes, damage: str, bad: int = 10) -> tuple[bytes, list[bytes]]:
    chunks = split_records(loc_bytes)
    if damage == "length_digits":
        chunks[bad] = b"1x3z5" + chunks[bad][5:]
    elif damage == "cut_100_bytes":
        chunks[bad] = chunks[bad][:200] + chunks[bad][300:]
    else:
        chunks[bad] = chunks[bad][:-1]
    return b"".join(chunks), chunks[:bad] + chunks[bad + 1 :]


DAMAGE = ["length_digits", "cut_100_bytes", "drop_terminator"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_recover_in_a_real_file(impl, loc_bytes, damage):
    stream, intact = _damaged_loc(loc_bytes, damage)
    default = list(impl.MARCReader(stream))
    assert default[-1] is None and len(default) == 11  # like pymarc: stop at the damage
    recovered = list(impl.MARCReader(stream, recover=True))
    assert recovered[10] is None
    good = marcs(r for r in recovered if r is not None)
    assert good[:10] == intact[:10]
    assert good[10:] == intact[-len(good[10:]) :]
    assert len(good) >= len(intact) - 1  # at most the record next to the damage is lost


@pytest.mark.parametrize("damage", DAMAGE)
def test_recover_in_a_real_file_loses_nothing(impl, loc_bytes, damage):
    stream, intact = _damaged_loc(loc_bytes, damage)
    assert marcs(r for r in impl.MARCReader(stream, recover=True) if r is not None) == intact


def test_recover_on_real_files_changes_nothing(impl, real_path):
    default = marcs(impl.MARCReader(real_path, to_unicode=False))
    recovered = marcs(impl.MARCReader(real_path, recover=True, to_unicode=False))
    assert len(recovered) == expected_count(real_path)
    assert recovered == default


# ---------------------------------------------------------------------------
# as_marc refuses what ISO 2709 cannot represent
# ---------------------------------------------------------------------------


def _record_with(impl, *values: str, tag: str = "500"):
    rec = impl.Record(leader="00000nam a2200000 a 4500")
    for value in values:
        rec.add_field(impl.Field(tag=tag, indicators=impl.Indicators(" ", " "), subfields=[impl.Subfield("a", value)]))
    return rec


def test_field_of_9999_bytes_is_written(impl):
    value = "x" * (9999 - 5)  # indicators + delimiter + code + value + terminator
    out = _record_with(impl, value).as_marc()
    assert out == build_record([("500", df("  ", ("a", value)))])
    assert out[27:31] == b"9999"


@pytest.mark.parametrize(
    "value", ["x" * (10000 - 5), "x" * 20000, "é" * 4998], ids=["10000_bytes", "20005_bytes", "multibyte_10001"]
)
def test_field_over_9999_bytes_raises(impl, value):
    rec = _record_with(impl, "short", value)
    with pytest.raises(ValueError):
        rec.as_marc()


def test_control_field_over_9999_bytes_raises(impl):
    rec = impl.Record()
    rec.add_field(impl.Field(tag="001", data="x" * 9998))
    assert len(rec.as_marc()) == 24 + 13 + 9999 + 1
    rec.fields[0].data = "x" * 9999
    with pytest.raises(ValueError):
        rec.as_marc()


STRUCTURAL = {"record terminator": "\x1d", "field terminator": "\x1e", "subfield delimiter": "\x1f"}


@pytest.mark.parametrize("name", list(STRUCTURAL))
@pytest.mark.parametrize("where", ["subfield value", "subfield code", "indicator", "control data", "bytes value"])
def test_a_delimiter_or_terminator_in_a_value_is_refused_naming_the_field(impl, name, where):
    """pymarc writes these bytes and the record reads back as other fields, other subfields or
    no record at all (issue #11 item 6); as_marc() and MARCWriter raise instead."""
    bad = STRUCTURAL[name]
    rec = impl.Record()
    if where == "control data":
        rec.add_field(impl.Field(tag="001", data="id" + bad + "2"))
        tag = "001"
    else:
        code, value, ind = "a", "Title" + bad + "rest", impl.Indicators("1", "0")
        if where == "subfield code":
            code, value = bad, "Title"
        elif where == "indicator":
            ind, value = impl.Indicators(bad, "0"), "Title"
        elif where == "bytes value":
            value = ("Title" + bad).encode()
        rec.add_field(impl.Field(tag="245", indicators=ind, subfields=[impl.Subfield(code, value)]))
        tag = "245"
    with pytest.raises(ValueError, match=f"field {tag}"):
        rec.as_marc()
    with pytest.raises(ValueError, match=f"field {tag}"):
        impl.MARCWriter(io.BytesIO()).write(rec)


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        ("indicator", "é"),
        ("indicator", "12"),
        ("indicator", ""),
        ("indicator", b"\xe9"),
        ("code", "é"),
        ("code", "ab"),
        ("code", ""),
        ("code", "中"),
    ],
)
@pytest.mark.parametrize("to_unicode", [True, False])
def test_an_indicator_or_code_that_is_not_one_ascii_character_is_refused(impl, where, bad, to_unicode):
    """ISO 2709 gives an indicator and a subfield code one byte, which the reader (as pymarc's)
    takes as ASCII: pymarc writes anything, and the record reads back bad or shifted (found by
    fuzz_python). as_marc() and MARCWriter raise ValueError naming the field and the value."""
    value = "Title" if to_unicode else b"Title"
    code, ind = "a", impl.Indicators("1", "0")
    if where == "indicator":
        ind = impl.Indicators("1", bad)
    else:
        code = bad
    rec = impl.Record(to_unicode=to_unicode)
    rec.add_field(impl.Field(tag="245", indicators=ind, subfields=[impl.Subfield(code, value)]))
    what = "indicator 2" if where == "indicator" else "a subfield code"
    with pytest.raises(ValueError, match=f"field 245: {what} is {re.escape(repr(bad))}, not one ASCII"):
        rec.as_marc()
    with pytest.raises(ValueError, match="field 245"):
        impl.MARCWriter(io.BytesIO()).write(rec)


def test_ascii_indicators_and_codes_still_round_trip(impl):
    """Every ASCII indicator and code but the three structural bytes is written and read back."""
    rec = impl.Record()
    for c in map(chr, range(0x20, 0x7F)):
        rec.add_field(impl.Field(tag="500", indicators=impl.Indicators(c, c), subfields=[impl.Subfield(c, "v")]))
    back = next(iter(impl.MARCReader(rec.as_marc())))
    assert [(f.indicators, f.subfields) for f in back.fields] == [(f.indicators, f.subfields) for f in rec.fields]


@pytest.mark.parametrize("tag", ["24\x1e", "2\x1d5", "\x1f45", "é5"])
def test_a_tag_a_directory_cannot_hold_is_refused(impl, tag):
    rec = impl.Record()
    rec.add_field(impl.Field(tag=tag, indicators=impl.Indicators("1", "0"), subfields=[impl.Subfield("a", "x")]))
    with pytest.raises(ValueError, match="tag"):
        rec.as_marc()


def test_a_leader_that_is_not_ascii_is_refused(impl):
    rec = impl.Record(leader="0000éam a2200000 a 4500")
    rec.add_field(impl.Field(tag="001", data="x"))
    with pytest.raises(ValueError, match="not ASCII"):
        rec.as_marc()


def test_a_record_read_from_real_data_still_writes_unchanged(impl, loc_bytes):
    for rec in impl.MARCReader(loc_bytes):
        raw = rec.as_marc()  # unchanged fields are copied as bytes
        for field in rec.fields:  # from here on written from Python objects, every value checked
            assert field.subfields is not None
        assert rec.as_marc() == raw


def _sized_record(impl, total: int):
    """Nine 9,999-byte fields plus one sized so the record is ``total`` bytes."""
    fixed = 24 + (12 * 10 + 1) + 9 * 9999 + 1
    return _record_with(impl, *(["y" * 9994] * 9 + ["z" * (total - fixed - 5)]))


def test_record_of_99999_bytes_is_written(impl):
    out = _sized_record(impl, 99_999).as_marc()
    assert len(out) == 99_999 and out[:5] == b"99999"
    assert [r.as_marc() for r in impl.MARCReader(out)] == [out]


def test_record_over_99999_bytes_raises(impl):
    with pytest.raises(ValueError):
        _sized_record(impl, 100_000).as_marc()


def test_writer_does_not_write_invalid_marc(impl):
    buf = io.BytesIO()
    writer = impl.MARCWriter(buf)
    with pytest.raises(ValueError):
        writer.write(_sized_record(impl, 100_000))
    writer.write(_record_with(impl, "fine"))
    writer.close(close_fh=False)
    assert buf.getvalue() == _record_with(impl, "fine").as_marc()


# ---------------------------------------------------------------------------
# Oversize record (leader says 99999, really 1,096,887 bytes)
# ---------------------------------------------------------------------------


def _expected_oversize_fields(chunk: bytes) -> list[tuple]:
    """Fields of a record by its field terminators (its offsets overflow)."""
    base = chunk.index(FT) + 1
    directory = chunk[24 : base - 1]
    tags = [directory[i : i + 3].decode() for i in range(0, len(directory), 12)]
    datas = chunk[base:-1].split(FT)
    assert datas[-1] == b"" and len(datas) - 1 == len(tags)
    out = []
    for tag, data in zip(tags, datas, strict=False):
        if tag < "010" and tag.isdigit():
            out.append((tag, "control", data.decode()))
        else:
            ind, *subs = data.split(SF)
            out.append((tag, tuple(ind.decode()), [(s[:1].decode(), s[1:].decode()) for s in subs if s]))
    return out


@pytest.mark.parametrize("mode", [{}, {"strict": True}, {"recover": True}], ids=["default", "strict", "recover"])
def test_oversize_record_is_read(impl, pymarc_ref, data_dir, mode):
    path = data_dir / "edge" / "oversize_record_5.mrc"
    if not path.is_file():
        pytest.skip(f"missing {path}")
    chunks = split_on_terminator(path.read_bytes())
    assert [len(c) for c in chunks][3] == 1_096_887
    records = list(impl.MARCReader(path, **mode))
    assert len(records) == 5 and None not in records
    big = records[3]
    assert str(big.leader) == chunks[3][:24].decode()
    assert len(big.fields) == 12654
    assert [field_shape(f) for f in big.fields] == _expected_oversize_fields(chunks[3])
    assert len(big.get_fields("974")) == 12582
    with pytest.raises(ValueError):
        big.as_marc()
    for i in (0, 1, 2, 4):
        assert record_shape(records[i]) == record_shape(pymarc_ref.Record(chunks[i]))
        assert records[i].as_marc() == chunks[i]
    assert list(impl.MARCReader(path.read_bytes(), **mode))[4].as_marc() == chunks[4]


# ---------------------------------------------------------------------------
# Edge files: no crash in any mode
# ---------------------------------------------------------------------------

# name: (items in default mode, records with to_unicode=True, records with to_unicode=False)
EDGE_EXPECTED = {
    "structural_errors_5.mrc": (5, 5, 5),
    "invalid_utf8_383.mrc": (383, 298, 367),
    "invalid_utf8_383_fixed.mrc": (383, 383, 383),
    "mislabelled_utf8_as_marc8_52.mrc": (52, 52, 52),
    "oversize_record_5.mrc": (5, 5, 5),
}


@pytest.mark.parametrize("to_unicode", [True, False], ids=["unicode", "raw"])
@pytest.mark.parametrize("mode", ["default", "strict", "recover"])
def test_edge_files_never_crash(impl, edge_path, mode, to_unicode):
    options = {"to_unicode": to_unicode}
    if mode != "default":
        options[mode] = True
    items, raised = [], None
    with impl.MARCReader(edge_path, **options) as reader:
        try:
            for item in reader:
                items.append(item)
                if item is not None:
                    assert item.as_dict()["leader"] == str(item.leader)
                    if to_unicode:  # str() of a raw (bytes) record fails in pymarc too
                        assert str(item).startswith("=LDR  ")
        except (impl.PymarcException, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            if mode != "strict":
                raise
            raised = exc
    expected = EDGE_EXPECTED.get(edge_path.name)
    if mode == "strict":
        assert None not in items
        if raised is not None:
            assert raised.record_index == len(items)
    if expected is None:
        return
    count, ok_unicode, ok_raw = expected
    ok = ok_unicode if to_unicode else ok_raw
    records = [r for r in items if r is not None]
    if mode == "strict":
        assert (raised is None) == (ok == count)
        if raised is None:
            assert len(records) == count
    else:
        assert len(items) == count
        assert len(records) == ok


# ---------------------------------------------------------------------------
# Pickle
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_real_records(impl, utf8_path, protocol):
    for record in list(impl.MARCReader(utf8_path))[:50]:
        clone = pickle.loads(pickle.dumps(record, protocol=protocol))
        assert type(clone) is type(record)
        assert clone.as_marc() == record.as_marc()
        assert str(clone) == str(record)
        assert record_shape(clone) == record_shape(record)


def test_pickle_raw_and_constructed_records(impl, marc8_path):
    for record in list(impl.MARCReader(marc8_path, to_unicode=False))[:50]:
        clone = pickle.loads(pickle.dumps(record))
        assert clone.as_marc() == record.as_marc()
        assert record_shape(clone) == record_shape(record)
    rec = impl.Record(leader="00000cam a2200000 i 4500")
    rec.add_field(impl.Field(tag="001", data="id"), impl.Field(tag="245", subfields=[impl.Subfield("a", "Título")]))
    clone = pickle.loads(pickle.dumps(rec))
    assert clone.as_marc() == rec.as_marc()
    clone["245"]["a"] = "changed"
    assert rec["245"]["a"] == "Título"


# ---------------------------------------------------------------------------
# Fuzzing (in a subprocess: a crash or hang fails this test only)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_never_crashes_or_hangs(impl_name, seed):
    cmd = [
        sys.executable,
        str(HERE / "marc_fuzz_worker.py"),
        impl_name,
        str(seed),
        "200",
        "200",
        str(shared_data_dir()),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=HERE)
    except subprocess.TimeoutExpired as exc:
        last = (exc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        pytest.fail(f"fuzz worker hung; last case started: {last}")
    last = proc.stderr.strip().splitlines()[-1:] if proc.stderr else []
    assert proc.returncode == 0, f"fuzz worker exit {proc.returncode}; stdout={proc.stdout[-2000:]!r}; last={last}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["cases"] == 400
    stats = summary["stats"]
    assert stats.get("default:record", 0) > 0 and stats.get("default:none", 0) > 0
    assert stats.get("recover:record", 0) >= stats.get("default:record", 0)


def test_current_offset_is_where_each_item_starts(impl, loc_bytes):
    damaged = loc_bytes[:5000] + b"junk" + loc_bytes[5000:]
    for workers in (0, 1, 2):
        reader = impl.MARCReader(damaged, recover=True, workers=workers)
        assert reader.current_offset is None
        for item in reader:
            offset = reader.current_offset
            chunk = reader.current_chunk if item is None else item._raw_bytes()
            assert damaged[offset : offset + len(chunk)] == chunk
