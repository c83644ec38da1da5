"""MARCspec selection, column shapes, record and offset columns and skipped-record accounting of
``extract`` and ``extract_arrow``, checked against values computed with pymarc on the real corpus.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from marc_testlib import build_record, df

pytestmark = pytest.mark.rapidmarc_only


def _pymarc_records(pymarc_ref, path) -> list:
    """Every item pymarc's MARCReader yields for the file (None for a bad record)."""
    with open(path, "rb") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(pymarc_ref.MARCReader(fh))


def _chars(text: str, first: int, last: int | None) -> list[str]:
    """MARCspec's /first-last of one value (last None: '#'), as a list of zero or one value."""
    if first >= len(text):
        return []
    return [text[first:] if last is None else text[first : last + 1]]


def _subfields(field, codes: str) -> list[str]:
    return [sf.value for sf in field.subfields if sf.code in codes]


def _fields(record, prefix: str) -> list:
    return [f for f in record.fields if f.tag.startswith(prefix)]


# Each spec with the values pymarc gives for it, record by record.
REFERENCE: dict[str, Callable] = {
    "LDR/6": lambda r: [str(r.leader)[6]],
    "LDR/5-7": lambda r: [str(r.leader)[5:8]],
    "008/7-10": lambda r: [v for f in r.get_fields("008") for v in _chars(f.data, 7, 10)],
    "008/35-#": lambda r: [v for f in r.get_fields("008") for v in _chars(f.data, 35, None)],
    "008/#": lambda r: [f.data[-1] for f in r.get_fields("008") if f.data],
    "001/0-2": lambda r: [v for f in r.get_fields("001") for v in _chars(f.data, 0, 2)],
    "245^1": lambda r: [f.indicator1 for f in r.get_fields("245")],
    "650^2": lambda r: [f.indicator2 for f in r.get_fields("650")],
    "650[0]$a": lambda r: _subfields(r.get_fields("650")[0], "a") if r.get_fields("650") else [],
    "650[#]$a": lambda r: _subfields(r.get_fields("650")[-1], "a") if r.get_fields("650") else [],
    "6..[0-1]": lambda r: [f.value() for f in _fields(r, "6")[:2]],
    "6..[#-1]": lambda r: [f.value() for f in _fields(r, "6")[-2:]],
    "245$a-c": lambda r: [v for f in r.get_fields("245") for v in _subfields(f, "abc")],
    "245$a$b": lambda r: [v for f in r.get_fields("245") for v in _subfields(f, "ab")],
    "650$a[0]": lambda r: [_subfields(f, "a")[0] for f in r.get_fields("650") if _subfields(f, "a")],
    "650$x[#]": lambda r: [_subfields(f, "x")[-1] for f in r.get_fields("650") if _subfields(f, "x")],
    "245$a/#": lambda r: [v[-1] for f in r.get_fields("245") for v in _subfields(f, "a") if v],
    "245$a/0-3": lambda r: [v[:4] for f in r.get_fields("245") for v in _subfields(f, "a") if v],
    "650$a{^2=\\0}": lambda r: [v for f in r.get_fields("650") if f.indicator2 == "0" for v in _subfields(f, "a")],
    "650{^2=\\0}$a": lambda r: [v for f in r.get_fields("650") if f.indicator2 == "0" for v in _subfields(f, "a")],
    "650$a{^2!=\\0}": lambda r: [v for f in r.get_fields("650") if f.indicator2 != "0" for v in _subfields(f, "a")],
    "650$a{$x}": lambda r: [v for f in r.get_fields("650") if _subfields(f, "x") for v in _subfields(f, "a")],
    "650$a{!$x}": lambda r: [v for f in r.get_fields("650") if not _subfields(f, "x") for v in _subfields(f, "a")],
    "650$a{$x=\\Fiction.}": lambda r: [
        v for f in r.get_fields("650") if "Fiction." in _subfields(f, "x") for v in _subfields(f, "a")
    ],
    "650$a{$x~\\History}": lambda r: [
        v for f in r.get_fields("650") if any("History" in x for x in _subfields(f, "x")) for v in _subfields(f, "a")
    ],
    "245$a{/#=\\/}": lambda r: [v for f in r.get_fields("245") for v in _subfields(f, "a") if v.endswith("/")],
    "245$a{LDR/6=\\a}": lambda r: (
        [v for f in r.get_fields("245") for v in _subfields(f, "a")] if str(r.leader)[6] == "a" else []
    ),
    "245$a{LDR/6=\\a|LDR/6=\\c}{LDR/7=\\m}": lambda r: (
        [v for f in r.get_fields("245") for v in _subfields(f, "a")]
        if str(r.leader)[6] in "ac" and str(r.leader)[7] == "m"
        else []
    ),
    "100$a{?245$c}": lambda r: (
        [v for f in r.get_fields("100") for v in _subfields(f, "a")]
        if any(_subfields(f, "c") for f in r.get_fields("245"))
        else []
    ),
    "245{^1=\\1}": lambda r: [f.value() for f in r.get_fields("245") if f.indicator1 == "1"],
    "880$a{$6~\\245}": lambda r: [
        v for f in r.get_fields("880") if any("245" in s for s in _subfields(f, "6")) for v in _subfields(f, "a")
    ],
}


