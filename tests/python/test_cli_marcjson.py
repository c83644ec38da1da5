"""``rapidmarc convert --from json`` as a user runs it (a subprocess: real exit status, real
standard streams) on MARC-in-JSON that is not one JSON array: JSON Lines and concatenated objects
(ours, and yaz-marcdump's ``-o json`` output of a real file when yaz-marcdump is installed), read
from a file and from standard input (``-``), written as ISO 2709 and as MARCXML, with the summary
line and exit status checked; and malformed JSON after some records: the records before it are
written, the exit status says reading stopped, the error is one line with its line and column.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.rapidmarc_only

LOC_RECORDS = 386


def rapidmarc(*args, input=None) -> subprocess.CompletedProcess:  # noqa: A002
    return subprocess.run(
        [sys.executable, "-m", "rapidmarc", *map(str, args)], capture_output=True, input=input, timeout=300
    )


def stderr_lines(run: subprocess.CompletedProcess) -> list[str]:
    return run.stderr.decode().strip().splitlines()


@pytest.fixture(scope="module")
def loc(data_dir) -> Path:
    return data_dir / "real" / "loc_386.mrc"  # UTF-8: read back from JSON, the same bytes


@pytest.fixture(scope="module")
def loc_objects(loc, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("json") / "loc.json"
    assert rapidmarc("convert", loc, out).returncode == 0
    objects = json.loads(out.read_text(encoding="utf-8"))
    assert len(objects) == LOC_RECORDS
    return objects


@pytest.fixture(scope="module")
def loc_xml(loc, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("xml") / "loc.xml"
    assert rapidmarc("convert", loc, out).returncode == 0
    return out.read_bytes()


def json_lines(objects: list[dict]) -> bytes:
    return "".join(json.dumps(obj, separators=(",", ":")) + "\n" for obj in objects).encode()


def concatenated(objects: list[dict]) -> bytes:
    return "".join(json.dumps(obj, indent=2, ensure_ascii=False) for obj in objects).encode()


def yaz_json(loc: Path) -> bytes:
    if shutil.which("yaz-marcdump") is None:
        pytest.skip("yaz-marcdump is not installed")
    run = subprocess.run(["yaz-marcdump", "-i", "marc", "-o", "json", str(loc)], capture_output=True, check=True)
    assert run.stdout.lstrip().startswith(b"{") and run.stdout.count(b'"leader"') == LOC_RECORDS
    return run.stdout


@pytest.fixture(params=["json-lines", "concatenated", "yaz-marcdump"])
def layout(request, loc, loc_objects) -> tuple[str, bytes]:
    if request.param == "json-lines":
        return request.param, json_lines(loc_objects)
    if request.param == "concatenated":
        return request.param, concatenated(loc_objects)
    return request.param, yaz_json(loc)


@pytest.mark.parametrize("to", ["marc", "xml"])
def test_convert_from_a_file(layout, to, loc, loc_xml, tmp_path):
    name, text = layout
    src = tmp_path / f"loc.{name}"  # no .json suffix: --from json says what it is
    src.write_bytes(text)
    out = tmp_path / f"out.{to}"
    run = rapidmarc("convert", "--from", "json", src, out, "--to", to)
    assert run.returncode == 0, run.stderr
    assert stderr_lines(run) == [f"{src}: {LOC_RECORDS} good, 0 bad; {LOC_RECORDS} records written to {out}"]
    assert out.read_bytes() == (loc.read_bytes() if to == "marc" else loc_xml)


@pytest.mark.parametrize("to", ["marc", "xml"])
def test_convert_from_standard_input(layout, to, loc, loc_xml, tmp_path):
    _, text = layout
    out = tmp_path / f"out.{to}"
    run = rapidmarc("convert", "--from", "json", "-", out, "--to", to, input=text)
    assert run.returncode == 0, run.stderr
    assert stderr_lines(run) == [f"<stdin>: {LOC_RECORDS} good, 0 bad; {LOC_RECORDS} records written to {out}"]
    assert out.read_bytes() == (loc.read_bytes() if to == "marc" else loc_xml)


def test_convert_from_standard_input_to_standard_output(loc, loc_objects):
    run = rapidmarc("convert", "--from", "json", "-", "-", "--to", "marc", input=json_lines(loc_objects))
    assert run.returncode == 0, run.stderr
    assert run.stdout == loc.read_bytes()
    assert stderr_lines(run) == [f"<stdin>: {LOC_RECORDS} good, 0 bad; {LOC_RECORDS} records written to <stdout>"]


def split_records(data: bytes) -> list[bytes]:
    return [chunk + b"\x1d" for chunk in data.split(b"\x1d") if chunk]


# Five good records, then a sixth line whose JSON breaks at column 12 (a '}' where a value is due).
BROKEN_LINE = b'{"leader": }\n'


@pytest.mark.parametrize("from_stdin", [False, True], ids=["file", "stdin"])
@pytest.mark.parametrize("layout_name", ["json-lines", "concatenated"])
def test_malformed_json_after_some_records(layout_name, from_stdin, loc, loc_objects, tmp_path):
    good = loc_objects[:5]
    text = (json_lines(good) if layout_name == "json-lines" else concatenated(good) + b"\n") + BROKEN_LINE
    line = text.count(b"\n")  # the broken line's number
    out = tmp_path / "out.mrc"
    if from_stdin:
        run = rapidmarc("convert", "--from", "json", "-", out, input=text)
    else:
        src = tmp_path / "broken.jsonl"
        src.write_bytes(text)
        run = rapidmarc("convert", "--from", "json", src, out)
    assert run.returncode == 3, run.stderr  # reading stopped before the end
    assert "Traceback" not in run.stderr.decode()
    (message,) = stderr_lines(run)
    assert f"line {line}, column 12: malformed JSON: Expecting value" in message, message
    assert "5 good, 0 bad" in message and "5 records written" in message, message
    assert split_records(out.read_bytes()) == split_records(loc.read_bytes())[:5]


def test_malformed_json_inside_the_first_record_keeps_the_destination(loc_objects, tmp_path):
    src = tmp_path / "broken.jsonl"
    src.write_bytes(json_lines(loc_objects[:1])[:200])  # the input ends inside the first record
    out = tmp_path / "out.mrc"
    out.write_bytes(b"old")
    run = rapidmarc("convert", "--from", "json", src, out)
    assert run.returncode == 3
    (message,) = stderr_lines(run)
    assert "line 1, column" in message and "malformed JSON" in message, message
    assert out.read_bytes() == b"old"
