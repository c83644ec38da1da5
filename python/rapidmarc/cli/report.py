"""What the command says about each input: a summary that accounts for every byte, the exit
status that follows from it, one-line errors, and a name for input that is not MARC at all."""

from __future__ import annotations

import argparse
import errno
import json
import os
import stat
import sys
import zlib
from typing import IO, Any
from xml.sax import SAXParseException

from .. import _core
from ..bulk import ReadSummary, _plain_size, _summary
from .progress import Progress

# Exit statuses (documented in docs/formats.md, "Exit status"). With several inputs, the largest.
EXIT_OK = 0  #: every record of every input was read, and every one was good
EXIT_BAD = 1  #: bad records were skipped (validate, --strict: found); --allow-bad accepts them
EXIT_ERROR = 2  #: a usage error, an input that cannot be opened, an output that cannot be written
EXIT_STOPPED = 3  #: reading stopped before the end of an input (bytes never read), or it is not MARC
EXIT_INTERRUPTED = 130  #: Ctrl-C (SIGINT); no partial output is left under a real name

STDIN = "-"


def source_of(name: str) -> tuple[str | IO[bytes], str]:
    """(what the readers take, the name to show) for an input argument. ``-`` is this process's
    standard input: a pipe or FIFO is read natively through /dev/stdin (the same pipe, so it
    streams off the GIL), as is a regular file positioned at its start; a file positioned
    elsewhere (the shell's reader already took part of it) or a socket is read through the
    descriptor itself, from where it stands."""
    if name != STDIN:
        return name, name
    try:
        st = os.fstat(0)
    except OSError:
        raise OSError(errno.EBADF, "standard input is closed") from None
    if os.path.exists("/dev/stdin"):
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
            return "/dev/stdin", "<stdin>"
        if stat.S_ISREG(st.st_mode) and os.lseek(0, 0, os.SEEK_CUR) == 0:
            return "/dev/stdin", "<stdin>"
    return os.fdopen(os.dup(0), "rb", buffering=0), "<stdin>"


def input_size(source: object) -> int | None:
    """The bytes the progress bar counts to: a regular file's size (not a pipe's, not a gzip
    file's, whose records are counted decompressed), else None."""
    if not isinstance(source, str) or source == "/dev/stdin":
        return None
    return _plain_size(source) or None


def read_options(args: argparse.Namespace, **overrides: Any) -> dict[str, Any]:
    """The reading keywords the command-line options give (rapidmarc.ReadOptions)."""
    options = {
        "force_utf8": args.force_utf8,
        "recover": args.recover,
        "workers": args.workers,
        "encoding": args.encoding,
        "utf8_handling": args.utf8_handling,
        "marc8_mapping": args.marc8_mapping,
        "strict": getattr(args, "strict", False),
    }
    options.update(overrides)
    return options


def progress_bar(args: argparse.Namespace, label: str, total: int | None) -> Progress:
    enabled = args.progress if args.progress is not None else sys.stderr.isatty()
    return Progress(label, total, enabled)


class ItemTally:
    """ReadSummary's counts for a Python-level read: every item a MARCReader yields, in order."""

    def __init__(self, recover: bool) -> None:
        self.recover = recover
        self.good = self.bad = self.end = 0
        self.first_error: BaseException | None = None
        self.last_fatal: BaseException | None = None

    def add(self, reader: Any, record: object) -> None:
        self.end = (reader.current_offset or 0) + len(reader.current_chunk or b"")
        if record is not None:
            self.good += 1
            self.last_fatal = None
            return
        self.bad += 1
        error = reader.current_exception
        if self.first_error is None:
            self.first_error = error
        fatal = type(error).__name__ in ("RecordLengthInvalid", "TruncatedRecord", "EndOfRecordNotFound")
        self.last_fatal = error if fatal and not self.recover else None

    def summary(self, source: object) -> ReadSummary:
        tally = {
            "good": self.good,
            "bad": self.bad,
            "end": self.end,
            "first_error": self.first_error,
            "stop": self.last_fatal,
        }
        return ReadSummary(**_summary(tally, source))


def read_before_error(good: int, bad: int) -> str:
    """What an input that failed part-way (a corrupt .gz) gave before the error, for its message."""
    return f"{good} good and {bad} bad records read before the error"


