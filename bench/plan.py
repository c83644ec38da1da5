"""What the suite measures: corpora, cases and the quick and full plans.

A `Case` is one figure: a library doing a workload in an execution mode with a
number of workers, on one corpus. Cases are grouped by the question they answer:

modes      throughput by library and execution mode (sequential, threads,
           processes, asyncio pipelines, the libraries' own parallel APIs,
           native threads) for ``read`` and ``extract`` on a UTF-8 corpus split
           into several files.
workloads  every workload sequentially: round trip (``as_marc()``), JSON,
           MARC-8 decoding (``extract`` on the MARC-8 corpus), the mixed corpus
           and the peer fixture (mrrc's own benchmark data).
sizes      sequential ``read`` at growing corpus sizes.
bulk       the libraries' own parallel APIs on the peer fixture (mrrc's bulk
           parser rejects a record of the real UTF-8 corpus, so it gets data
           it accepts): mrrc ``parse_batch_parallel``, rapidmarc
           ``MARCReader(workers=N)`` / ``count``, against their sequential
           readers and native threads.
files200   issue #4's scenario: a corpus of at least 200 MB split into files,
           ``title`` of each record, 1 and 2 threads or processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus import build_corpus, build_split

PARALLEL_MODES = {"threads", "threads0", "processes", "asyncio", "bulk", "count", "files", "onefile"}


@dataclass(frozen=True)
class Corpus:
    """``records`` records of ``kind``, as one file or split into ``files`` files."""

    kind: str
    records: int
    files: int = 1

    @property
    def label(self) -> str:
        """Short name used in results and tables."""
        return f"{self.kind}-{self.records}" + (f"/{self.files}" if self.files > 1 else "")

    def paths(self) -> list[Path]:
        """Build (or reuse from the cache) the corpus files."""
        if self.files == 1:
            return [build_corpus(self.kind, self.records)]
        return build_split(self.kind, self.records, self.files)


@dataclass(frozen=True)
class Case:
    """One figure of the report."""

    group: str
    corpus: Corpus
    library: str  # pymarc, rmarc, mrrc, rapidmarc or native
    workload: str
    mode: str  # sequential, threads, threads0, processes, asyncio, bulk, count; native: files, onefile
    workers: int = 1

    @property
    def key(self) -> str:
        """Unique, readable identifier."""
        return f"{self.group}:{self.corpus.label}:{self.workload}:{self.library}:{self.mode}:{self.workers}"


@dataclass
class Plan:
    """A complete run: its cases, repetitions and extras."""

    name: str
    cases: list[Case]
    repeat: int
    callgrind_records: int  # 0 = no callgrind measurements


PY = ("pymarc", "rmarc", "mrrc", "rapidmarc")


def _modes_group(corpus: Corpus, workers: tuple[int, ...]) -> list[Case]:
    cases: list[Case] = []
    for workload in ("read", "extract"):
        for lib in PY:
            cases.append(Case("modes", corpus, lib, workload, "sequential"))
            for w in workers:
                cases.append(Case("modes", corpus, lib, workload, "threads", w))
                cases.append(Case("modes", corpus, lib, workload, "processes", w))
                if workload == "extract":
                    cases.append(Case("modes", corpus, lib, workload, "asyncio", w))
                if lib in ("mrrc", "rapidmarc"):
                    cases.append(Case("modes", corpus, lib, workload, "bulk", w))
                if lib == "rapidmarc":
                    cases.append(Case("modes", corpus, lib, workload, "threads0", w))
                if lib == "rapidmarc" and workload == "read":
                    cases.append(Case("modes", corpus, lib, workload, "count", w))
    cases.append(Case("modes", corpus, "native", "read", "sequential"))
    for w in workers:
        cases.append(Case("modes", corpus, "native", "read", "files", w))
        cases.append(Case("modes", corpus, "native", "read", "onefile", w))
    return cases


def _workloads_group(n: int) -> list[Case]:
    cases = []
    for lib in PY:
        for workload in ("roundtrip", "json", "xml"):
            cases.append(Case("workloads", Corpus("utf8", n), lib, workload, "sequential"))
        for kind in ("marc8", "mixed", "peer"):
            cases.append(Case("workloads", Corpus(kind, n), lib, "extract", "sequential"))
    return cases


def _sizes_group(sizes: dict[str, tuple[int, ...]]) -> list[Case]:
    return [Case("sizes", Corpus("utf8", n), lib, "read", "sequential") for lib, ns in sizes.items() for n in ns]


def _bulk_group(corpus: Corpus, workers: tuple[int, ...]) -> list[Case]:
    cases = [Case("bulk", corpus, lib, "read", "sequential") for lib in ("mrrc", "rapidmarc", "native")]
    for w in workers:
        cases += [
            Case("bulk", corpus, "mrrc", "read", "bulk", w),
            Case("bulk", corpus, "rapidmarc", "read", "bulk", w),
            Case("bulk", corpus, "rapidmarc", "read", "count", w),
            Case("bulk", corpus, "native", "read", "files", w),
            Case("bulk", corpus, "native", "read", "onefile", w),
        ]
    return cases


def _files200_group(corpus: Corpus) -> list[Case]:
    cases = []
    for w in (1, 2):
        cases += [
            Case("files200", corpus, "native", "title", "files", w),
            Case("files200", corpus, "native", "title", "onefile", w),
            Case("files200", corpus, "rapidmarc", "title", "threads", w),
            Case("files200", corpus, "rapidmarc", "title", "threads0", w),
            Case("files200", corpus, "rapidmarc", "title", "processes", w),
            Case("files200", corpus, "rapidmarc", "title", "bulk", w),
            Case("files200", corpus, "rapidmarc", "title", "count", w),
            Case("files200", corpus, "pymarc", "title", "processes", w),
            Case("files200", corpus, "mrrc", "title", "threads", w),
            Case("files200", corpus, "rmarc", "title", "threads", w),
        ]
    return cases


def quick_plan() -> Plan:
    """About three minutes on a 2-core machine: every question, small corpora."""
    fast = (10_000, 50_000)
    cases = (
        _modes_group(Corpus("utf8", 10_000, 4), (1, 2))
        + _workloads_group(5_000)
        + _sizes_group({"pymarc": fast, "rmarc": fast, "mrrc": fast, "rapidmarc": fast, "native": fast})
        + _bulk_group(Corpus("peer", 20_000, 4), (1, 2))
        + _files200_group(Corpus("utf8", 40_000, 4))
    )
    return Plan("quick", cases, repeat=3, callgrind_records=0)


def full_plan() -> Plan:
    """Everything, median of 5; about 23 minutes on a 2-core machine."""
    slow = (10_000, 100_000)
    fast = (10_000, 100_000, 1_000_000)
    cases = (
        _modes_group(Corpus("utf8", 40_000, 8), (1, 2, 4))
        + _workloads_group(20_000)
        + _sizes_group({"pymarc": slow, "rmarc": slow, "mrrc": fast, "rapidmarc": fast, "native": fast})
        + _bulk_group(Corpus("peer", 50_000, 8), (1, 2, 4))
        + _files200_group(Corpus("utf8", 350_000, 8))
    )
    return Plan("full", cases, repeat=5, callgrind_records=2_000)


def smoke_plan() -> Plan:
    """Seconds: tiny corpora, one round; for checking the harness itself."""
    tiny = (1_000, 3_000)
    cases = (
        _modes_group(Corpus("utf8", 2_000, 4), (1, 2))
        + _workloads_group(1_000)
        + _sizes_group({lib: tiny for lib in (*PY, "native")})
        + _bulk_group(Corpus("peer", 2_000, 4), (1, 2))
        + _files200_group(Corpus("utf8", 4_000, 4))
    )
    return Plan("smoke", cases, repeat=1, callgrind_records=0)


PLANS = {"smoke": smoke_plan, "quick": quick_plan, "full": full_plan}
