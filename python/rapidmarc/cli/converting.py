"""``rapidmarc convert``: between ISO 2709, MARCXML, MARC-in-JSON and MARCMaker text, and from
them to tables of columns (Parquet, CSV, TSV: rapidmarc.tables, with ``--fields`` or ``--long``).

From ISO 2709 to MARCXML, JSON or a cleaned ISO 2709 copy it is ``rapidmarc.convert`` (native,
parallel). The other directions, and ``--offset``/``--limit``, read and write record by record
with the pymarc-compatible readers and writers. Every path writes its output by the same rule
(rapidmarc._destination) and accounts for its input the same way (report.py).
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any, cast
from xml.sax import SAXParseException, make_parser
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import IncrementalParser

from .. import _core
from .._destination import open_destination, same_file
from ..bulk import FORMATS, ReadSummary, convert
from ..exceptions import JSONParseError, PymarcException
from ..marcxml import XmlHandler
from ..reader import JSONReader, MARCMakerReader, MARCReader
from ..record import Record
from ..tables import require_pyarrow, split_specs, to_csv, to_parquet
from ..writer import JSONWriter, MARCWriter, TextWriter, Writer, XMLWriter
from .report import (
    EXIT_BAD,
    EXIT_ERROR,
    ItemTally,
    input_size,
    progress_bar,
    read_options,
    report,
    source_of,
)

# Formats by file extension, when --from / --to do not say. Anything else reads as ISO 2709.
EXTENSIONS = {
    ".json": "json",
    ".xml": "xml",
    ".marcxml": "xml",
    ".mrc": "marc",
    ".marc": "marc",
    ".mrk": "text",
    ".txt": "text",
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
}
CONVERT_FORMATS = (*FORMATS, "text")
TABLE_FORMATS = ("parquet", "csv", "tsv")  # written, never read
WRITERS: dict[str, Callable[[Any], Writer]] = {
    "marc": MARCWriter,
    "xml": XMLWriter,
    "json": JSONWriter,
    "text": partial(TextWriter, mnemonics=True),  # lossless MARCMaker text (rapidmarc.marcmaker)
}
TEXT_FORMATS = ("json", "text")  # written through a UTF-8 text layer


def _format_of(name: str) -> str | None:
    return None if name == "-" else EXTENSIONS.get(Path(name).suffix.lower())


@contextmanager
def _output(name: str, text: bool) -> Iterator[IO[Any]]:
    """The destination (``-``: standard output), as a binary or UTF-8 text file."""
    with open_destination(name) if name != "-" else _stdout() as binary:
        if not text:
            yield binary
            return
        wrapper = _text(binary)
        yield wrapper
        wrapper.flush()
        wrapper.detach()  # the binary file is closed (and committed) by its owner


@contextmanager
def _stdout() -> Iterator[IO[bytes]]:
    sys.stdout.flush()
    yield sys.stdout.buffer
    sys.stdout.buffer.flush()


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(cast(Any, binary), encoding="utf-8", write_through=True)


class _Counted:
    """A binary input that counts the bytes read from it, for progress and the summary."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None]) -> None:
        self.raw, self.progress, self.count = raw, progress, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        self.progress(self.count)
        return data

    def close(self) -> None:  # the caller closes the real file
        pass


def _records_of(fmt: str, stream: _Counted) -> Iterator[Record]:
    """Records of a MARCXML (streamed: SAX hands over each record as it is read), MARC-in-JSON or
    MARCMaker input."""
    if fmt == "xml":
        queue: list[Record] = []
        handler = _RootCheckingHandler()
        handler.process_record = queue.append  # type: ignore[method-assign, assignment]
        parser = cast(IncrementalParser, make_parser())  # expat's reader takes data in pieces
        parser.setContentHandler(handler)
        parser.setFeature(feature_namespaces, True)
        while block := stream.read(1 << 20):
            try:
                parser.feed(block)
            except SAXParseException:
                yield from queue  # records completed before the error in this block are kept
                raise
            handler.found += len(queue)
            yield from queue
            queue.clear()
        if stream.count:  # an empty input is no records, as an empty ISO 2709 file is
            try:
                parser.close()
            except SAXParseException:
                yield from queue
                raise
        handler.found += len(queue)
        yield from queue
        handler.check()
    elif fmt == "json":
        # streamed natively (JSON arrays, JSON Lines, concatenated objects), records as pymarc builds them
        yield from JSONReader(cast(Any, stream), native=True)
    else:
        yield from MARCMakerReader(cast(Any, stream), mnemonics=True)


class NotMarcXml(ValueError):
    """XML whose root element is neither a MARCXML collection nor a record."""


