"""pymarc 5.4 API behaviour that rapidmarc must reproduce exactly.

Every test here passes on pymarc itself (``RAPIDMARC_TEST_IMPL=pymarc``); the
module under test is the ``impl`` fixture. Expected values are written out
literally (checked against pymarc 5.4), so a test fails on any divergence,
including pymarc's documented quirks, which are marked "pymarc quirk".
"""

from __future__ import annotations

import copy
import io
import json
import warnings

import pytest
from marc_testlib import (
    BAD_UTF8,
    DEFAULT_LEADER,
    FT,
    GOOD,
    GOOD2,
    READER_CASES,
    RT,
    build_record,
    df,
    field_shape,
    read_outcomes,
    record_shape,
    with_base,
)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def make_field(impl, tag="245", ind=("1", "0"), subs=(("a", "The title :"), ("b", "a subtitle /"))):
    return impl.Field(
        tag=tag,
        indicators=impl.Indicators(*ind),
        subfields=[impl.Subfield(code=c, value=v) for c, v in subs],
    )


def make_record(impl, specs, leader="00000nam a2200000 a 4500"):
    """Build a record from (tag, data) control specs and (tag, ind, subs) data specs."""
    record = impl.Record(leader=leader)
    for spec in specs:
        if len(spec) == 2:
            record.add_field(impl.Field(tag=spec[0], data=spec[1]))
        else:
            record.add_field(make_field(impl, *spec))
    return record


def tags(fields) -> list[str]:
    return [f.tag for f in fields]


def exc_name(exc_type) -> str | None:
    return exc_type.__name__ if exc_type is not None else None


SAMPLE_SPECS = [
    ("001", "ocm12345"),
    ("008", "850101s1985    nyu           000 0 eng  "),
    ("100", ("1", " "), [("a", "Twain, Mark,"), ("d", "1835-1910.")]),
    ("245", ("1", "0"), [("a", "Huckleberry Finn :"), ("b", "a novel /"), ("c", "Mark Twain.")]),
    ("650", (" ", "0"), [("a", "Mississippi River"), ("v", "Fiction.")]),
    ("650", (" ", "0"), [("a", "Boys"), ("z", "Missouri"), ("v", "Fiction.")]),
]


@pytest.fixture
def sample(impl):
    return make_record(impl, SAMPLE_SPECS)


# ---------------------------------------------------------------------------
# Module surface: names, constants, exceptions
# ---------------------------------------------------------------------------

EXPORTED = [
    "MARCReader", "Record", "Field", "Subfield", "Indicators", "Leader",
    "MARCWriter", "TextWriter", "Writer",
]  # fmt: skip

EXCEPTIONS = [
    "PymarcException", "FatalReaderError", "RecordLengthInvalid", "TruncatedRecord",
    "EndOfRecordNotFound", "RecordLeaderInvalid", "RecordDirectoryInvalid", "NoFieldsFound",
    "BaseAddressInvalid", "BaseAddressNotFound", "WriteNeedsRecord", "NoActiveFile",
    "FieldNotFound", "BadSubfieldCodeWarning", "BadLeaderValue", "MissingLinkedFields",
]  # fmt: skip

NO_ARG_MESSAGES = {
    "RecordLengthInvalid": "Invalid record length in first 5 bytes of record",
    "TruncatedRecord": "Record length in leader is greater than the length of data",
    "EndOfRecordNotFound": "Unable to locate end of record marker",
    "RecordLeaderInvalid": "Unable to extract record leader",
    "RecordDirectoryInvalid": "Invalid directory",
    "NoFieldsFound": "Unable to locate fields in record data",
    "BaseAddressInvalid": "Base address exceeds size of record",
    "BaseAddressNotFound": "Unable to locate base address of record",
    "WriteNeedsRecord": "Write requires a pymarc.Record object as an argument",
    "NoActiveFile": "There is no active file to write to in call to write",
    "FieldNotFound": "Record does not contain the specified field",
}


@pytest.mark.parametrize("name", EXPORTED + EXCEPTIONS)
def test_exported_names(impl, name):
    assert isinstance(getattr(impl, name), type)


def test_constants(impl):
    assert impl.LEADER_LEN == 24
    assert impl.DIRECTORY_ENTRY_LEN == 12
    assert impl.SUBFIELD_INDICATOR == "\x1f"
    assert impl.END_OF_FIELD == "\x1e"
    assert impl.END_OF_RECORD == "\x1d"


def test_exception_hierarchy_matches_pymarc(impl, pymarc_ref):
    for a in EXCEPTIONS:
        for b in EXCEPTIONS:
            assert issubclass(getattr(impl, a), getattr(impl, b)) == issubclass(
                getattr(pymarc_ref, a), getattr(pymarc_ref, b)
            ), (a, b)
    assert issubclass(impl.PymarcException, Exception)
    assert issubclass(impl.BadSubfieldCodeWarning, Warning)
    assert not issubclass(impl.BadSubfieldCodeWarning, impl.PymarcException)
    fatal = {n for n in EXCEPTIONS if issubclass(getattr(impl, n), impl.FatalReaderError)}
    assert fatal == {"FatalReaderError", "RecordLengthInvalid", "TruncatedRecord", "EndOfRecordNotFound"}


@pytest.mark.parametrize(("name", "message"), NO_ARG_MESSAGES.items())
def test_exception_messages(impl, name, message):
    exc = getattr(impl, name)()
    assert str(exc) == message
    with pytest.raises(getattr(impl, name)):
        raise exc


def test_exceptions_with_arguments(impl):
    assert str(impl.BadLeaderValue("too long")) == "too long"
    warning = impl.BadSubfieldCodeWarning(b"\xe9abc")
    assert warning.subf == b"\xe9abc"
    assert str(warning) == "The subfield contained a non-ASCII subfield code: b'\\xe9abc'"
    field = make_field(impl, "100")
    missing = impl.MissingLinkedFields(field)
    assert missing.field is field
    assert str(missing) == "100 field includes a subfield 6 but no linked fields could be found."


