"""The reading commands: count, dump, split and validate (convert is in converting.py)."""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import IO, Any

from .._destination import open_destination, same_file
from ..bulk import scan
from ..marcmaker import record_to_marcmaker
from ..reader import MARCReader
from ..writer import JSONWriter, Writer, XMLWriter
from .report import (
    EXIT_ERROR,
    EXIT_OK,
    ItemTally,
    describe,
    input_size,
    progress_bar,
    read_before_error,
    read_options,
    report,
    source_of,
    status_of,
    summary_text,
)


def cmd_count(args: argparse.Namespace) -> int:
    """Good records per input on stdout (``N<TAB>name``); the accounting on stderr."""
    total, status = 0, EXIT_OK
    for name in args.files:
        try:
            source, label = source_of(name)
            bar = progress_bar(args, f"count {Path(label).name}", input_size(source))
            try:
                summary = scan(source, **read_options(args), progress=bar.update)
            finally:
                bar.finish()
        except OSError as exc:  # this input cannot be read (or failed part-way): say so, and go on
            partial = getattr(exc, "summary", None)
            read = f" ({read_before_error(partial.good, partial.bad)})" if partial else ""
            print(f"rapidmarc count: {exc}{read}", file=sys.stderr)
            status = max(status, EXIT_ERROR)
            continue
        total += summary.good
        print(f"{summary.good}\t{label}", flush=True)
        status = max(status, report(args, label, summary, source))
    if len(args.files) > 1:
        print(f"{total}\ttotal")
    return status


