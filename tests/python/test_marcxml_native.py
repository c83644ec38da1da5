"""The native MARCXML reader (XMLReader, from_format="xml", parse_xml_to_array's native path)
against pymarc's parse_xml_to_array on the real files' MARCXML and on hand-made XML."""

from __future__ import annotations

import io
import pickle
import shutil
import subprocess
import xml.sax
from pathlib import Path

import pymarc
import pytest
import rapidmarc
from rapidmarc.exceptions import XMLParseError

pytestmark = [
    pytest.mark.rapidmarc_only,
    pytest.mark.skipif(not rapidmarc._core.marcxml_supported(), reason="built without expat"),
]

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


def ours_xml(path: Path) -> bytes:
    out = io.BytesIO()
    rapidmarc.convert(str(path), out, to="xml")
    return out.getvalue()


def yaz_xml(path: Path) -> bytes:
    charset = ["-f", "marc8", "-t", "utf8"] if path.name in MARC8 else []
    return subprocess.run(
        ["yaz-marcdump", *charset, "-i", "marc", "-o", "marcxml", str(path)], capture_output=True, check=True
    ).stdout


def sources() -> list[tuple[str, Path]]:
    kinds = ["rapidmarc"] + (["yaz"] if shutil.which("yaz-marcdump") else [])
    return [(k, p) for k in kinds for p in FILES]


@pytest.mark.parametrize(("maker", "path"), sources(), ids=lambda v: getattr(v, "name", v))
def test_real_files_read_as_pymarc_reads_them(maker: str, path: Path, tmp_path: Path) -> None:
    xml = ours_xml(path) if maker == "rapidmarc" else yaz_xml(path)
    want = [shape(r) for r in pymarc.parse_xml_to_array(io.BytesIO(xml))]
    assert want
    assert [shape(r) for r in rapidmarc.XMLReader(xml)] == want
    file = tmp_path / "in.xml"
    file.write_bytes(xml)
    assert [shape(r) for r in rapidmarc.XMLReader(str(file), workers=1)] == want
    with open(file, "rb") as fh:
        assert [shape(r) for r in rapidmarc.XMLReader(fh)] == want
    assert [shape(r) for r in rapidmarc.parse_xml_to_array(str(file))] == want
    assert [shape(r) for r in rapidmarc.parse_xml_to_array(io.BytesIO(xml), strict=True)] == [
        shape(r) for r in pymarc.parse_xml_to_array(io.BytesIO(xml), strict=True)
    ]
    assert rapidmarc.count(str(file), from_format="xml") == len(want)
    assert rapidmarc.scan(xml, from_format="xml").complete
    assert rapidmarc.extract(xml, ["001"], from_format="xml")["001"] == [
        [f[1] for f in fields if f[0] == "001"] for _, fields in want
    ]


def test_convert_from_xml_to_marc_reads_back_the_same_records(tmp_path: Path) -> None:
    for path in FILES:
        xml = ours_xml(path)
        out = tmp_path / "out.mrc"
        result = rapidmarc.convert(xml, str(out), to="marc", from_format="xml")
        want = pymarc.parse_xml_to_array(io.BytesIO(xml))
        assert result.records == len(want) and result.bad == 0
        back = list(rapidmarc.MARCReader(str(out)))
        # the bytes are UTF-8 with leader/09 'a'; everything else is the XML's
        for a, b in zip(back, want, strict=True):
            la, lb = shape(a), shape(b)
            assert la[1] == lb[1]
            assert la[0][5:9] + la[0][10:12] + la[0][17:] == lb[0][5:9] + lb[0][10:12] + lb[0][17:]
            assert la[0][9] == "a"


R1 = (
    "<leader>00000nam a2200000 a 4500</leader><controlfield tag='001'>id1</controlfield>"
    "<datafield tag='245' ind1='1' ind2='0'><subfield code='a'>T&amp;tle &#x263A;</subfield></datafield>"
)

