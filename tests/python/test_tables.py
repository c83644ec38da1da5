"""rapidmarc.to_parquet / to_csv and ``rapidmarc convert`` to .parquet, .csv and .tsv: what is
written reads back (with pyarrow) as extract_arrow's and extract_long's columns, every record is
accounted for, and pyarrow is an optional dependency with a clear message."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.rapidmarc_only
pa = pytest.importorskip("pyarrow", reason="pyarrow writes Parquet and CSV")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")

SPECS = ["001", "245$a", "650$a", "008/7-10"]


@pytest.fixture
def cli(impl):
    from rapidmarc import cli

    return cli


@pytest.fixture
def loc_path(data_dir):
    return str(data_dir / "real" / "loc_386.mrc")


@pytest.fixture
def bad_path(data_dir):
    return str(data_dir / "edge" / "invalid_utf8_383.mrc")


def _plain(table):
    return table.replace_schema_metadata(None)


@pytest.mark.parametrize("workers", [1, 2])
def test_parquet_reads_back_as_the_arrow_columns(impl, real_path, tmp_path, workers):
    out = tmp_path / "wide.parquet"
    result = impl.to_parquet(str(real_path), out, SPECS, record_column=True, workers=workers)
    expected = pa.table(impl.extract_arrow(str(real_path), SPECS, record_column=True))
    back = pq.read_table(out)
    assert _plain(back).equals(_plain(expected))
    assert result.rows == expected.num_rows == result.summary.good
    meta = pq.read_metadata(out).metadata
    assert meta[b"rapidmarc.good_records"] == str(result.summary.good).encode()
    assert meta[b"rapidmarc.bad_records"] == b"0"

    out = tmp_path / "long.parquet"
    result = impl.to_parquet(str(real_path), out, long=True, workers=workers)
    expected = pa.table(impl.extract_long(str(real_path)))
    assert _plain(pq.read_table(out)).equals(_plain(expected))
    assert result.rows == expected.num_rows


def test_a_large_file_is_streamed_in_row_groups(impl, loc_path, tmp_path):
    data = Path(loc_path).read_bytes() * 8  # several parsed batches of about 1 MiB
    big = tmp_path / "big.mrc"
    big.write_bytes(data)
    out = tmp_path / "big.parquet"
    seen = []
    result = impl.to_parquet(big, out, "001,245$a", shape="first", progress=seen.append)
    assert result.rows == 386 * 8
    assert pq.read_metadata(out).num_row_groups > 1  # one per batch as it was parsed
    assert seen == sorted(seen) and seen[-1] == len(data)
    assert pq.read_table(out).column_names == ["001", "245$a"]  # the progress offsets are not written
    assert _plain(pq.read_table(out)).equals(
        _plain(pa.table(impl.extract_arrow(data, ["001", "245$a"], shape="first")))
    )


def test_other_sources_are_read_whole(impl, loc_path, tmp_path):
    data = Path(loc_path).read_bytes()
    expected = pq.read_table(_written(impl, loc_path, tmp_path / "a.parquet"))
    assert pq.read_table(_written(impl, data, tmp_path / "b.parquet")).equals(expected)
    with open(loc_path, "rb") as fh:
        assert pq.read_table(_written(impl, fh, tmp_path / "c.parquet")).equals(expected)
    sink = io.BytesIO()
    impl.to_parquet(data, sink, "001,650$a")
    assert pq.read_table(io.BytesIO(sink.getvalue())).equals(expected)


def _written(impl, source, out):
    impl.to_parquet(source, out, "001,650$a")
    return out


def test_bad_records_are_counted_and_strict_writes_nothing(impl, bad_path, tmp_path):
    out = tmp_path / "out.parquet"
    result = impl.to_parquet(bad_path, out, "001")
    scanned = impl.scan(bad_path)
    assert (result.summary.good, result.summary.bad) == (scanned.good, scanned.bad) and scanned.bad > 0
    assert result.rows == scanned.good
    meta = pq.read_metadata(out).metadata
    assert meta[b"rapidmarc.bad_records"] == str(scanned.bad).encode()
    assert b"rapidmarc.first_error" in meta
    for source in (bad_path, Path(bad_path).read_bytes()):  # streamed and read whole
        target = tmp_path / "strict.parquet"
        with pytest.raises(UnicodeDecodeError):
            impl.to_parquet(source, target, "001", strict=True)
        assert not target.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_destination_rules(impl, loc_path, tmp_path):
    copy = tmp_path / "in.mrc"
    copy.write_bytes(Path(loc_path).read_bytes())
    with pytest.raises(ValueError, match="overwrite its input"):
        impl.to_parquet(copy, copy, "001")
    old = tmp_path / "old.parquet"
    old.write_bytes(b"keep me")
    not_marc = tmp_path / "not.mrc"
    not_marc.write_bytes(b"<html>not marc</html>" * 10)
    result = impl.to_parquet(not_marc, old, "001")
    assert old.read_bytes() == b"keep me" and result.rows == 0 and result.summary.stopped_at == 0
    with pytest.raises(ValueError, match="fields"):
        impl.to_parquet(loc_path, tmp_path / "x.parquet")
    with pytest.raises(TypeError):
        impl.to_parquet(loc_path, 42, "001")


def _strings(*names):
    """Read back as written: an empty cell is null, a quoted empty string is ""."""
    return pcsv.ConvertOptions(
        column_types={c: pa.string() for c in names}, strings_can_be_null=True, quoted_strings_can_be_null=False
    )


def test_csv_and_tsv_join_lists(impl, loc_path, tmp_path):
    out = tmp_path / "out.csv"
    result = impl.to_csv(loc_path, out, ["001", "650$a"], separator=" | ")
    expected = impl.extract(loc_path, ["001", "650$a"], shape="join", separator=" | ")
    back = pcsv.read_csv(out, convert_options=_strings("001", "650$a"))
    assert back.column("001").to_pylist() == expected["001"]
    assert back.column("650$a").to_pylist() == expected["650$a"]
    assert result.rows == 386
    with pytest.raises(ValueError, match="lists"):
        impl.to_csv(loc_path, tmp_path / "l.csv", ["650$a"], shape="list")
    mixed = tmp_path / "mixed.csv"
    impl.to_csv(loc_path, mixed, ["001", "650$a"], shape={"001": "first"})  # 650$a: joined, not a list
    back = pcsv.read_csv(mixed, convert_options=_strings("001", "650$a"))
    assert back.column("650$a").to_pylist() == impl.extract(loc_path, ["650$a"], shape="join")["650$a"]
    with pytest.raises(ValueError, match="not one of the specs"):
        impl.to_csv(loc_path, mixed, ["001"], shape={"245$a": "first"})
    with pytest.raises(ValueError, match="wide table"):
        impl.to_parquet(loc_path, tmp_path / "x.parquet", long=True, separator="|")
    tsv = tmp_path / "long.tsv"
    impl.to_csv(loc_path, tsv, long=True, fields="245", delimiter="\t")
    table = pcsv.read_csv(
        tsv,
        parse_options=pcsv.ParseOptions(delimiter="\t"),
        convert_options=_strings("tag", "ind1", "ind2", "code", "value"),
    )
    expected = pa.table(impl.extract_long(loc_path, fields="245"))
    assert table.column("value").to_pylist() == expected.column("value").to_pylist()
    assert table.column("record").to_pylist() == expected.column("record").to_pylist()
    assert table.column("code").to_pylist() == expected.column("code").to_pylist()


def test_pyarrow_is_optional_with_a_clear_message(impl, cli, loc_path, tmp_path, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, name, None)  # import pyarrow then raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    for write in (impl.to_parquet, impl.to_csv):
        with pytest.raises(ModuleNotFoundError, match=r"pip install rapidmarc\[arrow\]"):
            write(loc_path, tmp_path / "x.out", "001")
    assert cli.main(["convert", loc_path, str(tmp_path / "x.parquet"), "--fields", "001"]) == 2
    assert "rapidmarc[arrow]" in capsys.readouterr().err
    assert not os.listdir(tmp_path)
    columns = impl.extract_long(loc_path)  # needs no pyarrow: an Arrow C stream
    assert len(columns) > 0


def test_cli_writes_tables(impl, cli, loc_path, tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert cli.main(["convert", loc_path, str(out), "--fields", "001,245$a", "--fields", "650$a{^2=\\0}"]) == 0
    err = capsys.readouterr().err
    assert "386 good, 0 bad; 386 rows written" in err
    expected = pa.table(impl.extract_arrow(loc_path, ["001", "245$a", "650$a{^2=\\0}"]))
    assert _plain(pq.read_table(out)).equals(_plain(expected))

    out = tmp_path / "t.csv"
    assert cli.main(["convert", loc_path, str(out), "--fields", "001,650$a", "--separator", "|"]) == 0
    back = pcsv.read_csv(out, convert_options=_strings("001", "650$a"))
    assert back.column("650$a").to_pylist() == impl.extract(loc_path, ["650$a"], shape="join", separator="|")["650$a"]

    out = tmp_path / "long.tsv"
    assert cli.main(["convert", loc_path, str(out), "--long", "--fields", "650"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == ['"record"', '"offset"', '"field"', '"tag"', '"ind1"', '"ind2"', '"code"', '"value"']
    assert len(lines) - 1 == len(impl.extract_long(loc_path, fields="650"))

    out = tmp_path / "long.parquet"
    assert cli.main(["convert", loc_path, str(out), "--long"]) == 0
    assert pq.read_table(out).num_rows == len(impl.extract_long(loc_path))
    assert cli.main(["convert", loc_path, str(out), "--long", "--shape", "first"]) == 2  # one value a row already
    assert "wide table" in capsys.readouterr().err

    assert cli.main(["convert", loc_path, str(tmp_path / "x.parquet"), "--fields", "24"]) == 2
    assert "invalid field spec" in capsys.readouterr().err
    assert cli.main(["convert", loc_path, str(tmp_path / "x.xml"), "--fields", "001"]) == 2
    assert cli.main(["convert", loc_path, str(tmp_path / "x.parquet"), "--fields", "001", "--limit", "3"]) == 2
    assert cli.main(["convert", str(tmp_path / "t.csv"), str(tmp_path / "y.parquet"), "--fields", "001"]) == 2


def test_cli_accounts_for_bad_records(impl, cli, bad_path, tmp_path, capsys):
    scanned = impl.scan(bad_path)
    out = tmp_path / "t.parquet"
    assert cli.main(["convert", bad_path, str(out), "--fields", "001"]) == 1
    err = capsys.readouterr().err
    assert f"{scanned.good} good, {scanned.bad} bad; {scanned.good} rows written" in err
    assert cli.main(["convert", bad_path, str(out), "--fields", "001", "--allow-bad"]) == 0
    capsys.readouterr()
    os.unlink(out)
    assert cli.main(["convert", bad_path, str(out), "--fields", "001", "--strict"]) == 1
    assert "record" in capsys.readouterr().err and not out.exists()
    truncated = tmp_path / "cut.mrc"
    data = Path(bad_path).read_bytes()
    truncated.write_bytes(data[:5000] + b"xxxxx" + data[5000:])
    status = cli.main(["convert", str(truncated), str(out), "--long"])
    summary = impl.scan(str(truncated))
    assert status == (3 if summary.stop_error is not None else 1)
    assert "STOPPED" in capsys.readouterr().err or summary.stop_error is None
    assert pq.read_metadata(out).metadata[b"rapidmarc.good_records"] == str(summary.good).encode()