# ---------------------------------------------------------------------------
# Subfield, Indicators
# ---------------------------------------------------------------------------


def test_subfield_is_a_named_tuple(impl):
    sf = impl.Subfield(code="a", value="x")
    assert (sf.code, sf.value) == ("a", "x")
    assert sf == ("a", "x") and sf == impl.Subfield("a", "x")
    assert isinstance(sf, tuple) and len(sf) == 2
    code, value = sf
    assert (code, value) == ("a", "x")
    assert sf._replace(value="y") == ("a", "y")


def test_indicators_is_a_named_tuple(impl):
    ind = impl.Indicators("1", "0")
    assert (ind.first, ind.second) == ("1", "0")
    assert ind == ("1", "0") and isinstance(ind, tuple)
    assert impl.Indicators(first=" ", second="4")[1] == "4"


# ---------------------------------------------------------------------------
# Field
# ---------------------------------------------------------------------------


def test_data_field_constructor(impl):
    f = make_field(impl)
    assert f.tag == "245"
    assert f.indicators == ("1", "0") and isinstance(f.indicators, impl.Indicators)
    assert f.indicator1 == "1" and f.indicator2 == "0"
    assert f.subfields == [("a", "The title :"), ("b", "a subtitle /")]
    assert all(isinstance(sf, impl.Subfield) for sf in f.subfields)
    assert f.control_field is False and f.is_control_field() is False
    assert f.data is None


def test_control_field_constructor(impl):
    f = impl.Field(tag="001", data="ocm123")
    assert f.tag == "001" and f.data == "ocm123"
    assert f.control_field is True and f.is_control_field() is True
    assert f.indicators is None
    assert f.indicator1 == "" and f.indicator2 == ""
    assert f.subfields == []


@pytest.mark.parametrize(
    ("tag", "expected", "control"),
    [
        ("245", "245", False),
        (245, "245", False),
        ("1", "001", True),
        (8, "008", True),
        ("0245", "245", False),  # digit strings are renormalised to 3 digits
        ("009", "009", True),
        ("010", "010", False),
        ("00A", "00A", False),  # control only if all digits and < "010"
        ("abc", "abc", False),
    ],
)
def test_field_tag_normalisation(impl, tag, expected, control):
    f = impl.Field(tag=tag, data="x") if control else impl.Field(tag=tag)
    assert f.tag == expected
    assert f.control_field is control


def test_field_default_and_list_indicators(impl):
    f = impl.Field(tag="500")
    assert f.indicators == (" ", " ") and f.subfields == []
    g = impl.Field(tag="500", indicators=["0", "1"])
    assert g.indicators == ("0", "1") and isinstance(g.indicators, impl.Indicators)
    h = impl.Field(tag="500", indicators=("4", " "))
    assert h.indicator1 == "4" and h.indicator2 == " "


def test_field_constructor_rejects_bad_input(impl):
    with pytest.raises(ValueError):
        impl.Field(tag="245", indicators=["0", "1", "2"])
    with pytest.raises(ValueError):
        impl.Field(tag="245", subfields=["a", "legacy string subfields"])


def test_indicator_setters(impl):
    f = make_field(impl)
    f.indicator1 = "0"
    f.indicator2 = "4"
    assert f.indicators == ("0", "4")
    f.indicators = ("3", " ")
    assert f.indicators == ("3", " ") and isinstance(f.indicators, impl.Indicators)
    f.indicators = impl.Indicators("7", "8")
    assert (f.indicator1, f.indicator2) == ("7", "8")
    with pytest.raises(ValueError):
        f.indicators = ["1", "2", "3"]
    assert str(f) == "=245  78$aThe title :$ba subtitle /"


def test_get_subfields(impl):
    f = make_field(impl, subs=[("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")])
    assert f.get_subfields("a") == ["1", "3"]
    assert f.get_subfields("c", "a") == ["1", "3", "4"]  # field order, not argument order
    assert f.get_subfields("z") == []
    assert f.get_subfields() == []
    assert impl.Field(tag="001", data="x").get_subfields("a") == []


def test_get_and_getitem_and_contains(impl):
    f = make_field(impl, subs=[("a", "first"), ("b", "B"), ("a", "second")])
    assert f.get("a") == "first" and f["a"] == "first"
    assert f.get("z") is None and f.get("z", "dflt") == "dflt"
    assert "b" in f and "z" not in f
    with pytest.raises(KeyError):
        f["z"]
    ctl = impl.Field(tag="001", data="abc")
    assert ctl.get("a") is None and ctl.get("a", "d") == "d"
    assert "a" not in ctl
    with pytest.raises(KeyError):
        ctl["a"]


def test_setitem(impl):
    f = make_field(impl, subs=[("a", "old"), ("b", "B1"), ("b", "B2")])
    f["a"] = "new"
    assert f.subfields == [("a", "new"), ("b", "B1"), ("b", "B2")]
    with pytest.raises(KeyError):
        f["z"] = "missing code"
    with pytest.raises(KeyError):
        f["b"] = "ambiguous code"
    assert f.subfields == [("a", "new"), ("b", "B1"), ("b", "B2")]
    ctl = impl.Field(tag="001", data="abc")
    with pytest.raises(KeyError):
        ctl["a"] = "x"
    assert ctl.data == "abc"


