"""Studio: the only door from the UI into the logic. Config, task table and model cache in;
plain results and notices out. See docs/ARCHITECTURE.md, "One request's walk".
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Plain functions the tabs use to shape values (components/ imports nothing else from studio/).
from studio.adapters.common import message_text, plain_history
from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError, collect_notices
from studio.generation import describe
from studio.models import LoadedModel, ModelManager, ModelSettings, ProgressCallback, is_cached
from studio.params import MODEL_SETTINGS, Spec, spec_of
from studio.results import RunResult, split_output
from studio.tasks import MODALITY_TITLES, TASKS, Task, TaskTableError, check_tasks, resolve

__all__ = [
    "MODALITY_TITLES",
    "RunResult",
    "Studio",
    "Task",
    "TaskTableError",
    "UserError",
    "check_tasks",
    "describe",
    "message_text",
    "plain_history",
]

log = logging.getLogger(__name__)
SETTINGS_SPEC = spec_of(MODEL_SETTINGS)


@dataclass
class Studio:
    """The app's logic, shared by every tab: which models exist, and running them."""

    config: StudioConfig
    manager: ModelManager
    public: bool = False
    # Entries added at run time (models fine-tuned in the app), by task id.
    extra_entries: Callable[[str], list[ModelEntry]] | None = None
    tasks: Mapping[str, Task] = field(default_factory=lambda: TASKS)
    jobs: Any = None  # studio.training.jobs.JobManager, when fine-tuning is on

    # ------------------------------------------------------------------ tasks and models
    def task(self, task_id: str) -> Task:
        if task_id not in self.tasks:
            raise UserError(f"Unknown task {task_id!r}.")
        return self.tasks[task_id]

    def offered_tasks(self, modality: str) -> list[Task]:
        """The tasks of one modality that have models to offer, in table order."""
        return [task for task in self.tasks.values() if task.modality == modality and self.entries(task.id)]

    def spec(self, task_id: str) -> Spec:
        return self.task(task_id).spec

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
        shown = model_id if len(str(model_id)) <= 80 else str(model_id)[:80] + "…"
        raise UserError(
            f"Model {shown!r} is not offered for {task_id}; pick one from the model list "
            "(models.yaml and the models fine-tuned here say which)."
        )

    def facts(self, task_id: str, model_id: str | None, read_tokenizer: bool = True) -> dict[str, Any]:
        """What a tab shows about a model before it runs (a mask token, languages), from the
        task row's facts function; read_tokenizer=False answers from models.yaml alone."""
        task = self.task(task_id)
        try:
            entry = self.entry(task_id, model_id or "")
        except UserError:
            return {}
        if not task.facts:
            return {}
        tokenizer = (lambda: self.manager.tokenizer(entry)) if read_tokenizer else (lambda: None)
        return resolve(task.facts)(entry, tokenizer)

    # ------------------------------------------------------------------ running
    def settings(self, values: Mapping[str, Any]) -> ModelSettings:
        """ModelSettings from the settings row's values (missing ones take their defaults)."""
        return ModelSettings(**SETTINGS_SPEC.checked({k: v for k, v in values.items() if v is not None}))

    def _prepare(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings,
        progress: ProgressCallback | None,
    ) -> tuple[Callable[..., Any], LoadedModel, dict[str, Any]]:
        """The adapter, the loaded model and the checked inputs; inputs are checked before loading."""
        task = self.task(task_id)
        entry = self.entry(task_id, model_id)
        adapter = task.adapter_function()
        checked = task.spec.checked(inputs)
        loaded = self.manager.get(entry, task, settings, progress)
        return getattr(adapter, "unchecked", adapter), loaded, checked

    def run(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings | None = None,
        progress: ProgressCallback | None = None,
    ) -> RunResult:
        """Load (or reuse) the model and run the task; a streaming task's last update is the result."""
        last: RunResult | None = None
        for result in self.stream(task_id, model_id, inputs, settings, progress):
            last = result
        assert last is not None
        return last

    def stream(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[RunResult]:
        """Run the task, one RunResult per update (one in all for a task that does not stream).

        The one stream loop of the app. Closing this generator closes the adapter's, whose
        `finally` stops its work (generation: a StoppingCriteria on a per-request event).
        """
        with collect_notices() as notices:
            adapter, loaded, checked = self._prepare(task_id, model_id, inputs, settings or ModelSettings(), progress)
            produced = adapter(loaded, **checked)
        if not inspect.isgenerator(produced):
            raw, visual = split_output(produced)
            yield RunResult(raw, list(notices), visual, checked)
            return
        try:
            while True:
                # Notices are collected per step: each next() may run in another worker thread.
                with collect_notices() as step_notices:
                    try:
                        item = next(produced)
                    except StopIteration:
                        return
                raw, visual = split_output(item)
                yield RunResult(raw, [*notices, *step_notices], visual, checked)
                notices = []
        finally:
            produced.close()

    def code(self, task_id: str, model_id: str, inputs: Mapping[str, Any], settings: ModelSettings) -> str:
        """The "Show code" snippet for the current inputs and settings."""
        task = self.task(task_id)
        entry = self.entry(task_id, model_id)
        return task.code_function()(entry, task.spec.checked(inputs), settings)

    def loaded_models(self) -> list[dict[str, Any]]:
        """What is in memory, for the Loaded models panel."""
        return [
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
            for loaded in self.manager.loaded()
        ]

    def unload(self, model_id: str | None) -> int:
        """Unload one model id (every task and setting it is loaded with); None or empty: all."""
        return self.manager.unload(model_id or None)
