"""The run folders: every file a run leaves, and the only code that reads or writes them.

The worker writes (metrics.jsonl, progress.json, checkpoint-*/, model/, result.json, ranks/)
and the supervisor writes (config.json, status.json, train.log) through the same names, so
the two processes agree on the layout. Writes are atomic: a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from studio.config import ModelEntry
from studio.errors import UserError
from studio.training.config import TrainingConfig
from studio.training.files import read_json, write_json
from studio.training.kinds.table import served_tasks
from studio.training.loadreport import readable
from studio.uploads.tables import scrub_paths

LOG_TAIL_LINES = 80
MODEL_PREFIX = "runs/"  # a fine-tuned model's id is runs/<run_id>: its folder stays on the server


class RunModel(ModelEntry):
    """A completed run as a `local` model entry: its id is runs/<run_id>; `folder`, where its
    weights are, is used by loading only and never shown. A LoRA run saved without merging is
    its adapter folder, loaded on `adapter_of`, its base model's folder (studio/models/loading.py)."""

    folder: str = Field("", exclude=True, repr=False)
    adapter_of: str = Field("", exclude=True, repr=False)


def tail(path: Path, lines: int = LOG_TAIL_LINES, max_bytes: int = 16_384) -> str:
    """The last lines of a (possibly large) log file, readable (no escape codes, no redrawn bars)."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - max_bytes))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(readable(text).splitlines()[-lines:])


def last_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint-N folder with the highest N that has its trainer state."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        suffix = path.name.removeprefix("checkpoint-")
        if suffix.isdigit() and (path / "trainer_state.json").is_file():
            found.append((int(suffix), path))
    return max(found)[1] if found else None


@dataclass(frozen=True)
class RunFolder:
    """One run's folder and the names of its files."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def status(self) -> Path:
        return self.path / "status.json"

    @property
    def log(self) -> Path:
        return self.path / "train.log"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def progress(self) -> Path:
        return self.path / "progress.json"

    @property
    def result(self) -> Path:
        return self.path / "result.json"

    @property
    def model(self) -> Path:
        return self.path / "model"

    @property
    def adapter(self) -> Path:
        """A LoRA run's adapter (model/: merged, if asked)."""
        return self.path / "adapter"

    @property
    def ranks(self) -> Path:
        return self.path / "ranks"

    @property
    def cache(self) -> Path:
        """HF_DATASETS_CACHE: removed when the worker ends."""
        return self.path / "cache"

    def read_config(self) -> TrainingConfig:
        return TrainingConfig.read(self.config)

    def write_config(self, config: TrainingConfig) -> None:
        write_json(self.config, config.as_json())

    def read_status(self) -> dict[str, Any]:
        return read_json(self.status, {}) or {}

    def say(self, message: str) -> None:
        """A line from the app (not the worker) in train.log."""
        with open(self.log, "a", encoding="utf-8") as file:
            file.write(f"[{time.strftime('%H:%M:%S')}] [studio] {message}\n")

    def last_checkpoint(self) -> Path | None:
        return last_checkpoint(self.path)

    def outcome(self, code: int | None, stopped: bool) -> dict[str, Any]:
        """status.json's fields for a worker that ended with this exit code (None: not ours to see)."""
        result = read_json(self.result, {}) or {}
        fields: dict[str, Any] = {"exit_code": code, "ended": time.time()}
        if result.get("outcome") == "completed" and code in (0, None):
            config = read_json(self.config, {}) or {}
            fields.update(
                status="completed",
                error=None,
                final_metrics=result.get("final_metrics"),
                model_id=MODEL_PREFIX + self.path.name,
                task=config.get("task"),
                base_model=config.get("base_model"),
                push=result.get("push"),
            )
        elif stopped or result.get("outcome") == "stopped":
            fields.update(status="stopped", error=None)
        elif result.get("outcome") == "failed" and result.get("error"):
            fields.update(status="failed", error=result["error"])  # the worker's own sentence
        else:
            if code is None:
                why = "the worker ended while the app was not watching, without finishing"
            elif code < 0:
                why = f"the worker was killed by {signal.Signals(-code).name}"
            else:
                why = f"the worker exited with code {code}"
            fields.update(status="failed", error=f"Training failed: {why}; see the log tail.")
        return fields