@pytest.mark.parametrize(
    ("pos", "expected"),
    [
        (None, ["a", "b", "c", "NEW"]),
        (0, ["NEW", "a", "b", "c"]),
        (1, ["a", "NEW", "b", "c"]),
        (3, ["a", "b", "c", "NEW"]),
        (99, ["a", "b", "c", "NEW"]),
        (-1, ["a", "b", "NEW", "c"]),  # list.insert semantics
    ],
)
def test_add_subfield(impl, pos, expected):
    f = make_field(impl, subs=[("a", "a"), ("b", "b"), ("c", "c")])
    if pos is None:
        assert f.add_subfield("x", "NEW") is None
    else:
        assert f.add_subfield("x", "NEW", pos) is None
    assert [sf.value for sf in f.subfields] == expected
    assert f.subfields[expected.index("NEW")] == ("x", "NEW")


def test_add_subfield_keyword_and_control_noop(impl):
    f = make_field(impl, subs=[("a", "a")])
    f.add_subfield(code="u", value="http://x", pos=0)
    assert f.subfields[0] == ("u", "http://x")
    ctl = impl.Field(tag="001", data="abc")
    ctl.add_subfield("a", "x")
    assert ctl.subfields == [] and ctl.data == "abc"


def test_delete_subfield(impl):
    f = make_field(impl, subs=[("a", "1"), ("b", "2"), ("a", "3")])
    assert f.delete_subfield("a") == "1"
    assert f.subfields == [("b", "2"), ("a", "3")]
    assert f.delete_subfield("z") is None
    assert f.delete_subfield("a") == "3"
    assert f.subfields == [("b", "2")]
    assert impl.Field(tag="001", data="x").delete_subfield("a") is None


def test_subfields_as_dict(impl):
    f = make_field(impl, subs=[("a", "1"), ("b", "2"), ("a", "3")])
    assert f.subfields_as_dict() == {"a": ["1", "3"], "b": ["2"]}
    assert impl.Field(tag="001", data="x").subfields_as_dict() == {}


def test_value(impl):
    f = make_field(impl, subs=[("a", "  padded  "), ("b", "x"), ("c", "")])
    assert f.value() == "padded x "  # each value stripped, joined with one space
    assert impl.Field(tag="001", data=" data ").value() == " data "
    assert impl.Field(tag="001").value() == ""


@pytest.mark.parametrize(
    ("tag", "subs", "expected"),
    [
        ("245", [("6", "880-01"), ("a", "Title :"), ("b", "sub")], "Title : sub"),
        ("245", [("a", "A"), ("x", "X"), ("v", "V")], "A X V"),
        ("650", [("a", "Boys"), ("x", "Social"), ("y", "1900"), ("z", "US"), ("v", "Fiction.")],
         "Boys -- Social -- 1900 -- US -- Fiction."),
        ("600", [("6", "880-02"), ("a", "Twain"), ("d", "1835")], "Twain 1835"),
        ("650", [("x", "leading"), ("a", "A")], "-- leading A"),
    ],
)  # fmt: skip
def test_format_field(impl, tag, subs, expected):
    assert make_field(impl, tag=tag, subs=subs).format_field() == expected


def test_format_field_control(impl):
    assert impl.Field(tag="008", data="  x  ").format_field() == "  x  "


@pytest.mark.parametrize(
    ("tag", "expected"), [("600", True), ("650", True), ("699", True), ("245", False), ("060", False)]
)
def test_is_subject_field(impl, tag, expected):
    assert impl.Field(tag=tag).is_subject_field() is expected


def test_str_field(impl):
    assert str(impl.Field(tag="008", data="850101s1985 nyu")) == "=008  850101s1985\\nyu"
    assert str(impl.Field(tag="001", data="")) == "=001  "
    assert str(make_field(impl, ind=(" ", "0"), subs=[("a", "Two words"), ("b", "$dollar")])) == (
        "=245  \\0$aTwo words$b$dollar"
    )
    assert str(make_field(impl, ind=("\\", "1"), subs=[])) == "=245  \\1"


def test_iterate_field(impl):
    f = make_field(impl, subs=[("a", "1"), ("b", "2")])
    assert list(f) == [("a", "1"), ("b", "2")]
    assert [sf.code for sf in f] == ["a", "b"]  # iterable again
    assert all(isinstance(sf, impl.Subfield) for sf in f)
    assert list(impl.Field(tag="001", data="x")) == []


def test_field_as_marc(impl):
    f = make_field(impl, subs=[("a", "Café")])
    assert f.as_marc("utf-8") == b"10\x1faCaf\xc3\xa9\x1e"
    assert f.as_marc21("utf-8") == b"10\x1faCaf\xc3\xa9\x1e"
    assert impl.Field(tag="001", data="x1").as_marc("utf-8") == b"x1\x1e"


def test_convert_legacy_subfields(impl):
    subs = impl.Field.convert_legacy_subfields(["a", "Title", "b", "sub"])
    assert subs == [("a", "Title"), ("b", "sub")]
    assert all(isinstance(sf, impl.Subfield) for sf in subs)


def test_linked_fields(impl):
    rec = impl.Record()
    f245 = make_field(impl, subs=[("6", "880-01"), ("a", "Title")])
    f880 = make_field(impl, tag="880", subs=[("6", "245-01/(N"), ("a", "Заглавие")])
    other = make_field(impl, tag="880", subs=[("6", "100-02"), ("a", "x")])
    rec.add_field(f245, other, f880)
    assert f245.linkage_occurrence_num() == "01"
    assert make_field(impl).linkage_occurrence_num() is None
    assert [f.get("a") for f in rec.get_linked_fields(f245)] == ["Заглавие"]
    assert rec.get_linked_fields(make_field(impl)) == []
    orphan = make_field(impl, tag="100", subs=[("6", "880-09"), ("a", "x")])
    with pytest.raises(impl.MissingLinkedFields):
        rec.get_linked_fields(orphan)


def test_field_attributes_are_writable(impl):
    f = make_field(impl, subs=[("a", "A")])
    f.tag = "246"
    f.subfields.append(impl.Subfield("b", "B"))
    assert f.tag == "246" and f["b"] == "B"
    f.subfields = [impl.Subfield("z", "Z")]
    assert str(f) == "=246  10$zZ"
    ctl = impl.Field(tag="001", data="old")
    ctl.data = "new"
    assert ctl.value() == "new" and str(ctl) == "=001  new"


