"""Starting the app (or another server) as a user does, in a subprocess, and stopping it:
shared by the test fixtures and the benchmarks."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Wait until url answers 200 (or the process dies), within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the app exited with code {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def running_app(
    arguments: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    module: str | None = None,
    timeout: float = 120,
) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python app.py ARGUMENTS --port N` (or `python -m MODULE ...`), output to log_path;
    yields (process, url) once it serves, and stops it afterwards."""
    port = free_port()
    entry = ["-m", module] if module else ["app.py"]
    command = [sys.executable, *entry, *arguments, "--port", str(port)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(env if env is not None else os.environ)
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, process, timeout)
        yield process, url
    finally:
        stop(process)


@contextmanager
def local_http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on a free local port in a thread; yields its base URL, http://127.0.0.1:PORT."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
