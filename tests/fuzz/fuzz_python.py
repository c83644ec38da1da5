#!/usr/bin/env python3
"""atheris (libFuzzer for Python) target: rapidmarc's Python layer on arbitrary and mutated MARC.

Each input is cut by ``atheris.FuzzedDataProvider``, which takes integers from the end and bytes
from the front: the last ``OPTION_BYTES`` bytes choose the options, the rest is the payload. The
payload is the MARC stream itself, or (``mode`` 2) a program of structural mutations of records
from the seed corpus, or (``mode`` 3) the raw payload followed by one seed record.

The stream is read by ``MARCReader`` from ``bytes``, an ``io.BytesIO``, a raw stream whose
``readinto()`` returns short reads, or a stream with only ``read()``, with the options the input
chooses (strict False and True, recover, ``encoding=None/'auto'``, ``to_unicode``, ``force_utf8``,
``utf8_handling``, ``workers``); a stream may raise ``Injected`` (an ``OSError``) at its k-th
read. Properties checked (a violation raises ``Finding``; any exception that is not one of
rapidmarc's documented ones propagates, and atheris reports both with the input):

* every source kind, strict or not, yields the same items (records, ``None``s, ``current_chunk``,
  ``current_offset``, exception types, ``corrected_records``) as ``bytes``; a stream that fails at
  read k yields a prefix of them, every item that ends before the failing read's offset (without
  ``recover``), then raises that very exception;
* ``strict=True`` yields the non-strict items up to the first ``None``, then raises the
  exception the non-strict reader recorded for it;
* for every record: ``str()``, ``as_json()``, ``record_to_xml()``, ``title``, every field's
  ``value()``; ``JSONReader`` and ``parse_xml_to_array`` read rapidmarc's JSON and MARCXML of the
  record back to an equal record shape; an edit (a subfield added, an indicator changed) is
  written by ``as_marc()`` as one record with as many fields, or refused with ``ValueError``;
* ``count``, ``extract`` and ``convert`` (to ``marc``, ``json``, ``xml``) agree with
  ``MARCReader``'s good records on every source kind (strict: the same exception), and on a
  failing stream return that or raise the stream's exception, never a partial result.

Documented exceptions (tolerated): ``PymarcException`` subclasses, ``UnicodeDecodeError``,
``ValueError`` (``UnicodeEncodeError`` included), ``IndexError`` for subfield codes, the injected
``OSError``, and, for records read with ``to_unicode=False``, pymarc's own ``TypeError`` of
``str()``, ``as_json()``, ``title`` and ``value()`` on ``bytes``. ``BadSubfieldCodeWarning`` is
ignored.

Findings of earlier campaigns, now fixed and checked here: ``as_marc()`` wrote an indicator or
code that is not one ASCII character (it now raises ``ValueError``); a reader whose
``current_exception`` had a traceback through a frame holding the reader was never collected.

Run (``make fuzz`` does, after the libFuzzer targets; new corpus entries go to the first directory):

    python3 tests/fuzz/fuzz_python.py -max_total_time=600 -timeout=20 build/fuzz/corpus/python tests/fuzz/seeds_python
    python3 tests/fuzz/fuzz_python.py crash-<sha1>           # replay one input
    python3 tests/fuzz/fuzz_python.py --write-seeds [DATA]   # rebuild the seeds from ../shared/data
"""

from __future__ import annotations

import io
import json
import sys
import traceback
import warnings
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["rapidmarc"]):
    import rapidmarc

SEEDS = Path(__file__).resolve().parent / "seeds_python"
OPTION_BYTES = 8

warnings.simplefilter("ignore", rapidmarc.BadSubfieldCodeWarning)


class Finding(AssertionError):
    """A property of rapidmarc does not hold for this input."""


class Injected(OSError):
    """The failure a test stream raises at its k-th read."""


def check(ok: bool, what: str, *details: object) -> None:
    if not ok:
        raise Finding(what + "".join(f"\n  {d!r}"[:2000] for d in details))


def documented(exc: BaseException) -> bool:
    if isinstance(exc, IndexError):
        return str(exc) == "string index out of range"  # pymarc's rule for a missing subfield code
    return isinstance(exc, rapidmarc.PymarcException | UnicodeDecodeError | ValueError | Injected)


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