# ---------------------------------------------------------------------------
# Record: construction and field management
# ---------------------------------------------------------------------------


def test_default_record(impl):
    rec = impl.Record()
    assert str(rec.leader) == "          22        4500"
    assert isinstance(rec.leader, impl.Leader)
    assert rec.fields == [] and rec.get_fields() == []
    assert str(rec) == "=LDR            22        4500\n"


def test_record_leader_argument_is_normalised(impl):
    # pymarc quirk: positions 10-11 are forced to "22" and 20-23 to "4500"
    rec = impl.Record(leader="01234cam  9900123 a 1234")
    assert str(rec.leader) == "01234cam  2200123 a 4500"


def test_record_force_utf8_sets_coding_scheme(impl):
    assert str(impl.Record(force_utf8=True).leader) == "         a22        4500"


def test_record_with_fields_argument(impl):
    fields = [impl.Field(tag="001", data="x"), make_field(impl)]
    rec = impl.Record(fields=fields)
    assert tags(rec.fields) == ["001", "245"]
    assert rec["245"]["a"] == "The title :"


def test_record_from_data(impl):
    raw = build_record([("001", b"id1"), ("245", df("10", ("a", "Caf\u00e9")))])
    rec = impl.Record(data=raw)
    assert record_shape(rec) == (
        raw[:24].decode(),
        [("001", "control", "id1"), ("245", ("1", "0"), [("a", "Café")])],
    )
    raw_rec = impl.Record(raw, to_unicode=False)
    assert raw_rec["245"]["a"] == "Café".encode()
    assert raw_rec.as_marc() == raw


def test_add_field_and_get_fields(impl, sample):
    assert tags(sample.fields) == ["001", "008", "100", "245", "650", "650"]
    assert tags(sample.get_fields()) == tags(sample.fields)
    assert [f["a"] for f in sample.get_fields("650")] == ["Mississippi River", "Boys"]
    assert tags(sample.get_fields("650", "100", "001")) == ["001", "100", "650", "650"]
    assert sample.get_fields("999") == []
    sample.add_field(impl.Field(tag="500", subfields=[impl.Subfield("a", "n1")]),
                     impl.Field(tag="500", subfields=[impl.Subfield("a", "n2")]))  # fmt: skip
    assert tags(sample.fields)[-2:] == ["500", "500"]


def test_get_getitem_contains(impl, sample):
    assert sample.get("650")["a"] == "Mississippi River"
    assert sample["650"]["a"] == "Mississippi River"
    assert sample.get("999") is None
    dflt = impl.Field(tag="999")
    assert sample.get("999", dflt) is dflt
    with pytest.raises(KeyError):
        sample["999"]
    assert "245" in sample and "999" not in sample


def test_returned_fields_are_live(impl, sample):
    sample["245"]["a"] = "Changed"
    sample.get("650").add_subfield("x", "Added")
    sample.get_fields("100")[0].indicator1 = "3"
    assert sample.title == "Changed a novel /"
    assert sample["650"].get_subfields("x") == ["Added"]
    assert sample["100"].indicators == ("3", " ")
    assert sample["245"] is sample.get("245")


def test_iterate_record(impl, sample):
    assert [f.tag for f in sample] == ["001", "008", "100", "245", "650", "650"]
    assert len(list(sample)) == 6  # iterable again


def test_fields_list_is_live(impl, sample):
    sample.fields.append(impl.Field(tag="999", data="x"))
    del sample.fields[0]
    assert tags(sample.fields) == ["008", "100", "245", "650", "650", "999"]
    assert "001" not in sample and "999" in sample


@pytest.mark.parametrize(
    ("start", "added", "expected"),
    [
        (["001", "245", "650"], ["100"], ["001", "100", "245", "650"]),
        (["001", "245", "650"], ["999", "005"], ["001", "005", "245", "650", "999"]),
        (["001", "245", "650"], ["245"], ["001", "245", "245", "650"]),
        (["001", "ABC", "245"], ["100"], ["001", "100", "ABC", "245"]),
        (["001", "245"], ["XYZ"], ["001", "245", "XYZ"]),
        ([], ["650", "100"], ["100", "650"]),
    ],
)
def test_add_ordered_field(impl, start, added, expected):
    rec = impl.Record(fields=[impl.Field(tag=t) for t in start]) if start else impl.Record()
    rec.add_ordered_field(*[impl.Field(tag=t) for t in added])
    assert tags(rec.fields) == expected


@pytest.mark.parametrize(
    ("start", "added", "expected"),
    [
        (["001", "245", "650", "700"], ["246"], ["001", "245", "246", "650", "700"]),
        (["001", "245", "650", "700"], ["100"], ["001", "100", "245", "650", "700"]),
        (["001", "245", "650", "700"], ["999"], ["001", "245", "650", "700", "999"]),
        (["001", "245", "650", "700"], ["600", "020"], ["001", "020", "245", "650", "600", "700"]),
        (["245", "ABC", "650"], ["500"], ["245", "500", "ABC", "650"]),
    ],
)
def test_add_grouped_field(impl, start, added, expected):
    rec = impl.Record(fields=[impl.Field(tag=t) for t in start])
    rec.add_grouped_field(*[impl.Field(tag=t) for t in added])
    assert tags(rec.fields) == expected


def test_remove_field(impl, sample):
    first650, second650 = sample.get_fields("650")
    sample.remove_field(first650)
    assert [f["a"] for f in sample.get_fields("650")] == ["Boys"]
    with pytest.raises(impl.FieldNotFound):
        sample.remove_field(first650)
    with pytest.raises(impl.FieldNotFound):
        sample.remove_field(impl.Field(tag="999", data="not in record"))
    sample.remove_field(second650, sample["001"])
    assert tags(sample.fields) == ["008", "100", "245"]


