"""JobManager: the queue of fine-tuning runs (one trains at a time) and the supervisor that runs it.

A supervisor thread (supervisor.py) starts queued runs and records how each worker ended. Stop
sends SIGTERM to the worker's whole process group and SIGKILL after a grace period. Who may
start, stop, resume or delete a run is studio.policy.access's rule; the queue and status streams are
capped (limits.py). The files are the run store's (store.py), the commands the launcher's
(launcher.py), the checks prepare.py's; this is also what the Fine-tune tab reaches as `studio.jobs`.
See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError
from studio.policy.access import Access, Caller
from studio.spec.param import Spec
from studio.training import dataset, launcher, limits, model_card, prepare, search
from studio.training.catalogue import Catalogue
from studio.training.config import TrainingConfig, training_spec
from studio.training.kinds.table import KINDS, TRAINING_TASKS, served_tasks
from studio.training.samples import SAMPLES
from studio.training.store import RunStore
from studio.training.supervisor import TERMINAL, Supervisor

log = logging.getLogger(__name__)
START = "Starting a fine-tuning run"  # what a visitor of a public app is told they may not do


class JobManager(Supervisor):
    """Fine-tuning runs under runs_dir: start, queue, stop, resume, status, and the models they made."""

    def __init__(
        self,
        runs_dir: str | Path,
        config: StudioConfig | None = None,
        grace_seconds: float = 10.0,
        poll_seconds: float = 0.2,
        public: bool = False,
        supervise: bool = True,
        access: Access | None = None,
    ) -> None:
        self.store = RunStore(runs_dir)
        self.access = access or Access(public=public)
        self.max_queued = limits.max_queued_runs()
        self.streams = limits.StreamLimit(limits.max_status_streams(), limits.status_stream_seconds())
        self.followers = limits.Followers()
        self.runs_dir = self.store.runs_dir
        self.catalogue = Catalogue(config, self.store.model_entries)
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self.public = public or self.access.public
        # /train_start's inputs: the Fine-tune tab builds its widgets and API signature from these.
        self.spec: Spec = training_spec({name: sample.description for name, sample in SAMPLES.items()})
        self._lock = threading.RLock()
        self._queue: list[str] = []
        self._running: str | None = None
        self._process = None
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

    def served_tasks(self) -> tuple[str, ...]:
        """The inference tasks whose tabs may offer a fine-tuned model (text generation runs: chat too)."""
        return tuple(dict.fromkeys(name for task in TRAINING_TASKS for name in served_tasks(task)))

    def default_base_model(self, task: str) -> str | None:
        return self.catalogue.default_base_model(task)

    def column_labels(self, task: str) -> tuple[str, str] | None:
        """The page's names for the two column pickers when the task reads other than text and label."""
        kind = KINDS.get(task)
        return kind.column_labels if kind is not None else None

    def trains_lora(self, task: str) -> bool:
        """Whether this task's runs may train LoRA adapters (the page shows the LoRA settings then)."""
        kind = KINDS.get(task)
        return kind is not None and kind.lora

    def build_config(self, **arguments: Any) -> TrainingConfig:
        """Check every argument (prepare.py's; search.py's search_*) and the data; the run's config
        (`.as_json()` is its config.json)."""
        found = search.settings_from(arguments)
        return search.attached(prepare.build_config(self.catalogue, public=self.public, **arguments), found)

    def preview(self, **arguments: Any) -> str:
        """ "Show command": the shell command and config.json a run with these arguments would get."""
        return launcher.preview(self.build_config(**arguments))

    def describe_data(self, upload: str | None, sample: str | None, task: str) -> tuple[str, Any] | None:
        """(task, summary) of the data the page chose: an upload, else a sample (whose own task wins)."""
        chosen = dataset.choose(upload, sample, task)
        return None if chosen is None else (chosen.task, chosen.summary())

    def label_counts(self, upload: str | None, sample: str | None, task: str, label_column: str) -> dict[str, int]:
        return dataset.recount(upload, sample, task, label_column)

    # ---------------------------------------------------------------------------- runs
    def run_dir(self, run_id: str) -> Path:
        return self.store.existing(run_id).path

    def start(
        self, config: TrainingConfig | Mapping[str, Any], hub_token: str | None = None, actor: Caller | None = None
    ) -> str:
        """Write a new run dir and queue it (it starts at once when nothing else runs); returns its id.

        config: a checked TrainingConfig (build_config's), or config.json content from Python (checked here).
        actor: who asks (None: a trusted caller, e.g. Python); in public mode only the admin may start."""
        self.access.require_admin(actor, START)
        return self._queue_new(TrainingConfig.of(config), hub_token, actor)

    def start_from_request(
        self, arguments: dict[str, Any], hub_token: str | None = None, actor: Caller | None = None
    ) -> str:
        """/train_start: who asks is checked once, first (a visitor's upload is never read), then
        every argument and the data (build_config), then the run is queued; returns its id."""
        self.access.require_admin(actor, START)
        return self._queue_new(self.build_config(**arguments), hub_token, actor)

    def _queue_new(self, config: TrainingConfig, hub_token: str | None, actor: Caller | None) -> str:
        """A new run folder for a checked config, queued (the caller was checked: it may start runs)."""
        config = config.model_copy()
        if config.push_to_hub and not hub_token:
            raise UserError(
                "Pushing to the Hub needs a Hub token for this push (the app never uses its own login); "
                "paste a token with write access, or untick Push to Hub."
            )
        with self._lock:
            if len(self._queue) >= self.max_queued:
                raise UserError(
                    f"The training queue is full ({len(self._queue)} runs waiting); start this run "
                    "when one of them has started or been stopped."
                )
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.task.split('-')[0]}-{secrets.token_hex(2)}"
        folder = self.store.folder(run_id)
        folder.path.mkdir(parents=True)
        config.run_id, config.created = run_id, time.time()
        if config.data.train_file:
            saved = dataset.save_upload(config.data.train_file, folder.path)
            config.data = config.data.model_copy(update={"train_file": str(saved)})
        folder.write_config(config)
        folder.log.touch()
        if hub_token:
            self._tokens[run_id] = hub_token
        with self._lock:
            owner = actor.owner if actor else "admin"
            self.store.set_status(run_id, status="queued", queued=time.time(), owner=owner)
            self._queue.append(run_id)
            self._tick()
        log.info("training run %s queued", run_id)
        return run_id

    def resume(self, run_id: str, actor: Caller | None = None) -> str:
        """Queue a stopped or failed run again, continuing from its last checkpoint."""
        folder = self.store.existing(run_id)
        run_id = folder.path.name
        self.access.require_owner(actor, self.owner(run_id), "Resuming a run")
        with self._lock:
            if len(self._queue) >= self.max_queued:
                raise UserError(f"The training queue is full ({len(self._queue)} runs waiting); resume it later.")
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

    def stop(self, run_id: str, actor: Caller | None = None) -> dict[str, Any]:
        """Stop a run: a queued one leaves the queue; a running one gets SIGTERM, then SIGKILL after the grace."""
        folder = self.store.existing(run_id)
        run_id = folder.path.name
        self.access.require_owner(actor, self.owner(run_id), "Stopping a run")
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
                self.store.set_status(run_id, status="stopped", ended=time.time())
            elif run_id == self._running and run_id not in self._stop_sent:
                self._stop_sent[run_id] = time.monotonic()
                folder.say("stop requested: SIGTERM sent to the process group")
                launcher.kill_group(folder.read_status().get("pgid"), signal.SIGTERM)
        return self.status(run_id)

    def delete(self, run_id: str, actor: Caller | None = None) -> None:
        """Remove a finished run's folder (model, checkpoints, data, cache); admin-only in public mode."""
        self.access.require_admin(actor, "Deleting a run")
        folder = self.store.existing(run_id)
        with self._lock:
            state = folder.read_status().get("status")
            if state not in TERMINAL:
                raise UserError(f"Run {folder.path.name} is {state}; stop it first, then delete it.")
            self.store.delete(folder.path.name)
        log.info("training run %s deleted", folder.path.name)

    def owner(self, run_id: str) -> str | None:
        """Who started the run: a session's hash or "admin" (None for runs from before owners)."""
        return self.store.folder(run_id).read_status().get("owner")

    # -------------------------------------------------------------------------- status
    def status(self, run_id: str) -> dict[str, Any]:
        """{run_id, status, step, max_steps, epoch, metrics, log_tail} and more (eta_seconds, error, ...)."""
        with self._lock:
            position = self._queue.index(run_id) + 1 if run_id in self._queue else None
            stopping = run_id in self._stop_sent
        return self.store.snapshot(run_id, stopping=stopping, queue_position=position)

    def status_stream(
        self, run_id: str, poll_seconds: float = 0.2, follower: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Status dicts, one on every change, ending when the run ends (raises UserError for a bad id first).

        Streams are bounded: the first item raises a UserError when too many are open, and a
        stream ends after the limit's duration. A `follower` (a page) has one stream at a time:
        a newer one for it ends this one, quietly."""
        run_id = self.store.existing(run_id).path.name

        def stream(deadline: float) -> Iterator[dict[str, Any]]:
            def make(current: Any) -> Iterator[dict[str, Any]]:
                return self._stream(run_id, poll_seconds, deadline, current)

            return self.followers.follow(follower, make)

        return self.streams.bounded(stream)

    def leave(self, follower: str | None) -> None:
        """End `follower`'s status stream (a page that starts another run shows that one next)."""
        self.followers.leave(follower)

    def _stream(
        self, run_id: str, poll_seconds: float, deadline: float = float("inf"), current: Any = lambda: True
    ) -> Iterator[dict[str, Any]]:
        previous = None
        while time.monotonic() < deadline:  # past it, the page's Refresh runs shows what follows
            status = self.status(run_id)
            if not current():
                return
            key = (status["status"], status["step"], len(status["metrics"]), status["log_tail"][-200:])
            if key != previous:
                previous = key
                yield status
            if status["status"] in TERMINAL:
                return
            time.sleep(poll_seconds)

    def trials(self, run_id: str) -> dict[str, Any]:
        """A search run's trials so far and its best one (search.py); no trials for another run."""
        folder = self.store.existing(run_id)
        return search.summary(folder, finished=self.status(folder.path.name)["status"] in TERMINAL)

    def push(
        self, run_id: str, hub_token: str | None, hub_model_id: str | None = None, actor: Caller | None = None
    ) -> dict[str, str]:
        """Upload a completed run's model (or adapter) with its model card; admin-only in public mode."""
        self.access.require_admin(actor, "Pushing a run to the Hub")
        folder = self.store.existing(run_id)
        pushed = model_card.push_run(folder, hub_token, hub_model_id)
        self.store.set_status(folder.path.name, push=pushed)
        return pushed

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
