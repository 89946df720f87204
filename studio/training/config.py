"""A run's settings, declared once: TrainingConfig is what /train_start checks, what goes into
runs/<id>/config.json and what the worker reads back.

Each field carries its default, bounds and help, so the API's defaults, the one-sentence
errors and the Fine-tune tab's widgets (`training_spec()`, as studio.spec.param objects) all come
from the same declaration. See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from studio.spec.param import Kind, Param, Spec
from studio.training.checks import bounds, checked
from studio.training.kinds.table import TASK_LABELS, TRAINING_TASKS
from studio.training.labels import LABELS
from studio.training.search import SearchSettings

if TYPE_CHECKING:
    TaskName = str
else:  # the trainable tasks (KINDS' rows) as a Literal: pydantic checks it, the page offers its choices
    TaskName = Literal[TRAINING_TASKS]
Precision = Literal["no", "fp16", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
Launcher = Literal["python", "torchrun", "accelerate"]


def ui(**extra: Any) -> dict[str, Any]:
    """A field's extras for training_spec(): label, widget, choice_labels, kind, api (its API name, when
    another) and api_default (when the API's default is not the stored one)."""
    return extra


class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class Hyperparameters(_Section):
    """config.json's "training" section (names as in TrainingArguments)."""

    num_train_epochs: float = Field(2.0, ge=0.01, le=100, description="Passes over the training data.")
    per_device_train_batch_size: int = Field(16, ge=1, le=1024, description="Examples per step on each process.")
    learning_rate: float = Field(5e-5, ge=1e-8, le=1.0, description="The AdamW learning rate.")
    warmup_ratio: float = Field(0.1, ge=0.0, le=0.99, description="Share of the steps spent warming the rate up.")
    weight_decay: float = Field(0.01, ge=0.0, le=1.0, description="AdamW weight decay.")
    gradient_accumulation_steps: int = Field(1, ge=1, le=1024, description="Steps added up before each update.")
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Same seed, same split and same run.")
    max_length: int = Field(128, ge=8, le=8192, description="Longer texts are cut to this many tokens.")
    precision: Precision = Field("no", description="Mixed precision; fp16 needs a GPU.")
    eval_each_epoch: bool = Field(
        True, description="Evaluate after each epoch.", json_schema_extra=ui(label="Evaluate each epoch")
    )
    save_each_epoch: bool = Field(
        True, description="Checkpoint each epoch.", json_schema_extra=ui(label="Save a checkpoint each epoch")
    )
    load_best_model_at_end: bool = Field(False, description="Keep the best epoch's weights, not the last.")
    logging_steps: int | None = Field(
        None, ge=1, le=100_000, description="Log every this many steps (default: ~10/epoch)."
    )
    max_train_samples: int | None = Field(None, ge=1, le=10**9, description="Train on at most this many rows.")

    @field_validator("precision", mode="before")
    @classmethod
    def _no_precision(cls, value: Any) -> Any:
        return value or "no"

    @field_validator("logging_steps", "max_train_samples", mode="before")
    @classmethod
    def _zero_is_unset(cls, value: Any) -> Any:
        return value or None


class DataSource(_Section):
    """config.json's "data" section: a bundled sample, or the upload copied into the run folder."""

    sample: str | None = Field(
        None, description="A bundled dataset.", json_schema_extra=ui(api_default="", label="Bundled sample")
    )
    train_file: str | None = Field(
        None,
        description="A CSV, TSV, JSON or JSONL file (image classification: a .zip of class folders).",
        json_schema_extra=ui(api="dataset", kind="file", label="Or upload data (CSV, TSV, JSON, JSONL; images: ZIP)"),
    )
    name: str = Field("", description="How messages and the runs table call the data.")


class LoraSettings(_Section):
    """config.json's "lora" section (text generation only): full fine-tuning, or LoRA adapters
    (peft) on the layers named, merged into a plain model copy when asked."""

    use_lora: bool = Field(
        False,
        description="Train small LoRA adapters instead of every weight (text generation).",
        json_schema_extra=ui(label="LoRA: train small adapter matrices, not every weight"),
    )
    lora_r: int = Field(8, ge=1, le=256, description="LoRA rank: the adapters' inner size.")
    lora_alpha: int = Field(16, ge=1, le=1024, description="LoRA scale (the update is scaled by alpha / r).")
    lora_dropout: float = Field(0.05, ge=0.0, le=0.9, description="Dropout on the adapters' input.")
    lora_target_modules: str = Field(
        "",
        description="Layer names to adapt, comma-separated (empty: q/k/v/o projections, c_attn for GPT-2, else all).",
    )
    merge_adapter: bool = Field(
        True,
        description="Also save a merged model (it loads like any model); the adapter is saved either way.",
        json_schema_extra=ui(label="Also save a merged model (loads like any model)"),
    )


class TrainingConfig(_Section):
    """Everything a run needs: what the user chose, and what it resolved to (model path, labels, launcher)."""

    run_id: str | None = None
    task: TaskName = Field(
        "text-classification",
        description="What the model learns.",
        json_schema_extra=ui(label="Task", widget="radio", choice_labels=TASK_LABELS),
    )
    base_model: str | None = Field(
        None, description="The model a new head is added to.", json_schema_extra=ui(api="model", label="Base model")
    )
    model_path: str | None = None
    data: DataSource = Field(default_factory=DataSource)
    text_column: str = Field(
        "",
        description="The text (NER: tokens; instructions: prompt or messages; seq2seq: source; QA: question) column.",
        json_schema_extra=ui(label="Text column"),
    )
    label_column: str = Field(
        "",
        description="The label (NER: tags; instructions: response; seq2seq: target; QA: answer) column.",
        json_schema_extra=ui(label="Label column"),
    )
    labels: list[str] = Field(default_factory=list)
    training: Hyperparameters = Field(default_factory=Hyperparameters)
    lora: LoraSettings | None = None  # text generation only (None: not that task)
    search: SearchSettings | None = None  # an optuna search instead of one training (search.py)
    gguf_base: dict[str, Any] | None = None  # a packaged GGUF base: converted by the worker (studio/models/gguf.py)
    num_processes: int = Field(1, ge=1, le=1024, description="2+: torchrun on the CPU, accelerate launch on GPUs.")
    launcher: Launcher = "python"
    accelerate_config: str | None = None
    push_to_hub: bool = Field(
        False, description="Upload when done.", json_schema_extra=ui(label="Push the model to the Hub when done")
    )
    hub_model_id: str | None = Field(None, description="The Hub repo to push to.", json_schema_extra=ui(api_default=""))
    resume_from_checkpoint: str | None = None
    created: float | None = None

    @classmethod
    def of(cls, value: TrainingConfig | Mapping[str, Any]) -> TrainingConfig:
        """A TrainingConfig from itself or from a config.json dict."""
        return value if isinstance(value, TrainingConfig) else checked(cls, dict(value))

    @classmethod
    def read(cls, path: Path) -> TrainingConfig:
        return cls.of(json.loads(path.read_text(encoding="utf-8")))

    def as_json(self) -> dict[str, Any]:
        """The config.json content, in the order and shape runs have always been written."""
        dumped = self.model_dump(mode="json")
        dumped["data"] = self.data.model_dump(mode="json", exclude_none=True)
        dumped["training"] = self.training.model_dump(mode="json", exclude_none=True)
        for key in ("run_id", "created", "lora", "gguf_base", "search"):  # absent when unset: older runs' shape
            if dumped[key] is None:
                del dumped[key]
        if self.created is not None:  # written last, as before
            dumped["created"] = dumped.pop("created")
        return dumped


# ----------------------------------------------------------------------------------- the spec
# /train_start's parameters in API order: (section, field), named as the API names them.
API_FIELDS: tuple[tuple[type[BaseModel], str], ...] = (
    (TrainingConfig, "task"),
    (TrainingConfig, "base_model"),
    (DataSource, "train_file"),
    (DataSource, "sample"),
    (TrainingConfig, "text_column"),
    (TrainingConfig, "label_column"),
    *[
        (Hyperparameters, name)
        for name in (
            "num_train_epochs",
            "per_device_train_batch_size",
            "learning_rate",
            "warmup_ratio",
            "weight_decay",
            "gradient_accumulation_steps",
            "seed",
            "max_length",
        )
    ],
    (TrainingConfig, "num_processes"),
    *[
        (Hyperparameters, name)
        for name in ("precision", "eval_each_epoch", "save_each_epoch", "load_best_model_at_end")
    ],
    (TrainingConfig, "push_to_hub"),
    (TrainingConfig, "hub_model_id"),
)
# Not part of the config: a secret kept in memory for the run's upload, never written.
HUB_TOKEN = Param(
    "hub_token",
    "text",
    "",
    "A Hub token with write access; kept in memory only, never logged.",
    label="Hub token (write access; kept in memory only, never logged)",
    widget="password",
)
_KINDS: dict[object, Kind] = {int: "int", float: "float", bool: "bool", str: "text"}


def field_param(model: type[BaseModel], name: str) -> Param:
    """One config field as a studio.spec.param.Param (kind, default, bounds and hints from its declaration)."""
    field = model.model_fields[name]
    extra = field.json_schema_extra  # ui()'s dict (never pydantic's callable form here)
    hint: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    annotation = field.annotation
    options = tuple(a for a in get_args(annotation) if a is not type(None))
    choices = get_args(annotation) if getattr(annotation, "__origin__", None) is Literal else ()
    kind: Kind = hint.get("kind") or ("choice" if choices else _KINDS.get(options[0] if options else annotation, "any"))
    low, high = bounds(model, name)
    numeric = kind in ("int", "float")
    return Param(
        hint.get("api", name),
        kind,
        hint.get("api_default", field.get_default(call_default_factory=True)),
        field.description or "",
        label=hint.get("label") or LABELS.get(name, name),
        low=low,
        high=high,
        choices=choices,
        choice_labels=hint.get("choice_labels", ()),
        widget=hint.get("widget", "number" if numeric else ""),
        step=1 if kind == "int" else None,
    )


def training_spec(samples: Mapping[str, str] | None = None) -> Spec:
    """/train_start's inputs as a Spec (API order), built from the fields above.

    samples: bundled dataset names with their descriptions, offered after "none: upload a file".
    """
    params = []
    for model, name in API_FIELDS:
        param = field_param(model, name)
        if name == "sample" and samples is not None:
            param = param.but(
                kind="choice",
                choices=("", *samples),
                choice_labels=("none: upload a file", *(f"{key}: {text}" for key, text in samples.items())),
            )
        params.append(param)
    # Added after the first version of the API (and after admin_token in /train_start): old calls keep working.
    lora = [field_param(LoraSettings, name) for name in LoraSettings.model_fields]
    search = [field_param(SearchSettings, name) for name in SearchSettings.model_fields]  # added after LoRA
    return Spec((*params, HUB_TOKEN, *lora, *search))
