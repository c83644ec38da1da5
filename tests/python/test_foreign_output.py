"""MARCXML and MARC-in-JSON that other tools wrote from the real files read back to the originals.

Writers: yaz-marcdump (``-o marcxml``, ``-o json``, with and without ``-l 9=97``), marc4j
(``tests/tools/Marc4jWrite.java``: MarcXmlWriter and MarcJsonWriter), MARC::Record's
MARC::File::XML (``tests/tools/marc_record_to_xml.pl``) and pymarc (XMLWriter, JSONWriter,
``as_json``). Every real file goes through each writer once per session (cached in a temporary
directory; the slow writers run in the background while the others are checked), then through every
rapidmarc reader: XMLReader (workers 0, 1, 2; a path and a file object), parse_xml_to_array (also
strict, from a file object), map_xml, JSONReader (native from a path and from bytes, and pymarc's),
convert(from_format=...) to ISO 2709, count and scan. pymarc reads marc4j's and MARC::File::XML's
files too, and must give the same records (yaz's are read by pymarc in test_marcxml_native.py and
test_marcjson_native.py).

What "equal to the original" means:

* The original is the file read by rapidmarc.MARCReader (to_unicode=True). For MARC-8 files that is
  the text decoded to Unicode and NFC-normalised; pymarc's decoding is the cross-check: the same
  text once its ligature halves (U+FE20..U+FE23) are written as rapidmarc writes them
  (docs/marc8.md, difference 1). What pymarc wrote is compared with pymarc's own reading.
* Leaders are compared whole, as each writer wrote them: MARC-8 text in MARCXML or JSON is Unicode,
  and writers differ in whether they say so in leader/09 (listed in WRITERS). Record length and base
  address are the original's: no writer recomputes them for the UTF-8 text.
* convert(..., to="marc") writes what as_marc() writes for the records read: UTF-8, leader/09
  ``a``, record length (00-04) and base address (12-16) computed. For the UTF-8 files those bytes
  are the original's, record for record, except where the writer changed something (below) or
  pymarc's reading drops data (a third indicator).
* What a writer does to the records is asserted exactly, not hidden (docs/formats.md, "Read against
  other tools"): yaz writes leader/20-23 as ``4500``; yaz and MARC::Charset do not NFC-normalise
  what they convert from MARC-8; MARC::Charset attaches a MARC-8 combining mark that precedes a space
  to the next letter instead; marc4j writes the control fields before the data fields; and the one
  MARC-8 byte no character set maps (0x7F in Hebrew text) is a space for rapidmarc and pymarc,
  dropped by yaz, the text ``<U+007F>`` for marc4j, and empties its whole subfield in MARC::Charset.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pymarc
import pytest
import rapidmarc
from marc_testlib import MARC8_FILES, PYMARC_LOSSY_RECORDS, REAL_FILES, shared_data_dir, split_records

pytestmark = [
    pytest.mark.rapidmarc_only,
    pytest.mark.skipif(not rapidmarc._core.marcxml_supported(), reason="built without expat"),
]

REAL = shared_data_dir() / "real"
TOOLS = Path(__file__).resolve().parents[1] / "tools"
MARC4J_JAR = Path("/usr/share/java/marc4j.jar")  # Debian's libmarc4j-java

Shape = tuple[str, list[tuple]]


def shape(record: Any) -> Shape:
    """What a record holds, comparable between pymarc's and rapidmarc's records."""
    assert record is not None
    fields: list[tuple] = []
    for f in record.fields:
        if f.is_control_field():
            fields.append((f.tag, f.data))
        else:
            fields.append((f.tag, f.indicator1, f.indicator2, tuple((s.code, s.value) for s in f.subfields)))
    return (str(record.leader), fields)


def map_values(records: list[Shape], fn: Callable[[str], str]) -> list[Shape]:
    """The records with fn applied to every subfield value."""
    return [
        (leader, [f if len(f) == 2 else (*f[:3], tuple((c, fn(v)) for c, v in f[3])) for f in fields])
        for leader, fields in records
    ]


def nfc(records: list[Shape]) -> list[Shape]:
    return map_values(records, lambda v: v if v.isascii() else unicodedata.normalize("NFC", v))


def lc_ligatures(value: str) -> str:
    """pymarc's MARC-8 ligature and double tilde halves written as rapidmarc writes them (docs/marc8.md)."""
    value = value.replace("\ufe20", "\u0361").replace("\ufe22", "\u0360")
    return unicodedata.normalize("NFC", value.replace("\ufe21", "").replace("\ufe23", ""))


