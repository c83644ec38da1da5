"""The ``rapidmarc`` command (rapidmarc.cli)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from marc_testlib import record_shape

pytestmark = pytest.mark.rapidmarc_only


@pytest.fixture
def cli(impl):
    from rapidmarc import cli

    return cli


def test_count_prints_each_file_and_a_total(impl, cli, capsys, real_files):
    assert cli.main(["count", *map(str, real_files[:3])]) == 0
    lines = capsys.readouterr().out.splitlines()
    counts = [impl.count(str(p)) for p in real_files[:3]]
    assert lines == [f"{n}\t{p}" for n, p in zip(counts, real_files[:3], strict=True)] + [f"{sum(counts)}\ttotal"]


def test_dump_text_is_str_of_each_record(impl, cli, capsys, utf8_path):
    assert cli.main(["dump", str(utf8_path), "--limit", "3"]) == 0
    records = [r for r in impl.MARCReader(str(utf8_path)) if r is not None][:3]
    assert capsys.readouterr().out == "\n".join(str(r) + "\n" for r in records)


def test_dump_json_and_xml_read_back(impl, cli, capsys, utf8_path):
    records = [r for r in impl.MARCReader(str(utf8_path)) if r is not None][:5]
    assert cli.main(["dump", str(utf8_path), "--limit", "5", "--format", "json"]) == 0
    back = list(impl.JSONReader(capsys.readouterr().out))
    assert [record_shape(r) for r in back] == [record_shape(r) for r in records]
    assert cli.main(["dump", str(utf8_path), "--limit", "5", "--format", "xml"]) == 0
    out = capsys.readouterr().out
    back = impl.parse_xml_to_array(io.BytesIO(out.encode()))
    assert [record_shape(r) for r in back] == [record_shape(r) for r in records]


def test_convert_infers_the_format_and_reports(impl, cli, capsys, utf8_path, tmp_path):
    for ext, kind in ((".json", "json"), (".xml", "xml"), (".mrc", "marc")):
        target = tmp_path / f"out{ext}"
        assert cli.main(["convert", str(utf8_path), str(target)]) == 0
        expected = io.BytesIO()
        impl.convert(str(utf8_path), expected, to=kind)
        assert target.read_bytes() == expected.getvalue()
        assert "records written" in capsys.readouterr().err


def test_convert_refuses_unknown_formats_and_overwriting_the_input(cli, capsys, utf8_path, tmp_path):
    assert cli.main(["convert", str(utf8_path), str(tmp_path / "out.dat")]) == 2
    assert "--to" in capsys.readouterr().err
    assert cli.main(["convert", str(utf8_path), str(tmp_path / "out.csv")]) == 2  # a table: of which columns?
    assert "--fields" in capsys.readouterr().err
    assert cli.main(["convert", str(utf8_path), str(utf8_path), "--to", "json"]) == 2
    assert "overwrite" in capsys.readouterr().err


def test_convert_strict_fails_on_a_bad_record(cli, capsys, data_dir, tmp_path):
    bad = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not bad.is_file():
        pytest.skip("edge file missing")
    assert cli.main(["convert", str(bad), str(tmp_path / "o.json"), "--strict"]) == 1
    assert "record" in capsys.readouterr().err


def test_progress_bar_when_asked(cli, capsys, utf8_path, tmp_path):
    assert cli.main(["convert", str(utf8_path), str(tmp_path / "o.xml"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "100.0%" in err and "MB/s" in err
    assert cli.main(["convert", str(utf8_path), str(tmp_path / "o.xml"), "--no-progress"]) == 0
    assert "%" not in capsys.readouterr().err


def test_split_loses_nothing(cli, capsys, tmp_path, real_path, data_dir, loc_bytes):
    damaged = tmp_path / "damaged.mrc"  # junk between records and a bad length: framing errors
    damaged.write_bytes(
        loc_bytes[:5000] + b"GARBAGE12345xx" + loc_bytes[5000:20000] + b"99999" + loc_bytes[20000:40000]
    )
    for source in (real_path, data_dir / "edge" / "invalid_utf8_383.mrc", damaged):
        prefix = tmp_path / f"{source.stem}_"
        assert cli.main(["split", str(source), "--records", "100", "--prefix", str(prefix)]) == 0
        parts = sorted(tmp_path.glob(f"{source.stem}_*.mrc"))
        assert b"".join(p.read_bytes() for p in parts) == source.read_bytes()
        assert len(parts) >= 1
    capsys.readouterr()


def test_validate_reports_every_bad_record(impl, cli, capsys, data_dir, utf8_path):
    bad = data_dir / "edge" / "invalid_utf8_383.mrc"
    items = list(impl.MARCReader(str(bad)))
    assert cli.main(["validate", str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if "byte offset" in line]) == items.count(None)
    assert lines[-1].endswith(f"{len(items) - items.count(None)} good, {items.count(None)} bad")
    assert cli.main(["validate", str(utf8_path)]) == 0


def test_usage_errors_and_module_entry_point(cli, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    assert cli.main(["count", str(tmp_path / "missing.mrc")]) == 2
    capsys.readouterr()
    run = subprocess.run([sys.executable, "-m", "rapidmarc", "--version"], capture_output=True, text=True, check=True)
    assert run.stdout.startswith("rapidmarc ")


def test_convert_progress_reaches_the_input_size(impl, utf8_path):
    seen: list[int] = []
    impl.convert(str(utf8_path), io.BytesIO(), to="json", progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == utf8_path.stat().st_size


def test_validate_says_when_a_framing_error_stopped_reading(impl, cli, capsys, tmp_path, loc_bytes):
    damaged = tmp_path / "damaged.mrc"
    damaged.write_bytes(loc_bytes[:5000] + b"GARBAGE12345xx" + loc_bytes[5000:])
    assert cli.main(["validate", str(damaged)]) == 3  # reading stopped: bytes never read
    assert "--recover reads on" in capsys.readouterr().out
    assert cli.main(["validate", str(damaged), "--recover"]) == 1
    out = capsys.readouterr().out
    assert "--recover reads on" not in out
    items = list(impl.MARCReader(str(damaged), recover=True))
    assert out.splitlines()[-1].endswith(f"{len(items) - items.count(None)} good, {items.count(None)} bad")


def test_convert_between_all_formats_round_trips(impl, cli, capsys, utf8_path, tmp_path):
    records = [r for r in impl.MARCReader(str(utf8_path)) if r is not None]
    original = b"".join(r.as_marc() for r in records)
    for fmt in ("xml", "json"):
        middle, back = tmp_path / f"m.{fmt}", tmp_path / f"back-{fmt}.mrc"
        assert cli.main(["convert", str(utf8_path), str(middle), "--no-progress"]) == 0
        assert cli.main(["convert", str(middle), str(back)]) == 0  # read by rapidmarc's XML / JSON readers
        assert back.read_bytes() == original
    text = tmp_path / "t.mrk"
    assert cli.main(["convert", str(utf8_path), str(text)]) == 0
    expected = io.StringIO()
    writer = impl.TextWriter(expected, mnemonics=True)  # .mrk is lossless MARCMaker text
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    assert text.read_text(encoding="utf-8") == expected.getvalue()
    assert cli.main(["convert", str(text), str(tmp_path / "back-text.mrc")]) == 0
    assert (tmp_path / "back-text.mrc").read_bytes() == original
    assert cli.main(["convert", str(text), str(tmp_path / "t.json"), "--from", "text"]) == 0
    assert len(list(impl.JSONReader(str(tmp_path / "t.json")))) == len(records)
    capsys.readouterr()


def test_convert_to_text_strict_stops_and_leaves_nothing(cli, capsys, data_dir, tmp_path):
    bad = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not bad.is_file():
        pytest.skip("edge file missing")
    target = tmp_path / "out.mrk"
    assert cli.main(["convert", str(bad), str(target), "--strict"]) == 1
    assert not target.exists()
    assert "record 1, byte offset 665: field 350" in capsys.readouterr().err
    assert cli.main(["convert", str(bad), str(target)]) == 1  # bad records skipped
    assert "298 good, 85 bad; 298 records written" in capsys.readouterr().err
    assert cli.main(["convert", str(bad), str(target), "--allow-bad"]) == 0