TRICKY = {
    "bare": f"<record>{R1}</record>",
    "prefix": (
        "\ufeff<?xml version='1.0'?><!-- x --><m:collection xmlns:m='http://www.loc.gov/MARC21/slim'><?pi?>"
        "<m:record><m:leader>00000nam a2200000 a 4500</m:leader><m:controlfield tag='001'><![CDATA[id1]]>"
        "</m:controlfield><m:datafield ind2='0' tag='245' ind1='1'><m:subfield code='a'>T&amp;tle &#9786;"
        "</m:subfield></m:datafield></m:record></m:collection>"
    ),
    "default-ns": f"<collection xmlns='http://www.loc.gov/MARC21/slim'>\n <record>\n  {R1}\n </record>\n</collection>",
    "no-leader": "<record><controlfield tag='001'>x</controlfield></record>",
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_xml(name: str) -> None:
    data = TRICKY[name].encode("utf-8")
    want = [shape(r) for r in pymarc.parse_xml_to_array(io.BytesIO(data))]
    assert [shape(r) for r in rapidmarc.XMLReader(data)] == want
    assert [shape(r) for r in rapidmarc.parse_xml_to_array(io.BytesIO(data))] == want


def test_oai_pmh_envelope() -> None:
    data = (
        "<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><ListRecords><record><header><identifier>x"
        "</identifier></header><metadata><marc:record xmlns:marc='http://www.loc.gov/MARC21/slim'>"
        + R1.replace("<", "<marc:").replace("<marc:/", "</marc:")
        + "</marc:record></metadata></record></ListRecords></OAI-PMH>"
    ).encode()
    want = [shape(r) for r in pymarc.parse_xml_to_array(io.BytesIO(data))]
    assert len(want) == 1
    assert [shape(r) for r in rapidmarc.XMLReader(data)] == want
    # pymarc (strict=False) reads OAI's own <record> too; the fallback gives exactly its result
    assert [shape(r) for r in rapidmarc.parse_xml_to_array(io.BytesIO(data))] == want


def test_records_pymarc_builds_and_iso_2709_cannot_hold_fall_back_to_sax() -> None:
    data = (
        f"<collection><record>{R1}</record><record><leader>short</leader></record><record>{R1}</record></collection>"
    ).encode()
    with pytest.raises(pymarc.exceptions.RecordLeaderInvalid):
        pymarc.parse_xml_to_array(io.BytesIO(data))
    with pytest.raises(rapidmarc.RecordLeaderInvalid):
        rapidmarc.parse_xml_to_array(io.BytesIO(data))
    empty = f"<collection><record>{R1}</record><record></record></collection>".encode()
    want = [shape(r) for r in pymarc.parse_xml_to_array(io.BytesIO(empty))]
    assert [shape(r) for r in rapidmarc.parse_xml_to_array(io.BytesIO(empty))] == want
    reader = rapidmarc.XMLReader(empty)
    assert next(reader) is not None
    assert next(reader) is None
    assert isinstance(reader.current_exception, rapidmarc.NoFieldsFound)
    seen: list[str] = []
    rapidmarc.map_xml(lambda r: seen.append(str(r.leader)), io.BytesIO(empty))
    assert seen == [str(r[0]) for r in want]


@pytest.mark.parametrize(
    "doc",
    [
        f"<collection><record>{R1}</record>\n<record><leader>x</leadr></record></collection>",
        f"<collection><record>{R1}</record><record>{R1}",
        f"<collection><record>{R1}</record><record>&bogus;</record></collection>",
        "",
    ],
)
def test_malformed_xml_raises_where_sax_does(doc: str) -> None:
    data = doc.encode()
    with pytest.raises(xml.sax.SAXParseException) as theirs:
        pymarc.parse_xml_to_array(io.BytesIO(data))
    got: list[object] = []
    with pytest.raises(XMLParseError) as ours:
        for record in rapidmarc.XMLReader(data):
            got.append(record)
    assert ours.value.getMessage() == theirs.value.getMessage()
    assert ours.value.getLineNumber() == theirs.value.getLineNumber()
    assert ours.value.getColumnNumber() == theirs.value.getColumnNumber()
    assert len(got) == ours.value.record_index  # every record before the error was delivered
    with pytest.raises(xml.sax.SAXParseException) as again:
        rapidmarc.parse_xml_to_array(io.BytesIO(data))
    assert str(again.value) == str(theirs.value)
    with pytest.raises(XMLParseError):
        rapidmarc.count(data, from_format="xml")
    assert pickle.loads(pickle.dumps(ours.value)).record_index == ours.value.record_index


def test_bulk_from_xml() -> None:
    data = f"<collection><record>{R1}</record><record>{R1}</record></collection>".encode()
    assert rapidmarc.count(data, from_format="xml") == 2
    assert rapidmarc.extract(data, ["001", "245$a"], from_format="xml") == {
        "001": [["id1"], ["id1"]],
        "245$a": [["T&tle \u263a"], ["T&tle \u263a"]],
    }
    summary = rapidmarc.scan(data, from_format="xml")
    assert (summary.good, summary.bad, summary.complete) == (2, 0, True)
    out = io.BytesIO()
    assert rapidmarc.convert(data, out, to="json", from_format="xml").records == 2
    with pytest.raises(ValueError, match="from_format"):
        rapidmarc.count(data, from_format="html")
    pa = pytest.importorskip("pyarrow")
    table = pa.table(rapidmarc.extract_arrow(data, ["001"], from_format="xml"))
    assert table.num_rows == 2


def test_xml_handler_subclasses_keep_the_sax_path() -> None:
    data = f"<collection><record>{R1}</record></collection>".encode()
    seen: list[str] = []

    class Handler(rapidmarc.XmlHandler):
        def process_record(self, record: rapidmarc.Record) -> None:
            seen.append(record["001"].data)

    rapidmarc.parse_xml(io.BytesIO(data), Handler())
    assert seen == ["id1"]


ENGINE_DOCS = {
    **{f"tricky-{k}": v.encode() for k, v in TRICKY.items()},
    "doctype": f"<?xml version='1.0'?><!DOCTYPE collection><collection><record>{R1}</record></collection>".encode(),
    "latin-1": (
        "<?xml version='1.0' encoding='ISO-8859-1'?><record><controlfield tag='001'>caf\xe9</controlfield></record>"
    ).encode("latin-1"),
    "crlf": (
        f"<collection>\r\n<record>\r\n{R1}<controlfield tag='005'>a\r\nb</controlfield></record></collection>"
    ).encode(),
    "mismatched": f"<collection><record>{R1}</record>\n<record>{R1}</recrd></collection>".encode(),
    "truncated": f"<collection><record>{R1}</record><record>{R1}".encode(),
    "bad-utf8": f"<collection><record>{R1}</record><record>\xff</record></collection>".encode("latin-1"),
    "nested": f"<collection><record>{R1}<record/></record></collection>".encode(),
}


def _read_all(source: object) -> tuple[list[object], tuple[object, ...] | None]:
    got: list[object] = []
    try:
        for record in rapidmarc.XMLReader(source):  # type: ignore[arg-type]
            got.append(None if record is None else shape(record))
    except XMLParseError as e:
        return got, (e.getMessage(), e.getLineNumber(), e.getColumnNumber(), e.record_index)
    return got, None


@pytest.mark.parametrize("name", sorted(ENGINE_DOCS))
def test_fast_engine_reads_as_expat(name: str, tmp_path: Path) -> None:
    # A path or bytes is read by the hand-written scanner (expat from the start where it stops); a
    # file object, a stream, by expat alone: the records and errors are the same.
    data = ENGINE_DOCS[name]
    path = tmp_path / "doc.xml"
    path.write_bytes(data)
    want = _read_all(io.BytesIO(data))
    assert _read_all(data) == want
    assert _read_all(str(path)) == want