def _check_reference(impl, path, records) -> None:
    specs = list(REFERENCE)
    cols = impl.extract(str(path), specs)
    assert cols.summary.good == len(records)
    for spec in specs:
        expected = [REFERENCE[spec](r) for r in records]
        assert cols[spec] == expected, spec
    # Some specs select something in every file (the comparisons are not all of empty lists).
    assert sum(1 for spec in specs if any(cols[spec])) >= 5


def test_marcspec_values_equal_pymarcs_on_the_utf8_files(impl, pymarc_ref, utf8_path):
    _check_reference(impl, utf8_path, [r for r in _pymarc_records(pymarc_ref, utf8_path) if r is not None])


def test_marcspec_values_equal_the_records_on_every_real_file(impl, real_path):
    # MARC-8 text converts slightly differently from pymarc's (docs/marc8.md), so the reference
    # for every file is rapidmarc's own Record (pymarc's API, checked against pymarc elsewhere).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = [r for r in impl.MARCReader(real_path.read_bytes()) if r is not None]
    _check_reference(impl, real_path, records)


def test_extract_arrow_agrees_with_extract_for_every_spec_and_shape(impl, real_path):
    pa = pytest.importorskip("pyarrow")
    specs = list(REFERENCE)
    for shape in ("list", "first", "join"):
        cols = impl.extract(str(real_path), specs, shape=shape, separator=" | ", workers=2)
        table = pa.table(impl.extract_arrow(str(real_path), specs, shape=shape, separator=" | ", workers=2))
        assert {name: table.column(name).to_pylist() for name in specs} == dict(cols), shape
        if shape != "list":
            assert all(table.schema.field(s).type == pa.string() for s in specs)


def test_first_and_join_are_made_from_the_list(impl, real_path):
    specs = ["001", "245$a", "650$a", "6..$a-z", "008/35-37", "020$a"]
    lists = impl.extract(str(real_path), specs)
    first = impl.extract(str(real_path), specs, shape="first")
    joined = impl.extract(str(real_path), specs, shape="join")
    semi = impl.extract(str(real_path), specs, shape="join", separator={"650$a": " -- "})
    for spec in specs:
        assert first[spec] == [v[0] if v else None for v in lists[spec]], spec
        assert joined[spec] == ["; ".join(v) if v else None for v in lists[spec]], spec
        sep = " -- " if spec == "650$a" else "; "
        assert semi[spec] == [sep.join(v) if v else None for v in lists[spec]], spec


def test_shape_per_spec_and_bytes(impl, data_dir):
    pa = pytest.importorskip("pyarrow")
    path = str(data_dir / "real" / "loc_386.mrc")
    specs = ["001", "245$a", "650$a"]
    table = pa.table(impl.extract_arrow(path, specs, shape={"001": "first", "650$a": "join"}))
    assert [table.schema.field(s).type for s in specs] == [pa.string(), pa.list_(pa.string()), pa.string()]
    raw = pa.table(impl.extract_arrow(path, ["001"], shape="first", to_unicode=False))
    assert raw.schema.field("001").type == pa.binary()
    assert raw.column("001").to_pylist() == [v.encode() for v in table.column("001").to_pylist()]
    assert impl.extract(path, ["001"], shape="first", to_unicode=False)["001"] == raw.column("001").to_pylist()


