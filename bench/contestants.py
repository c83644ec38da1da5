"""The Python contestants and the per-file work they all do.

Every library is driven through one small adapter (`Library`) so that a workload
is written once and every contestant does the same work on the same bytes:

* pymarc and rmarc are given an open binary file, as their users do;
  mrrc and rapidmarc are given the path (their native, GIL-free readers).
* ``title`` is pymarc's ``Record.title`` (245 $a, plus " " and $b). mrrc's own
  ``title`` returns only 245 $a, so its adapter builds pymarc's title from the
  245 field with mrrc's API: the same work and the same output, comparable.

A workload runs over one file and returns a `FileResult`: the record count and
what is needed to check the output. Two flavours exist. The *raw* result is
cheap (lengths, CRC-32 of bytes) and is what timed runs compute; the *canonical*
result (``canonical=True``) normalises what libraries may legitimately format
differently (JSON separators, whitespace that mrrc does not strip from
subfield values) so that libraries can be compared with pymarc. The harness
runs the canonical flavour once, untimed, before timing anything.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import unicodedata
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

PYTHON_LIBRARIES = ("pymarc", "rmarc", "mrrc", "rapidmarc")
FILE_OBJECT_READERS = {"pymarc", "rmarc"}
WORKLOADS = ("read", "title", "extract", "roundtrip", "json", "xml")


@dataclass
class FileResult:
    """What one workload produced for one file (the parts that apply)."""

    records: int = 0
    titles: list[str] | None = None  # returned to the caller: pickled in process mode
    ints: dict[str, int] = field(default_factory=dict)  # lengths and CRC-32s


def silence_process() -> None:
    """Silence logging, warnings and stderr for the whole process, once, before timing.

    pymarc writes a stderr line per unmappable MARC-8 character and warns through
    ``warnings``/``logging``; the libraries still do the work of producing these.
    This must be process-wide and set once: per-task context managers
    (``redirect_stderr``, ``catch_warnings``) are not thread-safe, and in thread pools
    their interleaved exits left ``sys.stderr`` pointing at a closed file, so that a
    warning raised inside pymarc and the record was reported as bad. Fork-started
    pool workers inherit the settings.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)


def _pymarc_title(rec: Any) -> str | None:
    """pymarc's Record.title, spelled with the generic field API (used for mrrc)."""
    f = rec.get("245")
    if not f:
        return None
    title = f.get("a")
    if title:
        sub = f.get("b")
        if sub:
            title += f" {sub}"
    return title


class Library:
    """Adapter: how a user of ``name`` opens a file and reads a record."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mod = importlib.import_module(name)
        self.title: Callable[[Any], str | None] = _pymarc_title if name == "mrrc" else _title_property

    @contextlib.contextmanager
    def open(self, path: str) -> Iterator[Iterable[Any]]:
        """A MARCReader over ``path``, opened the way this library's users do."""
        with contextlib.ExitStack() as stack:
            if self.name in FILE_OBJECT_READERS:
                reader = self.mod.MARCReader(stack.enter_context(open(path, "rb")))
            else:
                reader = self.mod.MARCReader(path)
                if callable(getattr(reader, "close", None)):
                    stack.callback(reader.close)
            yield reader


def _title_property(rec: Any) -> str | None:
    return rec.title  # type: ignore[no-any-return]


# The one documented MARC-8 mapping difference (docs/marc8.md): pymarc decodes ANSEL's ligature
# and double-tilde halves as the half marks U+FE20-FE23, rapidmarc as LC's tables say (U+0361 /
# U+0360 after the first letter, nothing for the second half). Checks compare text with the half
# marks mapped LC's way, so that this difference, and only it, is not reported.
_LC_HALVES = str.maketrans({"\ufe20": "\u0361", "\ufe21": None, "\ufe22": "\u0360", "\ufe23": None})


def _documented(text: str) -> str:
    if max(text, default="\0") >= "\ufe20" and any("\ufe20" <= c <= "\ufe23" for c in text):
        return unicodedata.normalize("NFC", text.translate(_LC_HALVES))
    return text


def _crc_text(crc: int, text: str) -> int:
    return zlib.crc32(_documented(text).encode("utf-8", "backslashreplace"), crc)


