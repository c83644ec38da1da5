"""Fuzz worker, run in a subprocess by test_rapidmarc_only.py (a crash or a hang
then fails one test instead of killing or blocking the whole test run).

usage: python marc_fuzz_worker.py MODULE SEED N_RANDOM N_MUTATED [DATA_DIR]

Feeds every input to ``MODULE.MARCReader`` in default, strict and recover
mode, alternating to_unicode, and checks the contract:

* default / recover: never raise; yield only Record or None, a bounded number;
* strict: yield only Records; may raise PymarcException, ValueError or
  UnicodeDecodeError, which carry int ``record_index`` and ``byte_offset``;
* every record yielded survives as_dict(), as_marc() (which may raise
  ValueError for over-long data) and, when decoded, str().

Prints "case N MODE" to stderr before each run (the last line locates a
crash), a JSON summary to stdout at the end, and exits 1 on a violation.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from marc_testlib import fuzz_samples, mutated_inputs, random_inputs  # noqa: E402

MODES = {"default": {}, "strict": {"strict": True}, "recover": {"recover": True}}
SLOW_SECONDS = 5.0


class Violation(Exception):
    pass


def exercise(module, record, to_unicode: bool) -> None:
    if to_unicode:  # str() of a raw (bytes) record is a TypeError in pymarc too
        str(record)
    record.as_dict()
    with contextlib.suppress(ValueError):  # over-long data is refused, not written
        record.as_marc()


def run_one(module, data: bytes, mode: str, to_unicode: bool, stats: Counter) -> None:
    reader = module.MARCReader(data, to_unicode=to_unicode, **MODES[mode])
    limit = len(data) + 2  # more items than bytes means the reader is looping
    yielded = 0
    try:
        for item in reader:
            yielded += 1
            if yielded > limit:
                raise Violation(f"{mode}: more than {limit} items from {len(data)} bytes")
            if item is None:
                if mode == "strict":
                    raise Violation("strict mode yielded None")
                stats[f"{mode}:none"] += 1
            elif isinstance(item, module.Record):
                stats[f"{mode}:record"] += 1
                exercise(module, item, to_unicode)
            else:
                raise Violation(f"{mode}: yielded {type(item).__name__}")
    except Violation:
        raise
    except (module.PymarcException, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        if mode != "strict":
            raise Violation(f"{mode}: raised {type(exc).__name__}: {exc}") from exc
        index = getattr(exc, "record_index", None)
        offset = getattr(exc, "byte_offset", None)
        if not isinstance(index, int) or not isinstance(offset, int):
            raise Violation(f"strict: {type(exc).__name__} lacks int record_index/byte_offset") from exc
        if index != yielded or not 0 <= offset <= len(data):
            raise Violation(
                f"strict: record_index={index} byte_offset={offset} after {yielded} records of {len(data)} bytes"
            ) from exc
        stats[f"strict:{type(exc).__name__}"] += 1
    except Exception as exc:
        raise Violation(f"{mode}: unexpected {type(exc).__name__}: {exc}") from exc


def main(argv: list[str]) -> int:
    module_name, seed, n_random, n_mutated = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    data_dir = Path(argv[5]) if len(argv) > 5 else None
    module = importlib.import_module(module_name)
    inputs = random_inputs(seed, n_random) + mutated_inputs(seed + 1, n_mutated, fuzz_samples(data_dir))
    stats: Counter = Counter()
    warnings.simplefilter("ignore")
    for i, data in enumerate(inputs):
        for mode in MODES:
            print(f"case {i} {mode} {data[:60]!r}", file=sys.stderr, flush=True)
            start = time.monotonic()
            try:
                run_one(module, data, mode, to_unicode=bool(i % 2), stats=stats)
            except Violation as exc:
                print(json.dumps({"violation": str(exc), "case": i, "mode": mode, "input": data.hex()}))
                return 1
            if time.monotonic() - start > SLOW_SECONDS:
                print(json.dumps({"violation": "too slow", "case": i, "mode": mode, "input": data.hex()}))
                return 1
    print(json.dumps({"cases": len(inputs), "stats": stats}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
