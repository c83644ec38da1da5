"""Differential tests on corrupted input: every bulk API agrees with MARCReader, item by item.

MARCReader's behaviour on damaged data is itself checked against pymarc (test_oracle.py). The bulk
paths (count, extract, extract_arrow, convert, read_range, parse_records) frame, parse and convert
natively on their own threads; here they must see exactly the records MARCReader yields, on
random bytes and on real records with random corruptions, in both recovery modes.
"""

from __future__ import annotations

import io
import json
import warnings

import pytest
from marc_testlib import fuzz_samples, mutated_inputs, random_inputs

pytestmark = pytest.mark.rapidmarc_only

SPECS = ["LDR", "001", "245", "6XX$ax"]


@pytest.fixture(scope="module")
def inputs(data_dir) -> list[bytes]:
    return random_inputs(11, 60) + mutated_inputs(12, 140, fuzz_samples(data_dir, per_file=15))


def _reader_view(impl, data: bytes, recover: bool) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [r for r in impl.MARCReader(data, recover=recover, workers=0) if r is not None]


@pytest.mark.parametrize("recover", [False, True])
def test_bulk_apis_agree_with_the_reader_on_damaged_input(impl, inputs, recover):
    pa = pytest.importorskip("pyarrow")
    for n, data in enumerate(inputs):
        good = _reader_view(impl, data, recover)
        raw = [r._raw_bytes() for r in good]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for workers in (0, 2):
                assert impl.count(data, workers=workers, recover=recover) == len(good), n
                cols = impl.extract(data, SPECS, workers=workers, recover=recover)
                assert all(len(v) == len(good) for v in cols.values()), n
                table = pa.table(impl.extract_arrow(data, SPECS, workers=workers, recover=recover))
                assert {name: table.column(name).to_pylist() for name in SPECS} == cols, n
                out = io.BytesIO()
                result = impl.convert(data, out, to="marc", workers=workers, recover=recover)
                assert out.getvalue() == b"".join(raw) and result.records == len(good), n
            values = [[f.value() for f in r.get_fields("245")] for r in good]
            assert cols["245"] == values, n
            text = io.BytesIO()
            impl.convert(data, text, to="json", recover=recover)
            expected = [json.loads(r.as_json()) for r in good]
            assert json.loads(text.getvalue()) == expected, n


def test_read_range_and_parse_records_agree_with_the_reader(impl, inputs):
    for n, data in enumerate(inputs):
        good = _reader_view(impl, data, recover=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            whole = impl.read_range(data, 0, len(data))
        if whole.clean:  # framing never failed: the one range is the whole stream
            assert [r._raw_bytes() for r in whole.records if r is not None] == [r._raw_bytes() for r in good], n
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = impl.parse_records(data, workers=2)
        assert [r._raw_bytes() for r in parsed if r is not None] == [r._raw_bytes() for r in good], n