def marks_past_spaces(value: str) -> str:
    """MARC::Charset's decoding, from rapidmarc's: it copies white space straight to its output, so a
    MARC-8 combining mark written before a space goes with the next letter (after that letter, before
    the letter's own marks) where rapidmarc and pymarc put it on the space."""
    if value.isascii():
        return value
    out: list[str] = []
    held: list[str] = []
    on_space = False
    for c in unicodedata.normalize("NFD", value):
        if unicodedata.combining(c):
            (held if on_space else out).append(c)
        elif c.isspace():
            out.append(c)
            on_space = True
        else:
            out.append(c)
            out.extend(held)
            held.clear()
            on_space = False
    return unicodedata.normalize("NFC", "".join(out + held))


# The only MARC-8 byte of the real files that no character set maps: 0x7F inside Hebrew text (an
# 880 $a). {(file, record index, field index, subfield index): index of its character in rapidmarc's
# text}; original() checks that the byte is there. rapidmarc and pymarc write a space for it, as for
# any unmapped character; what the other writers make of it is in WRITERS.
UNMAPPED = {("hebrew_20.mrc", 17, 17, 1): 2}


def unmapped_as(records: list[Shape], name: str, how: Callable[[str, int], str]) -> list[Shape]:
    out = list(records)
    for (file, index, field_index, subfield_index), at in UNMAPPED.items():
        if file == name:
            leader, fields = out[index]
            tag, ind1, ind2, subfields = fields[field_index]
            code, value = subfields[subfield_index]
            changed = (*subfields[:subfield_index], (code, how(value, at)), *subfields[subfield_index + 1 :])
            fields = [*fields[:field_index], (tag, ind1, ind2, changed), *fields[field_index + 1 :]]
            out[index] = (leader, fields)
    return out


@dataclass(frozen=True)
class Writer:
    """One way another tool writes the records, and exactly what it changes."""

    name: str
    fmt: str  # "xml" or "json"
    tool: str  # "yaz", "marc4j", "perl", "pymarc"
    leader09_a: bool = False  # sets leader/09 to 'a' when it converts MARC-8 to UTF-8
    entry_map_4500: bool = False  # writes leader/20-23 as "4500" whatever the original says
    normalises: bool = True  # its MARC-8 conversion gives NFC text
    control_fields_first: bool = False
    marks_past_spaces: bool = False
    unmapped: Callable[[str, int], str] = lambda v, at: v  # noqa: E731
    pymarc_reading: bool = False  # the records it writes are pymarc's reading of the original
    # pymarc reads the output too, and must give the same records. Not for yaz's output, which
    # test_marcxml_native.py and test_marcjson_native.py already read with pymarc and rapidmarc, nor
    # for pymarc's own, where it would test pymarc's round trip, not our reader.
    pymarc_reads_it: bool = True


def _drop(v: str, at: int) -> str:
    return v[:at] + v[at + 1 :]


def _placeholder(v: str, at: int) -> str:
    return v[:at] + "<U+007F>" + v[at + 1 :]


def _empty(v: str, at: int) -> str:
    return ""


def _yaz(name: str, fmt: str, leader09_a: bool) -> Writer:
    return Writer(
        name, fmt, "yaz", leader09_a, entry_map_4500=True, normalises=False, unmapped=_drop, pymarc_reads_it=False
    )


def _marc4j(name: str, fmt: str) -> Writer:
    return Writer(name, fmt, "marc4j", control_fields_first=True, unmapped=_placeholder)