class RunStore:
    """The runs directory: finding runs, their status files, metrics and the models they made."""

    def __init__(self, runs_dir: str | Path) -> None:
        self.runs_dir = Path(runs_dir).resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._metrics_cache: dict[str, tuple[int, list[dict[str, Any]]]] = {}

    def folder(self, run_id: str) -> RunFolder:
        return RunFolder(self.runs_dir / run_id)

    def existing(self, run_id: str) -> RunFolder:
        """The folder of a run that exists; a UserError for anything else (ids come from the page)."""
        run_id = "" if run_id is None else str(run_id).strip()
        if not run_id or len(run_id) > 100 or not re.fullmatch(r"[A-Za-z0-9_.-]+", run_id) or run_id[0] == ".":
            raise UserError("Pick a run first (its id looks like 20250101-120000-text-ab12).")
        folder = self.folder(run_id)
        if not folder.config.is_file():
            raise UserError(f"There is no run {run_id!r}; pick one from the list of runs.")
        return folder

    def model_id(self, run_id: str, status: dict[str, Any]) -> str | None:
        """runs/<run_id> for a completed run whose model (or LoRA adapter) folder exists, else None."""
        folder = self.folder(run_id)
        done = status.get("status") == "completed" and (folder.model.is_dir() or folder.adapter.is_dir())
        return MODEL_PREFIX + run_id if done else None

    def delete(self, run_id: str) -> None:
        """Remove a finished run's folder (its model, checkpoints, data copy and datasets cache)."""
        folder = self.existing(run_id)
        shutil.rmtree(folder.path)
        self._metrics_cache.pop(folder.path.name, None)

    def set_status(self, run_id: str, **fields: Any) -> dict[str, Any]:
        folder = self.folder(run_id)
        status = {**folder.read_status(), "run_id": run_id, **fields}
        write_json(folder.status, status)
        return status

    def run_ids(self) -> list[str]:
        """Every run, newest first."""
        found = [path.name for path in self.runs_dir.iterdir() if (path / "config.json").is_file()]
        return sorted(found, reverse=True)

    def metrics(self, run_id: str) -> list[dict[str, Any]]:
        """Every line of metrics.jsonl so far (read incrementally; a half-written last line waits)."""
        path = self.folder(run_id).metrics
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

    def snapshot(self, run_id: str, stopping: bool = False, queue_position: int | None = None) -> dict[str, Any]:
        """{run_id, status, step, max_steps, epoch, metrics, log_tail} and more (eta_seconds, error, ...)."""
        folder = self.existing(run_id)
        config = read_json(folder.config, {}) or {}
        status = folder.read_status()
        progress = read_json(folder.progress, {}) or {}
        records = self.metrics(run_id)
        logs = [record for record in records if "event" not in record]
        begin: dict[str, Any] = next((r for r in reversed(records) if r.get("event") == "train_begin"), {})
        state = status.get("status", "queued")
        if state == "running" and stopping:
            state = "stopping"
        step, max_steps = int(progress.get("step", 0)), int(progress.get("max_steps") or begin.get("max_steps") or 0)
        eta = None
        first = progress.get("first_step")
        if state == "running" and first is not None and step > first and max_steps:
            elapsed = progress["time"] - progress["first_time"]
            eta = round(elapsed / (step - first) * (max_steps - step), 1)
        return {
            "run_id": run_id,
            "status": state,
            "step": step,
            "max_steps": max_steps,
            "epoch": round(float(progress.get("epoch") or 0.0), 3),
            "metrics": logs,
            "log_tail": scrub_paths(tail(folder.log)),
            "eta_seconds": eta,
            "queue_position": queue_position,
            "error": status.get("error"),
            "final_metrics": status.get("final_metrics"),
            "model_id": self.model_id(run_id, status),
            "task": config.get("task"),
            "base_model": config.get("base_model"),
        }

    def runs(self) -> list[dict[str, Any]]:
        """[{run_id, status, task, base_model, final_metrics, model_id, data, resumable}], newest first."""
        rows = []
        for run_id in self.run_ids():
            folder = self.folder(run_id)
            config = read_json(folder.config, {}) or {}
            status = folder.read_status()
            rows.append(
                {
                    "run_id": run_id,
                    "status": status.get("status", "queued"),
                    "task": config.get("task"),
                    "base_model": config.get("base_model"),
                    "final_metrics": status.get("final_metrics"),
                    "model_id": self.model_id(run_id, status),
                    "data": (config.get("data") or {}).get("name"),
                    "resumable": status.get("status") in ("stopped", "failed") and folder.last_checkpoint() is not None,
                }
            )
        return rows

    def model_entries(self, task_id: str) -> list[ModelEntry]:
        """Completed runs that serve this task (text generation: also chat) as `source: local` model
        entries (for the inference tabs), with the turn ends their chat template needs."""
        entries: list[ModelEntry] = []
        for run_id in self.run_ids():
            run = self.folder(run_id)
            status = run.read_status()
            model_id = self.model_id(run_id, status)
            if model_id is None or task_id not in served_tasks(status.get("task")):
                continue
            base = str(status.get("base_model") or "")
            base = Path(base).name if base.startswith(("/", "~")) else base
            merged = run.model.is_dir()
            weights = run.model if merged else run.adapter
            adapter_of = "" if merged else str((read_json(run.config, {}) or {}).get("model_path") or "")
            ends = (read_json(weights / "studio_run.json", {}) or {}).get("end_of_turn") or []
            label = f"Fine-tuned {base} · {run_id}" + ("" if merged else " (LoRA adapter)")
            entries.append(
                RunModel(
                    id=model_id,
                    label=label,
                    source="local",
                    end_of_turn=ends,
                    folder=str(weights),
                    adapter_of=adapter_of,
                )
            )
        return entries
