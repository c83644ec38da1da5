"""Every reading entry point takes the same reading keywords, and each one means the same everywhere.

``MARCReader``, ``count``, ``extract``, ``extract_arrow``, ``convert``, ``read_range`` and
``parse_records`` build one ``ReadOptions`` from the same keywords (rapidmarc/options.py). Here each
option setting is applied, on an input where it really changes what ``MARCReader`` yields, to every
entry point, whose result must then be what ``MARCReader`` yields with that setting: the oracle for
each entry point is derived, in Python, from ``MARCReader``'s items with the same options.

Where an entry point documents that it refuses a setting, it must raise a ValueError naming the
option. Two documented differences shape the oracles: ``convert(to="marc")`` writes the good records'
bytes (``MARCReader.current_chunk``), where ``MARCWriter`` would re-encode MARC-8 records as
``as_marc()`` does, and
``read_range`` ignores ``recover`` and reports a framing error with ``clean=False`` rather than as an item.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import warnings
from functools import cache
from pathlib import Path

import pytest
import rapidmarc
from marc_testlib import record_shape, split_records

pytestmark = pytest.mark.rapidmarc_only

KEYWORDS = (
    "to_unicode", "force_utf8", "utf8_handling", "file_encoding", "encoding", "strict", "recover", "workers",
    "marc8_mapping",
)  # fmt: skip
BULK = ("count", "extract", "extract_arrow", "convert", "read_range", "parse_records")
SPECS = ["LDR", "001", "245", "245$a", "650$ax", "6XX$a"]
JUNK = (b"garbage" * 3)[:18]
FRAMING_ERRORS = (rapidmarc.RecordLengthInvalid, rapidmarc.EndOfRecordNotFound, rapidmarc.TruncatedRecord)

# id: (the reading keywords under test, the input they matter on)
SETTINGS = {
    "to_unicode=False-marc8": ({"to_unicode": False}, "marc8"),
    "to_unicode=False-invalid_utf8": ({"to_unicode": False}, "invalid_utf8"),
    "force_utf8": ({"force_utf8": True}, "marc8"),
    "marc8_mapping=pymarc": ({"marc8_mapping": "pymarc"}, "marc8"),
    "utf8_handling=replace": ({"utf8_handling": "replace"}, "invalid_utf8"),
    "utf8_handling=ignore": ({"utf8_handling": "ignore"}, "invalid_utf8"),
    "file_encoding=cp1252": ({"file_encoding": "cp1252"}, "marc8"),
    "encoding=auto-mislabelled": ({"encoding": "auto"}, "mislabelled"),
    "encoding=auto-invalid_utf8": ({"encoding": "auto"}, "invalid_utf8"),
    "strict-invalid_utf8": ({"strict": True}, "invalid_utf8"),
    "strict-junk": ({"strict": True}, "junk"),
    "recover": ({"recover": True}, "junk"),
    "workers=0": ({"workers": 0}, "mixed"),
    "workers=2": ({"workers": 2}, "mixed"),
}
ENTRY_POINTS = (
    "MARCReader",
    "count",
    "extract",
    "extract_arrow",
    "convert-xml",
    "convert-json",
    "convert-marc",
    "read_range",
    "parse_records",
)


# ---------------------------------------------------------------------------
# 1. Signatures
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ("MARCReader", *BULK))
def test_every_entry_point_takes_every_reading_keyword_with_the_options_default(name):
    defaults = {name: p.default for name, p in inspect.signature(rapidmarc.ReadOptions).parameters.items()}
    assert set(KEYWORDS) == set(defaults)
    params = inspect.signature(getattr(rapidmarc, name)).parameters
    for keyword in KEYWORDS:
        assert keyword in params, f"{name}() has no {keyword!r}"
        expected = (1 if name == "MARCReader" else None) if keyword == "workers" else defaults[keyword]
        default = params[keyword].default
        assert default == expected and type(default) is type(expected), (name, keyword, default, expected)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(data_dir, tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("options")
    real, edge = data_dir / "real", data_dir / "edge"
    uva = (real / "uva_2000.mrc").read_bytes()
    marc8 = tmp / "uva_first_300.mrc"
    marc8.write_bytes(b"".join(split_records(uva)[:300]))
    loc = split_records((real / "loc_386.mrc").read_bytes())[:100]
    junk = tmp / "loc_100_with_junk_after_3.mrc"
    junk.write_bytes(b"".join(loc[:3]) + JUNK + b"".join(loc[3:]))
    mixed = tmp / "uva_1200_then_invalid_utf8_383.mrc"  # two ~1 MiB batches, bad records among them
    mixed.write_bytes(b"".join(split_records(uva)[:1200]) + (edge / "invalid_utf8_383.mrc").read_bytes())
    return {
        "marc8": marc8,
        "invalid_utf8": edge / "invalid_utf8_383.mrc",
        "mislabelled": edge / "mislabelled_utf8_as_marc8_52.mrc",
        "junk": junk,
        "mixed": mixed,
    }


# ---------------------------------------------------------------------------
# MARCReader, the oracle
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Reading:
    """What MARCReader yielded: every item, and the bytes and exception it reported with each."""

    items: list
    views: list  # _view of each item
    raw: list  # raw[i]: current_chunk after item i (its bytes; leader/09 corrected by encoding="auto")
    exceptions: list  # exceptions[i]: current_exception after item i
    error: BaseException | None = None  # strict: what it raised


@cache
def _read(path: str, options: tuple) -> Reading:
    kwargs = dict(options)
    items, raw, exceptions = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = rapidmarc.MARCReader(path, **kwargs)
        try:
            for item in reader:
                items.append(item)
                raw.append(reader.current_chunk)
                exceptions.append(reader.current_exception)
        except Exception as exc:  # strict mode
            return Reading(items, _views(items), raw, exceptions, exc)
    return Reading(items, _views(items), raw, exceptions)


def reading(path: Path, **kwargs) -> Reading:
    return _read(str(path), tuple(sorted(kwargs.items())))


def _view(item):
    """A record as plain data (its leader and fields), or None. (Not as_marc(): as in pymarc, it sets
    leader/09 to 'a' in the record it serialises.)"""
    return None if item is None else record_shape(item)


def _views(items) -> list:
    return [_view(item) for item in items]


def _tag_matches(pattern: str, tag: str) -> bool:
    return len(tag) == 3 and all(p in "Xx" or p == t for p, t in zip(pattern, tag, strict=True))


def _field_value(field, binary: bool):
    """Field.value() (every subfield stripped, joined by one space); the same on bytes."""
    if binary:
        return b" ".join(sf.value.strip() for sf in field.subfields)
    return field.value()


def _values(record, spec: str, binary: bool) -> list:
    """What a field spec selects in a record (include/rapidmarc/select.hpp), computed from the Record."""
    if spec == "LDR":
        leader = str(record.leader)
        return [leader.encode("latin-1") if binary else leader]
    tag, _, codes = spec.partition("$")
    out = []
    for field in record.fields:
        if not _tag_matches(tag, field.tag):
            continue
        if field.control_field:
            if not codes:
                out.append(field.data)
        elif not codes:
            out.append(_field_value(field, binary))
        else:
            out.extend(sf.value for sf in field.subfields if sf.code in codes)
    return out


def _columns(items, binary: bool) -> dict[str, list]:
    good = [item for item in items if item is not None]
    return {spec: [_values(record, spec, binary) for record in good] for spec in SPECS}


def _column_mismatches(got: dict, expected: dict) -> dict:
    """Per spec, the first row where ``got`` differs from ``expected`` (empty: equal)."""
    out = {}
    for spec, column in expected.items():
        if spec not in got:
            out[spec] = "missing"
        elif len(got[spec]) != len(column):
            out[spec] = f"{len(got[spec])} rows, expected {len(column)}"
        else:
            for row, (a, b) in enumerate(zip(got[spec], column, strict=True)):
                if a != b:
                    out[spec] = (row, a, b)
                    break
    if set(got) != set(expected):
        out["names"] = (sorted(got), sorted(expected))
    return out


def _written(items, kind: str) -> bytes:
    """What rapidmarc's writer for ``kind`` writes for MARCReader's good records."""
    records = [item for item in items if item is not None]
    out = io.StringIO() if kind == "json" else io.BytesIO()
    writer = {"json": rapidmarc.JSONWriter, "xml": rapidmarc.XMLWriter, "marc": rapidmarc.MARCWriter}[kind](out)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    value = out.getvalue()
    return value.encode() if kind == "json" else value


def _first_difference(got: list, expected: list):
    if len(got) != len(expected):
        return f"{len(got)} items, expected {len(expected)}"
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        if a != b:
            return i, a, b
    return None


# ---------------------------------------------------------------------------
# 2. Each option, on each entry point
# ---------------------------------------------------------------------------


def _call(entry: str, path: Path, kwargs: dict):
    """Run one entry point on ``path`` with the reading keywords ``kwargs``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if entry == "MARCReader":
            return list(rapidmarc.MARCReader(str(path), **kwargs))
        if entry == "count":
            return rapidmarc.count(str(path), **kwargs)
        if entry == "extract":
            return rapidmarc.extract(str(path), SPECS, **kwargs)
        if entry == "extract_arrow":
            pa = pytest.importorskip("pyarrow")
            return pa.table(rapidmarc.extract_arrow(str(path), SPECS, **kwargs)).to_pydict()
        if entry.startswith("convert-"):
            out = io.BytesIO()
            result = rapidmarc.convert(str(path), out, to=entry.split("-")[1], **kwargs)
            return result, out.getvalue()
        if entry == "read_range":
            return rapidmarc.read_range(str(path), 0, path.stat().st_size, **kwargs)
        if entry == "parse_records":
            return rapidmarc.parse_records(path.read_bytes(), **kwargs)
    raise AssertionError(entry)