WRITERS = {
    w.name: w
    for w in [
        # yaz sets leader/09 in MARCXML when it converts to UTF-8, with or without -l 9=97, but not
        # in JSON (-l 9=97 does: test_yaz_leader_option)
        _yaz("yaz-marcxml", "xml", leader09_a=True),
        _yaz("yaz-json", "json", leader09_a=False),
        Writer("pymarc-xmlwriter", "xml", "pymarc", pymarc_reading=True, pymarc_reads_it=False),
        Writer("pymarc-jsonwriter", "json", "pymarc", pymarc_reading=True, pymarc_reads_it=False),
        _marc4j("marc4j-marcxml", "xml"),
        _marc4j("marc4j-json", "json"),
        Writer(
            "marc-file-xml",
            "xml",
            "perl",
            leader09_a=True,
            normalises=False,
            marks_past_spaces=True,
            unmapped=_empty,
        ),
    ]
}


# ---------------------------------------------------------------------------
# The originals
# ---------------------------------------------------------------------------


@dataclass
class Original:
    name: str
    marc8: bool
    ours: list[Shape]  # rapidmarc.MARCReader
    theirs: list[Shape]  # pymarc.MARCReader
    iso: list[bytes]  # each record's bytes in the file
    pymarc_records: list[pymarc.Record]  # what pymarc's writers write


@cache
def original(name: str) -> Original:
    path = REAL / name
    data = path.read_bytes()
    ours = [shape(r) for r in rapidmarc.MARCReader(data)]
    records = list(pymarc.MARCReader(data))
    theirs = [shape(r) for r in records]
    found = Original(name, name in MARC8_FILES, ours, theirs, split_records(data), records)
    assert len(ours) == len(found.iso) == len(theirs)
    # pymarc decodes MARC-8 as rapidmarc does, but for the ligature halves (docs/marc8.md)
    assert (map_values(theirs, lc_ligatures) if found.marc8 else theirs) == ours
    for (file, index, field_index, subfield_index), at in UNMAPPED.items():
        if file == name:
            assert found.iso[index].count(b"\x7f") == 1
            assert ours[index][1][field_index][3][subfield_index][1][at] == " "
    return found


@pytest.fixture(scope="module", autouse=True)
def _forget_originals() -> Iterator[None]:
    """The originals are read once for this module, and let go after it."""
    yield
    original.cache_clear()


def expected(writer: Writer, name: str) -> list[Shape]:
    """The records as `writer` writes the original `name`, and so as a reader must give them back."""
    orig = original(name)
    records = orig.theirs if writer.pymarc_reading else orig.ours
    if not orig.marc8:
        out = records
    else:
        out = unmapped_as(records, name, writer.unmapped)
        if writer.marks_past_spaces:
            out = map_values(out, marks_past_spaces)
    result = []
    for leader, fields in out:
        if orig.marc8 and writer.leader09_a:
            leader = leader[:9] + "a" + leader[10:]
        if writer.entry_map_4500:
            leader = leader[:20] + "4500"
        if writer.control_fields_first:
            fields = [f for f in fields if len(f) == 2] + [f for f in fields if len(f) != 2]
        result.append((leader, fields))
    return result


def expected_iso(writer: Writer, name: str) -> list[bytes]:
    """For a UTF-8 file: the bytes convert(from_format=...) writes, record for record."""
    orig = original(name)
    out = []
    for i, raw in enumerate(orig.iso):
        if i in PYMARC_LOSSY_RECORDS.get(name, ()):
            # pymarc's reading drops data (a third indicator): so does every writer here
            raw = pymarc.Record(data=raw).as_marc()
        if writer.entry_map_4500:
            raw = raw[:20] + b"4500" + raw[24:]
        out.append(raw)
    return out


def comparable(writer: Writer, name: str, records: list[Shape]) -> list[Shape]:
    """What a reader gave, NFC-normalised when the writer does not normalise MARC-8 text."""
    return nfc(records) if original(name).marc8 and not writer.normalises else records


# ---------------------------------------------------------------------------
# Running the writers, once per session
# ---------------------------------------------------------------------------


