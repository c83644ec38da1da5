"""The pymarc names added for issue #15, each against pymarc's behaviour on the real corpus:
``MARC8ToUnicode`` (stateful between calls), ``marc8_to_unicode`` in ``rapidmarc.marc8``,
``RawField`` (the fields of ``to_unicode=False`` records), ``map_marc8_record`` /
``map_marc8_field``, ``normalize_subfield_code`` and ``Record.decode_marc``."""

from __future__ import annotations

import pickle
import random
import unicodedata

import pytest
from marc_testlib import MARC8_FILES, REAL_FILES, split_records

rapidmarc = pytest.importorskip("rapidmarc")
pymarc = pytest.importorskip("pymarc")

from rapidmarc.marc8 import MARC8ToUnicode, marc8_to_unicode  # noqa: E402

# The one documented mapping difference of the default (LC) tables: ANSEL's ligature halves.
LC_HALVES = str.maketrans({"\ufe20": "\u0361", "\ufe21": None, "\ufe22": "\u0360", "\ufe23": None})


def as_lc(text: str) -> str:
    return unicodedata.normalize("NFC", text.translate(LC_HALVES))


def marc8_values(path) -> list[bytes]:
    with open(path, "rb") as fh:
        records = [r for r in pymarc.MARCReader(fh, to_unicode=False) if r is not None]
    return [sf.value for r in records for f in r.fields if not f.control_field for sf in f.subfields]


@pytest.mark.parametrize("name", MARC8_FILES)
def test_marc8_to_unicode_object_carries_its_state_like_pymarcs(data_dir, name, capsys):
    values = marc8_values(data_dir / "real" / name)
    assert values
    rng = random.Random(name)
    # Feed the values in random runs through one converter each, so escapes in one value
    # (a G0 or G1 change) carry into the next call, as with pymarc's object.
    exact = lc = 0
    i = 0
    while i < len(values):
        run = values[i : i + rng.randint(1, 6)]
        i += len(run)
        theirs_converter = pymarc.marc8.MARC8ToUnicode(quiet=True)
        ours_pymarc = MARC8ToUnicode(quiet=True, pymarc_mapping=True)
        ours_lc = MARC8ToUnicode(quiet=True)
        for value in run:
            try:
                expected = theirs_converter.translate(value)
            except (TypeError, IndexError) as err:
                with pytest.raises(type(err)):
                    ours_pymarc.translate(value)
                break
            assert ours_pymarc.translate(value) == expected, value
            assert ours_lc.translate(value) == as_lc(expected), value
            assert (ours_pymarc.g0, ours_pymarc.g1) == (theirs_converter.g0, theirs_converter.g1)
            assert (ours_lc.g0, ours_lc.g1) == (theirs_converter.g0, theirs_converter.g1)
            exact += 1
            lc += 1
    capsys.readouterr()
    assert exact > 100


def test_marc8_converter_state_between_calls():
    converter = MARC8ToUnicode()
    assert converter.translate(b"\x1b(NABC") == "абц"  # G0 becomes Basic Cyrillic ...
    assert (converter.g0, converter.g1) == (0x4E, 0x45)
    assert converter.translate(b"ABC") == "абц"  # ... and stays so for the next call
    assert MARC8ToUnicode(G0=0x4E).translate(b"ABC") == "абц"
    assert converter.translate(b"") == ""
    with pytest.raises(TypeError):
        MARC8ToUnicode().translate(b"abc\x1b")  # pymarc's ord(b"") at the cut-off escape
    with pytest.raises(UnicodeDecodeError):
        marc8_to_unicode(b"abc\x1b")  # which marc8_to_unicode turns into this, as pymarc does
    with pytest.raises(ValueError, match="g0 and g1"):
        MARC8ToUnicode(G0=0x142).translate(b"a")
    assert pymarc.marc8.MARC8ToUnicode().translate(b"\x1b(NABC") == "абц"


