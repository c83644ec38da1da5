"""One MARCXML document on several threads (workers > 1: the C++ MarcXmlParallelReader) reads
exactly as on one: the same records, bad records, offsets, leaders and errors, through XMLReader,
MARCReader's XML kind, count, scan, extract, extract_arrow and convert, on the real and edge files
as MARCXML written by rapidmarc, pymarc's XMLWriter and yaz-marcdump. The documents are several
MiB, so that the 1 MiB ranges cut them in many places (tests/cpp/test_marcxml_parallel.cpp cuts
small documents with tiny ranges)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pymarc
import pytest
import rapidmarc
from rapidmarc.exceptions import XMLParseError

pytestmark = [
    pytest.mark.rapidmarc_only,
    pytest.mark.skipif(not rapidmarc._core.marcxml_supported(), reason="built without expat"),
]

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FILES = sorted((DATA / "real").glob("*.mrc")) + sorted((DATA / "edge").glob("*.mrc"))
MARC8 = {"uva_2000.mrc", "jazz_1k.mrc", "lul_fre_500.mrc", "hebrew_20.mrc", "solrmarc_spec_76.mrc"}
SLIM = b"http://www.loc.gov/MARC21/slim"
TARGET = 4 << 20  # bytes of MARCXML per document: four 1 MiB ranges at least


def body(xml: bytes) -> bytes:
    """The record elements of a collection."""
    if b"<record" not in xml:
        return b""
    return xml[xml.index(b"<record") : xml.rindex(b"</collection>")]


def ours(path: Path) -> bytes:
    out = io.BytesIO()
    rapidmarc.convert(str(path), out, to="xml", utf8_leader=True)
    return body(out.getvalue())


def with_pymarc(path: Path) -> bytes:
    out = io.BytesIO()
    writer = pymarc.XMLWriter(out)
    with open(path, "rb") as fh:
        for record in pymarc.MARCReader(fh, to_unicode=True, force_utf8=path.name not in MARC8):
            if record is not None:
                writer.write(record)
    writer.close(close_fh=False)
    return body(out.getvalue())


def with_yaz(path: Path) -> bytes:
    charset = ["-f", "marc8", "-t", "utf8"] if path.name in MARC8 else []
    done = subprocess.run(["yaz-marcdump", *charset, "-i", "marc", "-o", "marcxml", str(path)], capture_output=True)
    return body(done.stdout)


def well_formed(part: bytes) -> bool:
    """False for a writer's output that is not XML (pymarc writes control characters as they are)."""
    try:
        rapidmarc.count(b"<collection>" + part + b"</collection>", from_format="xml", workers=1)
    except XMLParseError:
        return False
    return True


