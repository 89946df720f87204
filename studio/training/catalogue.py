"""The base models a run may start from: the task's own, the encoders in models.yaml, and
models fine-tuned here earlier. Only these are accepted, so the API cannot point a run at an
arbitrary path on the server."""

from __future__ import annotations

from collections.abc import Callable

from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError, shorten

BASE_MODEL_TASKS = ("feature-extraction", "fill-mask")


class Catalogue:
    def __init__(self, config: StudioConfig | None, fine_tuned: Callable[[str], list[ModelEntry]]) -> None:
        self.config = config
        self.fine_tuned = fine_tuned

    def base_models(self, task: str) -> list[ModelEntry]:
        """Models a run can start from, without repeats."""
        entries: list[ModelEntry] = []
        if self.config is not None:
            for task_id in (task, *BASE_MODEL_TASKS):
                entries += self.config.entries(task_id)
        entries += self.fine_tuned(task)
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
        from studio.models import is_cached, resolve_source

        entry = self.entry(task, model)
        if not is_cached(entry):
            raise UserError(
                f"Base model {entry.display_name} is not downloaded and the Hub is unreachable; "
                "pick an offline model or run `hf download` first."
            )
        return getattr(entry, "folder", "") or resolve_source(entry)  # a fine-tuned run: its model folder