def test_remove_fields(impl, sample):
    sample.remove_fields("999")
    sample.remove_fields()
    assert len(sample.fields) == 6
    sample.remove_fields("650")
    assert tags(sample.fields) == ["001", "008", "100", "245"]
    sample.remove_fields("001", "100", "999")
    assert tags(sample.fields) == ["008", "245"]


def test_deepcopy_is_independent(impl, sample):
    clone = copy.deepcopy(sample)
    assert clone.as_marc() == sample.as_marc()
    clone["245"]["a"] = "Other"
    clone.remove_fields("650")
    clone.leader.record_status = "d"
    assert sample.title == "Huckleberry Finn : a novel /"
    assert len(sample.get_fields("650")) == 2
    assert sample.leader.record_status == "n"


# ---------------------------------------------------------------------------
# Record: convenience properties
# ---------------------------------------------------------------------------

PROPERTY_CASES = [
    ("title", [("245", "10", [("a", "Huck Finn :"), ("b", "a novel /"), ("c", "Twain")])], "Huck Finn : a novel /"),
    ("title", [("245", "10", [("a", "Only a")])], "Only a"),
    ("title", [("245", "10", [("b", "no a")])], None),
    ("title", [], None),
    ("issn_title", [("222", " 0", [("a", "Key title"), ("b", "(Print)")])], "Key title (Print)"),
    ("issn_title", [], None),
    ("isbn", [("020", "  ", [("a", "0-306-40615-2 (pbk.)")]), ("020", "  ", [("a", "123")])], "0306406152"),
    ("isbn", [("020", "  ", [("a", "ISBN 978030640615X")])], "978030640615X"),
    ("isbn", [("020", "  ", [("a", "(pbk.)")])], None),
    ("isbn", [("020", "  ", [("z", "0306406152")])], None),
    ("isbn", [], None),
    ("issn", [("022", "  ", [("a", "0028-0836"), ("l", "1476-4687")])], "0028-0836"),
    ("issn", [("022", "  ", [("l", "1476-4687")])], None),
    ("issnl", [("022", "  ", [("a", "0028-0836"), ("l", "1476-4687")])], "1476-4687"),
    ("issnl", [("022", "  ", [("a", "0028-0836")])], None),
    ("sudoc", [("086", "0 ", [("a", "I 19.79:EC 7/2"), ("z", "old")])], "I 19.79:EC 7/2 old"),
    ("sudoc", [], None),
    ("author", [("100", "1 ", [("a", "Twain, Mark,"), ("d", "1835-1910.")])], "Twain, Mark, 1835-1910."),
    ("author", [("111", "2 ", [("a", "Meeting")]), ("110", "2 ", [("a", "Corp.")])], "Corp."),
    ("author", [("111", "2 ", [("a", "Meeting"), ("6", "880-01")])], "Meeting"),
    ("author", [], None),
    ("uniformtitle", [("240", "10", [("a", "Works."), ("k", "Selections")])], "Works. Selections"),
    ("uniformtitle", [("240", "10", [("a", "W")]), ("130", "0 ", [("a", "Bible.")])], "Bible."),
    ("uniformtitle", [], None),
    ("publisher", [("260", "  ", [("a", "NY :"), ("b", "Harper,"), ("c", "1885.")])], "Harper,"),
    ("publisher", [("264", " 0", [("b", "Producer")]), ("264", " 1", [("b", "Pub,")])], "Pub,"),
    ("publisher", [("264", " 4", [("b", "Copyright")])], None),
    ("publisher", [("260", "  ", [("a", "NY")]), ("264", " 1", [("b", "Pub")])], None),  # pymarc quirk
    ("publisher", [("264", " 1", [("b", "First")]), ("260", "  ", [("b", "Second")])], "First"),
    ("pubyear", [("260", "  ", [("c", "1885.")])], "1885."),
    ("pubyear", [("264", " 4", [("c", "c2000")]), ("264", " 1", [("c", "2001")])], "2001"),
    ("pubyear", [], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("prop", "specs", "expected"),
    PROPERTY_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(PROPERTY_CASES)],
)
def test_string_properties(impl, prop, specs, expected):
    rec = make_record(impl, [(t, tuple(ind), subs) for t, ind, subs in specs])
    assert getattr(rec, prop) == expected


def test_field_list_properties(impl):
    order = ["245", "490", "830", "440", "650", "600", "690", "655", "700", "710", "796",
             "852", "500", "505", "590", "300", "300", "999"]  # fmt: skip
    rec = impl.Record(fields=[impl.Field(tag=t) for t in order])
    assert tags(rec.series) == ["490", "830", "440"]
    assert tags(rec.subjects) == ["650", "600", "690", "655"]
    assert tags(rec.addedentries) == ["700", "710", "796"]
    assert tags(rec.location) == ["852"]
    assert tags(rec.notes) == ["500", "505", "590"]
    assert tags(rec.physicaldescription) == ["300", "300"]
    empty = impl.Record()
    assert empty.series == [] and empty.subjects == [] and empty.notes == []


# ---------------------------------------------------------------------------
# Leader
# ---------------------------------------------------------------------------

LEADER_TEXT = "0123456789abcdefghijklmn"
LEADER_PROPS = [
    ("record_length", slice(0, 5)),
    ("record_status", slice(5, 6)),
    ("type_of_record", slice(6, 7)),
    ("bibliographic_level", slice(7, 8)),
    ("type_of_control", slice(8, 9)),
    ("coding_scheme", slice(9, 10)),
    ("indicator_count", slice(10, 11)),
    ("subfield_code_count", slice(11, 12)),
    ("base_address", slice(12, 17)),
    ("encoding_level", slice(17, 18)),
    ("cataloging_form", slice(18, 19)),
    ("multipart_ressource", slice(19, 20)),
    ("length_of_field_length", slice(20, 21)),
    ("starting_character_position_length", slice(21, 22)),
    ("implementation_defined_length", slice(22, 23)),
]