def describe(exc: BaseException | None) -> str:
    """One line: where (record, byte offset, or line and column) and what."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, SAXParseException):
        return f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}: malformed XML: {exc.getMessage()}"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: malformed JSON: {exc.msg}"
    where = []
    if getattr(exc, "record_index", None) is not None:
        where.append(f"record {exc.record_index}")  # type: ignore[attr-defined]
    if getattr(exc, "byte_offset", None) is not None:
        where.append(f"byte offset {exc.byte_offset}")  # type: ignore[attr-defined]
    message = str(exc).split(" (record ")[0]  # rapidmarc's messages already end with the location
    detail = getattr(exc, "detail", None)
    what = f"{type(exc).__name__}: {message}"
    if detail and detail not in message:  # e.g. "field 350 (directory entry 12): subfield $a ..."
        what = f"{detail} ({what})"
    return one_line(f"{', '.join(where)}: {what}" if where else what)


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(32), 127]}


def one_line(text: str) -> str:
    """Control characters (a newline in a damaged record length) shown as escapes: a message stays
    one line."""
    return text.translate(_CONTROLS)


# Signatures of what people give a MARC tool by mistake, checked when reading stops at byte 0.
_NOT_MARC = [
    (b"\x1f\x8b", "gzip-compressed data, and this build reads no gzip (gunzip -c FILE | rapidmarc COMMAND -)"),
    (b"BZh", "bzip2-compressed data (decompress it first: bunzip2 -c FILE | rapidmarc COMMAND -)"),
    (b"\xfd7zXZ\x00", "xz-compressed data (decompress it first: xz -dc FILE | rapidmarc COMMAND -)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data (decompress it first: zstd -dc FILE | rapidmarc COMMAND -)"),
    (b"PK\x03\x04", "a ZIP archive (extract it first)"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
]


def not_marc(head: bytes) -> str | None:
    """What the first bytes of an input look like when they are not ISO 2709, or None."""
    for magic, name in _NOT_MARC:
        if head.startswith(magic):
            return name
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "XML (MARCXML: rapidmarc convert --from xml)"
    if text[:1] in (b"[", b"{"):
        return "JSON (MARC-in-JSON: rapidmarc convert --from json)"
    if text.startswith(b"=LDR"):
        return "MARCMaker text (rapidmarc convert --from text)"
    if head[:5].isdigit() or b"\x1e" in head or b"\x1d" in head:
        return None  # a record length, or MARC's terminators: damaged MARC, not another format
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if head and printable / len(head) > 0.95:
        return "plain text"
    return None


def _head(source: object) -> bytes:
    """The first bytes of a file, decompressed when it is gzip (read natively as its contents)."""
    if not isinstance(source, str) or source == "/dev/stdin":
        return b""  # a stream cannot be read again
    try:
        with open(source, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return b""
    if head.startswith(b"\x1f\x8b") and _core.gzip_supported():
        try:
            return zlib.decompressobj(31).decompress(head, 512)
        except zlib.error:
            return b""
    return head[:512]


def summary_text(label: str, s: ReadSummary, source: object, written: str = "", first: bool = True) -> str:
    """The line that accounts for an input: good and bad records, and whether (and where)
    reading stopped before the end, with how many bytes were never read."""
    if s.stop_error is not None and s.good == 0 and s.stopped_at == 0:
        kind = not_marc(_head(source))
        if kind is not None:
            return f"{label}: not ISO 2709 MARC but {kind}: nothing read" + (f"; {written}" if written else "")
    text = f"{label}: {s.good} good, {s.bad} bad"
    if written:
        text += f"; {written}"
    if s.stop_error is not None:
        unread = s.unread
        lost = f"{unread} bytes never read" if unread is not None else "the rest of the input never read"
        hint = " (--recover reads on)" if getattr(s.stop_error, "record_index", None) is not None else ""
        text += f"; reading STOPPED at {describe(s.stop_error)}: {lost}{hint}"
    elif (s.unread or 0) > 0:
        text += f"; reading ended early: the last {s.unread} bytes were never read"
    elif s.bad and first:
        text += f" (first: {describe(s.first_error)})"
    return text


def status_of(s: ReadSummary, args: argparse.Namespace) -> int:
    if s.stop_error is not None or (s.unread or 0) > 0:
        return EXIT_STOPPED
    if s.bad and not args.allow_bad:
        return EXIT_BAD
    return EXIT_OK


def report(args: argparse.Namespace, label: str, s: ReadSummary, source: object, written: str = "") -> int:
    """Prints the summary on stderr (unless --quiet and all is well); returns the exit status."""
    status = status_of(s, args)
    if not args.quiet or not s.complete or (s.unread or 0) > 0:  # -q hides only an all-good line
        print(summary_text(label, s, source, written), file=sys.stderr)
    return status
