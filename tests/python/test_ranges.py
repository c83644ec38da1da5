"""rapidmarc.read_range / byte_ranges: the byte-range seam for partitioned readers (e.g. Dask)."""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.rapidmarc_only


def _chain_ok(results) -> bool:
    """The coordinator's check: clean ranges whose records chain from offset 0."""
    position = 0
    for r in results:
        if not r.clean:
            return False
        if r.start is None:
            continue
        if r.start != position:
            return False
        position = r.end
    return True


def _raw(records) -> list[bytes | None]:
    return [r._raw_bytes() if r is not None else None for r in records]


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 40])
def test_ranges_partition_every_real_file_exactly(impl, real_path, parts):
    expected = list(impl.MARCReader(str(real_path)))
    for source in (str(real_path), real_path.read_bytes()):
        results = [impl.read_range(source, a, b) for a, b in impl.byte_ranges(source, parts)]
        assert _chain_ok(results)
        assert [r.end for r in results if r.start is not None][-1] == real_path.stat().st_size
        records = [r for res in results for r in res.records]
        assert _raw(records) == _raw(expected)
        assert all(r is None or r.title == e.title for r, e in zip(records, expected, strict=True))


def test_random_cuts_partition_a_file(impl, loc_bytes):
    rng = random.Random(7)
    expected = _raw(list(impl.MARCReader(loc_bytes)))
    for _ in range(20):
        cuts = sorted({0, len(loc_bytes), *(rng.randrange(len(loc_bytes)) for _ in range(rng.randrange(1, 12)))})
        results = [impl.read_range(loc_bytes, a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
        assert _chain_ok(results)
        assert _raw([r for res in results for r in res.records]) == expected


def test_bad_records_are_none_with_their_errors(impl, data_dir):
    path = data_dir / "edge" / "invalid_utf8_383.mrc"
    if not path.is_file():
        pytest.skip("edge file missing")
    reader = impl.MARCReader(str(path))
    expected = []
    for item in reader:
        expected.append((item is None, type(reader.current_exception).__name__ if item is None else None))
    result = impl.read_range(str(path), 0, path.stat().st_size)
    assert [(r is None) for r in result.records] == [bad for bad, _ in expected]
    assert [type(e).__name__ for e in result.errors] == [name for bad, name in expected if bad]
    assert all(e.byte_offset is not None for e in result.errors)


def test_damage_shows_in_the_chain_check(impl, loc_bytes):
    damaged = loc_bytes[:5000] + b"GARBAGE12345xx" + loc_bytes[5000:]
    results = [impl.read_range(damaged, a, b) for a, b in impl.byte_ranges(damaged, 4)]
    assert not _chain_ok(results)  # the coordinator must fall back to MARCReader for this input


def test_empty_ranges_and_arguments(impl, loc_bytes, tmp_path):
    empty = impl.read_range(loc_bytes, 10, 10)
    assert empty.records == [] and empty.start is None and empty.clean
    with pytest.raises(ValueError):
        impl.read_range(loc_bytes, 5, 1)
    with pytest.raises(ValueError):
        impl.byte_ranges(loc_bytes, 0)
    with pytest.raises(OSError):
        impl.read_range(tmp_path / "missing.mrc", 0, 10)
    with pytest.raises(TypeError):
        impl.read_range(42, 0, 1)  # type: ignore[arg-type]


def test_byte_ranges_count_bytes_of_wide_buffers(impl, loc_bytes):
    import array

    wide = array.array("H")
    wide.frombytes(loc_bytes if len(loc_bytes) % 2 == 0 else loc_bytes + b" ")
    ranges = impl.byte_ranges(wide, 3)
    assert ranges[-1][1] == len(wide) * wide.itemsize