@pytest.mark.parametrize("text", ["", "x" * 23, "x" * 25])
def test_leader_must_be_24_chars(impl, text):
    with pytest.raises(impl.RecordLeaderInvalid):
        impl.Leader(text)


@pytest.mark.parametrize(("name", "where"), LEADER_PROPS, ids=[n for n, _ in LEADER_PROPS])
def test_leader_property_get_set(impl, name, where):
    leader = impl.Leader(LEADER_TEXT)
    assert getattr(leader, name) == LEADER_TEXT[where]
    assert leader[name] == LEADER_TEXT[where]
    width = where.stop - where.start
    new = "Z" * width
    setattr(leader, name, new)
    expected = LEADER_TEXT[: where.start] + new + LEADER_TEXT[where.stop :]
    assert str(leader) == expected
    leader[name] = "Y" * width
    assert getattr(leader, name) == "Y" * width
    with pytest.raises(impl.BadLeaderValue):
        setattr(leader, name, "Q" * (width + 1))
    with pytest.raises(impl.BadLeaderValue):
        setattr(leader, name, "")
    assert len(str(leader)) == 24


def test_leader_index_and_slice(impl):
    leader = impl.Leader(LEADER_TEXT)
    assert leader[5] == "5" and leader[0:5] == "01234" and leader[-1] == "n"
    assert leader[12:17] == "cdefg"
    leader[5] = "c"
    leader[0:5] = "99999"
    assert str(leader) == "99999c6789abcdefghijklmn"
    leader[6] = "ab"  # pymarc quirk: the value may span several positions
    assert str(leader) == "99999cab89abcdefghijklmn"
    leader[20:21] = "XYZ"  # pymarc quirk: only slice.start is used
    assert str(leader) == "99999cab89abcdefghijXYZn"
    with pytest.raises(impl.BadLeaderValue):
        leader[22] = "abc"
    with pytest.raises(IndexError):
        leader[-1] = "x"
    assert str(leader) == "99999cab89abcdefghijXYZn"


def test_record_leader_changes_reach_as_marc(impl, sample):
    sample.leader.record_status = "c"
    sample.leader[17] = "7"
    out = sample.as_marc()
    assert out[5:6] == b"c" and out[17:18] == b"7"
    sample.leader = impl.Leader("00000cjm a2200000 i 4500")
    out = sample.as_marc()
    assert out[5:9] == b"cjm " and out[17:20] == b" i "
    assert str(impl.Record(data=out).leader)[5:] == "cjm a22" + out[12:17].decode() + " i 4500"


# ---------------------------------------------------------------------------
# Serialisation of constructed records
# ---------------------------------------------------------------------------


def test_as_marc_of_constructed_record(impl, sample):
    expected = build_record(
        [
            ("001", "ocm12345"),
            ("008", "850101s1985    nyu           000 0 eng  "),
            ("100", df("1 ", ("a", "Twain, Mark,"), ("d", "1835-1910."))),
            ("245", df("10", ("a", "Huckleberry Finn :"), ("b", "a novel /"), ("c", "Mark Twain."))),
            ("650", df(" 0", ("a", "Mississippi River"), ("v", "Fiction."))),
            ("650", df(" 0", ("a", "Boys"), ("z", "Missouri"), ("v", "Fiction."))),
        ],
        DEFAULT_LEADER,
    )
    assert sample.as_marc() == expected
    assert sample.as_marc21() == expected
    # pymarc quirk: as_marc does not write the computed length/base back
    assert sample.leader.record_length == "00000" and sample.leader.base_address == "00000"


def test_as_marc_counts_bytes_not_characters(impl):
    rec = make_record(impl, [("245", ("0", "0"), [("a", "Ærø – Ελληνικά 日本")])])
    out = rec.as_marc()
    value = "Ærø – Ελληνικά 日本".encode()
    assert out == build_record([("245", df("00", ("a", value)))])
    assert int(out[:5]) == len(out)


def test_as_marc_of_empty_record(impl):
    rec = impl.Record()
    assert rec.as_marc() == b"00026    a2200025   4500" + FT + RT
    # pymarc quirk: as_marc() switches a to_unicode record's leader/09 to 'a'
    assert str(rec.leader) == "         a22        4500"


def test_as_marc_sets_coding_scheme_on_unicode_records(impl):
    rec = make_record(impl, [("001", "x")], leader="00000nam  2200000 a 4500")
    assert rec.leader[9] == " "
    assert rec.as_marc()[9:10] == b"a"
    assert rec.leader[9] == "a"


def test_str_record(impl, sample):
    assert str(sample) == (
        "=LDR  00000nam a2200000 a 4500\n"
        "=001  ocm12345\n"
        "=008  850101s1985\\\\\\\\nyu\\\\\\\\\\\\\\\\\\\\\\000\\0\\eng\\\\\n"
        "=100  1\\$aTwain, Mark,$d1835-1910.\n"
        "=245  10$aHuckleberry Finn :$ba novel /$cMark Twain.\n"
        "=650  \\0$aMississippi River$vFiction.\n"
        "=650  \\0$aBoys$zMissouri$vFiction.\n"
    )