def _refused(entry: str, kwargs: dict) -> str | None:
    """The option an entry point documents it refuses with this setting, if any."""
    native_text = entry in ("extract", "extract_arrow") or entry.startswith("convert-")
    if native_text and kwargs.get("file_encoding", "iso8859-1") != "iso8859-1":
        return "file_encoding"
    if entry in ("convert-xml", "convert-json") and kwargs.get("to_unicode", True) is False:
        return "to_unicode"
    return None


def _assert_the_option_matters(path: Path, kwargs: dict) -> None:
    """The setting changes what MARCReader yields on this input (else the test would prove nothing)."""
    with_option = reading(path, **kwargs)
    if "workers" in kwargs:  # workers never changes a result: it must not here either
        baseline = reading(path, workers=1)
        assert with_option.error is None and baseline.error is None
        assert with_option.views == baseline.views
        assert with_option.raw == baseline.raw
        assert any(item is None for item in baseline.items) and path.stat().st_size > 1 << 20
        return
    without = reading(path)
    assert without.error is None
    if "strict" in kwargs:
        assert with_option.error is not None and any(item is None for item in without.items)
        return
    assert with_option.error is None
    assert with_option.views != without.views, f"{kwargs} changes nothing on {path.name}"


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_an_option_changes_every_entry_point_as_it_changes_the_reader(inputs, setting, entry):
    kwargs, input_name = SETTINGS[setting]
    path = inputs[input_name]
    _assert_the_option_matters(path, kwargs)

    refused = _refused(entry, kwargs)
    if refused is not None:
        with pytest.raises(ValueError, match=refused):
            _call(entry, path, kwargs)
        return

    expected = reading(path, **kwargs)
    if expected.error is not None:  # strict: the same exception, for the same record
        first_bad = reading(path, **{k: v for k, v in kwargs.items() if k != "strict"}).items.index(None)
        assert getattr(expected.error, "record_index", None) == first_bad
        with pytest.raises(type(expected.error)) as raised:
            _call(entry, path, kwargs)
        assert type(raised.value) is type(expected.error)
        assert raised.value.record_index == expected.error.record_index
        return

    items = expected.items
    framing_stopped = False
    if entry == "read_range":
        # Documented: a range's framing stops at the first framing error whatever recover says, and
        # says so with clean=False instead of listing it (a range cannot tell damage from its start).
        expected = reading(path, **{k: v for k, v in kwargs.items() if k != "recover"})
        items = expected.items
        framing_stopped = bool(items) and isinstance(expected.exceptions[-1], FRAMING_ERRORS)
        if framing_stopped:
            items = items[:-1]
    views = expected.views[: len(items)]
    good = [item for item in items if item is not None]
    bad = len(items) - len(good)
    binary = kwargs.get("to_unicode", True) is False
    got = _call(entry, path, kwargs)

    if entry == "MARCReader":  # a path, bytes and a file object give the same items
        assert _views(got) == views
        data = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert _views(rapidmarc.MARCReader(data, **kwargs)) == views
            with open(path, "rb") as fh:
                assert _views(rapidmarc.MARCReader(fh, **kwargs)) == views
    elif entry == "count":
        assert got == len(good)
    elif entry in ("extract", "extract_arrow"):
        assert _column_mismatches(got, _columns(items, binary)) == {}
    elif entry.startswith("convert-"):
        kind = entry.split("-")[1]
        result, text = got
        assert (result.records, result.bad, result.unconvertible) == (len(good), bad, 0)
        if kind == "marc":  # the good records' bytes, as the reader gives them (not re-encoded by as_marc())
            wanted = b"".join(raw for item, raw in zip(items, expected.raw, strict=True) if item is not None)
            if binary:  # records kept as bytes: MARCWriter writes the same
                assert _written(items, "marc") == wanted
        else:
            wanted = _written(items, kind)
        if text != wanted:
            pairs = enumerate(zip(text, wanted, strict=False))
            at = next((i for i, (a, b) in pairs if a != b), min(len(text), len(wanted)))
            around = slice(max(0, at - 60), at + 60)
            pytest.fail(f"convert({kind}) differs at byte {at}: {text[around]!r} != {wanted[around]!r}")
    elif entry == "read_range":
        assert _first_difference(_views(got.records), views) is None
        assert len(got.errors) == bad
        assert got.clean == (not framing_stopped)
    elif entry == "parse_records":
        assert _first_difference(_views(got), views) is None