class ShortReads(io.RawIOBase):
    """A raw stream: readinto() gives at most `chunk` bytes and raises Injected at call `fail_at`."""

    def __init__(self, data: bytes, chunk: int, fail_at: int | None) -> None:
        self.data, self.chunk, self.fail_at = data, chunk, fail_at
        self.pos = self.calls = 0
        self.failed_at_offset: int | None = None
        self.raised: Injected | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.calls += 1
        if self.calls == self.fail_at:
            self.failed_at_offset = self.pos
            self.raised = Injected(5, f"injected failure at read {self.calls}, offset {self.pos}")
            raise self.raised
        n = min(len(buffer), self.chunk, len(self.data) - self.pos)
        buffer[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


class ReadOnly(ShortReads):
    """A stream with only read(n): short reads, and Injected at call `fail_at`."""

    readinto = None  # type: ignore[assignment]

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls == self.fail_at:
            self.failed_at_offset = self.pos
            self.raised = Injected(5, f"injected failure at read {self.calls}, offset {self.pos}")
            raise self.raised
        n = self.chunk if n < 0 else min(n, self.chunk)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out


SOURCE_KINDS = ("bytes", "BytesIO", "short readinto", "short read")


def make_source(kind: str, data: bytes, chunk: int, fail_at: int | None):
    if kind == "bytes":
        return data
    if kind == "BytesIO":
        return io.BytesIO(data)
    return (ShortReads if kind == "short readinto" else ReadOnly)(data, chunk, fail_at)


# ---------------------------------------------------------------------------
# Seeds and mutations
# ---------------------------------------------------------------------------


def frame(data: bytes) -> list[bytes]:
    """The records of a stream, split on leader lengths, up to the first that does not frame."""
    out, pos = [], 0
    while pos + 24 <= len(data) and data[pos : pos + 5].isdigit():
        n = int(data[pos : pos + 5])
        if n < 24 or data[pos + n - 1 : pos + n] != b"\x1d":
            break
        out.append(data[pos : pos + n])
        pos += n
    return out


def load_pool() -> list[bytes]:
    pool = []
    for path in sorted(SEEDS.glob("*")):
        pool.extend(frame(path.read_bytes()[:-OPTION_BYTES]))
    return pool or [b"00046nam a2200037 a 4500245000800000\x1e10\x1faA\x1e\x1d"]


POOL = load_pool()


def mutate(payload: bytes) -> bytes:
    """Structural mutations of 1-3 seed records, driven by `payload` (integers from its end,
    inserted bytes from its front)."""
    fdp = atheris.FuzzedDataProvider(payload)
    stream = bytearray()
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        stream += POOL[fdp.ConsumeIntInRange(0, len(POOL) - 1)]
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        if not stream:
            break
        op = fdp.ConsumeIntInRange(0, 9)
        pos = fdp.ConsumeIntInRange(0, len(stream) - 1)
        if op == 0:  # one byte
            stream[pos] = fdp.ConsumeIntInRange(0, 255)
        elif op == 1:  # a delimiter, terminator or escape
            stream[pos] = b"\x1d\x1e\x1f\x1b"[fdp.ConsumeIntInRange(0, 3)]
        elif op == 2:  # a structural digit: leader lengths or a directory entry
            near = pos % min(len(stream), 24 + 12 * 8)
            stream[near] = b"0123456789 x"[fdp.ConsumeIntInRange(0, 11)]
        elif op == 3:  # leader/09: MARC-8, UTF-8 or neither
            if len(stream) > 9:
                stream[9] = b" az"[fdp.ConsumeIntInRange(0, 2)]
        elif op == 4:
            del stream[pos:]
        elif op == 5:
            del stream[pos : pos + fdp.ConsumeIntInRange(1, 64)]
        elif op == 6:  # bytes from the payload's front
            stream[pos:pos] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 32))
        elif op == 7:  # a copy of part of the stream (duplicated directory entries, fields)
            size = fdp.ConsumeIntInRange(1, 64)
            stream[pos:pos] = stream[pos : pos + size]
        elif op == 8:  # a non-ASCII or invalid UTF-8 sequence
            stream[pos:pos] = [b"\xc3", b"\xc3\xa9", b"\xe4\xb8", b"\xed\xa0\x80", b"\xff", b"\xe2"][
                fdp.ConsumeIntInRange(0, 5)
            ]
        else:  # the leader length set to what the stream now holds (keeps framing after edits)
            if len(stream) >= 5:
                stream[0:5] = b"%05d" % min(len(stream), 99999)
    return bytes(stream)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def reads_to_the_end(chunk: bytes) -> bool:
    """True for a chunk framed by a record length below 5, which takes the rest of the input."""
    try:
        return int(chunk[:5]) < 5
    except ValueError:
        return False


