"""The ``rapidmarc`` command: count, dump, convert, split and validate MARC files.

    rapidmarc count records.mrc more.mrc        records per file (natively, on every core)
    rapidmarc dump records.mrc --limit 3        records as MARCMaker text (or --format json/xml)
    rapidmarc convert records.mrc records.xml   to MARCXML, MARC-in-JSON or a cleaned MARC copy
    rapidmarc split records.mrc --records 1000  into files of 1,000 records each
    rapidmarc validate records.mrc              every bad record: index, byte offset, what is wrong

Long jobs draw a progress bar on stderr when it is a terminal (``--progress`` forces it,
``--no-progress`` hides it). Exit status: 0 on success, 1 when ``validate`` (or ``--strict``)
found bad records, 2 for usage errors and unreadable files.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, cast
from xml.sax import make_parser
from xml.sax.handler import feature_namespaces
from xml.sax.xmlreader import IncrementalParser

from . import __version__
from .bulk import FORMATS, convert, count
from .exceptions import FatalReaderError, PymarcException
from .marcxml import XmlHandler
from .reader import JSONReader, MARCMakerReader, MARCReader
from .record import Record
from .writer import JSONWriter, MARCWriter, TextWriter, Writer, XMLWriter

# Formats by file extension, for ``convert`` without --from / --to. Anything else reads as ISO 2709.
EXTENSIONS = {
    ".json": "json",
    ".xml": "xml",
    ".marcxml": "xml",
    ".mrc": "marc",
    ".marc": "marc",
    ".mrk": "text",
    ".txt": "text",
}
CONVERT_FORMATS = (*FORMATS, "text")


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int | None, enabled: bool, stream: IO[str] | None = None) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.start = self.last = time.monotonic()
        self.done = 0

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self.enabled and now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed / 1e6
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            bar = "#" * int(fraction * 30)
            text = f"\r{self.label} [{bar:<30}] {fraction:6.1%} {rate:7.1f} MB/s"
        else:
            text = f"\r{self.label} {self.done / 1e6:9.1f} MB {rate:7.1f} MB/s"
        self.stream.write(text)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def _progress_enabled(args: argparse.Namespace) -> bool:
    return args.progress if args.progress is not None else sys.stderr.isatty()


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _items(path: str, args: argparse.Namespace) -> Iterator[tuple[Record | None, MARCReader]]:
    """Every item MARCReader yields for ``path`` (records, or None for bad ones) with the reader."""
    with MARCReader(path, force_utf8=args.force_utf8, recover=args.recover, workers=args.workers) as reader:
        for item in reader:
            yield item, reader


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    where = []
    if getattr(exc, "record_index", None) is not None:
        where.append(f"record {exc.record_index}")  # type: ignore[attr-defined]
    if getattr(exc, "byte_offset", None) is not None:
        where.append(f"byte offset {exc.byte_offset}")  # type: ignore[attr-defined]
    prefix = ", ".join(where)
    message = str(exc).split(" (record ")[0]  # rapidmarc's messages already end with the location
    return f"{prefix}: {type(exc).__name__}: {message}" if prefix else f"{type(exc).__name__}: {message}"


# --- commands ---------------------------------------------------------------------------------


def cmd_count(args: argparse.Namespace) -> int:
    total = 0
    for path in args.files:
        n = count(path, workers=args.workers, force_utf8=args.force_utf8, strict=args.strict, recover=args.recover)
        total += n
        print(f"{n}\t{path}")
    if len(args.files) > 1:
        print(f"{total}\ttotal")
    return 0


class _Utf8Text:
    """A binary sink over a text stream that has no ``buffer`` (e.g. one redirected in tests)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, data: bytes) -> int:
        self.out.write(data.decode("utf-8"))
        return len(data)


