"""Studio: what the UI calls. Config + model cache in, plain results and notices out."""

from __future__ import annotations

import collections
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError, collect_notices
from studio.models import LoadedModel, ModelManager, ModelSettings, ProgressCallback, is_cached
from studio.tasks import TASKS, Task

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """A task's raw output and the notices raised while computing it."""

    output: Any
    notices: list[str] = field(default_factory=list)
    # Streaming adapters: figures shown beside the output (tokens, tokens/s...), per update.
    details: dict[str, Any] = field(default_factory=dict)


def input_names(task: Task) -> list[str]:
    """The adapter's input parameters (its signature minus `loaded`), in order."""
    adapter = task.adapter_function()
    if adapter is None:
        raise LookupError(f"task {task.id} has no adapter yet")
    parameters = list(inspect.signature(adapter).parameters)
    return parameters[1:]


@dataclass
class Studio:
    """The app's logic, shared by every tab: which models exist, and running them."""

    config: StudioConfig
    manager: ModelManager
    public: bool = False
    # Entries added at run time (models fine-tuned in the app), by task id.
    extra_entries: Callable[[str], list[ModelEntry]] | None = None

    def task(self, task_id: str) -> Task:
        if task_id not in TASKS:
            raise UserError(f"Unknown task {task_id!r}.")
        return TASKS[task_id]

    def entries(self, task_id: str) -> list[ModelEntry]:
        """The models a task offers: models.yaml's, then those fine-tuned in the app."""
        entries = self.config.entries(task_id)
        if self.extra_entries is not None:
            known = {entry.id for entry in entries}
            entries += [entry for entry in self.extra_entries(task_id) if entry.id not in known]
        return entries

    def model_choices(self, task_id: str) -> list[tuple[str, str]]:
        """(label, id) pairs for the model dropdown; models that need a download say so."""
        choices = []
        for entry in self.entries(task_id):
            label = entry.display_name
            if entry.source == "package":
                label += " · offline"
            elif entry.source == "hub" and not is_cached(entry):
                label += " · not downloaded"
            choices.append((label, entry.id))
        return choices

    def default_model(self, task_id: str) -> str | None:
        """models.yaml's default, or the first offline entry when the default is not downloaded."""
        default_id = self.config.default_id(task_id)
        if default_id is None:
            return None
        entries = self.config.entries(task_id)
        default = next(entry for entry in entries if entry.id == default_id)
        if is_cached(default):
            return default_id
        offline = [entry for entry in entries if is_cached(entry)]
        return offline[0].id if offline else default_id

    def entry(self, task_id: str, model_id: str) -> ModelEntry:
        """The entry a request names; a UserError for ids this task does not offer."""
        if not model_id:
            raise UserError("Pick a model first.")
        for entry in self.entries(task_id):
            if entry.id == model_id:
                return entry
        raise UserError(
            f"Model {model_id!r} is not offered for {task_id}; pick one from the model list "
            "(models.yaml and the models fine-tuned here say which)."
        )

    def _prepare(
        self, task_id: str, model_id: str, settings: ModelSettings, progress: ProgressCallback | None
    ) -> tuple[Callable[..., Any], LoadedModel]:
        """The task's adapter and the loaded model a request names (loading it if needed)."""
        task = self.task(task_id)
        entry = self.entry(task_id, model_id)
        adapter = task.adapter_function()
        if adapter is None:
            raise UserError(f"{task.title} is not available in this version of the app.")
        return adapter, self.manager.get(entry, task, settings, progress)

    def run(
        self,
        task_id: str,
        model_id: str,
        inputs: dict[str, Any],
        settings: ModelSettings,
        progress: ProgressCallback | None = None,
    ) -> RunResult:
        """Load (or reuse) the model and run the task's adapter on the inputs."""
        adapter, loaded = self._prepare(task_id, model_id, settings, progress)
        with collect_notices() as notices:
            output = adapter(loaded, **inputs)
            if inspect.isgenerator(output):  # a streaming adapter: its last update is the result
                last = collections.deque(output, maxlen=1)
                output = getattr(last[0], "output", last[0]) if last else None
        return RunResult(output, list(notices))

    def stream(
        self,
        task_id: str,
        model_id: str,
        inputs: dict[str, Any],
        settings: ModelSettings,
        progress: ProgressCallback | None = None,
    ) -> Iterator[RunResult]:
        """Like run, for adapters that are generators: one RunResult per update, the full result last.

        A streaming adapter yields raw outputs, or objects with `.output` and `.details`
        (studio.generation.Update). Closing this generator closes the adapter's, whose
        `finally` stops its work (e.g. ends generate()).
        """
        adapter, loaded = self._prepare(task_id, model_id, settings, progress)
        with collect_notices() as notices:
            produced = adapter(loaded, **inputs)
        if not inspect.isgenerator(produced):
            yield RunResult(produced, list(notices))
            return
        try:
            while True:
                # Notices are collected per step: each next() may run in another worker thread.
                with collect_notices() as notices:
                    try:
                        item = next(produced)
                    except StopIteration:
                        return
                details = getattr(item, "details", None) or {}
                yield RunResult(getattr(item, "output", item), list(notices), dict(details))
        finally:
            produced.close()

    def code(self, task_id: str, model_id: str, inputs: dict[str, Any], settings: ModelSettings) -> str:
        """The "Show code" snippet for the current inputs and settings."""
        task = self.task(task_id)
        builder = task.code_function()
        if builder is None:
            return f"# No snippet for {task_id} yet.\n"
        entry = self.entry(task_id, model_id)
        return builder(entry, inputs, settings)

    def loaded_models(self) -> list[dict[str, Any]]:
        """What is in memory, for the Loaded models panel."""
        rows = []
        for loaded in self.manager.loaded():
            rows.append(
                {
                    "model": loaded.entry.id,
                    "label": loaded.entry.display_name,
                    "task": loaded.task,
                    "dtype": loaded.settings.dtype,
                    "quantization": loaded.settings.quantization,
                    "device": loaded.device,
                    "size_mb": round(loaded.num_bytes / 2**20, 1),
                    "load_seconds": round(loaded.load_seconds, 2),
                }
            )
        return rows
