"""What an app offers, read before anything runs: its tasks, the models each offers (models.yaml's
and those fine-tuned here), which need a download, the facts a tab shows, what is in memory.
`Studio` (studio/studio.py) is this plus the actions a caller asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError, shorten
from studio.models.hub import offline_by_choice, offline_for_session
from studio.models.loading import is_cached
from studio.models.manager import ModelManager
from studio.models.remote import REMOTE_DEVICE, remote_device, unsupported_inputs
from studio.models.settings import ModelSettings
from studio.spec.param import Spec, spec_of
from studio.spec.shared import MODEL_SETTINGS
from studio.tasks.table import TASKS
from studio.tasks.task import Task, resolve

SETTINGS_SPEC = spec_of(MODEL_SETTINGS)


@dataclass
class Offers:
    """The tasks and models of one app, and what the page shows about them before a run."""

    config: StudioConfig
    manager: ModelManager
    # Entries added at run time (models fine-tuned in the app), by task id.
    extra_entries: Callable[[str], list[ModelEntry]] | None = None
    tasks: Mapping[str, Task] = field(default_factory=lambda: TASKS)
    generation_streams: int = 8  # generation requests of one task that run at once (continuous batching)

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
        """(label, public id) pairs for the model dropdown; models that need a download say so,
        and so do those always at hand (packaged, or fine-tuned here: not in models.yaml).
        A local folder's path is never sent to the page: its public id is its label."""
        choices = []
        listed = {entry.id for entry in self.config.entries(task_id)}
        for entry in self.entries(task_id):
            label = entry.display_name
            if entry.source == "package" or entry.id not in listed:
                label += " · offline"
            elif entry.source == "openai":
                label += " · remote"
            elif entry.source == "hub" and not is_cached(entry):
                label += " · not downloaded"
            choices.append((label, entry.public_id))
        return choices

    def default_model(self, task_id: str) -> str | None:
        """models.yaml's default, or the first offline entry when the default is not downloaded."""
        default_id = self.config.default_id(task_id)
        if default_id is None:
            return None
        entries = self.config.entries(task_id)
        default = next(entry for entry in entries if entry.id == default_id)
        if is_cached(default):
            return default.public_id
        offline = [entry for entry in entries if is_cached(entry)]
        return (offline[0] if offline else default).public_id

    def entry(self, task_id: str, model_id: str) -> ModelEntry:
        """The entry a request names (by id, or by the public id the page shows); a UserError
        for ids this task does not offer."""
        if not model_id:
            raise UserError("Pick a model first.")
        entries = self.entries(task_id)
        for entry in entries:
            if entry.id == model_id:
                return entry
        for entry in entries:
            if entry.public_id == model_id:
                return entry
        shown = shorten(str(model_id), 80)
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
        facts: dict[str, Any] = resolve(task.facts)(entry, tokenizer)
        return facts

    def concurrency_limit(self, task_id: str) -> int:
        """How many requests of a task run at once; the queue holds the rest and shows their place.

        A batched task takes a batch's worth (they run as one forward pass), a streaming task
        `generation_streams` (continuous batching runs them together), any other task one.
        Each task has its own limit, so a cheap request never waits behind a long generation.
        """
        task = self.task(task_id)
        if task.batched:
            return max(1, self.manager.max_batch_size)
        return max(1, self.generation_streams) if task.streams else 1

    def settings(self, values: Mapping[str, Any]) -> ModelSettings:
        """ModelSettings from the settings row's values (missing ones take their defaults)."""
        return ModelSettings(**SETTINGS_SPEC.checked({k: v for k, v in values.items() if v is not None}))

    def unsupported_inputs(self, task_id: str, model_id: str | None) -> dict[str, Any]:
        """The inputs a remote entry cannot use, with the value that turns each off (None: none);
        empty for a local model. The page disables them; the API gets a notice."""
        try:
            entry = self.entry(task_id, model_id or "")
        except UserError:
            return {}
        return unsupported_inputs(self.spec(task_id).names) if entry.source == "openai" else {}

    def loaded_models(self) -> list[dict[str, Any]]:
        """What is in memory, for the Loaded models panel (a remote entry: its connection, 0 MB)."""
        return [
            {
                "model": loaded.entry.public_id,  # never a server folder
                "label": loaded.entry.display_name,
                "task": loaded.task,
                "dtype": loaded.settings.dtype,
                "quantization": loaded.settings.quantization,
                "device": remote_device(loaded.entry) if loaded.device == REMOTE_DEVICE else loaded.device,
                "size_mb": round(loaded.num_bytes / 2**20, 1),
                "load_seconds": round(loaded.load_seconds, 2),
            }
            for loaded in self.manager.loaded()
        ]

    def needs_download(self, task_id: str, model_id: str | None) -> bool:
        """Whether the picked model is a Hub model not in this machine's cache."""
        try:
            entry = self.entry(task_id, model_id or "")
        except UserError:
            return False
        return entry.source == "hub" and not is_cached(entry)

    def hub_state(self) -> str:
        """ "online", "offline" (the start-up probe found no Hub) or "off" (HF_HUB_OFFLINE set by the person)."""
        return "off" if offline_by_choice() else "offline" if offline_for_session() else "online"