def cmd_dump(args: argparse.Namespace) -> int:
    out = sys.stdout
    writer: Writer | None = None
    if args.format == "json":
        writer = JSONWriter(out)
    elif args.format == "xml":
        out.flush()
        binary: IO[bytes] | _Utf8Text = getattr(out, "buffer", None) or _Utf8Text(out)
        writer = XMLWriter(binary)  # type: ignore[arg-type]
    written = 0
    for record, _reader in _items(args.file, args):
        if record is None:
            continue
        if args.limit is not None and written >= args.limit:
            break
        if writer is None:  # text: str(record), a blank line between records
            out.write(("\n" if written else "") + str(record) + "\n")
        else:
            writer.write(record)
        written += 1
    if writer is not None:
        writer.close(close_fh=False)
        if args.format == "xml":
            binary.write(b"\n")
        else:
            out.write("\n")
    out.flush()
    if args.format == "xml" and hasattr(binary, "flush"):
        binary.flush()
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    to = args.to or EXTENSIONS.get(Path(args.output).suffix.lower())
    source = args.source_format or EXTENSIONS.get(Path(args.input).suffix.lower(), "marc")
    if to is None:
        print(
            f"rapidmarc convert: cannot tell the format from {args.output!r}; use --to {{{','.join(CONVERT_FORMATS)}}}",
            file=sys.stderr,
        )
        return 2
    same = os.path.abspath(args.output) == os.path.abspath(args.input) or (
        os.path.exists(args.output) and os.path.exists(args.input) and os.path.samefile(args.output, args.input)
    )
    if same:
        print("rapidmarc convert: the output would overwrite the input", file=sys.stderr)
        return 2
    if source != "marc" or to == "text":
        return _convert_in_python(args, source, to)
    bar = Progress(f"{Path(args.input).name} -> {to}", _size(args.input), _progress_enabled(args))
    result = convert(
        args.input,
        args.output,
        to,
        workers=args.workers,
        force_utf8=args.force_utf8,
        strict=args.strict,
        recover=args.recover,
        progress=bar.update,
    )
    bar.finish()
    print(
        f"{result.records} records written to {args.output}"
        f" ({result.bad} bad records skipped, {result.unconvertible} unconvertible)",
        file=sys.stderr,
    )
    return 1 if args.strict and (result.bad or result.unconvertible) else 0


def _records_from(path: str, source: str, args: argparse.Namespace) -> Iterator[Record | None]:
    """Records of a MARCXML, MARC-in-JSON, MARCMaker or ISO 2709 file (None for bad ISO 2709 ones)."""
    if source == "xml":  # streamed: SAX hands over each record as it is read
        queue: list[Record] = []
        handler = XmlHandler()
        handler.process_record = queue.append  # type: ignore[method-assign, assignment]
        parser = cast(IncrementalParser, make_parser())  # expat's reader takes data in pieces
        parser.setContentHandler(handler)
        parser.setFeature(feature_namespaces, True)
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                parser.feed(block)
                yield from queue
                queue.clear()
        parser.close()
        yield from queue
    elif source == "json":
        yield from JSONReader(path)
    elif source == "text":
        yield from MARCMakerReader(path)
    else:
        for record, _reader in _items(path, args):
            yield record