def test_scalar_columns_write_to_csv(impl, data_dir, tmp_path):
    pa = pytest.importorskip("pyarrow")
    csv = pytest.importorskip("pyarrow.csv")
    path = str(data_dir / "real" / "loc_386.mrc")
    table = pa.table(
        impl.extract_arrow(path, ["001", "245$a", "650$a"], shape={"001": "first", "245$a": "first", "650$a": "join"})
    )
    csv.write_csv(table, tmp_path / "out.csv")
    back = csv.read_csv(tmp_path / "out.csv")
    assert back.num_rows == table.num_rows
    assert back.column("245$a").to_pylist() == table.column("245$a").to_pylist()


def _offsets(data: bytes) -> list[int]:
    """The byte offset of each record of a well-formed file."""
    out, pos = [], 0
    for chunk in data.split(b"\x1d")[:-1]:
        out.append(pos)
        pos += len(chunk) + 1
    return out


def test_record_and_offset_columns(impl, data_dir):
    pa = pytest.importorskip("pyarrow")
    path = data_dir / "real" / "uva_2000.mrc"
    offsets = _offsets(path.read_bytes())
    for workers in (0, 2):
        columns = impl.extract_arrow(str(path), ["001"], record_column=True, offset_column=True, workers=workers)
        table = pa.table(columns)
        assert table.column_names[:2] == ["record", "offset"] == columns.column_names[:2]
        assert table.schema.field("record").type == pa.int64()
        assert table.column("record").to_pylist() == list(range(len(offsets)))
        assert table.column("offset").to_pylist() == offsets
        cols = impl.extract(str(path), ["001"], record_column="n", offset_column="at", workers=workers)
        assert list(cols) == ["n", "at", "001"]
        assert cols["n"] == list(range(len(offsets))) and cols["at"] == offsets


def test_record_column_counts_bad_records_and_offsets_point_at_them(impl, pymarc_ref, data_dir):
    pa = pytest.importorskip("pyarrow")
    for name in ("structural_errors_5.mrc", "invalid_utf8_383.mrc"):
        path = data_dir / "edge" / name
        items = _pymarc_records(pymarc_ref, path)
        good = [i for i, r in enumerate(items) if r is not None]
        data = path.read_bytes()
        for workers in (0, 2):
            cols = impl.extract_arrow(str(path), ["001"], record_column=True, offset_column=True, workers=workers)
            table = pa.table(cols)
            assert table.column("record").to_pylist() == good, name
            assert cols.summary.bad == len(items) - len(good), name
            # Each offset is where the record's bytes start: its leader's length is there.
            ids = table.column("001").to_pylist()
            for offset, values in zip(table.column("offset").to_pylist(), ids, strict=True):
                length = int(data[offset : offset + 5])
                assert data[offset + length - 1 : offset + length] == b"\x1d", (name, offset)
                if values:
                    assert values[0].encode() in data[offset : offset + length]


def test_skipped_records_are_counted_with_their_first_errors(impl, pymarc_ref, data_dir):
    pa = pytest.importorskip("pyarrow")
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    items = _pymarc_records(pymarc_ref, path)
    bad = [i for i, r in enumerate(items) if r is None]
    assert bad, "the edge file has bad records"
    cols = impl.extract(str(path), ["001"])
    arrow = impl.extract_arrow(str(path), ["001"])
    for result in (cols, arrow):
        summary = result.summary
        assert summary.good == len(items) - len(bad) and summary.bad == len(bad)
        assert [e.record_index for e in result.errors] == bad[:100]
        assert summary.first_error is not None and summary.first_error.record_index == bad[0]
    table = pa.table(arrow)
    meta = table.schema.metadata
    assert meta[b"rapidmarc.bad_records"] == str(len(bad)).encode()
    assert meta[b"rapidmarc.good_records"] == str(len(items) - len(bad)).encode()
    assert str(bad[0]).encode() in meta[b"rapidmarc.first_error"]
    clean = impl.extract(str(data_dir / "real" / "loc_386.mrc"), ["001"])
    assert clean.summary.bad == 0 and clean.errors == [] and clean.summary.complete


def test_a_lazy_read_accounts_once_it_is_read_to_its_end(impl, data_dir):
    pa = pytest.importorskip("pyarrow")
    path = str(data_dir / "edge" / "structural_errors_5.mrc")
    eager = impl.extract_arrow(path, ["001"], record_column=True)
    lazy = impl.extract_arrow(path, ["001"], record_column=True, lazy=True)
    assert lazy.summary is None and lazy.errors is None
    table = pa.table(lazy)
    assert table.column("record").to_pylist() == pa.table(eager).column("record").to_pylist()
    assert lazy.summary == eager.summary
    assert [e.record_index for e in lazy.errors] == [e.record_index for e in eager.errors]


