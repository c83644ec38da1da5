"""Fixtures for the rapidmarc Python test suite.

Environment:

* ``RAPIDMARC_TEST_IMPL`` -- ``rapidmarc`` (default) or ``pymarc``. With
  ``pymarc`` every compatibility test runs against pymarc itself, which checks
  the tests; tests marked ``rapidmarc_only`` are then skipped.
* ``RAPIDMARC_SHARED_DATA`` -- the shared data directory (default:
  ``<repo>/../shared/data``). Tests that need it skip when it is absent.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

# Make the helper module importable whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from marc_testlib import (  # noqa: E402
    EDGE_FILES,
    MARC8_FILES,
    REAL_FILES,
    UTF8_FILES,
    shared_data_dir,
)

IMPLEMENTATIONS = ("rapidmarc", "pymarc")
IMPL_NAME = os.environ.get("RAPIDMARC_TEST_IMPL", "rapidmarc").strip().lower() or "rapidmarc"
DATA_DIR = shared_data_dir()


def _edge_names() -> list[str]:
    edge = DATA_DIR / "edge"
    found = {p.name for p in edge.glob("*.mrc")} if edge.is_dir() else set()
    return sorted(found | set(EDGE_FILES))


def pytest_configure(config):
    if IMPL_NAME not in IMPLEMENTATIONS:
        raise pytest.UsageError(f"RAPIDMARC_TEST_IMPL={IMPL_NAME!r}: expected one of {IMPLEMENTATIONS}")
    config.addinivalue_line(
        "markers",
        "rapidmarc_only: exercises a rapidmarc addition to the pymarc API (skipped when RAPIDMARC_TEST_IMPL=pymarc)",
    )


def pytest_report_header(config):
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return [
        f"rapidmarc tests: implementation={IMPL_NAME}, shared data={DATA_DIR}",
        f"Python {sys.version.split()[0]}, GIL {'enabled' if gil else 'disabled (free-threaded)'}",
    ]


def pytest_collection_modifyitems(config, items):
    if IMPL_NAME != "pymarc":
        return
    skip = pytest.mark.skip(reason="rapidmarc-only feature (RAPIDMARC_TEST_IMPL=pymarc)")
    for item in items:
        if item.get_closest_marker("rapidmarc_only"):
            item.add_marker(skip)


def pytest_generate_tests(metafunc):
    """Parametrize per-file fixtures by name; the fixtures resolve and skip."""
    params = {
        "utf8_path": UTF8_FILES,
        "marc8_path": MARC8_FILES,
        "real_path": REAL_FILES,
        "edge_path": _edge_names(),
    }
    for name, files in params.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, list(files), ids=[Path(f).stem for f in files], indirect=True)


# ---------------------------------------------------------------------------
# Implementations
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def impl_name() -> str:
    return IMPL_NAME


@pytest.fixture(scope="session")
def impl():
    """The module under test: ``rapidmarc``, or ``pymarc`` when asked."""
    try:
        return importlib.import_module(IMPL_NAME)
    except ImportError as exc:
        pytest.fail(
            f"cannot import {IMPL_NAME!r} ({exc}); build/install it, "
            "or run with RAPIDMARC_TEST_IMPL=pymarc to check the tests against pymarc",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def pymarc_ref():
    """pymarc 5.4, the reference implementation."""
    return pytest.importorskip("pymarc", reason="pymarc (the reference) is not installed")


@pytest.fixture
def is_pymarc(impl_name) -> bool:
    return impl_name == "pymarc"


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "real").is_dir():
        pytest.skip(f"shared MARC test data not found at {DATA_DIR} (set RAPIDMARC_SHARED_DATA to its location)")
    return DATA_DIR


def _existing(directory: Path, names) -> list[Path]:
    paths = [directory / n for n in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"missing data files in {directory}: {', '.join(missing)}")
    return paths


@pytest.fixture(scope="session")
def utf8_files(data_dir) -> list[Path]:
    """Real files whose records are UTF-8 (leader/09 == 'a')."""
    return _existing(data_dir / "real", UTF8_FILES)


@pytest.fixture(scope="session")
def marc8_files(data_dir) -> list[Path]:
    """Real files whose records are MARC-8 (leader/09 == ' ')."""
    return _existing(data_dir / "real", MARC8_FILES)


@pytest.fixture(scope="session")
def real_files(utf8_files, marc8_files) -> list[Path]:
    return utf8_files + marc8_files


def _one_file(data_dir: Path, sub: str, name: str) -> Path:
    return _existing(data_dir / sub, [name])[0]


@pytest.fixture
def utf8_path(request, data_dir) -> Path:
    return _one_file(data_dir, "real", request.param)


@pytest.fixture
def marc8_path(request, data_dir) -> Path:
    return _one_file(data_dir, "real", request.param)


@pytest.fixture
def real_path(request, data_dir) -> Path:
    return _one_file(data_dir, "real", request.param)


@pytest.fixture
def edge_path(request) -> Path:
    return _one_file(DATA_DIR, "edge", request.param)


@pytest.fixture
def loc_bytes(data_dir) -> bytes:
    """Raw bytes of a real UTF-8 file (Library of Congress records)."""
    return _one_file(data_dir, "real", "loc_386.mrc").read_bytes()
