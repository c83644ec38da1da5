"""The ``rapidmarc`` command: count, dump, convert, split and validate MARC files.

    rapidmarc count records.mrc more.mrc        records per file (natively, on every core)
    rapidmarc dump records.mrc --limit 3        records as MARCMaker text (or --format json/xml)
    rapidmarc convert records.mrc records.xml   to MARCXML, MARC-in-JSON, MARCMaker or a cleaned copy
    rapidmarc convert records.mrc t.parquet --fields '001,245$a'   columns to Parquet, CSV or TSV
    rapidmarc split records.mrc --records 1000  into files of 1,000 records each
    rapidmarc validate records.mrc              every bad record: index, byte offset, field, what

``-`` is standard input (and, for ``convert``, standard output). Every command that reads ends
with a line on stderr that accounts for each input: good and bad records, and whether reading
stopped before the end (where, and how many bytes were never read). Long jobs draw a progress
bar with the rate and time left on stderr when it is a terminal (``--progress`` forces it,
``--no-progress`` hides it).

Exit status (with several inputs, the largest): 0 every record was read and good; 1 bad records
were skipped (``--allow-bad`` accepts them) or found by ``validate`` or ``--strict``; 2 a usage
error, an input that cannot be opened or an output that cannot be written; 3 reading stopped
before the end of an input (``--recover`` reads on after a framing error), or it is not MARC;
130 interrupted by Ctrl-C, 143 and 129 stopped by SIGTERM and SIGHUP (no partial output is left
under a real name); 141 the output pipe was closed before everything was written.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from .. import __version__
from .commands import cmd_count, cmd_dump, cmd_split, cmd_validate
from .converting import CONVERT_FORMATS, TABLE_FORMATS, cmd_convert
from .report import EXIT_BAD, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_STOPPED, describe

__all__ = ["EXIT_BAD", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_STOPPED", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapidmarc",
        description="Fast MARC 21 / ISO 2709 tools (rapidmarc's C++ core, pymarc's semantics).",
        epilog="Exit status: 0 all read and good, 1 bad records skipped or found, 2 usage or I/O error, "
        "3 reading stopped before the end of an input (or it is not MARC), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"rapidmarc {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workers", type=int, default=None, help="native threads (default: one per core)")
    common.add_argument("--force-utf8", action="store_true", help="read every record as UTF-8 (as pymarc's force_utf8)")
    common.add_argument(
        "--encoding", choices=("auto",), default=None, help="auto: trust leader/09 only when the bytes agree"
    )
    common.add_argument(
        "--utf8-handling",
        choices=("strict", "replace", "ignore"),
        default="strict",
        help="invalid UTF-8: a bad record (strict, pymarc's default), U+FFFD, or dropped",
    )
    common.add_argument(
        "--marc8-mapping",
        choices=("lc", "pymarc"),
        default="lc",
        help="MARC-8 text by the Library of Congress tables (default) or pymarc's table (pymarc's text exactly)",
    )
    common.add_argument(
        "--recover", action="store_true", help="after a framing error, resynchronise and go on (pymarc stops)"
    )
    common.add_argument(
        "--allow-bad", action="store_true", help="exit 0 when bad records were skipped (reading to the end)"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no summary line when every record was good")
    common.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    common.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("count", parents=[common], help="count the good records of each input")
    p.add_argument("files", nargs="+", help="ISO 2709 files ('-': standard input)")
    p.add_argument("--strict", action="store_true", help="fail on the first bad record")
    p.set_defaults(func=cmd_count)

    p = sub.add_parser("dump", parents=[common], help="print records as MARCMaker text, JSON or MARCXML")
    p.add_argument("file", help="an ISO 2709 file ('-': standard input)")
    p.add_argument(
        "--format",
        choices=("text", "mrk", "json", "xml"),
        default="text",
        help="text: str(record), as pymarc prints it; mrk: lossless MARCMaker (what .mrk files hold)",
    )
    p.add_argument("--offset", type=_count, default=0, help="skip the first N records (bad ones included)")
    p.add_argument("--limit", type=_count, default=None, help="at most this many records")
    p.set_defaults(func=cmd_dump, workers=1, strict=False)

    p = sub.add_parser("convert", parents=[common], help="convert between ISO 2709, MARCXML, MARC-in-JSON and text")
    p.add_argument("input", help="'-': standard input")
    p.add_argument("output", help="'-': standard output (then --to says the format)")
    p.add_argument(
        "--to",
        choices=(*CONVERT_FORMATS, *TABLE_FORMATS),
        default=None,
        help="output format (default: from the output's extension)",
    )
    p.add_argument(
        "--from",
        dest="source_format",
        choices=CONVERT_FORMATS,
        default=None,
        help="input format (default: from the input's extension; ISO 2709 otherwise)",
    )
    p.add_argument(
        "--to-encoding",
        choices=("utf-8", "marc8"),
        default=None,
        help="ISO 2709 output in this encoding (leader/09 'a' or blank); default: records as read",
    )
    p.add_argument("--strict", action="store_true", help="stop at the first bad record; nothing is written")
    p.add_argument("--offset", type=_count, default=0, help="skip the first N records (bad ones included)")
    p.add_argument("--limit", type=_count, default=None, help="write at most this many records")
    p.add_argument(
        "--fields",
        action="append",
        default=[],
        metavar="SPECS",
        help="a table's columns: MARCspecs, comma-separated ('001,245$a,650$a'); with --long, the fields to take",
    )
    p.add_argument("--long", action="store_true", help="the long table: one row per subfield (docs/columns.md)")
    p.add_argument(
        "--shape",
        choices=("list", "first", "join"),
        default=None,
        help="a column's values: list (Parquet's default), first, or join (CSV's and TSV's default)",
    )
    p.add_argument("--separator", default=None, help="between joined values (default '; ')")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser(
        "split", parents=[common], help="split a file into files of N records (every byte kept, damage included)"
    )
    p.add_argument("file")
    p.add_argument("--records", type=int, required=True, help="records per output file")
    p.add_argument("--prefix", default=None, help="output name prefix (default: the input's name without .mrc)")
    p.add_argument("--digits", type=int, default=4, help="digits of the file number (default 4)")
    p.set_defaults(func=cmd_split, strict=False)

    p = sub.add_parser("validate", parents=[common], help="report every bad record; exit status 1 if any")
    p.add_argument("files", nargs="+", help="ISO 2709 files ('-': standard input)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="json: one machine-readable report")
    p.set_defaults(func=cmd_validate, strict=False)
    return parser


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


class _Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where Python next runs signal handlers (between batches natively):
    the output is cleaned up as for Ctrl-C."""