MARC_ROOTS = (None, "collection", "record")


class _RootCheckingHandler(XmlHandler):
    """pymarc's handler, noting the root element: well-formed XML of another kind (an HTML error
    page, some other schema) that holds no record is not an empty MARCXML file. Records inside
    another root (an OAI-PMH response) are read as they are."""

    root: str | None = None
    found = 0

    def startElementNS(self, name, qname, attrs):  # noqa: N802 - SAX's name
        if self.root is None:
            self.root = name[1]
        super().startElementNS(name, qname, attrs)

    def check(self) -> None:
        if self.found == 0 and self.root not in MARC_ROOTS:
            raise NotMarcXml(f"not MARCXML: the root element is <{self.root}>, not <collection> or <record>")


class _FoundRoot(Exception):  # noqa: N818 - a signal, not an error
    pass


class _RootOnly(ContentHandler):
    def startElementNS(self, name, qname, attrs):  # noqa: N802 - SAX's name
        raise _FoundRoot(name[1])


def _xml_root(path: str) -> str | None:
    """The local name of a MARCXML file's root element, read no further than that element (None
    if the file is empty or malformed before it)."""
    parser = cast(IncrementalParser, make_parser())
    parser.setContentHandler(_RootOnly())
    parser.setFeature(feature_namespaces, True)
    try:
        with open(path, "rb") as fh:
            while block := fh.read(65536):
                parser.feed(block)
    except _FoundRoot as found:
        return str(found.args[0])
    except (SAXParseException, OSError):
        return None
    return None