def read_items(source, **options) -> tuple[list[tuple], list, BaseException | None, list]:
    """(items, records, the exception that ended iteration, corrected_records). Each item is
    (is a record, current_chunk, current_offset, type name of current_exception)."""
    reader = rapidmarc.MARCReader(source, **options)
    items, records, error = [], [], None
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - judged by the caller
            # reader -> exception -> traceback -> this frame -> reader is a cycle the collector
            # must see (fixed finding); kept, so a leak shows as memory growth in a campaign.
            error = exc
            break
        exc = reader.current_exception
        check((record is None) == (exc is not None), "current_exception is set exactly for None", record, exc)
        items.append((record is not None, reader.current_chunk, reader.current_offset, type(exc).__name__))
        records.append(record)
    corrected = list(reader.corrected_records)
    reader.close()
    return items, records, error, corrected


def field_shape(field) -> tuple:
    if field.control_field:
        return (field.tag, "control", field.data)
    return (field.tag, tuple(field.indicators), [(sf.code, sf.value) for sf in field.subfields])


def record_shape(record) -> tuple:
    return (str(record.leader), [field_shape(f) for f in record.fields])


def xml_safe(record) -> bool:
    """XML 1.0 can carry the record's text (no C0 controls but tab and newline, no CR, which XML
    parsers turn into newlines, no U+FFFE/FFFF, no lone surrogates)."""
    texts = [str(record.leader)]
    for field in record.fields:
        texts.append(field.tag)
        if field.control_field:
            texts.append(field.data)
        else:
            texts.extend(field.indicators)
            for code, value in field.subfields:
                texts += [code, value]
    for text in texts:
        for ch in text:
            c = ord(ch)
            if (c < 0x20 and ch not in "\t\n") or 0xD800 <= c <= 0xDFFF or c in (0xFFFE, 0xFFFF):
                return False
    return True


CODES = ("a", "z", "0", "9", "$", "\x1f", "é", "", "ab")
VALUES = ("x", "", "é ü", "中文", "a\x1fb", "\x1e", "&#x41;", " ", "y" * 10_000, "\x1b(3", "\x00")
INDICATORS = (" ", "0", "9", "a", "\\", "\x1f", "é", "", "12")


def tolerate(what: str, fn, type_error_ok: bool = False):
    """fn(), or None if it raised a documented exception."""
    try:
        return fn()
    except TypeError:
        if not type_error_ok:
            raise
    except Exception as exc:
        if not documented(exc) or isinstance(exc, Injected):
            raise
    return None


def exercise_record(record, to_unicode: bool, edit: tuple[int, int, int, int]) -> None:
    lossy = not to_unicode  # pymarc's str()/as_json()/value() raise TypeError on bytes values
    tolerate("str", lambda: str(record), lossy)
    tolerate("title", lambda: record.title, lossy)
    tolerate("value", lambda: [f.value() for f in record.fields], lossy)
    xml = tolerate("record_to_xml", lambda: rapidmarc.record_to_xml(record))
    text = tolerate("as_json", lambda: record.as_json(), lossy)
    if to_unicode:
        shape = tolerate("shape", lambda: record_shape(record))
        if text is not None and shape is not None:
            back = list(rapidmarc.JSONReader(text))
            check(len(back) == 1, "JSONReader reads one record from as_json()", text)
            check(record_shape(back[0]) == shape, "as_json() reads back as the same record", text, shape)
        if xml is not None and shape is not None and xml_safe(record):
            back = rapidmarc.parse_xml_to_array(io.BytesIO(xml))
            check(len(back) == 1, "parse_xml_to_array reads one record from record_to_xml()", xml)
            check(record_shape(back[0]) == shape, "record_to_xml() reads back as the same record", xml, shape)

    # An edit: a subfield added to a data field and an indicator changed (or a new field), then as_marc().
    which, code_i, value_i, ind_i = edit
    code, value, ind = CODES[code_i % len(CODES)], VALUES[value_i % len(VALUES)], INDICATORS[ind_i % len(INDICATORS)]
    if not to_unicode:
        value = value.encode("utf-8")  # type: ignore[assignment]
    data_fields = [f for f in record.fields if not f.control_field]
    try:
        if data_fields:
            field = data_fields[which % len(data_fields)]
            field.add_subfield(code, value)
            if which & 0x80:
                field.indicator2 = ind
            else:
                field.indicator1 = ind
        else:
            record.add_field(
                rapidmarc.Field(
                    tag="500", indicators=rapidmarc.Indicators(ind, " "), subfields=[rapidmarc.Subfield(code, value)]
                )
            )
    except Exception as exc:
        if not documented(exc) or isinstance(exc, Injected):
            raise
        return
    try:
        out = record.as_marc()
    except ValueError:
        return
    items, back, error, _ = read_items(out, to_unicode=False)
    check(error is None and len(back) == 1, "as_marc() writes one record", out, items)
    check(back[0] is not None, "as_marc() writes a record that reads back", out, items)
    check(
        [f.tag for f in back[0].fields] == [f.tag for f in record.fields],
        "as_marc() of an edited record reads back with the same fields",
        out,
        [f.tag for f in record.fields],
    )