def test_as_dict_and_as_json(impl):
    rec = make_record(impl, [("001", "id"), ("245", ("1", " "), [("a", "Tïtle"), ("a", "again")])])
    expected = {
        "leader": "00000nam a2200000 a 4500",
        "fields": [
            {"001": "id"},
            {"245": {"ind1": "1", "ind2": " ", "subfields": [{"a": "Tïtle"}, {"a": "again"}]}},
        ],
    }
    assert rec.as_dict() == expected
    assert rec.as_json() == json.dumps(expected)
    assert rec.as_json(ensure_ascii=False, indent=1) == json.dumps(expected, ensure_ascii=False, indent=1)


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def test_marcwriter(impl, sample):
    other = make_record(impl, [("001", "second")])
    buf = io.BytesIO()
    writer = impl.MARCWriter(buf)
    writer.write(sample)
    writer.write(other)
    writer.close(close_fh=False)
    assert not buf.closed
    assert buf.getvalue() == sample.as_marc() + other.as_marc()
    again = list(impl.MARCReader(buf.getvalue()))
    assert [r["001"].data for r in again] == ["ocm12345", "second"]


def test_writer_close_closes_handle(impl, sample):
    buf = io.BytesIO()
    writer = impl.MARCWriter(buf)
    writer.write(sample)
    writer.close()
    assert buf.closed


def test_textwriter(impl, sample):
    other = make_record(impl, [("001", "second")])
    out = io.StringIO()
    writer = impl.TextWriter(out)
    writer.write(sample)
    writer.write(other)
    writer.close(close_fh=False)
    assert out.getvalue() == str(sample) + "\n" + str(other)
    assert out.getvalue().endswith("=001  second\n")


@pytest.mark.parametrize("writer_cls", ["MARCWriter", "TextWriter", "Writer"])
@pytest.mark.parametrize("bad", ["not a record", None, b"00026", "field"])
def test_write_needs_record(impl, writer_cls, bad):
    buf = io.StringIO() if writer_cls == "TextWriter" else io.BytesIO()
    writer = getattr(impl, writer_cls)(buf)
    if bad == "field":
        bad = make_field(impl)
    with pytest.raises(impl.WriteNeedsRecord):
        writer.write(bad)
    assert buf.getvalue() in ("", b"")
    assert issubclass(getattr(impl, writer_cls), impl.Writer)


# ---------------------------------------------------------------------------
# Mutating a real record
# ---------------------------------------------------------------------------


def _mutate(module, rec) -> None:
    rec["245"]["a"] = "Atlas révisé ="
    rec["245"].add_subfield("h", "[texto]", 1)
    rec["001"].data = "NEW-001"
    rec.remove_field(rec.get_fields("650")[1])
    rec.remove_fields("035")
    rec.add_field(
        module.Field(
            tag="999",
            indicators=module.Indicators("f", "f"),
            subfields=[module.Subfield("a", "local"), module.Subfield("b", "ñ")],
        )
    )
    rec.add_ordered_field(module.Field(tag="003", data="DLC"))
    rec.leader.record_status = "c"
    rec.leader[17] = "7"


def test_mutations_reach_as_marc(impl, pymarc_ref, loc_bytes):
    rec = next(iter(impl.MARCReader(loc_bytes)))
    ref = next(iter(pymarc_ref.MARCReader(loc_bytes)))
    _mutate(impl, rec)
    _mutate(pymarc_ref, ref)

    buf = io.BytesIO()
    writer = impl.MARCWriter(buf)
    writer.write(rec)
    writer.close(close_fh=False)
    out = buf.getvalue()
    assert out == ref.as_marc()
    assert int(out[:5]) == len(out)

    again = next(iter(impl.MARCReader(out)))
    assert again["245"].subfields[:3] == [("a", "Atlas révisé ="), ("h", "[texto]"), ("b", "Atlas /")]
    assert again["001"].data == "NEW-001"
    assert tags(again.fields)[:3] == ["001", "003", "005"]
    assert "035" not in again
    assert [f["a"] for f in again.get_fields("650")] == ["Painting, Abstract"]
    assert field_shape(again["999"]) == ("999", ("f", "f"), [("a", "local"), ("b", "ñ")])
    assert again.leader.record_status == "c" and again.leader[17] == "7"
    assert str(again) == str(ref).replace(str(ref.leader), out[:24].decode())


# ---------------------------------------------------------------------------
# MARCReader: normal operation
# ---------------------------------------------------------------------------


def test_reader_from_bytes_and_file_object(impl):
    data = GOOD + GOOD2
    from_bytes = list(impl.MARCReader(data))
    from_file = list(impl.MARCReader(io.BytesIO(data)))
    assert [r.as_marc() for r in from_bytes] == [GOOD, GOOD2]
    assert [r.as_marc() for r in from_file] == [GOOD, GOOD2]
    assert all(isinstance(r, impl.Record) for r in from_bytes + from_file)


def test_reader_is_an_iterator(impl):
    reader = impl.MARCReader(GOOD + GOOD2)
    assert iter(reader) is reader
    first = next(reader)
    assert reader.current_chunk == GOOD and reader.current_exception is None
    assert first["001"].data == "rec1"
    assert next(reader)["001"].data == "rec2"
    assert reader.current_chunk == GOOD2
    with pytest.raises(StopIteration):
        next(reader)
    with pytest.raises(StopIteration):
        next(reader)


def test_reader_close_closes_file_object(impl):
    fh = io.BytesIO(GOOD)
    reader = impl.MARCReader(fh)
    assert next(reader) is not None
    reader.close()
    assert fh.closed


def test_reader_accepts_pymarc_keywords(impl):
    reader = impl.MARCReader(
        GOOD,
        to_unicode=True,
        force_utf8=False,
        hide_utf8_warnings=True,
        utf8_handling="strict",
        file_encoding="iso8859-1",
        permissive=True,
    )
    assert [r["245"]["a"] for r in reader] == ["First title"]


def test_reader_to_unicode_false(impl):
    raw = build_record([("001", "idé"), ("245", df("10", ("a", "Café"), ("b", b"\xff\xfe raw")))])
    (rec,) = list(impl.MARCReader(raw, to_unicode=False))
    assert rec["001"].data == "idé".encode()
    assert rec["245"].subfields == [("a", "Café".encode()), ("b", b"\xff\xfe raw")]
    assert rec["245"].indicators == ("1", "0")
    assert rec.as_marc() == raw
    assert str(rec.leader) == raw[:24].decode()