def _perl_ok() -> bool:
    if not shutil.which("perl"):
        return False
    return subprocess.run(["perl", "-MMARC::File::XML", "-MMARC::Batch", "-e1"], capture_output=True).returncode == 0


def _java_ok() -> bool:
    # java runs the tool from source (JEP 330), which needs the JDK's compiler module
    return bool(shutil.which("java") and shutil.which("javac")) and MARC4J_JAR.is_file()


ABSENT = {
    "yaz": None if shutil.which("yaz-marcdump") else "yaz-marcdump is not installed (Debian: yaz)",
    "marc4j": None if _java_ok() else "marc4j or a JDK is not installed (Debian: libmarc4j-java, default-jdk-headless)",
    "perl": None if _perl_ok() else "MARC::File::XML is not installed (Debian: libmarc-xml-perl)",
    "pymarc": None,
}


class Outputs:
    """Every writer's output for every real file, in one directory; the slow writers (marc4j and
    MARC::File::XML, tens of seconds) are started first and waited for when a test needs them."""

    def __init__(self, directory: Path, needed: set[str]) -> None:
        self.dir = directory
        self.running: dict[str, list[subprocess.Popen[bytes]]] = {}
        self.done: set[str] = set()
        if "marc4j" in needed and ABSENT["marc4j"] is None:
            args = []
            for name in REAL_FILES:
                kind = "marc8" if name in MARC8_FILES else "utf8"
                args += [
                    str(REAL / name),
                    str(self.path("marc4j-marcxml", name)),
                    str(self.path("marc4j-json", name)),
                    kind,
                ]
            self.running["marc4j"] = [
                self._start(["java", "-cp", str(MARC4J_JAR), str(TOOLS / "Marc4jWrite.java"), *args])
            ]
        if "perl" in needed and ABSENT["perl"] is None:
            procs = []
            for name in REAL_FILES:
                with open(self.path("marc-file-xml", name), "wb") as out:
                    procs.append(self._start(["perl", str(TOOLS / "marc_record_to_xml.pl"), str(REAL / name)], out))
            self.running["perl"] = procs

    def _start(self, argv: list[str], stdout: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        # stderr to a file: a pipe nobody reads yet could fill up and stop the tool
        with open(self.dir / f"stderr.{len(list(self.dir.glob('stderr.*')))}", "wb") as err:
            return subprocess.Popen(argv, stdout=stdout, stderr=err, cwd=self.dir)

    def path(self, writer: str, name: str) -> Path:
        w = WRITERS[writer]
        tool = "marc4j" if w.tool == "marc4j" else writer
        return self.dir / f"{Path(name).stem}.{tool}.{w.fmt}"

    def get(self, writer: str, name: str) -> Path:
        tool = WRITERS[writer].tool
        absent = ABSENT[tool]
        if absent:
            pytest.skip(absent)
        if tool not in self.done:
            if tool in self.running:
                for proc in self.running.pop(tool):
                    proc.wait()
                    assert proc.returncode == 0, f"{proc.args!r} failed: see the stderr.* files in {self.dir}"
            elif tool == "yaz":
                self._yaz()
            else:
                self._pymarc()
            self.done.add(tool)
        return self.path(writer, name)

    def _yaz(self) -> None:
        for name in REAL_FILES:
            charset = ["-f", "marc8", "-t", "utf8"] if name in MARC8_FILES else []
            runs = {
                "yaz-marcxml.xml": ["-o", "marcxml"],
                "yaz-marcxml-l9a.xml": ["-o", "marcxml", "-l", "9=97"],
                "yaz-json.json": ["-o", "json"],
                "yaz-json-l9a.json": ["-o", "json", "-l", "9=97"],
            }
            for suffix, opts in runs.items():
                argv = ["yaz-marcdump", *charset, "-i", "marc", *opts, str(REAL / name)]
                out = subprocess.run(argv, capture_output=True, check=True).stdout
                (self.dir / f"{Path(name).stem}.{suffix}").write_bytes(out)

    def _pymarc(self) -> None:
        for name in REAL_FILES:
            records = original(name).pymarc_records
            original(name).pymarc_records = []  # written once; no need to hold them
            with open(self.path("pymarc-xmlwriter", name), "wb") as fh:
                xml_writer = pymarc.XMLWriter(fh)
                for r in records:
                    xml_writer.write(r)
                xml_writer.close(close_fh=False)
            with open(self.path("pymarc-jsonwriter", name), "w", encoding="utf-8") as th:
                json_writer = pymarc.JSONWriter(th)
                for r in records:
                    json_writer.write(r)
                json_writer.close(close_fh=False)
            with open(self.path("pymarc-jsonwriter", name).with_suffix(".jsonl"), "w", encoding="utf-8") as th:
                th.writelines(r.as_json() + "\n" for r in records)

    def close(self) -> None:
        for procs in self.running.values():
            for proc in procs:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def outputs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    if not REAL.is_dir():
        pytest.skip(f"shared MARC test data not found at {REAL}")
    # start only the writers that the selected tests read
    params = [getattr(item, "callspec", None) for item in request.session.items]
    needed = {WRITERS[p.params["writer"]].tool for p in params if p is not None and "writer" in p.params}
    found = Outputs(tmp_path_factory.mktemp("foreign"), needed)
    yield found
    found.close()


# ---------------------------------------------------------------------------
# Reading them back
# ---------------------------------------------------------------------------

# quick writers first, so marc4j and MARC::File::XML have run by the time their tests come
CASES = [(w, f) for w in WRITERS for f in REAL_FILES]


def iso(records: Iterable[rapidmarc.Record | None]) -> list[bytes]:
    """Each record's as_marc(); None (a bad record) has none and fails the comparison."""
    return [r.as_marc() if r is not None else b"" for r in records]


def _json_values(text: str) -> list[Any]:
    """The JSON values of a document: an array's items, or a sequence of values (yaz, JSON Lines)."""
    if text.lstrip().startswith("["):
        return list(json.loads(text))
    decoder, space, out = json.JSONDecoder(), re.compile(r"\s*"), []
    at = space.match(text, 0).end()  # type: ignore[union-attr]
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        out.append(value)
        at = space.match(text, at).end()  # type: ignore[union-attr]
    return out


@pytest.mark.parametrize(("writer", "name"), CASES, ids=[f"{w}-{Path(f).stem}" for w, f in CASES])
def test_foreign_output_reads_back_to_the_original(outputs: Outputs, writer: str, name: str) -> None:
    w = WRITERS[writer]
    path = outputs.get(writer, name)
    data = path.read_bytes()
    want = expected(w, name)
    n = len(want)

    def same(records: list[Shape]) -> bool:
        return comparable(w, name, records) == want

    if w.fmt == "xml":
        # pymarc reads the file as we expect, and every reader of ours gives what it gives
        if w.pymarc_reads_it:
            assert same([shape(r) for r in pymarc.parse_xml_to_array(str(path))])
        ours = list(rapidmarc.XMLReader(str(path)))
        got = [shape(r) for r in ours]  # before as_marc(), which sets leader/09 (as pymarc's does)
        first = iso(ours)
        for workers in (1, 2):
            assert iso(rapidmarc.XMLReader(str(path), workers=workers)) == first
        with open(path, "rb") as fh:
            assert iso(rapidmarc.XMLReader(fh)) == first
        assert iso(rapidmarc.parse_xml_to_array(str(path))) == first
        assert iso(rapidmarc.parse_xml_to_array(io.BytesIO(data), strict=True)) == first
        mapped: list[bytes] = []
        rapidmarc.map_xml(lambda r: mapped.extend(iso([r])), str(path))
        assert mapped == first
    else:
        text = data.decode("utf-8")
        if w.pymarc_reads_it:  # pymarc reads one JSON document: each value on its own
            assert same([shape(r) for v in _json_values(text) for r in pymarc.JSONReader(json.dumps(v))])
        ours = list(rapidmarc.JSONReader(str(path), native=True))
        got = [shape(r) for r in ours]
        first = iso(ours)
        assert iso(rapidmarc.JSONReader(data, native=True)) == first
        if text.lstrip().startswith("["):  # one JSON document: pymarc's reader reads it too
            assert iso(rapidmarc.JSONReader(text)) == first
        else:  # concatenated values or JSON Lines: json.load, and so pymarc's reader, refuses them
            with pytest.raises(json.JSONDecodeError, match="Extra data"):
                rapidmarc.JSONReader(text)
            with pytest.raises(json.JSONDecodeError, match="Extra data"):
                pymarc.JSONReader(text)
    assert same(got)
    if original(name).marc8 and not w.normalises:  # and the NFC step in `comparable` is needed
        assert nfc(got) != got

    assert rapidmarc.count(str(path), from_format=w.fmt) == n
    summary = rapidmarc.scan(data, from_format=w.fmt)
    assert (summary.good, summary.bad, summary.complete) == (n, 0, True)
    # convert() writes each record as as_marc() writes what the reader gave: UTF-8, leader/09 'a',
    # record length and base address computed; for the UTF-8 files, the original bytes
    out = io.BytesIO()
    result = rapidmarc.convert(str(path), out, to="marc", from_format=w.fmt)
    assert (result.records, result.bad) == (n, 0)
    assert split_records(out.getvalue()) == first
    assert {r[9:10] for r in first} == {b"a"}
    if not original(name).marc8:
        assert first == expected_iso(w, name)


@pytest.mark.parametrize("name", REAL_FILES, ids=[Path(f).stem for f in REAL_FILES])
def test_yaz_sets_leader_09_in_marcxml_with_or_without_l(outputs: Outputs, name: str) -> None:
    path = outputs.get("yaz-marcxml", name)
    assert path.read_bytes() == path.with_name(path.name.replace("yaz-marcxml", "yaz-marcxml-l9a")).read_bytes()


@pytest.mark.parametrize("name", REAL_FILES, ids=[Path(f).stem for f in REAL_FILES])
def test_yaz_leader_option(outputs: Outputs, name: str) -> None:
    """yaz-marcdump -l 9=97 sets leader/09 in JSON; its MARCXML already had it."""
    path = outputs.get("yaz-json", name)
    plain, l9a = (
        path.read_text("utf-8"),
        path.with_name(path.name.replace("yaz-json", "yaz-json-l9a")).read_text("utf-8"),
    )
    patched = re.sub(r'("leader": "[^"]{9}).', r"\1a", plain)
    assert (patched != plain) == (name in MARC8_FILES)
    assert l9a == patched
    leaders = [str(r.leader) for r in rapidmarc.JSONReader(l9a.encode(), native=True)]
    assert len(leaders) == len(original(name).ours) and {x[9] for x in leaders} == {"a"}
    xml = outputs.get("yaz-marcxml", name)
    assert xml.read_bytes() == xml.with_name(xml.name.replace("yaz-marcxml", "yaz-marcxml-l9a")).read_bytes()


@pytest.mark.parametrize("name", REAL_FILES, ids=[Path(f).stem for f in REAL_FILES])
def test_pymarc_as_json_lines(outputs: Outputs, name: str) -> None:
    """One record.as_json() a line (JSON Lines): JSONWriter's records, which the test above checks,
    with json.dumps' default separators; the native reader reads them, pymarc's refuses them."""
    array = outputs.get("pymarc-jsonwriter", name)
    text = array.with_suffix(".jsonl").read_text("utf-8")
    assert text.splitlines() == [json.dumps(v) for v in json.loads(array.read_text("utf-8"))]
    data = text.encode()
    want = [r.as_marc() for r in rapidmarc.JSONReader(str(array), native=True)]
    assert [r.as_marc() for r in rapidmarc.JSONReader(data, native=True)] == want
    assert rapidmarc.count(data, from_format="json") == len(want)
    a, b = io.BytesIO(), io.BytesIO()
    rapidmarc.convert(data, a, to="marc", from_format="json")
    rapidmarc.convert(str(array), b, to="marc", from_format="json")
    assert a.getvalue() == b.getvalue()
    for reader in (rapidmarc.JSONReader, pymarc.JSONReader):
        with pytest.raises(json.JSONDecodeError, match="Extra data"):
            reader(text)
