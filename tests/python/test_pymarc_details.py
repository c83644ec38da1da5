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
