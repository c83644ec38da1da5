"""rapidmarc.extract_arrow: Arrow columns through the PyCapsule interface, read by pyarrow."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.rapidmarc_only
pa = pytest.importorskip("pyarrow", reason="pyarrow is needed to consume Arrow streams")

SPECS = ["LDR", "001", "245", "245$a", "6XX$a", "999$z"]


def _columns(table) -> dict[str, list]:
    return {name: table.column(name).to_pylist() for name in table.column_names}


def test_columns_equal_extract_on_every_real_file(impl, real_path):
    for workers in (0, 2):
        columns = impl.extract_arrow(str(real_path), SPECS, workers=workers)
        table = pa.table(columns)
        assert table.num_rows == columns.num_rows == len(columns) == impl.count(str(real_path))
        assert table.column_names == SPECS == columns.column_names
        assert table.schema.field("245$a").type == pa.list_(pa.string())
        assert _columns(table) == impl.extract(str(real_path), SPECS, workers=workers)


def test_a_stream_can_be_consumed_again_and_batch_by_batch(impl, loc_bytes):
    columns = impl.extract_arrow(loc_bytes, ["001", "650$a"], workers=1)
    first, second = pa.table(columns), pa.table(columns)
    assert first.equals(second)
    reader = pa.RecordBatchReader.from_stream(columns)
    batches = list(reader)
    assert len(batches) == columns.num_batches >= 1
    assert sum(b.num_rows for b in batches) == columns.num_rows


def test_bytes_mode_gives_binary_columns(impl, loc_bytes):
    table = pa.table(impl.extract_arrow(loc_bytes, ["245$a"], to_unicode=False))
    assert table.schema.field("245$a").type == pa.list_(pa.binary())
    assert table.column("245$a").to_pylist() == impl.extract(loc_bytes, ["245$a"], to_unicode=False)["245$a"]


def test_bad_records_are_skipped_or_raise(impl, data_dir):
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not path.is_file():
        pytest.skip("edge file missing")
    table = pa.table(impl.extract_arrow(str(path), ["001"]))
    assert table.column("001").to_pylist() == impl.extract(str(path), ["001"])["001"]
    with pytest.raises(UnicodeDecodeError):
        impl.extract_arrow(str(path), ["001"], strict=True)


def test_empty_input_and_bad_specs(impl):
    table = pa.table(impl.extract_arrow(b"", ["001", "245$a"]))
    assert table.num_rows == 0 and table.column_names == ["001", "245$a"]
    with pytest.raises(ValueError, match="24"):
        impl.extract_arrow(b"", ["24"])
    with pytest.raises(TypeError):
        impl.extract_arrow(b"", "245$a")


def test_arrays_outlive_the_columns_object(impl, loc_bytes):
    columns = impl.extract_arrow(loc_bytes, ["001"])
    expected = impl.extract(loc_bytes, ["001"])["001"]
    table = pa.table(columns)
    del columns  # the table's buffers still point into the native batches, which it keeps alive
    assert table.column("001").to_pylist() == expected


def test_polars_and_duckdb_take_the_columns_directly(impl, loc_bytes):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    columns = impl.extract_arrow(loc_bytes, ["001", "650$a"])
    expected = impl.extract(loc_bytes, ["001", "650$a"])
    frame = pl.DataFrame(columns)  # the PyCapsule stream, no pyarrow in between
    assert frame["001"].to_list() == expected["001"]
    assert frame["650$a"].to_list() == expected["650$a"]
    cols = columns  # noqa: F841 - DuckDB finds Python variables by name
    ((rows, subjects),) = duckdb.sql('select count(*), sum(len("650$a")) from cols').fetchall()
    assert rows == len(expected["001"]) and subjects == sum(len(v) for v in expected["650$a"])


def test_lazy_columns_stream_a_file_batch_by_batch(impl, real_path, tmp_path):
    eager = pa.table(impl.extract_arrow(str(real_path), SPECS))
    lazy = impl.extract_arrow(str(real_path), SPECS, lazy=True)
    assert lazy.lazy and lazy.num_rows is None and lazy.num_batches is None
    with pytest.raises(TypeError):
        len(lazy)
    assert pa.table(lazy).equals(eager)
    assert pa.table(lazy).equals(eager)  # each consumption reads the file again
    reader = pa.RecordBatchReader.from_stream(lazy)
    assert sum(batch.num_rows for batch in reader) == eager.num_rows


def test_lazy_columns_refuse_what_they_cannot_reread_and_report_errors(impl, loc_bytes, data_dir, tmp_path):
    with pytest.raises(ValueError, match="path"):
        impl.extract_arrow(loc_bytes, ["001"], lazy=True)
    with pytest.raises(OSError):
        impl.extract_arrow(tmp_path / "missing.mrc", ["001"], lazy=True)
    bad = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not bad.is_file():
        pytest.skip("edge file missing")
    assert (
        pa.table(impl.extract_arrow(str(bad), ["001"], lazy=True)).column("001").to_pylist()
        == (impl.extract(str(bad), ["001"])["001"])
    )
    with pytest.raises(Exception, match="record 1 .*byte offset 665"):
        pa.table(impl.extract_arrow(str(bad), ["001"], lazy=True, strict=True))