def test_reader_force_utf8(impl):
    raw = build_record([("001", "idé"), ("245", df("10", ("a", "Café")))], leader=b"00000nam  2200000 a 4500")
    (rec,) = list(impl.MARCReader(raw, force_utf8=True))
    assert rec["001"].data == "idé" and rec["245"]["a"] == "Café"
    assert rec.leader[9] == " "
    out = rec.as_marc()
    assert out == raw[:9] + b"a" + raw[10:]
    assert rec.leader[9] == "a"


@pytest.mark.parametrize(
    ("handling", "expected"),
    [("replace", "Caf\ufffd!"), ("ignore", "Caf!")],
)
def test_reader_utf8_handling(impl, handling, expected):
    raw = build_record([("245", df("10", ("a", b"Caf\xff!")))])
    (rec,) = list(impl.MARCReader(raw, utf8_handling=handling))
    assert rec["245"]["a"] == expected


def test_reader_utf8_strict_fails_one_record_only(impl):
    bad = build_record([("245", df("10", ("a", b"Caf\xff!")))])
    outcomes = read_outcomes(impl, GOOD + bad + GOOD2)
    assert [exc_name(e) for _, e, _ in outcomes] == [None, "UnicodeDecodeError", None]
    assert outcomes[1][0] is None and outcomes[1][2] == bad
    assert outcomes[2][0]["001"].data == "rec2"


def test_reader_invalid_utf8_in_control_field_ignores_utf8_handling(impl):
    # pymarc quirk: control fields are always decoded strictly
    bad = build_record([("001", b"id\xff"), ("245", df("10", ("a", "x")))])
    outcomes = read_outcomes(impl, bad + GOOD, utf8_handling="replace")
    assert [exc_name(e) for _, e, _ in outcomes] == ["UnicodeDecodeError", None]


@pytest.mark.parametrize(
    ("field_data", "indicators", "subfields"),
    [
        (b"\x1faX", (" ", " "), [("a", "X")]),  # missing indicators -> blanks
        (b"1\x1faX", ("1", " "), [("a", "X")]),  # one indicator
        (b"123\x1faX", ("1", "2"), [("a", "X")]),  # pymarc quirk: extra ones dropped
        (b"10\x1f\x1faX\x1f", ("1", "0"), [("a", "X")]),  # pymarc quirk: empty subfields dropped
        (b"10", ("1", "0"), []),
        (b"10\x1fa", ("1", "0"), [("a", "")]),
    ],
)
def test_reader_lenient_field_parsing(impl, field_data, indicators, subfields):
    raw = build_record([("245", field_data)])
    (rec,) = list(impl.MARCReader(raw))
    assert rec["245"].indicators == indicators
    assert rec["245"].subfields == subfields


def test_reader_directory_entry_outside_record(impl):
    # pymarc quirk: the directory is trusted; data past the end is just empty
    raw = build_record([("001", b"id1"), ("245", df("10", ("a", "T")))])
    entry = 24 + 12 + 7  # offset digits of the second directory entry
    raw = raw[:entry] + b"00900" + raw[entry + 5 :]
    (rec,) = list(impl.MARCReader(raw))
    assert [field_shape(f) for f in rec.fields] == [
        ("001", "control", "id1"),
        ("245", (" ", " "), []),
    ]


def test_bad_subfield_code_warning(impl):
    raw = build_record([("245", b"10\x1f\xc3\xa9abc\x1f\xe9def\x1fbok")])
    with pytest.warns(impl.BadSubfieldCodeWarning) as caught:
        (rec,) = list(impl.MARCReader(raw))
    bad = [w for w in caught if issubclass(w.category, impl.BadSubfieldCodeWarning)]
    assert len(bad) == 2
    assert [w.message.subf for w in bad] == [b"\xc3\xa9abc", b"\xe9def"]
    # the code is the ASCII base letter; a UTF-8 code's bytes are all skipped
    assert rec["245"].subfields == [("e", "abc"), ("e", "def"), ("b", "ok")]


def test_no_warning_for_ascii_codes(impl):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(impl.MARCReader(GOOD + GOOD2))) == 2


# ---------------------------------------------------------------------------
# MARCReader: broken input, exactly as pymarc 5.4
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "fileobj"])
@pytest.mark.parametrize("case", READER_CASES.values(), ids=READER_CASES.keys())
def test_reader_error_outcomes(impl, case, as_file):
    stream, expected = case
    source = io.BytesIO(stream) if as_file else stream
    outcomes = read_outcomes(impl, source)
    assert [(exc_name(exc), chunk) for _, exc, chunk in outcomes] == expected
    for item, exc, _ in outcomes:
        if exc is None:
            assert isinstance(item, impl.Record)
        else:
            assert item is None


@pytest.mark.parametrize("name", ["truncated_record_at_end", "non_digit_length_is_fatal", "length_too_long_is_fatal"])
def test_reader_stops_after_fatal_error(impl, name):
    stream, expected = READER_CASES[name]
    reader = impl.MARCReader(stream)
    for _ in expected:
        next(reader)
    assert isinstance(reader.current_exception, impl.FatalReaderError)
    with pytest.raises(StopIteration):
        next(reader)
    with pytest.raises(StopIteration):
        next(reader)


def test_reader_exception_instances(impl):
    reader = impl.MARCReader(with_base(GOOD, b"00000") + BAD_UTF8)
    assert next(reader) is None
    assert isinstance(reader.current_exception, impl.BaseAddressNotFound)
    assert isinstance(reader.current_exception, impl.PymarcException)
    assert not isinstance(reader.current_exception, impl.FatalReaderError)
    assert next(reader) is None
    assert isinstance(reader.current_exception, UnicodeDecodeError)
    assert reader.current_exception.reason == "invalid continuation byte"
