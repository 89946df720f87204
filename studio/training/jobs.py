"""JobManager: run dirs, a one-at-a-time queue, and the training subprocess in its own process group.

The worker's output goes to runs/<id>/train.log (a FILE, never a pipe, so a closed browser or
an app that stops reading can never block training). A supervisor thread starts queued runs,
notices when a worker ends (exit code, signal, or vanished while the app was restarted) and
records the outcome in status.json. Stop sends SIGTERM to the whole process group and
SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError
from studio.training import data as training_data

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent.parent
TERMINAL = ("completed", "failed", "stopped")
BASE_MODEL_TASKS = ("feature-extraction", "fill-mask")
PRECISIONS = ("no", "fp16", "bf16")
LOG_TAIL_LINES = 40

DEFAULTS: dict[str, Any] = {
    "num_train_epochs": 2.0,
    "per_device_train_batch_size": 16,
    "learning_rate": 5e-5,
    "warmup_ratio": 0.1,
    "weight_decay": 0.01,
    "gradient_accumulation_steps": 1,
    "seed": 42,
    "max_length": 128,
    "num_processes": 1,
    "precision": "no",
    "eval_each_epoch": True,
    "save_each_epoch": True,
    "load_best_model_at_end": False,
}


def cuda_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:
        return 0


def _number(value: Any, name: str, low: float, high: float, kind: type = float) -> Any:
    try:
        number = kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number between {low:g} and {high:g}.") from None
    if not low <= number <= high:
        raise UserError(f"{name} must be between {low:g} and {high:g} (got {number:g}).")
    return number


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def write_json(path: Path, value: Any) -> None:
    temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(value, indent=1, default=str), encoding="utf-8")
    os.replace(temporary, path)


def tail(path: Path, lines: int = LOG_TAIL_LINES, max_bytes: int = 16_384) -> str:
    """The last lines of a (possibly large) log file."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - max_bytes))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_group(pgid: int | None, sig: int) -> None:
    if not pgid:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


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
        self.runs_dir = Path(runs_dir).resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self.public = public
        self._lock = threading.RLock()
        self._queue: list[str] = []
        self._running: str | None = None
        self._process: subprocess.Popen | None = None
        self._stop_sent: dict[str, float] = {}
        self._tokens: dict[str, str] = {}  # hub tokens, in memory only: never written or logged
        self._metrics_cache: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        self._closed = threading.Event()
        self._recover()
        self._thread: threading.Thread | None = None
        if supervise:
            self._thread = threading.Thread(target=self._supervise, name="training-supervisor", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------------ config
    def base_models(self, task: str) -> list[ModelEntry]:
        """Models a run can start from: the task's own, encoders from models.yaml, and earlier runs."""
        entries: list[ModelEntry] = []
        if self.config is not None:
            for task_id in (task, *BASE_MODEL_TASKS):
                entries += self.config.entries(task_id)
        entries += self.model_entries(task)
        unique: dict[str, ModelEntry] = {}
        for entry in entries:
            unique.setdefault(entry.id, entry)
        return list(unique.values())

    def default_base_model(self, task: str) -> str | None:
        entries = self.base_models(task)
        packaged = [entry for entry in entries if entry.source == "package"]
        chosen = packaged or entries
        return chosen[0].id if chosen else None

    def _model_path(self, task: str, model: str) -> str:
        from studio.models import is_cached, resolve_source

        if not model:
            raise UserError("Pick a base model first.")
        entry = next((e for e in self.base_models(task) if e.id == model), None)
        if entry is None:
            raise UserError(f"Base model {model!r} is not offered; pick one from the base model list.")
        if not is_cached(entry):
            raise UserError(
                f"Base model {entry.display_name} is not downloaded and the Hub is unreachable; "
                "pick an offline model or run `hf download` first."
            )
        return resolve_source(entry)

    def build_config(
        self,
        task: str,
        model: str,
        dataset: str | None = None,
        sample: str | None = None,
        text_column: str | None = None,
        label_column: str | None = None,
        num_train_epochs: float = DEFAULTS["num_train_epochs"],
        per_device_train_batch_size: int = DEFAULTS["per_device_train_batch_size"],
        learning_rate: float = DEFAULTS["learning_rate"],
        warmup_ratio: float = DEFAULTS["warmup_ratio"],
        weight_decay: float = DEFAULTS["weight_decay"],
        gradient_accumulation_steps: int = DEFAULTS["gradient_accumulation_steps"],
        seed: int = DEFAULTS["seed"],
        max_length: int = DEFAULTS["max_length"],
        num_processes: int = DEFAULTS["num_processes"],
        precision: str = DEFAULTS["precision"],
        eval_each_epoch: bool = DEFAULTS["eval_each_epoch"],
        save_each_epoch: bool = DEFAULTS["save_each_epoch"],
        load_best_model_at_end: bool = DEFAULTS["load_best_model_at_end"],
        push_to_hub: bool = False,
        hub_model_id: str | None = None,
        accelerate_config: str | None = None,
        logging_steps: int | None = None,
        max_train_samples: int | None = None,
    ) -> dict[str, Any]:
        """Check every argument and the data; the run's config.json content (without run_id)."""
        if task not in training_data.TRAINING_TASKS:
            raise UserError(f"Fine-tuning supports {' and '.join(training_data.TRAINING_TASKS)}; got {task!r}.")
        model_path = self._model_path(task, model)
        if dataset:
            table = training_data.read_table(dataset)
            name = Path(dataset).name
            data: dict[str, Any] = {"train_file": str(dataset), "name": name}
            guessed = training_data.guess_columns(table.column_names, task)
        elif sample:
            chosen = training_data.sample(sample)
            if chosen.task != task:
                raise UserError(f"The bundled {sample!r} set is for {chosen.task}; pick it with that task.")
            table = training_data.read_table(chosen.train)
            name = f"bundled {sample} set"
            data = {"sample": sample, "name": name}
            guessed = (chosen.text_column, chosen.label_column)
        else:
            raise UserError("Upload a data file (CSV, TSV, JSON or JSONL) or pick a bundled sample first.")
        text_column = text_column or guessed[0] or ""
        label_column = label_column or guessed[1] or ""
        training_data.validate(table, task, text_column, label_column, name)
        labels = training_data.ordered_labels(training_data.label_counts(table, task, label_column), task)
        precision = precision or "no"
        if precision not in PRECISIONS:
            raise UserError(f"precision must be one of {', '.join(PRECISIONS)}.")
        gpus = cuda_count()
        if precision == "fp16" and not gpus:
            raise UserError("fp16 needs a CUDA GPU and this machine has none; choose bf16 or no.")
        processes = _number(num_processes, "num_processes", 1, max(gpus, os.cpu_count() or 1), int)
        if load_best_model_at_end and not (eval_each_epoch and save_each_epoch):
            raise UserError("load_best_model_at_end needs both 'evaluate each epoch' and 'save each epoch' on.")
        if push_to_hub:
            from studio.models import hub_is_offline

            if hub_is_offline():
                raise UserError(
                    "Pushing to the Hub needs internet access and this app runs offline (HF_HUB_OFFLINE=1); "
                    "untick Push to Hub: the model is saved in the run folder either way."
                )
        if accelerate_config and (self.public or not Path(accelerate_config).is_file()):
            raise UserError("accelerate_config must be an existing accelerate config file on the server.")
        training = {
            "num_train_epochs": _number(num_train_epochs, "num_train_epochs", 0.01, 100),
            "per_device_train_batch_size": _number(
                per_device_train_batch_size, "per_device_train_batch_size", 1, 1024, int
            ),
            "learning_rate": _number(learning_rate, "learning_rate", 1e-8, 1.0),
            "warmup_ratio": _number(warmup_ratio, "warmup_ratio", 0.0, 0.99),
            "weight_decay": _number(weight_decay, "weight_decay", 0.0, 1.0),
            "gradient_accumulation_steps": _number(
                gradient_accumulation_steps, "gradient_accumulation_steps", 1, 1024, int
            ),
            "seed": _number(seed, "seed", 0, 2**31 - 1, int),
            "max_length": _number(max_length, "max_length", 8, 8192, int),
            "precision": precision,
            "eval_each_epoch": bool(eval_each_epoch),
            "save_each_epoch": bool(save_each_epoch),
            "load_best_model_at_end": bool(load_best_model_at_end),
        }
        if logging_steps:
            training["logging_steps"] = _number(logging_steps, "logging_steps", 1, 100_000, int)
        if max_train_samples:
            training["max_train_samples"] = _number(max_train_samples, "max_train_samples", 1, 10**9, int)
        return {
            "task": task,
            "base_model": model,
            "model_path": model_path,
            "data": data,
            "text_column": text_column,
            "label_column": label_column,
            "labels": labels,
            "training": training,
            "num_processes": processes,
            "launcher": self.launcher(processes, accelerate_config),
            "accelerate_config": accelerate_config or None,
            "push_to_hub": bool(push_to_hub),
            "hub_model_id": hub_model_id or None,
            "resume_from_checkpoint": None,
        }

    @staticmethod
    def launcher(processes: int, accelerate_config: str | None = None) -> str:
        """python (one process), accelerate (GPUs, or an accelerate config) or torchrun (several CPU processes)."""
        if accelerate_config or (processes > 1 and cuda_count()):
            return "accelerate"
        return "torchrun" if processes > 1 else "python"

    @staticmethod
    def command(config: dict[str, Any], run_dir: str | Path, python: str = sys.executable) -> list[str]:
        """The argv that runs the worker on run_dir."""
        worker = ["-m", "studio.training.worker", str(run_dir)]
        processes = str(config.get("num_processes", 1))
        if config.get("launcher") == "torchrun":
            return [python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", processes, *worker]
        if config.get("launcher") == "accelerate":
            argv = [python, "-m", "accelerate.commands.launch", "--num_processes", processes]
            if config.get("accelerate_config"):
                argv += ["--config_file", str(config["accelerate_config"])]
            return [*argv, *worker]
        return [python, *worker]

    def preview(self, **arguments: Any) -> str:
        """ "Show command": the shell command and config.json a run with these arguments would get."""
        config = self.build_config(**arguments)
        run_dir = self.runs_dir / "<run-id>"
        argv = self.command(config, run_dir, python="python")
        shown = shlex.join(argv).replace("python -m torch.distributed.run", "torchrun")
        shown = shown.replace("python -m accelerate.commands.launch", "accelerate launch").replace("'", "")
        if config["push_to_hub"]:
            shown = f"HF_TOKEN=*** {shown}"
        config = {"run_id": "<run-id>", **config}
        if "train_file" in config["data"]:
            config["data"] = {
                **config["data"],
                "train_file": str(run_dir / "data" / Path(config["data"]["train_file"]).name),
            }
        return f"# from {ROOT}\n{shown}\n\n# {run_dir}/config.json\n" + json.dumps(config, indent=2) + "\n"

    # -------------------------------------------------------------------- runs
    def run_dir(self, run_id: str) -> Path:
        if not run_id or not re.fullmatch(r"[A-Za-z0-9_.-]+", str(run_id)) or run_id.startswith("."):
            raise UserError("Pick a run first (its id looks like 20250101-120000-text-ab12).")
        path = self.runs_dir / run_id
        if not (path / "config.json").is_file():
            raise UserError(f"There is no run {run_id!r}; pick one from the list of runs.")
        return path

    def start(self, config: dict[str, Any], hub_token: str | None = None) -> str:
        """Write a new run dir and queue it (it starts at once when nothing else runs); returns its id."""
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config['task'].split('-')[0]}-{secrets.token_hex(2)}"
        run_dir = self.runs_dir / run_id
        run_dir.mkdir(parents=True)
        config = {"run_id": run_id, **config, "created": time.time()}
        if "train_file" in config["data"]:
            saved = training_data.save_upload(config["data"]["train_file"], run_dir)
            config["data"] = {**config["data"], "train_file": str(saved)}
        write_json(run_dir / "config.json", config)
        (run_dir / "train.log").touch()
        if hub_token:
            self._tokens[run_id] = hub_token
        with self._lock:
            self._set_status(run_id, status="queued", queued=time.time())
            self._queue.append(run_id)
            self._tick()
        log.info("training run %s queued", run_id)
        return run_id

    def resume(self, run_id: str) -> str:
        """Queue a stopped or failed run again, continuing from its last checkpoint."""
        run_dir = self.run_dir(run_id)
        with self._lock:
            status = self._status_file(run_id).get("status")
            if status not in ("stopped", "failed"):
                raise UserError(f"Run {run_id} is {status}; only a stopped or failed run can be resumed.")
            checkpoint = last_checkpoint(run_dir)
            if checkpoint is None:
                raise UserError(f"Run {run_id} has no checkpoint to resume from; start a new run instead.")
            config = read_json(run_dir / "config.json")
            config["resume_from_checkpoint"] = str(checkpoint)
            write_json(run_dir / "config.json", config)
            self._set_status(run_id, status="queued", queued=time.time(), error=None, exit_code=None)
            self._queue.append(run_id)
            self._tick()
        return run_id

    def stop(self, run_id: str) -> dict[str, Any]:
        """Stop a run: a queued one leaves the queue; a running one gets SIGTERM, then SIGKILL after the grace."""
        self.run_dir(run_id)
        with self._lock:
            if run_id in self._queue:
                self._queue.remove(run_id)
                self._set_status(run_id, status="stopped", ended=time.time())
            elif run_id == self._running and run_id not in self._stop_sent:
                self._stop_sent[run_id] = time.monotonic()
                self._append_log(run_id, "stop requested: SIGTERM sent to the process group")
                kill_group(self._status_file(run_id).get("pgid"), signal.SIGTERM)
        return self.status(run_id)

    # ------------------------------------------------------------------ status
    def _status_file(self, run_id: str) -> dict[str, Any]:
        return read_json(self.runs_dir / run_id / "status.json", {}) or {}

    def _set_status(self, run_id: str, **fields: Any) -> dict[str, Any]:
        status = {**self._status_file(run_id), "run_id": run_id, **fields}
        write_json(self.runs_dir / run_id / "status.json", status)
        return status

    def _append_log(self, run_id: str, message: str) -> None:
        with open(self.runs_dir / run_id / "train.log", "a", encoding="utf-8") as file:
            file.write(f"[{time.strftime('%H:%M:%S')}] [studio] {message}\n")

    def metrics(self, run_id: str) -> list[dict[str, Any]]:
        """Every line of metrics.jsonl so far (read incrementally; a half-written last line waits)."""
        path = self.runs_dir / run_id / "metrics.jsonl"
        offset, records = self._metrics_cache.get(run_id, (0, []))
        try:
            size = path.stat().st_size
        except OSError:
            return []
        if size < offset:
            offset, records = 0, []
        if size > offset:
            with open(path, "rb") as file:
                file.seek(offset)
                chunk = file.read(size - offset)
            complete = chunk[: chunk.rfind(b"\n") + 1]
            records = records + [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]
            offset += len(complete)
            self._metrics_cache[run_id] = (offset, records)
        return records

    def status(self, run_id: str) -> dict[str, Any]:
        """{run_id, status, step, max_steps, epoch, metrics, log_tail} and more (eta_seconds, error, ...)."""
        run_dir = self.run_dir(run_id)
        config = read_json(run_dir / "config.json", {})
        status = self._status_file(run_id)
        progress = read_json(run_dir / "progress.json", {}) or {}
        records = self.metrics(run_id)
        logs = [record for record in records if "event" not in record]
        begin = next((r for r in reversed(records) if r.get("event") == "train_begin"), {})
        state = status.get("status", "queued")
        if state == "running" and run_id in self._stop_sent:
            state = "stopping"
        step, max_steps = int(progress.get("step", 0)), int(progress.get("max_steps") or begin.get("max_steps") or 0)
        eta = None
        first = progress.get("first_step")
        if state == "running" and first is not None and step > first and max_steps:
            elapsed = progress["time"] - progress["first_time"]
            eta = round(elapsed / (step - first) * (max_steps - step), 1)
        with self._lock:
            position = self._queue.index(run_id) + 1 if run_id in self._queue else None
        return {
            "run_id": run_id,
            "status": state,
            "step": step,
            "max_steps": max_steps,
            "epoch": round(float(progress.get("epoch") or 0.0), 3),
            "metrics": logs,
            "log_tail": tail(run_dir / "train.log"),
            "eta_seconds": eta,
            "queue_position": position,
            "error": status.get("error"),
            "final_metrics": status.get("final_metrics"),
            "model_id": status.get("model_id"),
            "task": config.get("task"),
            "base_model": config.get("base_model"),
        }

    def run_ids(self) -> list[str]:
        """Every run, newest first."""
        found = [path.name for path in self.runs_dir.iterdir() if (path / "config.json").is_file()]
        return sorted(found, reverse=True)

    def runs(self) -> list[dict[str, Any]]:
        """[{run_id, status, task, base_model, final_metrics, model_id}], newest first."""
        rows = []
        for run_id in self.run_ids():
            config = read_json(self.runs_dir / run_id / "config.json", {}) or {}
            status = self._status_file(run_id)
            rows.append(
                {
                    "run_id": run_id,
                    "status": status.get("status", "queued"),
                    "task": config.get("task"),
                    "base_model": config.get("base_model"),
                    "final_metrics": status.get("final_metrics"),
                    "model_id": status.get("model_id"),
                    "data": (config.get("data") or {}).get("name"),
                    "resumable": status.get("status") in ("stopped", "failed")
                    and last_checkpoint(self.runs_dir / run_id) is not None,
                }
            )
        return rows

    def queue(self) -> list[str]:
        with self._lock:
            return list(self._queue)

    def active_run(self) -> str | None:
        """The running run, else the first queued one (what a reloaded page re-attaches to)."""
        with self._lock:
            return self._running or (self._queue[0] if self._queue else None)

    def model_entries(self, task_id: str) -> list[ModelEntry]:
        """Completed runs of this task as `source: local` model entries (for the inference tabs)."""
        entries = []
        for run_id in self.run_ids():
            status = self._status_file(run_id)
            model_id = status.get("model_id")
            if status.get("status") != "completed" or not model_id or status.get("task") != task_id:
                continue
            if not Path(model_id).is_dir():
                continue
            entries.append(
                ModelEntry(id=model_id, label=f"Fine-tuned {status.get('base_model')} · {run_id}", source="local")
            )
        return entries

    # -------------------------------------------------------------- supervisor
    def _recover(self) -> None:
        """After a restart: re-queue queued runs; adopt or close runs that were running."""
        queued = []
        for run_id in self.run_ids():
            status = self._status_file(run_id)
            if status.get("status") == "queued":
                queued.append((status.get("queued", 0), run_id))
            elif status.get("status") == "running":
                if pid_alive(status.get("pid")) and self._running is None:
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
            if self._process is not None:
                code = self._process.poll()
                ended = code is not None
            else:
                code, ended = None, not pid_alive(self._status_file(run_id).get("pid"))
            if ended:
                self._finish(run_id, code)
            elif run_id in self._stop_sent and time.monotonic() - self._stop_sent[run_id] > self.grace_seconds:
                self._append_log(run_id, f"still running {self.grace_seconds:g} s after SIGTERM: SIGKILL")
                kill_group(self._status_file(run_id).get("pgid"), signal.SIGKILL)
        if self._running is None and self._queue:
            self._launch(self._queue.pop(0))

    def _launch(self, run_id: str) -> None:
        run_dir = self.runs_dir / run_id
        config = read_json(run_dir / "config.json")
        for stale in ("result.json", "progress.json"):
            (run_dir / stale).unlink(missing_ok=True)
        argv = self.command(config, run_dir)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.pop("HF_TOKEN", None)
        if config.get("push_to_hub") and self._tokens.get(run_id):
            env["HF_TOKEN"] = self._tokens[run_id]
        self._append_log(run_id, "starting: " + shlex.join(argv))
        with open(run_dir / "train.log", "ab") as output:
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: Stop signals the whole tree
                )
            except OSError as exc:
                self._set_status(run_id, status="failed", error=f"Could not start the worker: {exc}")
                return
        self._process, self._running = process, run_id
        self._set_status(
            run_id, status="running", pid=process.pid, pgid=process.pid, started=time.time(), exit_code=None
        )
        log.info("training run %s started (pid %s)", run_id, process.pid)

    def _finish(self, run_id: str, code: int | None) -> None:
        """Record how a worker ended; kill anything left in its group."""
        status = self._status_file(run_id)
        kill_group(status.get("pgid"), signal.SIGKILL)
        run_dir = self.runs_dir / run_id
        result = read_json(run_dir / "result.json", {}) or {}
        outcome = result.get("outcome")
        fields: dict[str, Any] = {"exit_code": code, "ended": time.time()}
        if outcome == "completed" and code in (0, None):
            model_dir = result.get("model_dir")
            fields.update(
                status="completed",
                error=None,
                final_metrics=result.get("final_metrics"),
                model_id=model_dir,
                task=read_json(run_dir / "config.json", {}).get("task"),
                base_model=read_json(run_dir / "config.json", {}).get("base_model"),
                push=result.get("push"),
            )
        elif run_id in self._stop_sent or outcome == "stopped":
            fields.update(status="stopped", error=None)
        else:
            if code is None:
                why = "the worker ended while the app was not watching, without finishing"
            elif code < 0:
                why = f"the worker was killed by {signal.Signals(-code).name}"
            else:
                why = f"the worker exited with code {code}"
            fields.update(status="failed", error=f"Training failed: {why}; see the log tail.")
        self._set_status(run_id, **fields)
        self._append_log(
            run_id, f"run {fields['status']}" + (f": {fields.get('error')}" if fields.get("error") else "")
        )
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
            kill_group(self._status_file(self._running).get("pgid"), signal.SIGKILL)


def last_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint-N folder with the highest N that has its trainer state."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        suffix = path.name.removeprefix("checkpoint-")
        if suffix.isdigit() and (path / "trainer_state.json").is_file():
            found.append((int(suffix), path))
    return max(found)[1] if found else None


def status_stream(manager: JobManager, run_id: str, poll_seconds: float = 0.2) -> Callable[[], Any]:
    """A generator of status dicts, yielded on every change, ending when the run ends."""

    def stream():
        previous = None
        while True:
            current = manager.status(run_id)
            key = (current["status"], current["step"], len(current["metrics"]), current["log_tail"][-200:])
            if key != previous:
                previous = key
                yield current
            if current["status"] in TERMINAL:
                return
            time.sleep(poll_seconds)

    return stream
