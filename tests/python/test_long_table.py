"""rapidmarc.extract_long: the long table (one row per subfield), checked against oracles built
record by record with rapidmarc.MARCReader (every real and edge file, every reading mode) and
with pymarc itself."""

from __future__ import annotations

import contextlib
import gzip

import pytest

pytestmark = pytest.mark.rapidmarc_only
pa = pytest.importorskip("pyarrow", reason="pyarrow is needed to consume Arrow streams")

COLUMNS = ["record", "offset", "field", "tag", "ind1", "ind2", "code", "value"]


def _matches(pattern, tag):
    return pattern != "LDR" and len(tag) == 3 and all(p in "X." or p == t for p, t in zip(pattern, tag, strict=True))


def oracle_rows(reader_class, source, fields=(), **options):
    """The long table's rows, from a record-by-record reader; and (good, bad)."""
    specs = [(f.split("$")[0].upper(), f.split("$")[1] if "$" in f else "") for f in fields]
    leader_wanted = not specs or any(p == "LDR" for p, _ in specs)
    binary = options.get("to_unicode") is False
    rows, good, bad = [], 0, 0
    reader = reader_class(source, **options)
    with reader if hasattr(reader, "__enter__") else contextlib.closing(reader):
        for index, record in enumerate(reader):
            if record is None:
                bad += 1
                continue
            good += 1
            offset = getattr(reader, "current_offset", None)  # pymarc has none
            if leader_wanted:
                leader = str(record.leader)
                rows.append(
                    (index, offset, None, "LDR", None, None, None, leader.encode("latin-1") if binary else leader)
                )
            for number, field in enumerate(record.fields):
                matching = [codes for p, codes in specs if _matches(p, field.tag)]
                whole = not specs or "" in matching
                if not whole and not matching:
                    continue
                if field.is_control_field():
                    if whole:
                        rows.append((index, offset, number, field.tag, None, None, None, field.data))
                    continue
                ind1, ind2 = field.indicator1, field.indicator2
                if not field.subfields and whole:
                    rows.append((index, offset, number, field.tag, ind1, ind2, None, None))
                for sf in field.subfields:
                    if whole or any(sf.code in codes for codes in matching):
                        rows.append((index, offset, number, field.tag, ind1, ind2, sf.code, sf.value))
    return rows, good, bad


def table_rows(columns):
    table = pa.table(columns)
    assert table.column_names == COLUMNS
    return list(zip(*(table.column(c).to_pylist() for c in COLUMNS), strict=True))


def _reader(impl):
    def open_reader(path, **options):
        return impl.MARCReader(str(path), **options)

    return open_reader


def test_schema(impl, loc_bytes):
    columns = impl.extract_long(loc_bytes)
    schema = pa.table(columns).schema
    assert [schema.field(c).type for c in COLUMNS] == [pa.int64(), pa.int64(), pa.int32()] + [pa.string()] * 5
    binary = pa.table(impl.extract_long(loc_bytes, to_unicode=False)).schema
    assert binary.field("value").type == pa.binary() and binary.field("tag").type == pa.string()
    assert columns.column_names == COLUMNS


@pytest.mark.parametrize("workers", [1, 2])
def test_equals_the_reader_on_every_real_file(impl, real_path, workers):
    expected, good, bad = oracle_rows(_reader(impl), real_path)
    columns = impl.extract_long(str(real_path), workers=workers)
    assert table_rows(columns) == expected
    assert (columns.summary.good, columns.summary.bad) == (good, bad)
    assert len(columns) == len(expected)


def test_equals_pymarc_on_every_real_file(impl, pymarc_ref, real_path):
    def pymarc_reader(path, **options):
        return pymarc_ref.MARCReader(open(path, "rb"), **options)  # noqa: SIM115 - closed by the reader's with

    expected, good, bad = oracle_rows(pymarc_reader, real_path)
    got = table_rows(impl.extract_long(str(real_path), marc8_mapping="pymarc"))  # pymarc's MARC-8 table
    assert [(r[0], *r[2:]) for r in got] == [(r[0], *r[2:]) for r in expected]


@pytest.mark.parametrize("recover", [False, True])
@pytest.mark.parametrize("utf8_handling", ["strict", "replace", "ignore"])
def test_equals_the_reader_on_every_edge_file(impl, edge_path, recover, utf8_handling):
    options = {"recover": recover, "utf8_handling": utf8_handling}
    expected, good, bad = oracle_rows(_reader(impl), edge_path, **options)
    for workers in (1, 2):
        columns = impl.extract_long(str(edge_path), workers=workers, **options)
        assert table_rows(columns) == expected
        s = columns.summary
        assert (s.good, s.bad) == (good, bad)
        meta = pa.table(columns).schema.metadata
        assert meta[b"rapidmarc.good_records"] == str(good).encode()
        assert meta[b"rapidmarc.bad_records"] == str(bad).encode()
        assert len(columns.errors) == min(bad, 100)
    lazy = impl.extract_long(str(edge_path), lazy=True, **options)
    assert table_rows(lazy) == expected
    assert (lazy.summary.good, lazy.summary.bad) == (good, bad)


def test_to_unicode_false_gives_the_readers_bytes(impl, real_path):
    expected, _, _ = oracle_rows(_reader(impl), real_path, to_unicode=False)
    assert table_rows(impl.extract_long(str(real_path), to_unicode=False)) == expected


