"""Oracle tests: the implementation under test must read real MARC exactly like pymarc 5.4.

Each real file is read by pymarc and by the implementation side by side and
compared record by record. With ``RAPIDMARC_TEST_IMPL=pymarc`` this compares
pymarc with itself, which checks the tests.

MARC-8 is not converted to Unicode by rapidmarc yet, so MARC-8 files are
compared with ``to_unicode=False`` (raw bytes values), structurally, or with
``force_utf8=True`` (which bypasses MARC-8).
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import pytest
from marc_testlib import (
    PYMARC_LOSSY_RECORDS,
    expected_count,
    field_shape,
    first_mismatch,
    fuzz_samples,
    mutated_inputs,
    read_outcomes,
    record_shape,
    skeleton,
    split_records,
)

PROPERTIES = (
    "title",
    "author",
    "isbn",
    "issn",
    "issn_title",
    "issnl",
    "sudoc",
    "uniformtitle",
    "publisher",
    "pubyear",
)
FIELD_LIST_PROPERTIES = (
    "series",
    "subjects",
    "addedentries",
    "location",
    "notes",
    "physicaldescription",
)


@functools.cache
def _records(module, path: str, source: str, kwargs: tuple = ()) -> tuple:
    """Everything ``module.MARCReader`` yields for a file (cached per module)."""
    options = dict(kwargs)
    if source == "path":
        return tuple(module.MARCReader(path, **options))
    with open(path, "rb") as fh:
        return tuple(module.MARCReader(fh, **options))


@pytest.fixture(scope="module", autouse=True)
def _drop_cached_records():
    """Release the cached records when the module is done (keeps memory and
    nanobind's leak report at interpreter exit clean)."""
    yield
    _records.cache_clear()


@pytest.fixture(params=["file", "path"])
def source(request, is_pymarc) -> str:
    """How the implementation is fed: an open binary file, or the path itself."""
    if request.param == "path" and is_pymarc:
        pytest.skip("reading from a path is a rapidmarc addition")
    return request.param


def _pair(pymarc_ref, impl, path: Path, source: str, **kwargs) -> tuple[tuple, tuple]:
    key = tuple(sorted(kwargs.items()))
    expected = _records(pymarc_ref, str(path), "file", key)
    actual = _records(impl, str(path), source, key)
    assert None not in expected, f"pymarc failed to read a record of {path.name}"
    assert len(actual) == len(expected), f"{path.name}: record count differs"
    assert None not in actual, f"{path.name}: record {actual.index(None)} not read"
    return expected, actual


def _assert_same(path: Path, what: str, expected, actual) -> None:
    diff = first_mismatch(expected, actual)
    if diff is not None:
        index, exp, act = diff
        pytest.fail(f"{path.name} record {index}: {what} differs\npymarc: {exp!r}\nimpl:   {act!r}")


# ---------------------------------------------------------------------------
# UTF-8 files, read with the default to_unicode=True
# ---------------------------------------------------------------------------


def test_record_count_matches_file_name(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)
    assert len(expected) == len(actual) == expected_count(utf8_path)
    assert all(r.leader[9] == "a" for r in actual)


def test_leader_and_fields(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)
    _assert_same(utf8_path, "str(leader)", [str(r.leader) for r in expected], [str(r.leader) for r in actual])
    _assert_same(utf8_path, "fields", [record_shape(r) for r in expected], [record_shape(r) for r in actual])
    for rec in actual:
        for field in rec.fields:
            assert isinstance(field.tag, str)
            if field.control_field:
                assert isinstance(field.data, str)
                assert field.indicators is None
                assert field.subfields == []
            else:
                assert isinstance(field.indicators, tuple)
                assert field.indicators == (field.indicator1, field.indicator2)
                for sf in field.subfields:
                    assert isinstance(sf, tuple) and isinstance(sf.value, str)


def test_str_of_records_and_fields(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)
    _assert_same(utf8_path, "str(record)", [str(r) for r in expected], [str(r) for r in actual])
    _assert_same(
        utf8_path,
        "str(field)",
        [[str(f) for f in r.fields] for r in expected],
        [[str(f) for f in r.fields] for r in actual],
    )


def test_properties(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)
    for name in PROPERTIES:
        _assert_same(utf8_path, name, [getattr(r, name) for r in expected], [getattr(r, name) for r in actual])
    for name in FIELD_LIST_PROPERTIES:
        _assert_same(
            utf8_path,
            name,
            [[field_shape(f) for f in getattr(r, name)] for r in expected],
            [[field_shape(f) for f in getattr(r, name)] for r in actual],
        )


def test_field_value_and_format_field(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)

    def view(rec):
        return [(f.tag, f.value(), f.format_field(), f.is_control_field()) for f in rec.fields]

    _assert_same(utf8_path, "value()/format_field()", [view(r) for r in expected], [view(r) for r in actual])


def test_as_dict_and_as_json(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)
    _assert_same(utf8_path, "as_dict()", [r.as_dict() for r in expected], [r.as_dict() for r in actual])
    _assert_same(utf8_path, "as_json()", [r.as_json() for r in expected], [r.as_json() for r in actual])
    # as_json passes keyword arguments through to json.dumps
    assert actual[0].as_json(indent=2, sort_keys=True) == expected[0].as_json(indent=2, sort_keys=True)
    assert json.loads(actual[0].as_json()) == actual[0].as_dict()


def test_as_marc_round_trips(pymarc_ref, impl, utf8_path, source):
    expected, actual = _pair(pymarc_ref, impl, utf8_path, source)
    chunks = split_records(utf8_path.read_bytes())
    _assert_same(utf8_path, "as_marc() vs pymarc", [r.as_marc() for r in expected], [r.as_marc() for r in actual])
    lossy = PYMARC_LOSSY_RECORDS.get(utf8_path.name, frozenset())
    for i, (rec, chunk) in enumerate(zip(actual, chunks, strict=True)):
        if i in lossy:
            # pymarc drops data of this record on reading; compatibility wins
            assert expected[i].as_marc() != chunk
        else:
            assert rec.as_marc() == chunk, f"{utf8_path.name} record {i}: as_marc() != input"


def test_reading_bytes_equals_reading_file(pymarc_ref, impl, utf8_path):
    expected = _records(pymarc_ref, str(utf8_path), "file")
    actual = list(impl.MARCReader(utf8_path.read_bytes()))
    assert [r.as_marc() for r in actual] == [r.as_marc() for r in expected]


# ---------------------------------------------------------------------------
# Every real file (MARC-8 included), read with to_unicode=False
# ---------------------------------------------------------------------------


def test_raw_structure(pymarc_ref, impl, real_path, source):
    expected, actual = _pair(pymarc_ref, impl, real_path, source, to_unicode=False)
    assert len(actual) == expected_count(real_path)
    _assert_same(real_path, "raw fields", [record_shape(r) for r in expected], [record_shape(r) for r in actual])
    for rec in actual:
        for field in rec.fields:
            if field.control_field:
                assert isinstance(field.data, bytes)
            else:
                assert all(isinstance(sf.value, bytes) and isinstance(sf.code, str) for sf in field.subfields)


def test_raw_as_marc_round_trips(pymarc_ref, impl, real_path, source):
    expected, actual = _pair(pymarc_ref, impl, real_path, source, to_unicode=False)
    chunks = split_records(real_path.read_bytes())
    _assert_same(real_path, "raw as_marc() vs pymarc", [r.as_marc() for r in expected], [r.as_marc() for r in actual])
    lossy = PYMARC_LOSSY_RECORDS.get(real_path.name, frozenset())
    for i, (rec, chunk) in enumerate(zip(actual, chunks, strict=True)):
        if i in lossy:
            assert expected[i].as_marc() != chunk
        else:
            assert rec.as_marc() == chunk, f"{real_path.name} record {i}: as_marc() != input"
    # to_unicode=False leaves leader/09 alone
    assert [str(r.leader) for r in actual] == [c[:24].decode("ascii") for c in chunks]


def test_marc8_structure_with_default_options(pymarc_ref, impl, marc8_path):
    """Without to_unicode=False only the structure is comparable (no MARC-8 yet)."""
    expected, actual = _pair(pymarc_ref, impl, marc8_path, "file")
    assert len(actual) == expected_count(marc8_path)
    assert all(r.leader[9] == " " for r in actual)
    _assert_same(marc8_path, "structure", [skeleton(r) for r in expected], [skeleton(r) for r in actual])


def test_force_utf8_on_every_real_file(pymarc_ref, impl, real_path):
    """force_utf8 decodes even MARC-8 files as UTF-8: same records, same failures."""
    data = real_path.read_bytes()
    expected = read_outcomes(pymarc_ref, data, force_utf8=True)
    actual = read_outcomes(impl, data, force_utf8=True)
    _assert_outcomes_equal(real_path, expected, actual)


# ---------------------------------------------------------------------------
# Broken / odd real data from shared/data/edge
# ---------------------------------------------------------------------------


def _outcome_view(outcomes):
    return [(exc.__name__ if exc else None, record_shape(rec) if rec is not None else None) for rec, exc, _ in outcomes]


def _assert_outcomes_equal(path: Path, expected, actual) -> None:
    assert len(actual) == len(expected), f"{path.name}: number of items differs"
    _assert_same(path, "outcome (exception, record)", _outcome_view(expected), _outcome_view(actual))
    _assert_same(
        path,
        "current_chunk",
        [chunk for _, _, chunk in expected],
        [chunk for _, _, chunk in actual],
    )


EDGE_COMPAT = [
    ("invalid_utf8_383.mrc", {}),
    ("invalid_utf8_383.mrc", {"utf8_handling": "replace"}),
    ("invalid_utf8_383.mrc", {"utf8_handling": "ignore"}),
    ("invalid_utf8_383.mrc", {"to_unicode": False}),
    ("invalid_utf8_383_fixed.mrc", {}),
    ("invalid_utf8_383_fixed.mrc", {"to_unicode": False}),
    ("mislabelled_utf8_as_marc8_52.mrc", {"force_utf8": True}),
    ("mislabelled_utf8_as_marc8_52.mrc", {"to_unicode": False}),
    ("structural_errors_5.mrc", {"to_unicode": False}),
    ("structural_errors_5.mrc", {"force_utf8": True}),
]


@pytest.mark.parametrize(
    ("name", "options"),
    EDGE_COMPAT,
    ids=[f"{n[:-4]}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for n, o in EDGE_COMPAT],
)
def test_edge_files_like_pymarc(pymarc_ref, impl, data_dir, name, options):
    path = data_dir / "edge" / name
    if not path.is_file():
        pytest.skip(f"missing {path}")
    data = path.read_bytes()
    expected = read_outcomes(pymarc_ref, data, **options)
    actual = read_outcomes(impl, data, **options)
    _assert_outcomes_equal(path, expected, actual)


def test_invalid_utf8_counts(impl, data_dir):
    """Pin pymarc's numbers so the oracle comparison cannot be vacuous."""
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not path.is_file():
        pytest.skip(f"missing {path}")
    outcomes = read_outcomes(impl, path.read_bytes())
    kinds = [exc.__name__ if exc else "ok" for _, exc, _ in outcomes]
    assert len(kinds) == 383
    assert kinds.count("ok") == 298
    assert kinds.count("UnicodeDecodeError") == 69
    assert kinds.count("RecordDirectoryInvalid") == 16
    replaced = read_outcomes(impl, path.read_bytes(), utf8_handling="replace")
    assert sum(exc is None for _, exc, _ in replaced) == 367


# ---------------------------------------------------------------------------
# Differential fuzzing: corrupted real records, read by both
# ---------------------------------------------------------------------------

FUZZ_OPTIONS = [{"to_unicode": False}, {"force_utf8": True}, {"force_utf8": True, "utf8_handling": "replace"}]


def _as_marc_or_error(record) -> bytes | ValueError:
    try:
        return record.as_marc()
    except ValueError as refused:  # rapidmarc refuses what ISO 2709 cannot carry; pymarc writes it
        return refused


_STRUCTURAL = ("\x1d", "\x1e", "\x1f")


def _has_structural(value) -> bool:
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return any(c in text for c in _STRUCTURAL)


def _justified(refusal: ValueError, reference: bytes, record) -> bool:
    """True when rapidmarc's refusal to write `record` names a real problem with what pymarc wrote
    (`reference`): a record or field too long, a tag holding a delimiter or terminator, or the named
    field holding one in its data, an indicator, a subfield code or value, or an indicator or code
    that is not one ASCII character."""
    if len(reference) > 99_999 or max(len(f.as_marc("utf-8")) for f in record.fields) > 9_999:
        return True
    message = str(refusal)
    if message.startswith("tag "):
        return any(_has_structural(f.tag) for f in record.fields)
    for field in record.fields:
        if not message.startswith(f"field {field.tag}:"):
            continue
        if field.is_control_field():
            values = [field.data]
        else:
            values = [*field.indicators, *(part for sf in field.subfields for part in sf)]
            singles = [*field.indicators, *(sf.code for sf in field.subfields)]
            if any(len(v) != 1 or not v.isascii() for v in singles):
                return True  # an indicator or code that is not one ASCII byte
        if any(_has_structural(v) for v in values):
            return True
    return False


@pytest.mark.parametrize("options", FUZZ_OPTIONS, ids=["raw", "force_utf8", "force_utf8-replace"])
def test_corrupted_records_like_pymarc(pymarc_ref, impl, data_dir, options):
    """200 mutated streams: same records, same None/exception/chunk as pymarc.

    force_utf8 keeps MARC-8 conversion (not implemented by rapidmarc yet) out
    of the comparison even when a mutation hits leader/09.
    """
    inputs = mutated_inputs(seed=1709, count=200, samples=fuzz_samples(data_dir))
    for i, data in enumerate(inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = read_outcomes(pymarc_ref, data, **options)
            actual = read_outcomes(impl, data, **options)
        context = f"input {i} ({len(data)} bytes, starts {data[:40]!r})"
        assert _outcome_view(actual) == _outcome_view(expected), context
        assert [c for _, _, c in actual] == [c for _, _, c in expected], context
        for (exp_rec, _, _), (act_rec, _, _) in zip(expected, actual, strict=True):
            if exp_rec is None:
                continue
            written = _as_marc_or_error(act_rec)
            reference = exp_rec.as_marc()
            if isinstance(written, ValueError):
                assert _justified(written, reference, exp_rec), (context, str(written))
            else:
                assert written == reference, context