# ---- regressions found by an adversarial review of the options change (each failed before its fix)


def test_utf8_handling_does_not_loosen_a_file_encoding_codec(pymarc_ref):
    """pymarc decodes records that are not UTF-8 with file_encoding strictly, whatever
    utf8_handling says: the bad record is None with UnicodeDecodeError, not text with U+FFFD."""
    from marc_testlib import build_record, df

    raw = build_record([("001", b"x"), ("245", df("10", ("a", b"caf\xe9")))], leader=b"00000nam  2200000 a 4500")
    for handling in ("replace", "ignore"):
        for module in (rapidmarc, pymarc_ref):
            reader = module.MARCReader(raw, file_encoding="utf-8", utf8_handling=handling)
            assert next(iter(reader)) is None, (module.__name__, handling)
            assert isinstance(reader.current_exception, UnicodeDecodeError)
        assert rapidmarc.count(raw, file_encoding="utf-8", utf8_handling=handling) == 0


def test_an_unknown_file_encoding_fails_only_when_a_record_needs_it(data_dir, pymarc_ref):
    path = data_dir / "real" / "loc_386.mrc"  # UTF-8 records: the codec is never used
    for module in (rapidmarc, pymarc_ref):
        assert sum(r is not None for r in module.MARCReader(path.read_bytes(), file_encoding="no-such-codec")) == 386
    assert rapidmarc.count(path, file_encoding="no-such-codec") == 386
    marc8 = (data_dir / "real" / "uva_2000.mrc").read_bytes()
    reader = rapidmarc.MARCReader(marc8, file_encoding="no-such-codec")
    assert next(iter(reader)) is None and isinstance(reader.current_exception, LookupError)


