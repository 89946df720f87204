"""JobManager: the queue of fine-tuning runs (one trains at a time) and the supervisor that runs it.

A supervisor thread starts queued runs, notices when a worker ends (exit code, signal, or
vanished while the app was restarted) and records the outcome in status.json. Stop sends
SIGTERM to the worker's whole process group and SIGKILL after a grace period. The files are
the run store's (store.py), the commands the launcher's (launcher.py), the checks
prepare.py's; this is also what the Fine-tune tab reaches as `studio.jobs`.
See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

import logging
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError
from studio.params import Spec
from studio.training import data as training_data
from studio.training import launcher, prepare
from studio.training.catalogue import Catalogue
from studio.training.config import TrainingConfig, training_spec
from studio.training.store import RunStore

log = logging.getLogger(__name__)

TERMINAL = ("completed", "failed", "stopped")


class JobManager:
    """Fine-tuning runs under runs_dir: start, queue, stop, resume, status, and the models they made."""

    def __init__(
        self,
        runs_dir: str | Path,
        config: StudioConfig | None = None,
        grace_seconds: float = 10.0,
        poll_seconds: float = 0.2,
        public: bool = False,
        supervise: bool = True,
    ) -> None:
        self.store = RunStore(runs_dir)
        self.runs_dir = self.store.runs_dir
        self.catalogue = Catalogue(config, self.store.model_entries)
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self.public = public
        # /train_start's inputs: the Fine-tune tab builds its widgets and API signature from these.
        self.spec: Spec = training_spec({name: s.description for name, s in training_data.SAMPLES.items()})
        self._lock = threading.RLock()
        self._queue: list[str] = []
        self._running: str | None = None
        self._process: subprocess.Popen | None = None
        self._stop_sent: dict[str, float] = {}
        self._tokens: dict[str, str] = {}  # hub tokens, in memory only: never written or logged
        self._closed = threading.Event()
        self._recover()
        self._thread: threading.Thread | None = None
        if supervise:
            self._thread = threading.Thread(target=self._supervise, name="training-supervisor", daemon=True)
            self._thread.start()

    # ------------------------------------------------------- what a run may be (for the tab)
    def base_models(self, task: str) -> list[ModelEntry]:
        return self.catalogue.base_models(task)

    def default_base_model(self, task: str) -> str | None:
        return self.catalogue.default_base_model(task)

    def build_config(self, **arguments: Any) -> dict[str, Any]:
        """Check every argument (prepare.build_config's) and the data; the run's config.json content."""
        return prepare.build_config(self.catalogue, public=self.public, **arguments).as_json()

    def preview(self, **arguments: Any) -> str:
        """ "Show command": the shell command and config.json a run with these arguments would get."""
        config = prepare.build_config(self.catalogue, public=self.public, **arguments)
        return launcher.preview(config, self.runs_dir)

    def describe_data(self, dataset: str | None, sample: str | None, task: str) -> tuple[str, Any] | None:
        """(task, summary) of the data the page chose: an upload, else a sample (whose own task wins)."""
        chosen = training_data.choose(dataset, sample, task)
        return None if chosen is None else (chosen.task, chosen.summary())

    def label_counts(self, dataset: str | None, sample: str | None, task: str, label_column: str) -> dict[str, int]:
        return training_data.recount(dataset, sample, task, label_column)

    # ---------------------------------------------------------------------------- runs
    def run_dir(self, run_id: str) -> Path:
        return self.store.existing(run_id).path

    def start(self, config: TrainingConfig | dict[str, Any], hub_token: str | None = None) -> str:
        """Write a new run dir and queue it (it starts at once when nothing else runs); returns its id."""
        config = TrainingConfig.of(config).model_copy()
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.task.split('-')[0]}-{secrets.token_hex(2)}"
        folder = self.store.folder(run_id)
        folder.path.mkdir(parents=True)
        config.run_id, config.created = run_id, time.time()
        if config.data.train_file:
            saved = training_data.save_upload(config.data.train_file, folder.path)
            config.data = config.data.model_copy(update={"train_file": str(saved)})
        folder.write_config(config)
        folder.log.touch()
        if hub_token:
            self._tokens[run_id] = hub_token
        with self._lock:
            self.store.set_status(run_id, status="queued", queued=time.time())
            self._queue.append(run_id)
            self._tick()
        log.info("training run %s queued", run_id)
        return run_id

    def resume(self, run_id: str) -> str:
        """Queue a stopped or failed run again, continuing from its last checkpoint."""
        folder = self.store.existing(run_id)
        with self._lock:
            status = folder.read_status().get("status")
            if status not in ("stopped", "failed"):
                raise UserError(f"Run {run_id} is {status}; only a stopped or failed run can be resumed.")
            checkpoint = folder.last_checkpoint()
            if checkpoint is None:
                raise UserError(f"Run {run_id} has no checkpoint to resume from; start a new run instead.")
            config = folder.read_config()
            config.resume_from_checkpoint = str(checkpoint)
            folder.write_config(config)
            self.store.set_status(run_id, status="queued", queued=time.time(), error=None, exit_code=None)
            self._queue.append(run_id)
            self._tick()
        return run_id

    def stop(self, run_id: str) -> dict[str, Any]:
        """Stop a run: a queued one leaves the queue; a running one gets SIGTERM, then SIGKILL after the grace."""
        folder = self.store.existing(run_id)
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
                self.store.set_status(run_id, status="stopped", ended=time.time())
            elif run_id == self._running and run_id not in self._stop_sent:
                self._stop_sent[run_id] = time.monotonic()
                folder.say("stop requested: SIGTERM sent to the process group")
                launcher.kill_group(folder.read_status().get("pgid"), signal.SIGTERM)
        return self.status(run_id)

    # -------------------------------------------------------------------------- status
    def status(self, run_id: str) -> dict[str, Any]:
        """{run_id, status, step, max_steps, epoch, metrics, log_tail} and more (eta_seconds, error, ...)."""
        with self._lock:
            position = self._queue.index(run_id) + 1 if run_id in self._queue else None
            stopping = run_id in self._stop_sent
        return self.store.snapshot(run_id, stopping=stopping, queue_position=position)

    def status_stream(self, run_id: str, poll_seconds: float = 0.2) -> Iterator[dict[str, Any]]:
        """Status dicts, one on every change, ending when the run ends (raises UserError for a bad id first)."""
        self.run_dir(run_id)
        return self._stream(run_id, poll_seconds)

    def _stream(self, run_id: str, poll_seconds: float) -> Iterator[dict[str, Any]]:
        previous = None
        while True:
            current = self.status(run_id)
            key = (current["status"], current["step"], len(current["metrics"]), current["log_tail"][-200:])
            if key != previous:
                previous = key
                yield current
            if current["status"] in TERMINAL:
                return
            time.sleep(poll_seconds)

    def metrics(self, run_id: str) -> list[dict[str, Any]]:
        return self.store.metrics(run_id)

    def run_ids(self) -> list[str]:
        return self.store.run_ids()

    def runs(self) -> list[dict[str, Any]]:
        return self.store.runs()

    def model_entries(self, task_id: str) -> list[ModelEntry]:
        """Completed runs of this task as `source: local` model entries (for the inference tabs)."""
        return self.store.model_entries(task_id)

    def queue(self) -> list[str]:
        with self._lock:
            return list(self._queue)

    def active_run(self) -> str | None:
        """The running run, else the first queued one (what a reloaded page re-attaches to)."""
        with self._lock:
            return self._running or (self._queue[0] if self._queue else None)

    # ---------------------------------------------------------------------- supervisor
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