@pytest.mark.parametrize("mapping", ["lc", "pymarc"])
def test_marc8_mappings(impl, marc8_path, mapping):
    expected, _, _ = oracle_rows(_reader(impl), marc8_path, marc8_mapping=mapping)
    assert table_rows(impl.extract_long(str(marc8_path), marc8_mapping=mapping)) == expected


@pytest.mark.parametrize(
    "fields", [["650"], ["LDR"], ["6XX$a", "001"], ["6..$ax", "245$a", "LDR"], ["00X"], ["001$a"], ["999"]]
)
def test_fields_select_rows(impl, data_dir, fields):
    path = data_dir / "real" / "uva_2000.mrc"
    expected, _, _ = oracle_rows(_reader(impl), path, fields=[f.replace(".", "X") for f in fields])
    assert table_rows(impl.extract_long(str(path), fields=fields)) == expected
    assert table_rows(impl.extract_long(str(path), fields=",".join(fields))) == expected


def test_malformed_fields_are_refused(impl):
    for bad in (["24"], ["LDR$a"], ["245$"]):
        with pytest.raises(ValueError, match="invalid field spec"):
            impl.extract_long(b"", fields=bad)
    with pytest.raises(TypeError):
        impl.extract_long(b"", fields=[245])


def test_edge_cases_of_fields(impl):
    """A data field without subfields, one with missing indicators, empty subfields, a control
    field: each as documented."""
    record = impl.Record()
    record.add_field(impl.Field(tag="001", data="c1"))
    record.add_field(
        impl.Field(tag="245", indicators=["1", "0"], subfields=[impl.Subfield("a", "T"), impl.Subfield("b", "")])
    )
    record.add_field(impl.Field(tag="500", indicators=[" ", " "], subfields=[]))
    data = record.as_marc()
    rows = table_rows(impl.extract_long(data))
    assert [r[2:] for r in rows] == [
        (None, "LDR", None, None, None, str(impl.Record(data=data).leader)),
        (0, "001", None, None, None, "c1"),
        (1, "245", "1", "0", "a", "T"),
        (1, "245", "1", "0", "b", ""),
        (2, "500", " ", " ", None, None),
    ]
    expected, _, _ = oracle_rows(_reader(impl), _tmp_file(data))
    assert rows == expected


def _tmp_file(data: bytes):
    import tempfile

    fh = tempfile.NamedTemporaryFile(suffix=".mrc", delete=False)  # noqa: SIM115
    fh.write(data)
    fh.close()
    return fh.name


def test_sources_and_lazy_streaming(impl, loc_bytes, tmp_path):
    path = tmp_path / "loc.mrc"
    path.write_bytes(loc_bytes)
    eager = pa.table(impl.extract_long(str(path)))
    assert pa.table(impl.extract_long(loc_bytes)).equals(eager)
    with open(path, "rb") as fh:
        assert pa.table(impl.extract_long(fh)).equals(eager)
    lazy = impl.extract_long(path, lazy=True)
    assert lazy.summary is None and lazy.num_rows is None
    batches = list(pa.RecordBatchReader.from_stream(lazy))
    assert sum(b.num_rows for b in batches) == eager.num_rows
    assert pa.Table.from_batches(batches).equals(eager.replace_schema_metadata(None))
    assert lazy.summary.good == 386
    gz = tmp_path / "loc.mrc.gz"
    gz.write_bytes(gzip.compress(loc_bytes))
    if impl._core.gzip_supported():
        assert pa.table(impl.extract_long(gz)).equals(eager)
    with pytest.raises(ValueError, match="lazy"):
        impl.extract_long(loc_bytes, lazy=True)


def test_marcxml_and_json_sources(impl, loc_bytes, tmp_path):
    records = [r for r in impl.MARCReader(loc_bytes) if r is not None][:20]
    xml = tmp_path / "x.xml"
    writer = impl.XMLWriter(open(xml, "wb"))  # noqa: SIM115 - closed by the writer
    for r in records:
        writer.write(r)
    writer.close()
    rows = table_rows(impl.extract_long(str(xml), from_format="xml"))
    direct = table_rows(impl.extract_long(b"".join(r.as_marc() for r in records)))
    assert [r[2:] for r in rows] == [r[2:] for r in direct]


def test_strict_raises_the_first_bad_record(impl, data_dir):
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    with pytest.raises(UnicodeDecodeError):
        impl.extract_long(str(path), strict=True)


def test_polars_and_duckdb_filter_the_long_table(impl, loc_bytes):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    long = impl.extract_long(loc_bytes, fields="650")
    expected: dict[str, int] = {}
    for record in impl.MARCReader(loc_bytes):
        for field in record.get_fields("650"):
            if field.indicator2 == "0":
                for value in field.get_subfields("a"):
                    expected[value] = expected.get(value, 0) + 1
    frame = pl.DataFrame(long)
    counted = frame.filter((pl.col("ind2") == "0") & (pl.col("code") == "a")).group_by("value").len()
    assert dict(zip(counted["value"].to_list(), counted["len"].to_list(), strict=True)) == expected
    got = duckdb.sql("select value, count(*) from long where ind2 = '0' and code = 'a' group by value").fetchall()
    assert dict(got) == expected


@pytest.mark.parametrize("options", [{"encoding": "auto"}, {"force_utf8": True}, {"marc8_mapping": "pymarc"}])
def test_other_reading_options_on_every_edge_file(impl, edge_path, options):
    expected, good, bad = oracle_rows(_reader(impl), edge_path, **options)
    columns = impl.extract_long(str(edge_path), **options)
    assert table_rows(columns) == expected
    assert (columns.summary.good, columns.summary.bad) == (good, bad)