class _Utf8LeaderWriter:
    """Writes JSON or MARCXML with leader/09 ``a``: the text is Unicode whatever the record was read
    as (``convert(..., utf8_leader=True)`` on the native path)."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def write(self, record: Record) -> None:
        leader = str(record.leader)
        if len(leader) > 9 and leader[9] != "a":
            record.leader = leader[:9] + "a" + leader[10:]
        self.writer.write(record)

    def close(self, close_fh: bool = True) -> None:
        self.writer.close(close_fh=close_fh)


def _writer(to: str, out: IO[Any], to_encoding: str | None) -> Writer | _Utf8LeaderWriter:
    if to == "marc":
        return MARCWriter(out, encoding=to_encoding)  # None: as_marc(), as pymarc writes
    if to in ("json", "xml"):
        return _Utf8LeaderWriter(WRITERS[to](out))
    return WRITERS[to](out)


# What a malformed MARCXML, JSON or MARCMaker input raises in the pymarc-compatible readers.
_MALFORMED = (SAXParseException, ValueError, PymarcException, KeyError, TypeError, IndexError)


def _overwrites_input(input_name: str, output_name: str) -> bool:
    """Would writing the output change the input? Through links, and through standard output
    redirected onto the input file (``> in.mrc`` has already emptied it; ``>> in.mrc`` would grow
    it while it is read)."""
    if input_name == "-":
        return False
    if output_name == "-":
        try:
            out = os.fstat(sys.stdout.fileno())
            source = os.stat(input_name)
        except (OSError, ValueError):
            return False
        return (out.st_dev, out.st_ino) == (source.st_dev, source.st_ino)
    return os.path.exists(output_name) and same_file(input_name, output_name)


def cmd_convert(args: argparse.Namespace) -> int:
    to = args.to or _format_of(args.output)
    source_format = args.source_format or _format_of(args.input) or "marc"
    if to is None:
        where = "standard output" if args.output == "-" else repr(args.output)
        print(
            f"rapidmarc convert: cannot tell the format of {where}; use --to {{{','.join(CONVERT_FORMATS)}}}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if source_format in TABLE_FORMATS:
        print(f"rapidmarc convert: {source_format} is written, not read; use --from", file=sys.stderr)
        return EXIT_ERROR
    if (args.fields or args.long) and to not in TABLE_FORMATS:
        print(
            f"rapidmarc convert: --fields and --long make tables ({', '.join(TABLE_FORMATS)}), not {to}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if _overwrites_input(args.input, args.output):
        print("rapidmarc convert: the output would overwrite the input", file=sys.stderr)
        return EXIT_ERROR
    if to in TABLE_FORMATS:
        return _convert_to_table(args, to, source_format)
    source, label = source_of(args.input)
    shown = "<stdout>" if args.output == "-" else args.output
    bar = progress_bar(args, f"{Path(label).name} -> {to}", input_size(source))
    if args.to_encoding is not None and to != "marc":
        print(
            "rapidmarc convert: --to-encoding chooses the encoding of ISO 2709 output (--to marc); "
            f"{to} is always UTF-8",
            file=sys.stderr,
        )
        return EXIT_ERROR
    native = not args.offset and args.limit is None and args.to_encoding is None and to in FORMATS
    if native and source_format == "xml":
        status = _convert_xml_natively(args, source, label, to, shown)
        if status is not None:
            return status  # else: read by the pymarc-compatible path below, which says what is wrong
    if native and source_format == "json":
        status = _convert_json_natively(args, source, label, to, shown)
        if status is not None:
            return status  # else: read record by record below, which writes what comes before an error
    if source_format == "marc" and native:
        destination: Any = args.output
        if args.output == "-":
            sys.stdout.flush()
            destination = sys.stdout.buffer
        try:
            result = convert(source, destination, to, **read_options(args), progress=bar.update, utf8_leader=True)
        finally:
            bar.finish()
        if args.output == "-":
            sys.stdout.buffer.flush()
        note = f"{result.records} records written to {shown}"
        if result.records == 0 and result.stopped_at == 0 and args.output != "-":
            note = f"{shown} left as it was"
        if result.unconvertible:
            note += f", {result.unconvertible} skipped whose text does not convert"
        status = report(args, label, result.summary, source, note)
        return max(status, EXIT_BAD if result.unconvertible and not args.allow_bad else status)
    try:
        summary, written, limited = _convert_in_python(args, source, source_format, to, bar.update)
    finally:
        bar.finish()
    note = f"{written} records written to {shown}" + (f" (--limit {args.limit} reached)" if limited else "")
    if written == 0 and summary.stop_error is not None and args.output != "-":
        note = f"{shown} left as it was"
    return report(args, label, summary, source, note)


def _convert_to_table(args: argparse.Namespace, to: str, source_format: str) -> int:
    """A Parquet, CSV or TSV table (rapidmarc.to_parquet, to_csv): the columns of --fields, or the
    long table with --long; streamed from a regular ISO 2709 file."""
    if args.offset or args.limit is not None or args.to_encoding is not None:
        print("rapidmarc convert: --offset, --limit and --to-encoding are not for tables", file=sys.stderr)
        return EXIT_ERROR
    fields = [spec for text in args.fields for spec in split_specs(text)]
    if not fields and not args.long:
        print(
            f"rapidmarc convert: a {to} table needs --fields (MARCspecs such as '001,245$a,650$a') or --long",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        require_pyarrow(f"rapidmarc convert to {to}")
    except ModuleNotFoundError as exc:
        print(f"rapidmarc convert: {exc}", file=sys.stderr)
        return EXIT_ERROR
    source, label = source_of(args.input)
    shown = "<stdout>" if args.output == "-" else args.output
    destination: Any = args.output
    if args.output == "-":
        sys.stdout.flush()
        destination = sys.stdout.buffer
    total = input_size(source) if source_format == "marc" else None  # MARCXML and JSON count ISO bytes
    bar = progress_bar(args, f"{Path(label).name} -> {to}", total)
    keywords: dict[str, Any] = dict(read_options(args), from_format=source_format, long=args.long)
    keywords["progress"] = bar.update
    if args.separator is not None:
        keywords["separator"] = args.separator
    if args.shape is not None:
        keywords["shape"] = args.shape
    try:
        if to == "parquet":
            result = to_parquet(source, destination, fields or None, **keywords)
        else:
            result = to_csv(source, destination, fields or None, delimiter="," if to == "csv" else "\t", **keywords)
    finally:
        bar.finish()
    if args.output == "-":
        sys.stdout.buffer.flush()
    note = f"{result.rows} rows written to {shown}"
    if result.rows == 0 and result.summary.stopped_at == 0 and args.output != "-":
        note = f"{shown} left as it was"
    return report(args, label, result.summary, source, note)


def _convert_xml_natively(args: argparse.Namespace, source: Any, label: str, to: str, shown: str) -> int | None:
    """MARCXML converted natively (rapidmarc.convert(from_format="xml")): the fast path for a
    MARCXML file. None when the pymarc-compatible path must read it instead, to keep its
    accounting: standard input (it cannot be read twice), a root element that is not MARC's (the
    SAX path says "not MARCXML" or reads an OAI-PMH response's records), or malformed XML (the SAX
    path writes the records before the error and says where reading stopped; the native attempt
    left the destination as it was)."""
    if not isinstance(source, str) or source == "/dev/stdin" or not _core.marcxml_supported():
        return None
    if _xml_root(source) not in ("collection", "record"):
        return None
    return _convert_with_core(args, source, label, to, shown, "xml", SAXParseException)


def _convert_json_natively(args: argparse.Namespace, source: Any, label: str, to: str, shown: str) -> int | None:
    """MARC-in-JSON converted natively (rapidmarc.convert(from_format="json")). None when the
    record-by-record path must read it instead: standard input (it cannot be read twice) and
    malformed JSON (that path writes the records before the error and says where reading stopped;
    the native attempt left the destination as it was)."""
    if not isinstance(source, str) or source == "/dev/stdin":
        return None
    return _convert_with_core(args, source, label, to, shown, "json", JSONParseError)


def _convert_with_core(
    args: argparse.Namespace,
    source: str,
    label: str,
    to: str,
    shown: str,
    from_format: str,
    parse_error: type[Exception],
) -> int | None:
    """convert(from_format=...) of a MARCXML or MARC-in-JSON file, with progress and the summary.
    None when the input is malformed and the record-by-record path must read it instead (the
    native attempt left the destination as it was), unless the output is standard output or
    --strict was given: then the error is the one line."""
    destination: Any = args.output
    if args.output == "-":
        sys.stdout.flush()
        destination = sys.stdout.buffer
    bar = progress_bar(args, f"{Path(label).name} -> {to}", None)  # native offsets count ISO bytes
    try:
        options = read_options(args)
        result = convert(
            source, destination, to, **options, progress=bar.update, utf8_leader=True, from_format=from_format
        )
    except parse_error:
        if args.output == "-" or args.strict:
            raise  # what was written to standard output cannot be taken back: one line, as --strict
        return None
    finally:
        bar.finish()
    if args.output == "-":
        sys.stdout.buffer.flush()
    note = f"{result.records} records written to {shown}"
    status = report(args, label, result.summary, source, note)
    return max(status, EXIT_BAD if result.unconvertible and not args.allow_bad else status)


def _convert_in_python(
    args: argparse.Namespace, source: str | IO[bytes], source_format: str, to: str, progress: Callable[[int], None]
) -> tuple[ReadSummary, int, bool]:
    """Record by record with the pymarc-compatible readers and writers. Returns the accounting,
    the records written and whether --limit ended the reading."""
    written, limited = 0, args.limit == 0

    def wanted(index: int) -> bool:
        return index >= args.offset

    try:
        with _output(args.output, to in TEXT_FORMATS) as out:
            summary, written, limited = _copy_records(args, source, source_format, to, out, progress, wanted)
            if written == 0 and summary.stop_error is not None and args.output != "-":
                raise _KeepDestination(summary)  # nothing could be read: the old output stays
    except _KeepDestination as kept:
        summary = kept.args[0]
    except OSError as exc:
        if exc.filename is None and exc.errno in _WRITE_ERRNOS:  # a full disk: name the output
            raise OSError(exc.errno, exc.strerror, args.output) from exc
        raise
    if limited:  # the user asked to stop: the rest was not wanted, not lost
        summary = summary._replace(stop_error=None, size=None)
    return summary, written, limited


class _KeepDestination(Exception):  # noqa: N818 - a signal, not an error
    pass


# Errors only a write raises: an OSError without a file name and one of these is the output's.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _copy_records(
    args: argparse.Namespace,
    source: str | IO[bytes],
    source_format: str,
    to: str,
    out: IO[Any],
    progress: Callable[[int], None],
    wanted: Callable[[int], bool],
) -> tuple[ReadSummary, int, bool]:
    written, limited = 0, args.limit == 0
    writer = _writer(to, out, args.to_encoding)
    if limited:
        summary = ReadSummary(0, 0, 0, None, None, None)
    elif source_format == "marc":
        tally = ItemTally(args.recover)
        with MARCReader(source, **read_options(args)) as reader:
            for index, record in enumerate(reader):
                tally.add(reader, record)
                progress(tally.end)
                if record is None or not wanted(index):
                    continue
                writer.write(record)
                written += 1
                if args.limit is not None and written >= args.limit:
                    limited = True
                    break
        summary = tally.summary(source)
    else:
        raw = source if not isinstance(source, str) else open(source, "rb")  # noqa: SIM115 - closed below
        stream = _Counted(raw, progress)
        good, stop = 0, None
        try:
            for index, record in enumerate(_records_of(source_format, stream)):
                good += 1
                if not wanted(index):
                    continue
                writer.write(record)
                written += 1
                if args.limit is not None and written >= args.limit:
                    limited = True
                    break
        except _MALFORMED as exc:
            if args.strict:
                raise
            stop = exc  # the records before it are written; the summary says where it stopped
        finally:
            if raw is not source:
                raw.close()
        size = None if stop is not None else stream.count
        summary = ReadSummary(good, 0, stream.count, size, stop, stop)
    writer.close(close_fh=False)
    return summary, written, limited