# ---------------------------------------------------------------------------
# Bulk operations against MARCReader
# ---------------------------------------------------------------------------

SPECS = ["LDR", "001", "245$a"]


def expect_same_or_injected(what: str, source, fn, expected, fail_at) -> None:
    """fn(source) returns `expected`, or raises the source's injected failure."""
    try:
        got = fn(source)
    except Injected:
        check(fail_at is not None, f"{what}: Injected raised without injection")
        return
    check(got == expected, f"{what} agrees with MARCReader", got, expected)


def expect_raises(what: str, fn, error_type: str, fail_at) -> None:
    """fn() raises `error_type` (a strict-mode exception), or the injected failure."""
    try:
        got = fn()
    except Injected:
        check(fail_at is not None, f"{what}: Injected raised without injection")
        return
    except Exception as exc:
        if not documented(exc):
            raise
        check(type(exc).__name__ == error_type, f"{what} raises MARCReader's strict exception", exc, error_type)
        return
    raise Finding(f"{what} returned {got!r}; MARCReader(strict=True) raised {error_type}")


def run_bulk(data: bytes, kind: str, chunk: int, fail_at: int | None, options: dict, good: list, good_chunks: list,
             bad: int, strict_error: str | None) -> None:  # fmt: skip
    def src():
        return make_source(kind, data, chunk, fail_at)

    n = len(good)
    expect_same_or_injected("count", src(), lambda s: rapidmarc.count(s, **options), n, fail_at)
    if options["to_unicode"]:
        values = [[str(r.leader)] for r in good], [[f.data for f in r.get_fields("001")] for r in good]
    else:
        values = [[str(r.leader).encode()] for r in good], [[f.data for f in r.get_fields("001")] for r in good]
    try:
        got = rapidmarc.extract(src(), SPECS, **options)
    except Injected:
        check(fail_at is not None, "extract: Injected raised without injection")
    else:
        check(all(len(got[s]) == n for s in SPECS), "extract has one row per good record", got, n)
        check((got["LDR"], got["001"]) == values, "extract's LDR and 001 are the records' leader and 001", got, values)

    sink = io.BytesIO()
    try:
        result = rapidmarc.convert(src(), sink, to="marc", **options)
    except Injected:
        check(fail_at is not None, "convert: Injected raised without injection")
    else:
        check(result[:3] == (n, bad, 0), "convert to marc counts MARCReader's good and bad records", result, n, bad)
        check(
            result.stop_error is not None or result.bytes_read == len(data),
            "convert accounts for every byte: read to the end, or a stop says where it ended",
            result,
            len(data),
        )
        summary = rapidmarc.scan(data, **options)
        check(summary[:2] == (n, bad), "scan counts MARCReader's good and bad records", summary, n, bad)
        check(
            sink.getvalue() == b"".join(good_chunks), "convert to marc writes the good records' bytes", sink.getvalue()
        )
    if options["to_unicode"]:
        for to in ("json", "xml"):
            sink = io.BytesIO()
            try:
                result = rapidmarc.convert(src(), sink, to=to, **options)
            except Injected:
                check(fail_at is not None, "convert: Injected raised without injection")
                continue
            check(result.records + result.unconvertible == n and result.bad == bad,
                  f"convert to {to} counts MARCReader's records", result, n, bad)  # fmt: skip
            if to == "json" and result.unconvertible == 0:
                doc = json.loads(sink.getvalue())
                check(doc == [r.as_dict() for r in good], "convert to json writes the records' as_dict()", doc)

    strict = dict(options, strict=True)
    if strict_error is None:
        expect_same_or_injected("count(strict)", src(), lambda s: rapidmarc.count(s, **strict), n, fail_at)
    else:
        expect_raises("count(strict)", lambda: rapidmarc.count(src(), **strict), strict_error, fail_at)
        expect_raises(
            "convert(strict)",
            lambda: rapidmarc.convert(src(), io.BytesIO(), to="marc", **strict),
            strict_error,
            fail_at,
        )