@pytest.mark.parametrize("name", REAL_FILES)
def test_to_unicode_false_gives_raw_fields_like_pymarc(data_dir, name, capsys):
    path = data_dir / "real" / name
    with open(path, "rb") as fh:
        theirs = [r for r in pymarc.MARCReader(fh, to_unicode=False) if r is not None]
    ours = [r for r in rapidmarc.MARCReader(path, to_unicode=False) if r is not None]
    capsys.readouterr()
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert len(a.fields) == len(b.fields)
        for fa, fb in zip(a.fields, b.fields, strict=True):
            assert isinstance(fb, pymarc.RawField)
            assert isinstance(fa, rapidmarc.RawField) and isinstance(fa, rapidmarc.Field)
            assert fa.as_marc() == fb.as_marc()
            if fa.control_field:
                assert fa.data == fb.data
            else:
                assert fa.subfields == list(fb.subfields)
    # Records read with to_unicode=True keep plain Fields.
    first = next(iter(rapidmarc.MARCReader(path)))
    assert not any(isinstance(f, rapidmarc.RawField) for f in first.fields)


def test_raw_field_as_marc_warns_about_an_encoding_and_pickles(data_dir, caplog):
    record = next(iter(rapidmarc.MARCReader(data_dir / "real" / "uva_2000.mrc", to_unicode=False)))
    field = record.get_fields("245")[0]
    with caplog.at_level("WARNING", logger="pymarc"):
        assert field.as_marc("utf-8") == field.as_marc()
    assert "Attempt to force a RawField into encoding utf-8" in caplog.text
    back = pickle.loads(pickle.dumps(field))
    assert type(back) is rapidmarc.RawField and back.as_marc() == field.as_marc()
    assert repr(field).startswith("<RawField ")


@pytest.mark.parametrize("name", MARC8_FILES)
def test_map_marc8_record_equals_pymarcs(data_dir, name, capsys):
    path = data_dir / "real" / name
    with open(path, "rb") as fh:
        theirs = [pymarc.map_marc8_record(r) for r in pymarc.MARCReader(fh, to_unicode=False) if r is not None]
    ours = [rapidmarc.map_marc8_record(r) for r in rapidmarc.MARCReader(path, to_unicode=False) if r is not None]
    capsys.readouterr()
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert str(a.leader) == str(b.leader) and str(a.leader)[9] == "a"
        for fa, fb in zip(a.fields, b.fields, strict=True):
            if fa.control_field:
                assert fa.data == as_lc(fb.data)
            else:
                assert [(s.code, s.value) for s in fa.subfields] == [(s.code, as_lc(s.value)) for s in fb.subfields]


def test_normalize_subfield_code_equals_pymarcs():
    cases = [b"\xc3\xa9abc", b"\xe9abc", "\u00c5x".encode(), b"\xe2\x82\xac", "ß".encode(), b"\x81x", b"\xff\xfe"]
    for piece in cases:
        try:
            expected = pymarc.record.normalize_subfield_code(piece)
        except IndexError:
            with pytest.raises(IndexError):
                rapidmarc.normalize_subfield_code(piece)
            continue
        assert rapidmarc.normalize_subfield_code(piece) == expected, piece
        assert rapidmarc.record.normalize_subfield_code(piece) == expected


@pytest.mark.parametrize("name", ["loc_386.mrc", "uva_2000.mrc"])
def test_decode_marc_equals_pymarcs(data_dir, name, capsys):
    chunks = split_records((data_dir / "real" / name).read_bytes())[:50]
    for chunk in chunks:
        for to_unicode in (True, False):
            theirs = pymarc.Record()
            theirs.decode_marc(chunk, to_unicode=to_unicode, hide_utf8_warnings=True)
            ours = rapidmarc.Record()
            ours.decode_marc(chunk, to_unicode=to_unicode, hide_utf8_warnings=True)
            assert str(ours.leader) == str(theirs.leader)
            # MARC-8 text differs from pymarc's only by the ligature halves (docs/marc8.md).
            fix = as_lc if name.startswith("uva") else (lambda text: text)
            if to_unicode:
                assert [str(f) for f in ours.fields] == [fix(str(f)) for f in theirs.fields]
            else:
                assert [f.as_marc() for f in ours.fields] == [f.as_marc() for f in theirs.fields]
                assert all(isinstance(f, rapidmarc.RawField) for f in ours.fields)
            assert len(ours.fields) == len(theirs.fields)
    capsys.readouterr()
    # decode_marc adds to the fields a record already has, as pymarc's does.
    record = rapidmarc.Record()
    record.add_field(rapidmarc.Field("500", [" ", " "], [rapidmarc.Subfield("a", "kept")]))
    record.decode_marc(chunks[0])
    assert record.fields[0]["a"] == "kept" and len(record.fields) == 1 + len(rapidmarc.Record(chunks[0]).fields)
    for bad, error in [(b"", rapidmarc.RecordLeaderInvalid), (chunks[0][:30], None)]:
        try:
            pymarc.Record().decode_marc(bad)
            expected = None
        except Exception as err:  # noqa: BLE001
            expected = type(err).__name__
        if expected is None:
            rapidmarc.Record().decode_marc(bad)
        else:
            with pytest.raises(Exception) as info:  # noqa: B017
                rapidmarc.Record().decode_marc(bad)
            assert type(info.value).__name__ == expected
        if error is not None:
            assert expected == error.__name__


