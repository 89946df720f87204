"""The type checker passes: mypy, strict on studio/, compat/ and app.py, as mypy.ini sets it.

Annotations are checked here rather than trusted: a wrong or missing one fails the unit tests
with mypy's own report. A first run reads the types of torch, transformers and gradio (about
70 s on two cores; .mypy_cache makes a second run take seconds), so mypy starts when this
module is collected and runs beside the other tests; the test only waits for its answer.
"""

from __future__ import annotations

import atexit
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MYPY_MISSING = importlib.util.find_spec("mypy") is None


def start_mypy() -> tuple[subprocess.Popen[bytes], Path] | None:
    """mypy in the background, its report to a file (a pipe could fill and stall it)."""
    if MYPY_MISSING:
        return None
    report = Path(tempfile.mkstemp(prefix="mypy-", suffix=".txt")[1])
    with open(report, "wb") as out:  # no arguments: mypy.ini names the files and the settings
        process = subprocess.Popen([sys.executable, "-m", "mypy"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    atexit.register(lambda: process.poll() is None and process.kill())
    return process, report


MYPY = start_mypy()


@pytest.mark.skipif(MYPY is None, reason="mypy is not installed (pip install -r requirements-dev.txt)")
def test_mypy_reports_no_errors() -> None:
    assert MYPY is not None
    process, report = MYPY
    returncode = process.wait(timeout=600)
    assert returncode == 0, f"mypy found errors:\n{report.read_text(encoding='utf-8')}"
