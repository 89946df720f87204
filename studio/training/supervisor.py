"""The supervisor half of the JobManager: a thread that starts queued runs, notices when a
worker ends (exit code, signal, or vanished while the app was restarted) and records the
outcome in status.json. Stop's SIGKILL after the grace period is sent from here too.
See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import threading
import time
from typing import Any

from studio.errors import UserError
from studio.training import launcher
from studio.training.store import RunStore

log = logging.getLogger("studio.training.jobs")

TERMINAL = ("completed", "failed", "stopped")


class Supervisor:
    """Mixed into JobManager, which sets these attributes."""

    store: RunStore
    grace_seconds: float
    poll_seconds: float
    _lock: threading.RLock
    _queue: list[str]
    _running: str | None
    _process: subprocess.Popen[bytes] | None
    _stop_sent: dict[str, float]
    _tokens: dict[str, str]
    _closed: threading.Event
    _thread: threading.Thread | None

    def status(self, run_id: str) -> dict[str, Any]:  # JobManager's
        raise NotImplementedError

    def _recover(self) -> None:
        """After a restart: re-queue queued runs; adopt or close runs that were running."""
        queued = []
        for run_id in self.store.run_ids():
            status = self.store.folder(run_id).read_status()
            if status.get("status") == "queued":
                queued.append((status.get("queued", 0), run_id))
            elif status.get("status") == "running":
                if launcher.pid_alive(status.get("pid")) and self._running is None:
                    self._running = run_id  # still training: watch its pid
                else:
                    self._finish(run_id, None)
        self._queue = [run_id for _, run_id in sorted(queued)]

    def _supervise(self) -> None:
        while not self._closed.wait(self.poll_seconds):
            try:
                with self._lock:
                    self._tick()
            except Exception:
                log.exception("training supervisor")

    def _tick(self) -> None:
        """One supervisor step (called with the lock held): notice an ended worker, start the next."""
        if self._running is not None:
            run_id = self._running
            folder = self.store.folder(run_id)
            if self._process is not None:
                code = self._process.poll()
                ended = code is not None
            else:
                code, ended = None, not launcher.pid_alive(folder.read_status().get("pid"))
            if ended:
                self._finish(run_id, code)
            elif run_id in self._stop_sent and time.monotonic() - self._stop_sent[run_id] > self.grace_seconds:
                folder.say(f"still running {self.grace_seconds:g} s after SIGTERM: SIGKILL")
                launcher.kill_group(folder.read_status().get("pgid"), signal.SIGKILL)
        if self._running is None and self._queue:
            self._launch(self._queue.pop(0))

    def _launch(self, run_id: str) -> None:
        folder = self.store.folder(run_id)
        for stale in (folder.result, folder.progress):
            stale.unlink(missing_ok=True)
        try:
            process = launcher.spawn(folder, folder.read_config(), self._tokens.get(run_id))
        except (OSError, UserError) as exc:
            self.store.set_status(run_id, status="failed", error=f"Could not start the worker: {exc}")
            return
        self._process, self._running = process, run_id
        self.store.set_status(
            run_id, status="running", pid=process.pid, pgid=process.pid, started=time.time(), exit_code=None
        )
        log.info("training run %s started (pid %s)", run_id, process.pid)

    def _finish(self, run_id: str, code: int | None) -> None:
        """Record how a worker ended; kill anything left in its group."""
        folder = self.store.folder(run_id)
        launcher.kill_group(folder.read_status().get("pgid"), signal.SIGKILL)
        shutil.rmtree(folder.cache, ignore_errors=True)  # the datasets cache is only needed while training
        fields = folder.outcome(code, stopped=run_id in self._stop_sent)
        self.store.set_status(run_id, **fields)
        folder.say(f"run {fields['status']}" + (f": {fields.get('error')}" if fields.get("error") else ""))
        self._stop_sent.pop(run_id, None)
        if self._running == run_id:
            self._running, self._process = None, None
        log.info("training run %s %s (exit code %s)", run_id, fields["status"], code)

    def wait(self, run_id: str, timeout: float = 600, statuses: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
        """Block until the run reaches one of statuses (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.status(run_id)
            if current["status"] in statuses:
                return current
            if self._thread is None:
                with self._lock:
                    self._tick()
            time.sleep(self.poll_seconds)
        raise TimeoutError(f"run {run_id} did not reach {statuses} within {timeout} s")

    def close(self, stop_running: bool = False) -> None:
        self._closed.set()
        if stop_running and self._running:
            launcher.kill_group(self.store.folder(self._running).read_status().get("pgid"), signal.SIGKILL)