def test_hand_built_record_values(impl):
    rec = build_record(
        [
            ("001", b"id1"),
            ("008", b"850101s1851    nyu           000 1 eng d"),
            ("245", df("10", ("a", "Moby Dick /"), ("c", "Herman Melville."))),
            ("650", df(" 0", ("a", "Whales"), ("x", "Fiction."))),
            ("650", df(" 7", ("a", "Whaling"), ("2", "fast"))),
        ]
    )
    cols = impl.extract(
        rec,
        ["LDR/6", "008/7-10", "008/35-#", "245^1", "650[#]$a", "650$a{^2=\\0}", "650$a$2", "650$0-9"],
        shape={"LDR/6": "first", "008/7-10": "first"},
    )
    assert cols["LDR/6"] == ["a"]
    assert cols["008/7-10"] == ["1851"]
    assert cols["008/35-#"] == [["eng d"]]
    assert cols["245^1"] == [["1"]]
    assert cols["650[#]$a"] == [["Whaling"]]
    assert cols["650$a{^2=\\0}"] == [["Whales"]]
    assert cols["650$a$2"] == [["Whales", "Whaling", "fast"]]
    assert cols["650$0-9"] == [["fast"]]


@pytest.mark.parametrize(
    ("spec", "position", "reason"),
    [
        ("245$a[x]", 6, "a number or '#'"),
        ("LDR$a", 3, "the leader has no subfields"),
        ("008/10-7", 4, "starts after it ends"),
        ("245 $a", 3, "no spaces"),
        ("24", 2, "three characters"),
        ("245$z-a", 4, "range"),
        ("650$a{^2=}", 9, "needs a term"),
        ("650$a{^2=\\0", 11, "ends with '}'"),
        ("008/0-3{^1}", 8, "no indicators"),
        ("245^3", 4, "^1 or ^2"),
    ],
)
def test_malformed_specs_raise_value_errors_naming_the_position(impl, data_dir, spec, position, reason):
    path = str(data_dir / "real" / "loc_386.mrc")
    for fn in (impl.extract, impl.extract_arrow):
        with pytest.raises(ValueError, match="at position") as info:
            fn(path, ["001", spec])
        message = str(info.value)
        assert f"'{spec}' at position {position}:" in message, message
        assert reason in message, message


def test_bad_shapes_and_column_names_are_refused(impl, data_dir):
    path = str(data_dir / "real" / "loc_386.mrc")
    with pytest.raises(ValueError, match="shape"):
        impl.extract_arrow(path, ["001"], shape="scalar")
    with pytest.raises(ValueError, match="not one of the specs"):
        impl.extract_arrow(path, ["001"], shape={"245$a": "first"})
    with pytest.raises(TypeError):
        impl.extract(path, ["001"], shape=3)
    with pytest.raises(ValueError, match="also a spec"):
        impl.extract(path, ["001"], record_column="001")
    with pytest.raises(ValueError, match="both be named"):
        impl.extract_arrow(path, ["001"], record_column="n", offset_column="n")
    with pytest.raises(TypeError):
        impl.extract_arrow(path, ["001"], record_column=1)


def test_earlier_spec_forms_are_unchanged(impl, data_dir):
    """The forms extract took before MARCspec select the same values as a Record does."""
    path: Path = data_dir / "real" / "loc_386.mrc"
    records = [r for r in impl.MARCReader(path.read_bytes()) if r is not None]
    cols = impl.extract(str(path), ["LDR", "001", "245", "650$ax", "6XX$a", "6xx$a"])
    assert cols["LDR"] == [[str(r.leader)] for r in records]
    assert cols["245"] == [[f.value() for f in r.get_fields("245")] for r in records]
    assert cols["650$ax"] == [
        [sf.value for f in r.get_fields("650") for sf in f.subfields if sf.code in "ax"] for r in records
    ]
    six = [
        [sf.value for f in r.fields if f.tag.startswith("6") for sf in f.subfields if sf.code == "a"] for r in records
    ]
    assert cols["6XX$a"] == cols["6xx$a"] == six
