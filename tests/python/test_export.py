"""MARC-in-JSON, MARCXML and MARCMaker text: writing and reading, against pymarc.

Writing: an untouched record is written natively (export.hpp); every other record through the
Python path. Both must give pymarc's bytes exactly. Reading: rapidmarc's readers must build the
same records as pymarc's from the same documents.
"""

from __future__ import annotations

import io
import json
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from marc_testlib import build_record, df, first_mismatch, record_shape, tables_unicode_version, tables_unicodedata

# docs/marc8.md: ANSEL's ligature and double-tilde halves (the one documented MARC-8 difference).
LC_HALVES = str.maketrans({"\ufe20": "\u0361", "\ufe21": None, "\ufe22": "\u0360", "\ufe23": None})


def _lc(obj):
    """pymarc's decoded JSON with the ligature halves mapped as rapidmarc maps them."""
    if isinstance(obj, str):
        return obj.translate(LC_HALVES)
    if isinstance(obj, list):
        return [_lc(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _lc(v) for k, v in obj.items()}
    return obj


def _written(module, records, kind):
    """What ``module``'s writer for ``kind`` (json, xml or text) writes for ``records``, as bytes."""
    binary = kind == "xml"
    out = io.BytesIO() if binary else io.StringIO()
    writer = {"json": module.JSONWriter, "xml": module.XMLWriter, "text": module.TextWriter}[kind](out)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    value = out.getvalue()
    return value if binary else value.encode()


def _pairs(impl, pymarc_ref, path):
    with open(path, "rb") as fh:
        ours = [r for r in impl.MARCReader(fh) if r is not None]
    with open(path, "rb") as fh:
        theirs = [r for r in pymarc_ref.MARCReader(fh) if r is not None]
    assert len(ours) == len(theirs)
    return ours, theirs


def test_json_and_xml_equal_pymarc_on_utf8_records(impl, pymarc_ref, utf8_path):
    ours, theirs = _pairs(impl, pymarc_ref, utf8_path)
    for kind, mine, ref in (
        ("as_json", [r.as_json() for r in ours], [r.as_json() for r in theirs]),
        ("record_to_xml", [impl.record_to_xml(r) for r in ours], [pymarc_ref.record_to_xml(r) for r in theirs]),
        (
            "namespace",
            [impl.record_to_xml(r, namespace=True) for r in ours[:20]],
            [pymarc_ref.record_to_xml(r, namespace=True) for r in theirs[:20]],
        ),
    ):
        assert first_mismatch(mine, ref) is None, kind


def test_writers_equal_pymarc_on_utf8_files(impl, pymarc_ref, utf8_path):
    ours, theirs = _pairs(impl, pymarc_ref, utf8_path)
    for kind in ("json", "xml"):
        assert _written(impl, ours, kind) == _written(pymarc_ref, theirs, kind), kind


def test_marc8_records_convert_as_pymarc_apart_from_the_documented_halves(impl, pymarc_ref, marc8_path, is_pymarc):
    ours, theirs = _pairs(impl, pymarc_ref, marc8_path)
    for mine, ref in zip(ours, theirs, strict=True):
        text = mine.as_json()
        expected = json.loads(ref.as_json())
        assert json.loads(text) == (expected if is_pymarc else _lc(expected))
        assert text == json.dumps(json.loads(text))  # formatted exactly as json.dumps formats


@pytest.mark.rapidmarc_only
def test_native_marcxml_of_marc8_records_equals_elementtree(impl, marc8_path):
    # The decoded values are checked against pymarc in test_marc8.py; here the native writer must
    # serialise them exactly as ElementTree does.
    ours = [r for r in impl.MARCReader(str(marc8_path)) if r is not None]
    for mine in ours[:300]:
        native = mine._export_xml(False, False), mine._export_xml(True, False)
        node = impl.record_to_xml_node(mine)  # creates the fields: native writing is over for it
        assert native == (ET.tostring(node), ET.tostring(node, encoding="utf-8"))


@pytest.mark.rapidmarc_only
def test_untouched_records_are_written_natively_and_edited_ones_in_python(impl, loc_bytes):
    record = next(iter(impl.MARCReader(loc_bytes)))
    assert record._export_json(False) is not None  # untouched: native
    native = record.as_json()
    record["245"]["a"] = "Changed & <new>"
    assert record._export_json(False) is None  # fields created: the Python path writes it
    changed = json.loads(record.as_json())
    title = next(f["245"] for f in changed["fields"] if "245" in f)
    assert title["subfields"][0] == {"a": "Changed & <new>"}
    assert json.loads(native) != changed
    assert b"Changed &amp; &lt;new&gt;" in impl.record_to_xml(record)


def test_a_changed_leader_is_written(impl, pymarc_ref, loc_bytes):
    ours = next(iter(impl.MARCReader(loc_bytes)))
    theirs = next(iter(pymarc_ref.MARCReader(io.BytesIO(loc_bytes))))
    for record in (ours, theirs):
        record.leader = record.leader[:5] + "x" + record.leader[6:]
    assert ours.as_json() == theirs.as_json()
    assert impl.record_to_xml(ours) == pymarc_ref.record_to_xml(theirs)
    assert json.loads(ours.as_json())["leader"][5] == "x"


def test_keyword_arguments_go_to_json_dumps(impl, pymarc_ref, loc_bytes):
    ours = next(iter(impl.MARCReader(loc_bytes)))
    theirs = next(iter(pymarc_ref.MARCReader(io.BytesIO(loc_bytes))))
    for kwargs in ({"indent": 2}, {"ensure_ascii": False}, {"separators": (",", ":")}):
        assert ours.as_json(**kwargs) == theirs.as_json(**kwargs)


def test_special_characters_escape_as_pymarc(impl, pymarc_ref):
    data = build_record(
        [
            ("001", 'id\t"1"\\'),
            ("245", df("1<", ("a", 'A & B <c> "d"\r\n'), ("b", ""), ("&", "x\x7f\u20ac\U0001f600"))),
            ("500", df("  ")),
        ]
    )
    ours = next(iter(impl.MARCReader(data)))
    theirs = next(iter(pymarc_ref.MARCReader(io.BytesIO(data))))
    assert ours.as_json() == theirs.as_json()
    assert impl.record_to_xml(ours) == pymarc_ref.record_to_xml(theirs)
    assert _written(impl, [ours], "xml") == _written(pymarc_ref, [theirs], "xml")


def test_bytes_records_cannot_become_json_as_in_pymarc(impl, pymarc_ref, loc_bytes):
    ours = next(iter(impl.MARCReader(loc_bytes, to_unicode=False)))
    theirs = next(iter(pymarc_ref.MARCReader(io.BytesIO(loc_bytes), to_unicode=False)))
    for record in (ours, theirs):
        with pytest.raises(TypeError):
            record.as_json()


def test_writers_refuse_what_is_not_a_record(impl):
    for writer in (impl.JSONWriter(io.StringIO()), impl.XMLWriter(io.BytesIO())):
        with pytest.raises(impl.WriteNeedsRecord):
            writer.write("not a record")


def test_xml_round_trip_reads_what_pymarc_reads(impl, pymarc_ref, utf8_path):
    with open(utf8_path, "rb") as fh:
        source = [r for r in pymarc_ref.MARCReader(fh) if r is not None]
    document = _written(pymarc_ref, source, "xml")
    ours = impl.parse_xml_to_array(io.BytesIO(document))
    theirs = pymarc_ref.parse_xml_to_array(io.BytesIO(document))
    assert [record_shape(r) for r in ours] == [record_shape(r) for r in theirs]
    assert [record_shape(r) for r in ours] == [record_shape(r) for r in source]
    seen = []
    impl.map_xml(seen.append, io.BytesIO(document))
    assert len(seen) == len(source)


def test_xml_reader_options(impl, pymarc_ref):
    document = (
        '<collection xmlns="http://www.loc.gov/MARC21/slim" xmlns:o="urn:other">'
        "<record><leader>00000nam a2200000 a 4500</leader>"
        '<controlfield tag="001">x1</controlfield>'
        '<datafield tag="245" ind1="1"><subfield code="a">Cafe\u0301</subfield>'
        '<o:subfield code="b">other</o:subfield></datafield></record></collection>'
    ).encode()
    for strict in (False, True):
        for form in (None, "NFC", "NFD"):
            ours = impl.parse_xml_to_array(io.BytesIO(document), strict=strict, normalize_form=form)
            theirs = pymarc_ref.parse_xml_to_array(io.BytesIO(document), strict=strict, normalize_form=form)
            assert [record_shape(r) for r in ours] == [record_shape(r) for r in theirs], (strict, form)


def test_json_round_trip_reads_what_pymarc_reads(impl, pymarc_ref, utf8_path):
    ours_written, _ = _pairs(impl, pymarc_ref, utf8_path)
    document = _written(impl, ours_written, "json").decode()
    ours = list(impl.JSONReader(document))
    theirs = list(pymarc_ref.JSONReader(document))
    assert [record_shape(r) for r in ours] == [record_shape(r) for r in theirs]
    assert [record_shape(r) for r in ours] == [record_shape(r) for r in ours_written]
    arrays = impl.parse_json_to_array(io.StringIO(document)), pymarc_ref.parse_json_to_array(io.StringIO(document))
    assert [record_shape(r) for r in arrays[0]] == [record_shape(r) for r in arrays[1]]
    single = json.dumps(json.loads(document)[0])  # one record object, not an array
    assert [record_shape(r) for r in impl.JSONReader(single)] == [record_shape(ours[0])]


def test_json_reader_takes_a_path(impl, tmp_path, loc_bytes):
    record = next(iter(impl.MARCReader(loc_bytes)))
    path = tmp_path / "one.json"
    path.write_text("[" + record.as_json() + "]", encoding="utf-8")
    assert [record_shape(r) for r in impl.JSONReader(str(path))] == [record_shape(record)]


def test_marcmaker_text_reads_as_pymarc_reads_it(impl, pymarc_ref, utf8_path):
    with open(utf8_path, "rb") as fh:
        source = [r for r in pymarc_ref.MARCReader(fh) if r is not None][:100]
    document = _written(pymarc_ref, source, "text").decode()
    ours = list(impl.MARCMakerReader(document))
    theirs = list(pymarc_ref.MARCMakerReader(document))
    assert [record_shape(r) for r in ours] == [record_shape(r) for r in theirs]


def test_marcmaker_bad_line_raises_as_pymarc(impl, pymarc_ref):
    for module in (impl, pymarc_ref):
        with pytest.raises(module.PymarcException, match='Unable to parse line "=24510"'):
            list(module.MARCMakerReader("=LDR  00000nam a2200000 a 4500\n=24510"))


# ---------------------------------------------------------------------------
# rapidmarc.convert: whole files natively
# ---------------------------------------------------------------------------


@pytest.mark.rapidmarc_only
@pytest.mark.parametrize("kind", ["json", "xml"])
def test_convert_writes_what_pymarcs_writers_write(impl, pymarc_ref, utf8_path, tmp_path, kind):
    with open(utf8_path, "rb") as fh:
        expected = _written(pymarc_ref, [r for r in pymarc_ref.MARCReader(fh) if r is not None], kind)
    for workers in (0, 1, 2):
        target = tmp_path / f"out{workers}.{kind}"
        result = impl.convert(str(utf8_path), target, to=kind, workers=workers)
        assert target.read_bytes() == expected
        assert result.records > 0 and result.bad == 0 and result.unconvertible == 0


@pytest.mark.rapidmarc_only
@pytest.mark.parametrize("kind", ["json", "xml"])
def test_convert_marc8_files_as_the_reader_decodes_them(impl, marc8_path, kind):
    expected = _written(impl, [r for r in impl.MARCReader(str(marc8_path)) if r is not None], kind)
    out = io.BytesIO()
    impl.convert(marc8_path.read_bytes(), out, to=kind)
    assert out.getvalue() == expected


@pytest.mark.rapidmarc_only
def test_convert_skips_and_counts_bad_records(impl, edge_path, tmp_path):
    items = list(impl.MARCReader(str(edge_path)))
    good = [r for r in items if r is not None]
    target = tmp_path / "clean.mrc"
    result = impl.convert(str(edge_path), target, to="marc")
    assert result[:3] == (len(good), len(items) - len(good), 0)
    assert result.bytes_read == result.size == edge_path.stat().st_size  # read to the end
    assert target.read_bytes() == b"".join(r._raw_bytes() for r in good)
    text = io.BytesIO()
    assert impl.convert(str(edge_path), text, to="json").records == len(good)
    assert len(json.loads(text.getvalue())) == len(good)
    if len(good) < len(items):
        with pytest.raises((impl.PymarcException, UnicodeDecodeError)):  # what MARCReader(strict=True) raises
            impl.convert(str(edge_path), io.BytesIO(), to="json", strict=True)


@pytest.mark.rapidmarc_only
def test_convert_refuses_bad_arguments(impl, loc_bytes, tmp_path):
    with pytest.raises(ValueError, match="json"):
        impl.convert(loc_bytes, io.BytesIO(), to="csv")
    with pytest.raises(TypeError):
        impl.convert(loc_bytes, 42, to="json")
    with pytest.raises(OSError):
        impl.convert(loc_bytes, tmp_path / "missing-dir" / "x.json", to="json")


# ---------------------------------------------------------------------------
# Subfield codes that are not ASCII, in the native paths (pymarc's normalize_subfield_code)
# ---------------------------------------------------------------------------

BAD_CODES = [
    build_record([("001", "u1"), ("245", df("10", ("a", "T")) + b"\x1f\xc3\xa9abc")]),  # é (UTF-8)
    build_record([("001", "u2"), ("245", df("10", ("a", "T")) + b"\x1f\xe2\x82\xacxyz")]),  # € then the value
    build_record([("001", "u3"), ("245", df("10", ("a", "T")) + b"\x1f\xe2\x82\xac\xe2\x82\xac")]),  # no ASCII
]


@pytest.mark.rapidmarc_only
def test_native_paths_normalise_codes_as_the_reader_does(impl, pymarc_ref):
    import warnings

    data = b"".join(BAD_CODES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader_items = list(impl.MARCReader(data))
        pymarc_items = list(pymarc_ref.MARCReader(io.BytesIO(data)))
    assert [r is None for r in reader_items] == [r is None for r in pymarc_items] == [False, False, True]
    good = [r for r in pymarc_items if r is not None]
    expected_json = _written(pymarc_ref, good, "json")
    out = io.BytesIO()
    assert impl.convert(data, out, to="json")[:3] == (2, 1, 0)
    assert out.getvalue() == expected_json
    xml = io.BytesIO()
    impl.convert(data, xml, to="xml")
    assert xml.getvalue() == _written(pymarc_ref, good, "xml")
    assert impl.count(data) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert impl.extract(data, ["245$e", "245$x"]) == {"245$e": [["abc"], []], "245$x": [[], ["xyz"]]}


def test_normalize_subfield_code_equals_pymarc_on_every_bmp_character(impl, pymarc_ref, is_pymarc, monkeypatch):
    """pymarc's rule (NFKD, then the first ASCII character) run with Unicode data of the tables' version.

    pymarc takes NFKD from the running Python's unicodedata (Unicode 13.0 on 3.10, 14.0 on 3.11, 15.0 on
    3.12, 15.1 on 3.13), rapidmarc from its tables (one pinned version): the next test covers that gap.
    """
    if is_pymarc:
        pytest.skip("compares rapidmarc's native rule with pymarc's")
    from rapidmarc import _core

    pinned = tables_unicodedata()
    if pinned is None:
        version = tables_unicode_version()
        pytest.skip(
            f"needs Unicode {version} data: this Python's unicodedata has {unicodedata.unidata_version} "
            f"and unicodedata2=={version} is not installed"
        )
    monkeypatch.setattr(pymarc_ref.record, "unicodedata", pinned)
    ours, theirs = _core.normalize_subfield_code, pymarc_ref.record.normalize_subfield_code
    for cp in range(0x80, 0x10000, 7):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for piece in (chr(cp).encode() + b"q", chr(cp).encode(), bytes([cp & 0xFF]) + b"z\xff"):
            try:
                expected = theirs(piece)
            except IndexError:
                with pytest.raises(IndexError):
                    ours(piece)
                continue
            assert ours(piece) == expected, (hex(cp), piece)


def test_normalize_subfield_code_differs_from_this_pythons_pymarc_only_on_characters_it_does_not_know(
    impl, pymarc_ref, is_pymarc
):
    """Against pymarc as it runs here (unpatched): equal on every character this Python's unicodedata
    has assigned (Unicode's stability policy keeps their decompositions); where it differs, the leading
    character is newer than this Python's Unicode version (e.g. U+A7F4 MODIFIER LETTER CAPITAL Q, new in
    Unicode 14.0: Python 3.10's pymarc skips it and answers "q", rapidmarc answers "Q")."""
    if is_pymarc:
        pytest.skip("compares rapidmarc's native rule with pymarc's")
    from rapidmarc import _core

    ours, theirs = _core.normalize_subfield_code, pymarc_ref.record.normalize_subfield_code
    differing = []
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        piece = chr(cp).encode() + b"q"
        if ours(piece) != theirs(piece):
            differing.append(cp)
    unknown_here = [cp for cp in differing if unicodedata.category(chr(cp)) == "Cn"]
    assert differing == unknown_here, [hex(cp) for cp in differing if cp not in unknown_here]
    if unicodedata.unidata_version == tables_unicode_version():
        assert differing == []


def test_json_reader_raises_on_an_empty_field_object_as_pymarc(impl, pymarc_ref):
    doc = json.dumps([{"leader": "x" * 24, "fields": [{}]}, {"leader": "y" * 24, "fields": [{"001": "a"}]}])
    for module in (impl, pymarc_ref):
        with pytest.raises(IndexError):
            list(module.JSONReader(doc))


@pytest.mark.rapidmarc_only
def test_convert_never_truncates_its_input_or_leaves_partial_files(impl, loc_bytes, tmp_path):
    src = tmp_path / "in.mrc"
    src.write_bytes(loc_bytes)
    with pytest.raises(ValueError, match="overwrite"):
        impl.convert(src, src, to="marc")
    link = tmp_path / "link.mrc"
    link.symlink_to(src)
    with pytest.raises(ValueError, match="overwrite"):
        impl.convert(src, link, to="marc")
    assert src.read_bytes() == loc_bytes
    with pytest.raises(OSError):
        impl.convert(tmp_path / "missing.mrc", tmp_path / "out.json", to="json")
    assert not (tmp_path / "out.json").exists()
    bad = tmp_path / "bad.mrc"
    bad.write_bytes(loc_bytes[:3000] + b"\xff" * 20 + loc_bytes[3000:])
    with pytest.raises((impl.PymarcException, UnicodeDecodeError)):
        impl.convert(bad, tmp_path / "strict.json", to="json", strict=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mrc", "in.mrc", "link.mrc"]


@pytest.mark.rapidmarc_only
def test_convert_retries_short_writes(impl, loc_bytes):
    class Trickle(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            chunk = bytes(b[:1000])
            self.data += chunk
            return len(chunk)

    sink, expected = Trickle(), io.BytesIO()
    impl.convert(loc_bytes, sink, to="xml")
    impl.convert(loc_bytes, expected, to="xml")
    assert bytes(sink.data) == expected.getvalue()
