"""The reader and threads: a shared reader hands out every record once, native work releases the
GIL, and abandoning a reader that parses ahead never hangs."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

rapidmarc = pytest.importorskip("rapidmarc")


@pytest.fixture
def big_corpus(tmp_path, data_dir):
    """~35 MB of real UTF-8 records (loc_386 replicated)."""
    records = (data_dir / "real" / "loc_386.mrc").read_bytes()
    path = tmp_path / "big.mrc"
    path.write_bytes(records * 64)
    return path, 386 * 64


@pytest.mark.parametrize("workers", [1, 2])
def test_shared_reader_delivers_each_record_once(big_corpus, workers):
    path, total = big_corpus
    reader = rapidmarc.MARCReader(path, workers=workers)
    seen: list[list[bytes]] = [[] for _ in range(8)]

    def drain(slot: int) -> None:
        for record in reader:
            seen[slot].append(record.as_marc())

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [m for part in seen for m in part]
    assert len(got) == total
    # Each record once: the stream holds 64 copies of every record, so each appears exactly 64 times.
    counts: dict[bytes, int] = {}
    for m in got:
        counts[m] = counts.get(m, 0) + 1
    assert len(counts) == 386
    assert set(counts.values()) == {64}


# Native work in each case, and how often it must at least let the spinner run: the default reader
# releases the GIL at least once per 1 MiB batch (35 here); the others wait for native workers.
GIL_FREE_WORK = {
    "reader": (lambda path: sum(1 for _ in rapidmarc.MARCReader(path)), 5),
    "reader workers=2": (lambda path: sum(1 for _ in rapidmarc.MARCReader(path, workers=2)), 1),
    "count": (lambda path: rapidmarc.count(path, workers=2), 1),
    "extract": (lambda path: len(rapidmarc.extract(path, ["245$a"], workers=2)["245$a"]), 1),
}


@pytest.mark.parametrize("case", list(GIL_FREE_WORK))
def test_native_work_releases_the_gil(big_corpus, case):
    """With forced GIL switching effectively off, another Python thread can only run when native code
    releases the GIL itself: it must get turns while the file is read."""
    path, total = big_corpus
    work, min_ticks = GIL_FREE_WORK[case]
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)  # hand the GIL straight back

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    spinner = threading.Thread(target=spin)
    try:
        spinner.start()
        before = ticks
        count = work(path)
        during = ticks - before
    finally:
        done.set()
        sys.setswitchinterval(old_interval)
        spinner.join()
    assert count == total
    assert during >= min_ticks


def test_independent_readers_in_a_thread_pool_agree(big_corpus):
    path, total = big_corpus

    def titles(_: int) -> list[str | None]:
        return [r.title for r in rapidmarc.MARCReader(path)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(titles, range(4)))
    assert all(len(r) == total for r in results)
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize("source", ["path", "bytes"])
def test_abandoning_a_reader_that_parses_ahead(big_corpus, source):
    path, _ = big_corpus
    target = path if source == "path" else path.read_bytes()
    for _ in range(20):
        reader = rapidmarc.MARCReader(target)
        first = next(reader)
        assert first is not None
        del reader  # the worker thread is stopped and joined without deadlock


# Forking a process with threads is this test's point (the reader's parse-ahead worker, and in a full run
# other libraries' thread pools): Python 3.12 and later warn about exactly that, and only that is ignored.
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings(r"ignore:This process \(pid=\d+\) is multi-threaded, use of fork\(\):DeprecationWarning")
def test_a_reader_is_refused_after_fork_instead_of_hanging(big_corpus):
    import os

    path, _ = big_corpus
    reader = rapidmarc.MARCReader(path)
    assert next(reader) is not None
    pid = os.fork()
    if pid == 0:  # child: the parse-ahead worker does not exist here
        code = 3
        try:
            next(reader)
        except RuntimeError as exc:
            code = 0 if "fork" in str(exc) else 4
        except BaseException:
            code = 5
        del reader  # must not try to join the parent's worker
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert next(reader) is not None  # the parent's reader is unaffected