def outcome(call):
    try:
        return call()
    except Exception as err:  # noqa: BLE001
        return type(err).__name__


@pytest.mark.parametrize("name", MARC8_FILES)
def test_marc8_mapping_pymarc_gives_pymarcs_text_exactly(data_dir, name, capsys):
    """marc8_mapping="pymarc": 0 differences from pymarc on every MARC-8 record of the corpus, in
    the reader (lazy values and Python objects), as_marc to UTF-8, the native JSON export and extract."""
    path = data_dir / "real" / name
    with open(path, "rb") as fh:
        theirs = list(pymarc.MARCReader(fh, hide_utf8_warnings=True))
    ours = list(rapidmarc.MARCReader(path, marc8_mapping="pymarc"))
    lazy = list(rapidmarc.MARCReader(path, marc8_mapping="pymarc"))
    capsys.readouterr()
    assert len(ours) == len(theirs)
    values = 0
    for a, lazy_record, b in zip(ours, lazy, theirs, strict=True):
        assert (a is None) == (b is None)
        if b is None:
            continue
        for fa, fl, fb in zip(a.fields, lazy_record.fields, b.fields, strict=True):
            assert fl.value() == fb.value() and fl.format_field() == fb.format_field() and str(fl) == str(fb)
            if fb.control_field:
                assert fa.data == fb.data
            else:
                assert [tuple(s) for s in fa.subfields] == [tuple(s) for s in fb.subfields]
                values += len(fb.subfields)
        assert outcome(a.as_json) == outcome(b.as_json)
        assert outcome(a.as_marc) == outcome(b.as_marc)
    assert values > 500
    # The bulk path converts natively with the same table.
    column = rapidmarc.extract(path, ["245$a"], marc8_mapping="pymarc")["245$a"]
    assert column == [[sf for f in r.get_fields("245") for sf in f.get_subfields("a")] for r in theirs if r]


def test_marc8_mapping_default_is_lc_and_is_checked(data_dir):
    path = data_dir / "real" / "uva_2000.mrc"
    lc = [r.as_marc() for r in rapidmarc.MARCReader(path)]
    assert lc == [r.as_marc() for r in rapidmarc.MARCReader(path, marc8_mapping="lc")]
    pym = [r.as_marc() for r in rapidmarc.MARCReader(path, marc8_mapping="pymarc")]
    differing = sum(a != b for a, b in zip(lc, pym, strict=True))
    assert 0 < differing < len(lc)  # the ligature halves, in a few records only
    with pytest.raises(ValueError, match="marc8_mapping"):
        rapidmarc.MARCReader(path, marc8_mapping="oclc")
    assert rapidmarc.ReadOptions(marc8_mapping="pymarc").marc8_mapping == "pymarc"


def test_marc8_to_unicode_takes_the_mapping(data_dir, capsys):
    values = marc8_values(data_dir / "real" / "uva_2000.mrc")
    halves = 0
    for value in values:
        try:
            expected = pymarc.marc8_to_unicode(value, True)
        except UnicodeDecodeError:
            continue
        assert rapidmarc.marc8_to_unicode(value, True, marc8_mapping="pymarc") == expected
        assert marc8_to_unicode(value, marc8_mapping="lc") == as_lc(expected)
        halves += rapidmarc.marc8_to_unicode(value) != expected
    capsys.readouterr()
    assert halves > 0  # the two tables differ on this file, so the test tells them apart
    with pytest.raises(ValueError, match="marc8_mapping"):
        rapidmarc.marc8_to_unicode(b"a", marc8_mapping="oclc")