def test_encoding_auto_leaves_a_bad_records_chunk_as_read():
    from marc_testlib import build_record

    # leader/09 says UTF-8, the bytes are not; the indicator is not ASCII, so the record is bad.
    bad = build_record([("001", b"x"), ("245", b"\xe9 \x1faCaf\xe9")])
    reader = rapidmarc.MARCReader(bad, encoding="auto")
    assert next(iter(reader)) is None
    assert reader.current_chunk == bad
    assert reader.corrected_records == []


def test_bad_subfield_code_warnings_point_at_the_callers_line():
    from marc_testlib import build_record

    raw = build_record([("245", b"10\x1f\xc3\xa9abc")])
    calls = {
        "MARCReader": lambda: list(rapidmarc.MARCReader(raw)),
        "Record": lambda: rapidmarc.Record(data=raw),
        "parse_records": lambda: rapidmarc.parse_records(raw),
        "read_range": lambda: rapidmarc.read_range(raw, 0, len(raw)),
    }
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        found = [w for w in caught if issubclass(w.category, rapidmarc.BadSubfieldCodeWarning)]
        assert len(found) == 1, name
        assert found[0].filename == __file__, (name, found[0].filename)


@pytest.mark.parametrize("workers", [2**31, 2**40, -1, True, 1.5, "2"])
def test_workers_out_of_range_or_of_the_wrong_type_is_a_value_error(workers, loc_bytes):
    with pytest.raises(ValueError, match="workers"):
        rapidmarc.count(loc_bytes, workers=workers)
    with pytest.raises(ValueError, match="workers"):
        rapidmarc.MARCReader(loc_bytes, workers=workers)


