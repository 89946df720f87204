"""The type checker passes: mypy, strict on studio/, compat/ and app.py, as mypy.ini sets it.

Annotations are checked here rather than trusted: a wrong or missing one fails the unit tests
with mypy's own report. The cache (.mypy_cache) makes a second run take seconds.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None, reason="mypy is not installed (pip install -r requirements-dev.txt)"
)
def test_mypy_reports_no_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],  # no arguments: mypy.ini names the files and the settings
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"
