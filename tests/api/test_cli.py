"""app.py's command line: documented flags, and clear refusals before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app_process import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


def run_app(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_help_documents_every_flag() -> None:
    result = run_app("--help")
    assert result.returncode == 0
    for flag in (
        "--host",
        "--port",
        "--share",
        "--auth",
        "--auth-file",
        "--models",
        "--runs-dir",
        "--max-loaded-models",
    ):
        assert flag in result.stdout


def test_wrong_models_file_stops_with_one_message(tmp_path: Path) -> None:
    bad = tmp_path / "models.yaml"
    bad.write_text("tasks:\n  text-classification:\n    default: x\n    models:\n      - id: a/b\n")
    result = run_app("--models", str(bad))
    assert result.returncode != 0
    assert "Cannot start: models.yaml: tasks.text-classification: default 'x' is not one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_auth_is_refused_without_echoing_it() -> None:
    result = run_app("--auth", "nopassword-secret")
    assert result.returncode != 0
    assert "Login 1 is not USER:PASS" in result.stderr
    assert "nopassword-secret" not in result.stderr + result.stdout


def test_auth_file_protects_the_app(tmp_path: Path, models_yaml: Path) -> None:
    import httpx

    auth_file = tmp_path / "logins.txt"
    auth_file.write_text("# who may log in\nalice:wonderland-secret\n")
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port))
    log_path = tmp_path / "app.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--models", str(models_yaml), "--auth-file", str(auth_file)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/", process)  # the login page
        assert httpx.get(f"{url}/config").status_code == 401
        wrong = httpx.post(f"{url}/login", data={"username": "alice", "password": "nope"})
        assert wrong.status_code == 400
        right = httpx.post(f"{url}/login", data={"username": "alice", "password": "wonderland-secret"})
        assert right.status_code == 200
        assert httpx.get(f"{url}/config", cookies=right.cookies).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "wonderland-secret" not in log_path.read_text()


@pytest.mark.timeout(120)
def test_startup_imports_no_torch(models_yaml: Path) -> None:
    """Models load on first use: building the page must not import torch or transformers."""
    code = (
        "import sys; from studio.config import load_config; from studio.models.manager import ModelManager;"
        "from studio.studio import Studio; from components.app import build_app;"
        f"build_app(Studio(load_config({str(models_yaml)!r}), ModelManager()));"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert result.stdout.strip().splitlines()[-1] == "False False", result.stderr[-2000:]