# ---------------------------------------------------------------------------
# The target
# ---------------------------------------------------------------------------


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags, chunk_b, fail_b, more, *edit = (fdp.ConsumeIntInRange(0, 255) for _ in range(OPTION_BYTES))
    payload = fdp.ConsumeBytes(fdp.remaining_bytes())
    mode = flags >> 6
    if mode == 2:
        stream = mutate(payload)
    elif mode == 3:
        stream = payload + POOL[more % len(POOL)]
    else:
        stream = payload
    options = {
        "recover": bool(flags & 1),
        "encoding": "auto" if flags & 2 else None,
        "to_unicode": not flags & 4,
        "force_utf8": bool(more & 0x10),
        "utf8_handling": ("strict", "replace", "ignore", "strict")[(more >> 5) & 3],
    }
    workers = (0, 1, 2, None)[more & 3]
    kind = SOURCE_KINDS[(flags >> 3) & 3]
    chunk = 1 + chunk_b
    inject = bool(flags & 0x20) and kind in ("short readinto", "short read")
    fail_at = 1 + fail_b if inject else None

    # The reference: bytes, not strict.
    items, records, error, corrected = read_items(stream, workers=workers, **options)
    check(error is None, "a non-strict reader of bytes raises nothing", error)
    good = [r for r in records if r is not None]
    bad = len(records) - len(good)
    first_bad = next((i for i, item in enumerate(items) if not item[0]), None)
    strict_error = None if first_bad is None else items[first_bad][3]

    # strict=True: the same items up to the first bad one, then its exception.
    s_items, _, s_error, _ = read_items(stream, workers=workers, strict=True, **options)
    if first_bad is None:
        check(s_error is None and s_items == items, "strict reads what non-strict reads", s_items, items, s_error)
    else:
        check(s_items == items[:first_bad], "strict reads up to the first bad record", s_items, items[:first_bad])
        check(type(s_error).__name__ == strict_error, "strict raises the bad record's exception", s_error, strict_error)
        if not documented(s_error):
            trace = "".join(traceback.format_tb(s_error.__traceback__))
            raise Finding(f"strict reading raised an undocumented {s_error!r}\n{trace}") from s_error

    # The chosen source kind, strict or not, possibly failing part-way.
    if kind != "bytes":
        kind_strict = bool(more & 4)
        ref_items, ref_error = (s_items, type(s_error).__name__) if kind_strict else (items, "NoneType")
        source = make_source(kind, stream, chunk, fail_at)
        k_items, _, k_error, k_corrected = read_items(source, strict=kind_strict, **options)
        failed_at = getattr(source, "failed_at_offset", None)
        if failed_at is None or (kind_strict and k_items == ref_items and type(k_error).__name__ == ref_error):
            check(type(k_error).__name__ == ref_error, f"a {kind} source raises what bytes raise", k_error, ref_error)
            check(k_items == ref_items, f"a {kind} source yields what bytes yield", k_items, ref_items)
            if not kind_strict:
                check(k_corrected == corrected, "corrected_records agree", k_corrected, corrected)
        else:
            check(k_error is source.raised, "a failing read's exception propagates", k_error, k_items)
            check(k_items == ref_items[: len(k_items)], "a failing source yields a prefix of the items", k_items)
            if not options["recover"]:  # (recovery looks past a damaged chunk for the next record)
                # A chunk is truncated only once the end of the stream is seen, and one whose
                # length is below 5 takes the rest of the stream (as pymarc's read(-1) does).
                complete = [
                    it
                    for it in ref_items
                    if it[2] + len(it[1]) <= failed_at and it[3] != "TruncatedRecord" and not reads_to_the_end(it[1])
                ]
                check(
                    all(it in k_items for it in complete),
                    "every item complete before the failing read is delivered",
                    failed_at,
                    k_items,
                    complete,
                )

    bulk_options = dict(options, workers=workers)
    good_chunks = [item[1] for item in items if item[0]]
    run_bulk(stream, kind, chunk, fail_at, bulk_options, good, good_chunks, bad, strict_error)

    for record in good:  # last: the edit changes the record
        exercise_record(record, options["to_unicode"], tuple(edit))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------


