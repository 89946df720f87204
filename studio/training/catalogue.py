"""The base models a run may start from: the task's own, the encoders in models.yaml, and
models fine-tuned here earlier. Only these are accepted, so the API cannot point a run at an
arbitrary path on the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError, shorten
from studio.models.loading import is_cached, resolve_source
from studio.training.kinds.table import KINDS


def base_model_tasks(task: str) -> tuple[str, ...]:
    """The models.yaml tasks whose models a run of this task may start from: its own, then its kind's."""
    kind = KINDS.get(task)
    return (task, *kind.base_model_tasks) if kind is not None else (task,)


class Catalogue:
    def __init__(self, config: StudioConfig | None, fine_tuned: Callable[[str], list[ModelEntry]]) -> None:
        self.config = config
        self.fine_tuned = fine_tuned

    def base_models(self, task: str) -> list[ModelEntry]:
        """Models a run can start from, without repeats (a LoRA adapter saved alone is no base: its merged copy is)."""
        entries: list[ModelEntry] = []
        if self.config is not None:
            for task_id in base_model_tasks(task):
                entries += self.config.entries(task_id)
        entries += [entry for entry in self.fine_tuned(task) if not getattr(entry, "adapter_of", "")]
        unique: dict[str, ModelEntry] = {}
        for entry in entries:
            unique.setdefault(entry.id, entry)
        return list(unique.values())

    def default_base_model(self, task: str) -> str | None:
        """The first model that ships in a package (always offline), else the first one."""
        entries = self.base_models(task)
        packaged = [entry for entry in entries if entry.source == "package"]
        chosen = packaged or entries
        return chosen[0].public_id if chosen else None

    def entry(self, task: str, model: str | None) -> ModelEntry:
        """The base-model entry a request names (by id or by the name the page shows)."""
        if not model:
            raise UserError("Pick a base model first.")
        entry = next((e for e in self.base_models(task) if model in (e.id, e.public_id)), None)
        if entry is None:
            raise UserError(f"Base model {shorten(model, 80)!r} is not offered; pick one from the base model list.")
        return entry

    def model_path(self, task: str, model: str | None) -> str:
        """Where the worker loads the model from; a UserError for a model not offered or not downloaded."""
        entry = self.entry(task, model)
        if not is_cached(entry):
            raise UserError(
                f"Base model {entry.display_name} is not downloaded and the Hub is unreachable; "
                "pick an offline model or run `hf download` first."
            )
        if self.gguf_base(task, model):
            return ""  # converted by the worker (a minute, once), never inside this request
        return getattr(entry, "folder", "") or resolve_source(entry)  # a fine-tuned run: its model folder

    def gguf_base(self, task: str, model: str | None) -> dict[str, Any] | None:
        """A packaged GGUF base model's packages and file name (studio/models/gguf.py converts it), else None."""
        entry = self.entry(task, model)
        if entry.source != "package" or not entry.gguf_file:
            return None
        packages = entry.package if isinstance(entry.package, list) else [entry.package]
        return {"package": [str(name) for name in packages], "gguf_file": entry.gguf_file}