def test_an_interrupt_while_building_a_record_stops_the_reader():
    """KeyboardInterrupt raised from a warning handler is not the record's error: it propagates."""
    from marc_testlib import build_record

    raw = build_record([("245", b"10\x1f\xc3\xa9abc")]) * 2

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    calls = {
        "MARCReader": lambda: list(rapidmarc.MARCReader(raw)),
        "parse_records": lambda: rapidmarc.parse_records(raw),
        "read_range": lambda: rapidmarc.read_range(raw, 0, len(raw)),
    }
    for call in calls.values():
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = interrupt
            with pytest.raises(KeyboardInterrupt):
                call()


def test_every_entry_point_rejects_a_code_that_folds_to_nothing_as_the_reader_does():
    """Issue #11 item 5: a subfield code that is a non-ASCII character with nothing after it (the
    UTF-8 of 树 after a delimiter): MARCReader(strict=True) raises pymarc's IndexError; every bulk
    call must raise it too, at the same record, and skip the same record otherwise."""
    from marc_testlib import build_record

    good = build_record([("001", b"x"), ("245", b"10\x1faTitle")])
    bad = build_record([("001", b"y"), ("245", b"10\x1faTitle\x1f" + "树".encode())])
    data = good + bad + good
    calls = {
        "MARCReader": lambda **kw: sum(r is not None for r in rapidmarc.MARCReader(data, **kw)),
        "count": lambda **kw: rapidmarc.count(data, **kw),
        "extract": lambda **kw: len(rapidmarc.extract(data, ["001"], **kw)["001"]),
        "extract_arrow": lambda **kw: len(rapidmarc.extract_arrow(data, ["001"], **kw)),
        "convert": lambda **kw: rapidmarc.convert(data, io.BytesIO(), to="xml", **kw).records,
        "parse_records": lambda **kw: sum(r is not None for r in rapidmarc.parse_records(data, **kw)),
        "read_range": lambda **kw: sum(r is not None for r in rapidmarc.read_range(data, 0, len(data), **kw).records),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rapidmarc.BadSubfieldCodeWarning)
        for name, call in calls.items():
            assert call() == 2, name
            with pytest.raises(IndexError) as raised:
                call(strict=True)
            assert raised.value.record_index == 1, name


@pytest.mark.parametrize("where", ["leader", "directory"])
def test_a_non_ascii_leader_or_directory_gives_pymarcs_exact_error(where, pymarc_ref):
    """Issue #11 item 8: the UnicodeDecodeError names the byte and its position, as pymarc's
    (it said "position 0--1"), from the reader and from every strict bulk call alike."""
    from marc_testlib import build_record

    raw = build_record([("001", b"x"), ("245", b"10\x1faT")])
    at = 6 if where == "leader" else 26
    bad = raw[:at] + b"\xe9" + raw[at + 1 :]
    messages = set()
    for module in (rapidmarc, pymarc_ref):
        reader = module.MARCReader(bad)
        assert next(iter(reader)) is None
        messages.add(str(reader.current_exception))
    for call in (rapidmarc.count, rapidmarc.parse_records):
        with pytest.raises(UnicodeDecodeError) as raised:
            call(bad, strict=True)
        messages.add(str(raised.value))
    assert len(messages) == 1, messages
    assert "0xe9 in position" in messages.pop()


def test_a_lone_surrogate_to_marc8_is_pythons_unicode_encode_error():
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        rapidmarc.unicode_to_marc8("a\ud800b")