def run_records(lib: Library, workload: str, records: Iterable[Any], canonical: bool) -> FileResult:
    """Apply ``workload`` to a stream of records (``None`` = bad record, skipped)."""
    res = FileResult()
    n = 0
    if workload == "read":
        for rec in records:
            if rec is not None:
                n += 1
    elif workload == "title":
        title = lib.title
        titles = res.titles = []
        for rec in records:
            if rec is not None:
                n += 1
                titles.append(title(rec) or "")
    elif workload == "extract":
        title = lib.title
        titles = res.titles = []
        chars = vcrc = 0
        for rec in records:
            if rec is None:
                continue
            n += 1
            titles.append(title(rec) or "")
            for f in rec.get_fields():
                v = f.value()
                chars += len(v)
                if canonical:
                    vcrc = _crc_text(vcrc, " ".join(v.split()) + "\x1e")
        res.ints["value_chars"] = chars
        if canonical:
            res.ints["values"] = vcrc
    elif workload == "roundtrip":
        mcrc = 0
        for rec in records:
            if rec is not None:
                n += 1
                mcrc = zlib.crc32(rec.as_marc(), mcrc)
        res.ints["marc"] = mcrc
    elif workload == "json":
        size = jcrc = 0
        for rec in records:
            if rec is None:
                continue
            n += 1
            text = rec.as_json()
            size += len(text)
            if canonical:
                norm = json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                jcrc = _crc_text(jcrc, norm)
        res.ints["json_chars"] = size
        if canonical:
            res.ints["json"] = jcrc
    elif workload == "xml":
        to_xml = lib.mod.record_to_xml  # every contestant has pymarc's record_to_xml(record)
        size = xcrc = 0
        for rec in records:
            if rec is None:
                continue
            n += 1
            data = to_xml(rec)
            if isinstance(data, str):
                data = data.encode("utf-8")
            size += len(data)
            if canonical:
                xcrc = zlib.crc32(data, xcrc)
        res.ints["xml_bytes"] = size
        if canonical:
            res.ints["xml"] = xcrc
    else:
        raise ValueError(f"unknown workload {workload!r}")
    res.records = n
    return res


# One Library per process: adapters are built on first use, so that a process
# pool worker imports the library once, as a user's worker would.
_LIBS: dict[str, Library] = {}


def library(name: str) -> Library:
    """The (cached) adapter for ``name``."""
    if name not in _LIBS:
        _LIBS[name] = Library(name)
    return _LIBS[name]


def run_file(name: str, workload: str, canonical: bool, path: str) -> FileResult:
    """One task of every execution mode: ``workload`` over one file with ``name``."""
    lib = library(name)
    with lib.open(path) as reader:
        return run_records(lib, workload, reader, canonical)


def combine(results: list[FileResult]) -> dict[str, int]:
    """Fold per-file results, in file order, into the digest the harness compares.

    Titles become one CRC-32 per file (title + 0x1E each), folded as CRC-32 over
    the per-file CRCs' 4-byte big-endian encodings: exactly what native_bench
    prints, so the C++ contestant is checked against the same number.
    """
    out: dict[str, int] = {"records": sum(r.records for r in results)}
    if any(r.titles is not None for r in results):
        folded = 0
        for r in results:
            crc = 0
            for t in r.titles or ():
                crc = _crc_text(crc, t + "\x1e")
            folded = zlib.crc32(crc.to_bytes(4, "big"), folded)
        out["titles"] = folded
    keys = sorted({k for r in results for k in r.ints})
    for key in keys:
        vals = [r.ints.get(key, 0) for r in results]
        if key in ("value_chars", "json_chars", "xml_bytes"):
            out[key] = sum(vals)
        else:
            folded = 0
            for v in vals:
                folded = zlib.crc32(v.to_bytes(4, "big"), folded)
            out[key] = folded
    return out


# Which digest keys are cheap enough to compute in every timed run (raw) and
# which need the canonical, untimed pass.
RAW_KEYS = {"records", "titles", "value_chars", "marc", "json_chars", "xml_bytes"}
CANONICAL_KEYS = {"records", "titles", "values", "marc", "json", "xml"}