def tail(flags: int = 0, chunk: int = 0, fail: int = 0, more: int = 0, edit=(0, 0, 0, 0)) -> bytes:
    """The option bytes, in the order FuzzedDataProvider takes them (from the end)."""
    return bytes(reversed([flags, chunk, fail, more, *edit]))


def write_seeds(data_dir: Path) -> None:
    """A few records cut from the shared data, each with some option tails (< 200 KB in all)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    from marc_testlib import split_records

    def recs(name: str, *indexes: int) -> bytes:
        records = split_records((data_dir / name).read_bytes())
        return b"".join(records[i] for i in indexes)

    cuts = {
        "loc_utf8": recs("real/loc_386.mrc", 264, 219),
        "auth_utf8": recs("real/auth_1066.mrc", 509, 910, 96),
        "uva_marc8": recs("real/uva_2000.mrc", 1370),
        "hebrew_marc8_escapes": recs("real/hebrew_20.mrc", 7),
        "solrmarc_marc8_escapes": recs("real/solrmarc_spec_76.mrc", 29),
        "lul_fre_marc8": recs("real/lul_fre_500.mrc", 486),
        "nepali_three_indicators": recs("real/nepali_96.mrc", 15),
        "jazz_empty_subfield": recs("real/jazz_1k.mrc", 382),
        "invalid_utf8": recs("edge/invalid_utf8_383.mrc", 0, 1, 2),
        "mislabelled_utf8": recs("edge/mislabelled_utf8_as_marc8_52.mrc", 48),
        "structural_errors": (data_dir / "edge/structural_errors_5.mrc").read_bytes()[:6000],
    }
    cuts["truncated"] = cuts["loc_utf8"][:900]
    cuts["bad_length"] = b"0x" + cuts["auth_utf8"][2:]
    SEEDS.mkdir(exist_ok=True)
    for old in SEEDS.glob("*"):
        old.unlink()
    variants = {
        "plain": tail(),
        "strictish_file": tail(flags=0x08 | 0x01, chunk=63),  # BytesIO, recover
        "short_reads_fail": tail(flags=0x10 | 0x20, chunk=7, fail=5, more=1),  # readinto, fails at read 6
        "read_only_auto_bytes": tail(flags=0x18 | 0x02 | 0x04, chunk=200, more=2),  # read(), auto, to_unicode=False
    }
    for name, payload in cuts.items():
        for vname, option_tail in variants.items():
            (SEEDS / f"{name}-{vname}").write_bytes(payload + option_tail)
    # Mutation programs: the whole file is a program over the pool (the records above).
    for i in range(6):
        program = bytes([(i * 37 + j * 11) % 256 for j in range(24)])
        (SEEDS / f"mutate-{i}").write_bytes(program + tail(flags=0x80 | (i % 4) << 3, chunk=i * 5, more=i))
    total = sum(p.stat().st_size for p in SEEDS.glob("*"))
    print(f"{len(list(SEEDS.glob('*')))} seeds, {total} bytes in {SEEDS}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--write-seeds":
        default = Path(__file__).resolve().parents[3] / "shared" / "data"
        write_seeds(Path(sys.argv[2]) if len(sys.argv) > 2 else default)
        return
    # The native core is not instrumented (that is the libFuzzer targets' job): coverage comes from
    # rapidmarc's Python modules and from this file's own branches (options, mutations, outcomes).
    for fn in (mutate, read_items, tolerate, exercise_record, run_bulk, test_one_input):
        globals()[fn.__name__] = atheris.instrument_func(fn)
    atheris.Setup(sys.argv, globals()["test_one_input"])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
