"""The native MARC-in-JSON reader (from_format="json", JSONReader(native=True)) against
rapidmarc's and pymarc's JSONReader on every real file's JSON (rapidmarc's and yaz-marcdump's),
JSON Lines, concatenated objects, odd structures and damaged JSON."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import threading
from pathlib import Path

import pymarc
import pytest
import rapidmarc
from rapidmarc.exceptions import JSONParseError

pytestmark = pytest.mark.rapidmarc_only

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
FILES = sorted(REAL.glob("*.mrc"))
MARC8 = {"uva_2000.mrc", "jazz_1k.mrc", "lul_fre_500.mrc", "hebrew_20.mrc", "solrmarc_spec_76.mrc"}


def shape(record: object) -> tuple:
    """What a record holds, comparable between pymarc's and rapidmarc's records."""
    assert record is not None
    fields = []
    for f in record.fields:  # type: ignore[attr-defined]
        if f.is_control_field():
            fields.append((f.tag, f.data))
        else:
            fields.append((f.tag, f.indicator1, f.indicator2, [(s.code, s.value) for s in f.subfields]))
    return (str(record.leader), fields)  # type: ignore[attr-defined]


def ours_json(path: Path) -> bytes:
    out = io.BytesIO()
    rapidmarc.convert(str(path), out, to="json")
    return out.getvalue()


def yaz_json(path: Path) -> bytes:
    charset = ["-f", "marc8", "-t", "utf8"] if path.name in MARC8 else []
    return subprocess.run(
        ["yaz-marcdump", *charset, "-i", "marc", "-o", "json", str(path)], capture_output=True, check=True
    ).stdout


def as_lines(doc: bytes) -> bytes:
    return b"".join(json.dumps(obj).encode() + b"\n" for obj in json.loads(doc))


def test_real_files_read_as_pymarc_reads_them(tmp_path: Path) -> None:
    for path in FILES:
        doc = ours_json(path)
        want = [shape(r) for r in pymarc.JSONReader(doc.decode())]
        assert want and want == [shape(r) for r in rapidmarc.JSONReader(doc)], path.name
        file = tmp_path / "in.json"
        file.write_bytes(doc)
        assert [shape(r) for r in rapidmarc.JSONReader(doc, native=True)] == want, path.name
        assert [shape(r) for r in rapidmarc.JSONReader(str(file), native=True)] == want
        with open(file, "rb") as fh:
            assert [shape(r) for r in rapidmarc.JSONReader(fh, native=True)] == want
        with open(file, encoding="utf-8") as fh:
            assert [shape(r) for r in rapidmarc.JSONReader(fh, native=True)] == want
        lines = as_lines(doc)
        assert [shape(r) for r in rapidmarc.JSONReader(lines, native=True)] == want
        assert [shape(r) for r in rapidmarc.JSONReader(lines.replace(b"\n", b""), native=True)] == want
        assert rapidmarc.count(str(file), from_format="json") == len(want)
        assert rapidmarc.scan(lines, from_format="json").complete
        assert rapidmarc.extract(doc, ["001"], from_format="json")["001"] == [
            [f[1] for f in fields if f[0] == "001"] for _, fields in want
        ]


@pytest.mark.skipif(not shutil.which("yaz-marcdump"), reason="yaz-marcdump is not installed")
def test_yaz_marcdump_json_reads_as_each_of_its_records_reads_in_pymarc() -> None:
    for path in FILES:
        doc = yaz_json(path)
        ours = [shape(r) for r in rapidmarc.JSONReader(doc, native=True)]
        with pytest.raises(json.JSONDecodeError, match="Extra data"):
            pymarc.JSONReader(doc.decode())  # concatenated objects: pymarc reads one document
        decoder, text, at, want = json.JSONDecoder(), doc.decode(), 0, []
        while at < len(text.rstrip()):
            obj, end = decoder.raw_decode(text, at)
            want += [shape(r) for r in pymarc.JSONReader(json.dumps(obj))]
            at = end + len(text[end:]) - len(text[end:].lstrip())
        assert ours == want, path.name
        assert rapidmarc.count(doc, from_format="json") == len(want)


def test_convert_from_json_to_marc_and_back(tmp_path: Path) -> None:
    for path in FILES:
        doc = ours_json(path)
        out = tmp_path / "out.mrc"
        result = rapidmarc.convert(doc, str(out), to="marc", from_format="json")
        want = list(pymarc.JSONReader(doc.decode()))
        assert result.records == len(want) and result.bad == 0 and result.stop_error is None
        for a, b in zip(rapidmarc.MARCReader(str(out)), want, strict=True):
            la, lb = shape(a), shape(b)
            assert la[1] == lb[1]
            assert la[0][5:9] + la[0][10:12] + la[0][17:] == lb[0][5:9] + lb[0][10:12] + lb[0][17:]
        table = rapidmarc.extract_arrow(doc, ["245$a"], from_format="json")
        assert table.num_rows == len(want)


L = '"leader": "' + "x" * 24 + '"'


def rec(rest: str) -> str:
    """A record object with the leader L and `rest` after it."""
    return "{" + L + rest + "}"


ODD = {
    "empty-field": rec(', "fields": [{}]'),
    "int": rec(', "fields": [{"245": 5}]'),
    "null": rec(', "fields": [{"245": null}]'),
    "text-datafield": rec(', "fields": [{"245": "abc"}]'),
    "no-ind": rec(', "fields": [{"245": {"subfields": [{"a": "x"}]}}]'),
    "int-subfield": rec(', "fields": [{"245": {"ind1": " ", "ind2": " ", "subfields": [{"a": 5}]}}]'),
    "two-codes": rec(', "fields": [{"245": {"ind1": " ", "ind2": " ", "subfields": [{"a": "x", "b": "y"}]}}]'),
    "dup-code": rec(', "fields": [{"245": {"ind1": " ", "ind2": " ", "subfields": [{"a": "x", "a": "y"}]}}]'),
    "long-code": rec(', "fields": [{"245": {"ind1": " ", "ind2": " ", "subfields": [{"ab": "x"}]}}]'),
    "two-members": rec(', "fields": [{"001": "a", "002": "b"}]'),
    "no-leader": '{"fields": [{"001": "a"}]}',
    "no-fields": rec(""),
    "zero-fields": rec(', "fields": []'),
    "short-leader": '{"leader": "abc", "fields": [{"001": "x"}]}',
    "not-object": "5",
    "lone-surrogate": rec(', "fields": [{"001": "\\ud800"}]'),
    "delimiter": rec(', "fields": [{"001": "a\\u001eb"}]'),
    "fields-object": rec(', "fields": {"001": "a"}'),
}


def _outcome(reader: object) -> tuple:
    try:
        return ("ok", [str(r) for r in reader])  # type: ignore[attr-defined]
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_records_give_pymarcs_outcome(name: str) -> None:
    good = '{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "id"}]}'
    doc = f"[{good}, {ODD[name]}, {good}]"
    want = _outcome(pymarc.JSONReader(doc))
    assert _outcome(rapidmarc.JSONReader(doc)) == want
    ours = rapidmarc.JSONReader(doc, native=True)
    assert _outcome(ours) == want
    # bulk: a record built pymarc's way or refused is a bad record, never dropped or an error
    summary = rapidmarc.scan(doc.encode(), from_format="json")
    assert summary.good + summary.bad == 3 and summary.good >= 2 and summary.stop_error is None


def test_odd_records_do_not_stop_a_native_jsonreader() -> None:
    doc = "[" + rec(', "fields": [{}]') + ', {"leader": "00000nam a2200000 a 4500", "fields": [{"001": "id"}]}]'
    reader = rapidmarc.JSONReader(doc, native=True)
    with pytest.raises(IndexError):
        next(reader)
    assert next(reader)["001"].data == "id"


DAMAGED = {
    "cut": ('[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "a"}]}, {"leader": "0', 1),
    "trailing-comma": ('[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "a"}]},]', 1),
    "junk": ('{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "a"}]}\nnot json', 1),
    "bad-escape": ('{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "\\q"}]}', 0),
    "not-utf8": (b'{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "\xff"}]}', 0),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_json_is_an_error_after_the_records_before(name: str, tmp_path: Path) -> None:
    doc, before = DAMAGED[name]
    data = doc if isinstance(doc, bytes) else doc.encode()
    got = []
    with pytest.raises(JSONParseError) as caught:
        for record in rapidmarc.JSONReader(data, native=True):
            got.append(record)
    assert len(got) == before and caught.value.record_index == before
    assert isinstance(caught.value, json.JSONDecodeError) and caught.value.lineno >= 1
    with pytest.raises(JSONParseError):
        rapidmarc.count(data, from_format="json")
    with pytest.raises(JSONParseError):
        rapidmarc.convert(data, io.BytesIO(), to="marc", from_format="json")
    if not isinstance(doc, bytes):  # where pymarc reads text, it refuses the document too
        with pytest.raises(json.JSONDecodeError):
            pymarc.JSONReader(doc)


def test_positions_are_pythons() -> None:
    doc = '[{"leader": "00000nam a2200000 a 4500", "fields": []},\n {"é": tru}]'
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(doc)
    with pytest.raises(JSONParseError) as ours:
        list(rapidmarc.JSONReader(doc, native=True))
    t, o = theirs.value, ours.value
    assert (o.msg, o.lineno, o.colno, o.pos) == (t.msg, t.lineno, t.colno, t.pos)
    assert str(o) == str(t)


def test_from_format_json_rejects_lazy_arrow() -> None:
    with pytest.raises(ValueError, match="lazy"):
        rapidmarc.extract_arrow(b"[]", ["001"], from_format="json", lazy=True)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def test_a_large_json_lines_stream_is_read_in_bounded_memory() -> None:
    record = next(iter(rapidmarc.MARCReader(str(REAL / "loc_386.mrc"))))
    line = (json.dumps(json.loads(record.as_json())) + "\n").encode()
    copies = (256 << 20) // len(line) + 1  # 256 MiB of JSON Lines, written into a pipe
    read_fd, write_fd = os.pipe()

    def write() -> None:
        with os.fdopen(write_fd, "wb") as out:
            block = line * 256
            for _ in range(copies // 256):
                out.write(block)

    writer = threading.Thread(target=write)
    before = _peak_rss()
    writer.start()
    with os.fdopen(read_fd, "rb") as stream:
        assert rapidmarc.count(stream, from_format="json") == (copies // 256) * 256
    writer.join()
    grown = _peak_rss() - before
    assert grown < (64 << 20), f"peak RSS grew by {grown} bytes reading 256 MiB"
