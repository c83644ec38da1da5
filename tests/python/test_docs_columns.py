"""The examples of docs/columns.md that are marked to run (```python run``` and ```sh run```
blocks) are run here, in order, on a real file named records.mrc, and what they compute is
checked against values built record by record with MARCReader."""

from __future__ import annotations

import re
import shlex
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.rapidmarc_only
pytest.importorskip("pyarrow")
pytest.importorskip("polars")
pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")

DOC = Path(__file__).resolve().parents[2] / "docs" / "columns.md"
BLOCK = re.compile(r"^```(python|sh) run\n(.*?)^```$", re.M | re.S)


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


@pytest.fixture
def records(data_dir, tmp_path, monkeypatch):
    source = data_dir / "real" / "loc_386.mrc"
    (tmp_path / "records.mrc").write_bytes(source.read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_marked_examples_run_and_compute_what_marcreader_says(impl, records, capsys):
    from rapidmarc import cli

    found = blocks()
    assert [kind for kind, _ in found] == ["python"] * 4 + ["sh"]  # a lost marker is a lost test
    namespace: dict = {}
    for kind, code in found:
        if kind == "python":
            exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the documentation's own code
            continue
        for line in code.splitlines():
            args = shlex.split(line)
            assert args[0] == "rapidmarc"
            assert cli.main(args[1:]) == 0, line
    capsys.readouterr()

    # The oracle, record by record.
    headings: Counter[str] = Counter()
    titles: dict[int, tuple[str | None, str | None]] = {}
    subjects = 0
    good = 0
    with impl.MARCReader("records.mrc") as reader:
        for index, record in enumerate(reader):
            assert record is not None
            good += 1
            for field in record.get_fields("650"):
                if field.indicator2 == "0":
                    headings.update(field.get_subfields("a"))
            control = record.get_fields("001")
            title = [v for f in record.get_fields("245") for v in f.get_subfields("a")]
            titles[index] = (control[0].data if control else None, title[0] if title else None)
            subjects += sum(
                max(len(f.subfields), 1) if not f.is_control_field() else 1
                for f in record.fields
                if f.tag.startswith("6")
            )
    top = sorted(headings.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert top and top[0][1] > 1  # the file has repeated headings: the query means something

    assert namespace["lcsh"] == top
    polars_top = namespace["lcsh_polars"]
    assert list(zip(polars_top["value"].to_list(), polars_top["len"].to_list(), strict=True)) == top
    pivot = namespace["titles"]
    assert {r: (c, t) for r, c, t in pivot.select("record", "001", "245").iter_rows()} == titles
    assert {r: (c, t) for r, c, t in namespace["titles_sql"]} == titles

    assert namespace["result"].summary.good == good and namespace["result"].summary.bad == 0
    wide = pq.read_table("records.parquet")
    assert wide.column("245$a").to_pylist() == impl.extract("records.mrc", ["245$a"])["245$a"]
    assert pq.read_metadata("records.parquet").metadata[b"rapidmarc.good_records"] == str(good).encode()
    assert namespace["subjects"] == [(subjects,)]
    assert pq.read_table("subfields.parquet").num_rows == len(impl.extract_long("records.mrc"))
    assert Path("records.csv").read_text(encoding="utf-8").splitlines()[0] == '"001","245$a","650$a"'

    assert pq.read_table("cli.parquet").equals(wide)
    csv_lines = Path("cli.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0] == '"001","650$a{^2=\\0}"' and len(csv_lines) == good + 1
    tsv = Path("cli-subfields.tsv").read_text(encoding="utf-8").splitlines()
    assert len(tsv) - 1 == subjects