def document(parts: list[bytes]) -> bytes:
    records = b"\n".join(p for p in parts if p and well_formed(p))
    assert records
    copies = max(1, -(-TARGET // len(records)))
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="'
        + SLIM
        + b'">\n'
        + b"\n".join([records] * copies)
        + b"\n</collection>\n"
    )


MAKERS = {"rapidmarc": ours, "pymarc": with_pymarc}
if shutil.which("yaz-marcdump"):
    MAKERS["yaz"] = with_yaz


@pytest.fixture(scope="module", params=sorted(MAKERS))
def doc(request) -> bytes:
    return document([MAKERS[request.param](p) for p in FILES])


def plain(summary: object) -> tuple:
    """A ReadSummary or ConvertResult with its exceptions as comparable values."""

    def value(v: object) -> object:
        if isinstance(v, BaseException):
            return (type(v).__name__, str(v), getattr(v, "record_index", None), getattr(v, "byte_offset", None))
        return v

    return tuple(value(v) for v in summary)  # type: ignore[attr-defined]


def read_all(source: object, workers: int) -> tuple[list[tuple], tuple | None]:
    """Everything XMLReader hands out: each item (its fields, or its exception), then the error."""
    items = []
    error = None
    reader = rapidmarc.XMLReader(source, workers=workers)
    try:
        for record in reader:
            exc = reader.current_exception
            items.append(
                (
                    None if record is None else (str(record.leader), [str(f) for f in record.fields]),
                    None if exc is None else (type(exc).__name__, str(exc)),
                    reader.current_offset,
                    reader.current_chunk,
                )
            )
    except XMLParseError as e:
        error = (e.getMessage(), e.getLineNumber(), e.getColumnNumber(), e.record_index)
    finally:
        reader.close()
    return items, error


def test_reader_on_two_threads_reads_as_on_one(doc: bytes, tmp_path: Path) -> None:
    path = tmp_path / "doc.xml"
    path.write_bytes(doc)
    want = read_all(str(path), 1)
    assert len(want[0]) > 5000 and want[1] is None
    assert read_all(str(path), 2) == want
    assert read_all(doc, 2) == want
    assert read_all(doc, 3) == want


def test_bulk_functions_on_two_threads(doc: bytes, tmp_path: Path) -> None:
    path = tmp_path / "doc.xml"
    path.write_bytes(doc)
    for workers in (2, None):
        assert plain(rapidmarc.scan(str(path), from_format="xml", workers=workers)) == plain(
            rapidmarc.scan(str(path), from_format="xml", workers=1)
        )
        assert rapidmarc.extract(doc, ["001", "245$a"], from_format="xml", workers=workers) == rapidmarc.extract(
            doc, ["001", "245$a"], from_format="xml", workers=1
        )
    one, two = tmp_path / "one.mrc", tmp_path / "two.mrc"
    assert plain(rapidmarc.convert(str(path), str(one), to="marc", from_format="xml", workers=1)) == plain(
        rapidmarc.convert(str(path), str(two), to="marc", from_format="xml", workers=2)
    )
    assert one.read_bytes() == two.read_bytes()
    pa = pytest.importorskip("pyarrow")
    cols = [pa.table(rapidmarc.extract_arrow(str(path), ["001"], from_format="xml", workers=w)) for w in (1, 2)]
    assert cols[0].equals(cols[1])


def nth(doc: bytes, old: bytes, new: bytes, n: int) -> bytes:
    """`doc` with the n-th occurrence of `old` replaced by `new`."""
    at = -1
    for _ in range(n):
        at = doc.index(old, at + 1)
    return doc[:at] + new + doc[at + len(old) :]


def test_broken_documents_fail_where_the_sequential_reader_fails(tmp_path: Path) -> None:
    doc = document([ours(p) for p in FILES[:4]])
    half = doc.count(b"</record>") // 2
    bad_record = b"<record><leader>short</leader><controlfield tag='001'>x</controlfield></record>"
    one = doc[doc.index(b"<record") : doc.index(b"</record>") + len(b"</record>")].replace(b"--", b"- ")
    cases = {
        "truncated": doc[: len(doc) * 2 // 3],
        "malformed": doc[: len(doc) // 2] + b"<" + doc[len(doc) // 2 :],
        "nested": nth(doc, b"</record>", b"<record/></record>", half),
        "stubs and comments": doc.replace(b"</record>", b"</record>" + bad_record + b"<!-- <record> -->", half),
        # a commented-out record is a record to a worker that starts in it: the chain must notice
        "commented-out records": doc.replace(b"</record>", b"</record><!--" + one + b"-->\n", half),
        "outside the scanner": nth(doc, b"</record>", b"</record><r\xc3\xa9/>", half),
    }
    for name, broken in cases.items():
        path = tmp_path / "broken.xml"
        path.write_bytes(broken)
        want = read_all(str(path), 1)
        assert len(want[0]) > 1000, name
        assert (want[1] is None) == (name in ("stubs and comments", "commented-out records", "outside the scanner")), (
            name
        )
        assert read_all(str(path), 2) == want, name
        assert read_all(broken, 2) == want, name
        if want[1] is None:
            assert plain(rapidmarc.scan(broken, from_format="xml", workers=2)) == plain(
                rapidmarc.scan(broken, from_format="xml", workers=1)
            )
            continue
        errors = []
        for workers in (1, 2):
            with pytest.raises(XMLParseError) as e:
                rapidmarc.count(str(path), from_format="xml", workers=workers)
            errors.append((e.value.reason, e.value.line, e.value.column, e.value.record_index))
        assert errors[0] == errors[1], name


def test_record_text_in_comments_at_many_cuts() -> None:
    """Commented-out records after every record: a range cut inside a real record has a worker
    start in the comment, where the record looks real; the chain must catch every such start.
    A comment of growing length after the root's start tag moves every cut."""
    doc = document([ours(p) for p in FILES[:4]])
    one = doc[doc.index(b"<record") : doc.index(b"</record>") + len(b"</record>")].replace(b"--", b"- ")
    decoyed = doc.replace(b"</record>", b"</record><!--" + one + b"-->")
    root_end = decoyed.index(b">", decoyed.index(b"<collection")) + 1
    for shift in range(0, 1 << 20, 97_001):
        shifted = decoyed[:root_end] + b"<!--" + b" " * shift + b"-->" + decoyed[root_end:]
        want = plain(rapidmarc.scan(shifted, from_format="xml", workers=1))
        assert plain(rapidmarc.scan(shifted, from_format="xml", workers=2)) == want, shift
        assert rapidmarc.extract(shifted, ["001"], from_format="xml", workers=2) == rapidmarc.extract(
            shifted, ["001"], from_format="xml", workers=1
        ), shift