def _terminate(signum: int, _frame: object) -> None:
    raise _Terminated(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = f"rapidmarc {args.command}"
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, _terminate)
    try:
        if sys.stdout is None and _writes_stdout(args):  # started with descriptor 1 closed
            print(f"{name}: standard output is closed: nothing could be written", file=sys.stderr)
            return EXIT_ERROR
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated as stop:
        signum = int(stop.args[0])
        print(f"\n{name}: stopped by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # e.g. `rapidmarc dump big.mrc | head`: the reader wanted no more
        _quiet_stdout()
        if args.command == "convert":  # a conversion was asked for whole: say it is not
            print(f"{name}: the output was closed before everything was written", file=sys.stderr)
        return 128 + signal.SIGPIPE
    except OSError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if getattr(exc, "record_index", None) is not None or type(exc).__name__ in (
            "SAXParseException",
            "JSONDecodeError",
        ):
            print(f"{name}: {describe(exc)}", file=sys.stderr)  # --strict: the first bad record
            return EXIT_BAD
        if isinstance(exc, ValueError):  # e.g. options the readers refuse
            print(f"{name}: {exc}", file=sys.stderr)
            return EXIT_ERROR
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _writes_stdout(args: argparse.Namespace) -> bool:
    """Does the command write its results to standard output?"""
    return args.command in ("count", "dump", "validate") or getattr(args, "output", None) == "-"


def _quiet_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so that Python's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
