"""The checked-in generated tables are exactly what their generators produce today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("generator", ["gen_marc8_tables.py", "gen_unicode_tables.py"])
def test_generated_tables_are_up_to_date(generator):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / generator), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