def _convert_in_python(args: argparse.Namespace, source: str, to: str) -> int:
    """Conversions the native engine does not do (from MARCXML, JSON or MARCMaker text, or to
    MARCMaker text): pymarc-compatible readers and writers, record by record."""
    written = bad = 0
    binary = to in ("marc", "xml")
    with open(args.output, "wb" if binary else "w", encoding=None if binary else "utf-8") as out:
        writer: Writer = {"marc": MARCWriter, "xml": XMLWriter, "json": JSONWriter, "text": TextWriter}[to](out)
        for record in _records_from(args.input, source, args):
            if record is None:
                bad += 1
                if args.strict:
                    break
                continue
            writer.write(record)
            written += 1
        writer.close(close_fh=False)
    if args.strict and bad:
        os.remove(args.output)  # as the native path: no half-written output under the real name
        print(f"rapidmarc convert: bad record {written} in {args.input}; nothing written", file=sys.stderr)
        return 1
    print(f"{written} records written to {args.output} ({bad} bad records skipped)", file=sys.stderr)
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    if args.records < 1:
        print("rapidmarc split: --records must be at least 1", file=sys.stderr)
        return 2
    prefix = args.prefix if args.prefix is not None else str(Path(args.file).with_suffix(""))
    # First find where each part starts (the offset of every N-th item, bad ones included, reading
    # with recovery so that damage does not end the file early), then copy the input's bytes
    # between those offsets: every byte, junk between records too, lands in exactly one part.
    bar = Progress(f"split {Path(args.file).name}", _size(args.file), _progress_enabled(args))
    cuts = [0]
    with MARCReader(args.file, force_utf8=args.force_utf8, recover=True, workers=args.workers) as reader:
        for n, _item in enumerate(reader):
            offset = reader.current_offset or 0
            if n and n % args.records == 0:
                cuts.append(offset)
            bar.update(offset)
    bar.finish()
    files = []
    with open(args.file, "rb") as source:
        for k, start in enumerate(cuts):
            end = cuts[k + 1] if k + 1 < len(cuts) else None
            name = f"{prefix}{k + 1:0{args.digits}d}.mrc"
            with open(name, "wb") as part:
                source.seek(start)
                remaining = None if end is None else end - start
                while remaining is None or remaining > 0:
                    block = source.read(1 << 20 if remaining is None else min(1 << 20, remaining))
                    if not block:
                        break
                    part.write(block)
                    if remaining is not None:
                        remaining -= len(block)
            files.append(name)
    print(f"{len(files)} files: {', '.join(files[:3])}{' ...' if len(files) > 3 else ''}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    bad_total = 0
    for path in args.files:
        bar = Progress(f"validate {Path(path).name}", _size(path), _progress_enabled(args))
        good = bad = consumed = 0
        last_error: BaseException | None = None
        for record, reader in _items(path, args):
            if record is None:
                bad += 1
                last_error = reader.current_exception
                if bar.enabled:
                    sys.stderr.write("\r")
                print(f"{path}: {_describe(reader.current_exception)}")
                consumed += len(reader.current_chunk or b"")
            else:
                good += 1
                raw = record._raw_bytes()
                consumed += len(raw) if raw is not None else 0
            bar.update(consumed)
        bar.finish()
        stopped = ""
        if last_error is not None and isinstance(last_error, FatalReaderError) and not args.recover:
            stopped = " (reading stopped at the framing error; --recover reads on)"
        print(f"{path}: {good} good, {bad} bad{stopped}")
        bad_total += bad
    return 1 if bad_total else 0


# --- entry point ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapidmarc", description="Fast MARC 21 / ISO 2709 tools (rapidmarc's C++ core, pymarc's semantics)."
    )
    parser.add_argument("--version", action="version", version=f"rapidmarc {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workers", type=int, default=None, help="native threads (default: one per core)")
    common.add_argument("--force-utf8", action="store_true", help="read every record as UTF-8 (as pymarc's force_utf8)")
    common.add_argument(
        "--recover", action="store_true", help="after a framing error, resynchronise and go on (pymarc stops)"
    )
    common.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    common.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("count", parents=[common], help="count the good records of each file")
    p.add_argument("files", nargs="+")
    p.add_argument("--strict", action="store_true", help="fail on the first bad record")
    p.set_defaults(func=cmd_count)

    p = sub.add_parser("dump", parents=[common], help="print records as MARCMaker text, JSON or MARCXML")
    p.add_argument("file")
    p.add_argument("--format", choices=("text", "json", "xml"), default="text")
    p.add_argument("--limit", type=int, default=None, help="at most this many records")
    p.set_defaults(func=cmd_dump, workers=1)

    p = sub.add_parser("convert", parents=[common], help="convert between ISO 2709, MARCXML, MARC-in-JSON and text")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument(
        "--to", choices=CONVERT_FORMATS, default=None, help="output format (default: from the output's extension)"
    )
    p.add_argument(
        "--from",
        dest="source_format",
        choices=CONVERT_FORMATS,
        default=None,
        help="input format (default: from the input's extension; ISO 2709 otherwise)",
    )
    p.add_argument("--strict", action="store_true", help="stop at the first bad record")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser(
        "split", parents=[common], help="split a file into files of N records (every byte kept, damage included)"
    )
    p.add_argument("file")
    p.add_argument("--records", type=int, required=True, help="records per output file")
    p.add_argument("--prefix", default=None, help="output name prefix (default: the input's name without .mrc)")
    p.add_argument("--digits", type=int, default=4, help="digits of the file number (default 4)")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("validate", parents=[common], help="report every bad record; exit status 1 if any")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_validate, strict=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (PymarcException, UnicodeDecodeError) as exc:
        print(f"rapidmarc {args.command}: {_describe(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `rapidmarc dump big.mrc | head`
        return 0
    except OSError as exc:
        print(f"rapidmarc {args.command}: {exc}", file=sys.stderr)
        return 2