class _Utf8Text:
    """A binary sink over a text stream that has no ``buffer`` (e.g. one redirected in tests)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, data: bytes) -> int:
        self.out.write(data.decode("utf-8"))
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def cmd_dump(args: argparse.Namespace) -> int:
    """Records on stdout as MARCMaker text, a JSON array or a MARCXML collection; ``--offset``
    skips the first N records of the input (bad ones included, as record indices count) and
    ``--limit`` writes at most M."""
    source, label = source_of(args.file)
    out = sys.stdout
    writer: Writer | None = None
    binary: Any = None
    if args.format == "json":
        writer = JSONWriter(out)
    elif args.format == "xml":
        out.flush()
        binary = getattr(out, "buffer", None) or _Utf8Text(out)
        writer = XMLWriter(binary)
    tally = ItemTally(args.recover)
    written = 0
    limited = args.limit == 0
    bar = progress_bar(args, f"dump {Path(label).name}", input_size(source))
    try:
        with MARCReader(source, **read_options(args)) as reader:
            for index, record in enumerate(reader if not limited else ()):
                tally.add(reader, record)
                bar.update(tally.end)
                if record is None or index < args.offset:
                    continue
                if writer is None:  # text: str(record); mrk: lossless; a blank line between records
                    text = record_to_marcmaker(record) if args.format == "mrk" else str(record) + "\n"
                    out.write(("\n" if written else "") + text)
                else:
                    writer.write(record)
                written += 1
                if args.limit is not None and written >= args.limit:
                    limited = True
                    break
    finally:
        bar.finish()
    if writer is not None:
        writer.close(close_fh=False)
        if binary is not None:
            binary.write(b"\n")
            binary.flush()
        else:
            out.write("\n")
    out.flush()
    summary = tally.summary(source)
    if limited:  # the user asked to stop: what was read is accounted for, the rest was not wanted
        summary = summary._replace(stop_error=None, size=None)
    note = f"{written} records written" + (f" (--limit {args.limit} reached)" if limited else "")
    return report(args, label, summary, source, note)


def cmd_split(args: argparse.Namespace) -> int:
    """Files of N records each; every byte of the input lands in exactly one part."""
    if args.records < 1:
        print("rapidmarc split: --records must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    if args.digits < 1:
        print("rapidmarc split: --digits must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    try:
        regular = args.file != "-" and stat.S_ISREG(os.stat(args.file).st_mode)
    except OSError as exc:
        print(f"rapidmarc split: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not regular:
        print(
            "rapidmarc split: needs a regular file (it reads the input twice), not a pipe, FIFO or standard input",
            file=sys.stderr,
        )
        return EXIT_ERROR
    prefix = args.prefix if args.prefix is not None else str(Path(args.file).with_suffix(""))
    # First find where each part starts (the offset of every N-th item, bad ones included, reading
    # with recovery so that damage does not end the file early), then copy the input's bytes
    # between those offsets: every byte, junk between records too, lands in exactly one part.
    bar = progress_bar(args, f"split {Path(args.file).name}", input_size(args.file))
    cuts = [0]
    tally = ItemTally(recover=True)
    try:
        with MARCReader(args.file, **read_options(args, recover=True)) as reader:
            for n, item in enumerate(reader):
                tally.add(reader, item)
                if n and n % args.records == 0:
                    cuts.append(reader.current_offset or 0)
                bar.update(tally.end)
    finally:
        bar.finish()
    names = [f"{prefix}{k + 1:0{args.digits}d}.mrc" for k in range(len(cuts))]
    for name in names:  # checked before any part is written
        if os.path.exists(name) and same_file(name, args.file):
            print(f"rapidmarc split: the part {name} would overwrite the input", file=sys.stderr)
            return EXIT_ERROR
    files = []
    with open(args.file, "rb") as source:
        for k, start in enumerate(cuts):
            end = cuts[k + 1] if k + 1 < len(cuts) else None
            name = names[k]
            with open_destination(name) as part:
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
    stale = f"{prefix}{len(files) + 1:0{args.digits}d}.mrc"
    if os.path.exists(stale):  # `cat PREFIX*.mrc` would also take an earlier split's parts
        print(
            f"rapidmarc split: note: {stale} (and any after it) is from an earlier split, not this one", file=sys.stderr
        )
    shown = ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")
    summary = tally.summary(args.file)
    # Nothing is skipped: bad records and junk are copied into the parts as they are.
    note = f"{len(files)} files, every byte copied (bad records as they are): {shown}"
    if not args.quiet:
        print(summary_text(args.file, summary, args.file, note, first=False), file=sys.stderr)
    return EXIT_OK


_WHERE = re.compile(r"field (?P<tag>[^ ]{3})(?: \(directory entry (?P<entry>\d+)\))?(?:: subfield \$(?P<code>.))?")


def _error_entry(exc: BaseException | None) -> dict[str, Any]:
    """A bad record for ``validate --format json``: where, what, and the field and subfield."""
    entry: dict[str, Any] = {
        "record": getattr(exc, "record_index", None),
        "offset": getattr(exc, "byte_offset", None),
        "error": type(exc).__name__,
        "message": str(exc).split(" (record ")[0],
        "detail": getattr(exc, "detail", None),
        "tag": None,
        "directory_entry": None,
        "subfield": None,
    }
    match = _WHERE.search(entry["detail"] or "")
    if match:
        entry["tag"], entry["subfield"] = match["tag"], match["code"]
        entry["directory_entry"] = int(match["entry"]) if match["entry"] else None
    return entry


def cmd_validate(args: argparse.Namespace) -> int:
    """Every bad record, with its index, byte offset, field and subfield; then the accounting."""
    status = EXIT_OK
    documents = []
    for name in args.files:
        try:
            source, label = source_of(name)
            os.stat(source) if isinstance(source, str) else None  # a missing file is said before reading
        except OSError as exc:
            print(f"rapidmarc validate: {exc}", file=sys.stderr)
            status = max(status, EXIT_ERROR)
            if args.format == "json":
                documents.append({"file": name, "error": str(exc)})
            continue
        bar = progress_bar(args, f"validate {Path(label).name}", input_size(source))
        tally = ItemTally(args.recover)
        errors = []
        try:
            with MARCReader(source, **read_options(args)) as reader:
                for record in reader:
                    tally.add(reader, record)
                    if record is None:
                        if args.format == "json":
                            errors.append(_error_entry(reader.current_exception))
                        else:
                            bar.clear()
                            print(f"{label}: {describe(reader.current_exception)}", flush=True)
                    bar.update(tally.end)
        except OSError as exc:  # the input failed part-way (a corrupt .gz): say so, and go on
            bar.clear()
            print(f"rapidmarc validate: {exc} ({read_before_error(tally.good, tally.bad)})", file=sys.stderr)
            status = max(status, EXIT_ERROR)
            if args.format == "json":
                documents.append(
                    {"file": label, "error": str(exc), "good": tally.good, "bad": tally.bad, "errors": errors}
                )
            continue
        finally:
            bar.finish()
        summary = tally.summary(source)
        status = max(status, status_of(summary, args))
        if args.format == "json":
            documents.append(
                {
                    "file": label,
                    "good": summary.good,
                    "bad": summary.bad,
                    "bytes_read": summary.bytes_read,
                    "size": summary.size,
                    "stopped_at": summary.stopped_at,
                    "unread": summary.unread,
                    "stop_error": _error_entry(summary.stop_error) if summary.stop_error else None,
                    "errors": errors,
                }
            )
        else:
            print(summary_text(label, summary, source, first=False))
    if args.format == "json":
        json.dump({"files": documents, "exit_status": status}, sys.stdout, indent=1)
        print()
    return status
