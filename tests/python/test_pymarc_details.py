"""Small behaviours where rapidmarc differed from pymarc 5.4 (issue #11 item 10), each checked
against pymarc itself."""

from __future__ import annotations

import json

import pytest
import rapidmarc
from marc_testlib import build_record

pytestmark = pytest.mark.rapidmarc_only


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as exc:  # the class and the arguments are what must agree
        return (type(exc).__name__, exc.args)


def test_a_missing_tag_raises_keyerror_as_pymarc(pymarc_ref):
    raw = build_record([("001", b"x"), ("245", b"10\x1faT")])
    outcomes = {
        module.__name__: _outcome(lambda m=module: next(iter(m.MARCReader(raw)))["999"])
        for module in (rapidmarc, pymarc_ref)
    }
    assert outcomes["rapidmarc"] == outcomes["pymarc"] == ("KeyError", ())


def test_str_of_an_empty_control_field_without_to_unicode(pymarc_ref):
    raw = build_record([("001", b"ab c"), ("003", b""), ("245", b"10\x1faT")])
    for tag in ("001", "003", "245"):
        outcomes = [
            _outcome(lambda m=module, t=tag: str(next(iter(m.MARCReader(raw, to_unicode=False)))[t]))
            for module in (rapidmarc, pymarc_ref)
        ]
        assert outcomes[0] == outcomes[1], tag
    assert str(next(iter(rapidmarc.MARCReader(raw, to_unicode=False)))["003"]) == "=003  "


@pytest.mark.parametrize(
    "field",
    [{"245": 5}, {"245": None}, {"245": {"ind1": " ", "ind2": " ", "subfields": [{"a": 5}]}}, {"001": "x"}],
    ids=["int", "null", "int-subfield", "control"],
)
def test_json_reader_accepts_and_refuses_what_pymarc_does(pymarc_ref, field):
    doc = json.dumps([{"leader": "x" * 24, "fields": [field]}])
    outcomes = [_outcome(lambda m=module: [str(r) for r in m.JSONReader(doc)]) for module in (rapidmarc, pymarc_ref)]
    assert outcomes[0][0] == outcomes[1][0], outcomes
    if outcomes[0][0] == "ok":
        assert outcomes[0] == outcomes[1]


def test_records_refuse_new_attributes_and_weak_references_as_pymarc_records_do(pymarc_ref):
    import weakref

    raw = build_record([("001", b"x"), ("245", b"10\x1faT")])
    outcomes = {}
    for module in (rapidmarc, pymarc_ref):
        record = next(iter(module.MARCReader(raw)))
        outcomes[module.__name__] = (
            _outcome(lambda r=record: setattr(r, "source_file", "x"))[0],  # pymarc's Record has __slots__
            _outcome(lambda r=record: weakref.ref(r))[0],
        )
    assert outcomes["rapidmarc"] == outcomes["pymarc"] == ("AttributeError", "TypeError")


def test_a_record_in_a_cycle_through_a_subclass_attribute_is_collected():
    import gc
    import weakref

    class Tagged(rapidmarc.Record):
        pass

    record = Tagged(build_record([("245", b"10\x1faT")]))
    record.myself = record
    ref = weakref.ref(record)  # a subclass without __slots__ has __dict__ and __weakref__
    del record
    gc.collect()
    assert ref() is None


def test_record_subclasses_as_pymarc_allows_them(pymarc_ref):
    for module in (rapidmarc, pymarc_ref):

        class Slotted(module.Record):
            __slots__ = ("origin",)

        class Annotated(module.Record):
            def __init__(self, note: str, **kwargs) -> None:
                super().__init__(**kwargs)
                self.note = note

            @property
            def short_title(self) -> str:
                return (self.title or "")[:3]

        slotted = Slotted()
        slotted.origin = "x"
        assert slotted.origin == "x" and slotted.fields == []
        annotated = Annotated("n", data=build_record([("245", b"10\x1faTitle")]))
        assert (annotated.note, annotated.title, annotated.short_title) == ("n", "Title", "Tit")
        assert isinstance(annotated, module.Record)


def test_record_constructor_flags_take_any_truth_value_as_pymarc(pymarc_ref):
    raw = build_record([("245", b"10\x1faT\xc3\xa9")], leader=b"00000nam a2200000 a 4500")
    for module in (rapidmarc, pymarc_ref):
        assert module.Record(raw, to_unicode=1).title == "T\u00e9"
        assert module.Record(raw, to_unicode=0)["245"]["a"] == b"T\xc3\xa9"
        assert bool(module.Record(force_utf8=[1]).force_utf8)
