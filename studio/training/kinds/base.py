"""What a kind of training is (`Kind`, one row of KINDS in table.py) and what the driver and a
kind hand each other (`Run` in, `Parts` out). The kind modules import these types; the table
imports the kind modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.uploads.tables import column_problems

if TYPE_CHECKING:  # annotations only: the config and the run folder sit above the kinds
    from studio.training.config import TrainingConfig
    from studio.training.store import RunFolder

ColumnGuess = Callable[[list[str]], tuple[str | None, str | None]]
TableProblems = Callable[[Any, str, str], list[str]]
HeaderProblems = Callable[[list[str], str, str], list[str]]


@dataclass
class Run:
    """What a kind gets from the driver: the config (a kind may complete it), the folder and the data."""

    config: TrainingConfig
    folder: RunFolder
    train_table: Any
    eval_table: Any
    counts: dict[str, int]
    main_process: bool = True

    @property
    def model_path(self) -> str:
        """The base model's folder: resolved before any kind prepares (a GGUF base: converted by the worker)."""
        if self.config.model_path is None:
            raise RuntimeError(f"run {self.config.run_id}: the base model's folder was never resolved")
        return self.config.model_path


@dataclass
class Parts:
    """What the driver gives the Trainer."""

    model: Any
    tokenizer: Any
    train_set: Any
    eval_set: Any
    collator: Any
    compute_metrics: Callable[[Any], dict[str, float]] | None = None
    preprocess_logits: Callable[[Any, Any], Any] | None = None
    arguments: dict[str, Any] = field(default_factory=dict)  # more TrainingArguments
    final: Callable[[dict[str, float]], dict[str, float]] = lambda metrics: metrics  # e.g. perplexity
    facts: dict[str, Any] = field(default_factory=dict)  # what prepare found that save needs
    callbacks: list[Any] = field(default_factory=list)  # more TrainerCallbacks (e.g. a sample each epoch)


@dataclass(frozen=True)
class Kind:
    """One trainable task: the module functions that train and save it, how the page names it and
    its columns, how its data is read and checked, and what the Trainer compares.

    task, label: the task (models.yaml's name) and the page's name for it.
    prepare(run) -> Parts; save(trainer, run, parts): the run's model/ (and adapter/) folders.
    best_metric, greater_is_better: what load_best_model_at_end (and a search) compares.
    guess_columns(columns), problems(table, text_column, label_column): the likely mapping and
    everything wrong with a table; header_problems(columns, text_column, label_column): the
    cheap check of a large upload's header.
    base_model_tasks: models.yaml tasks whose models a run may start from, besides its own.
    also_serves: inference tasks offering the fine-tuned model besides its own (text generation: chat).
    column_labels: the page's names for the two column pickers (None: "Text column", "Label column").
    labelled: the label column holds labels to count (not texts or answers).
    read_upload(path), read_whole(path, cache_dir): data that is not one table file (a zip of
    images): a request's look, and the worker's whole read; None: a table file.
    trainer_class, arguments_class: the transformers classes by name (Seq2SeqTrainer for seq2seq).
    lora: its runs may train LoRA adapters (the page shows the LoRA settings).
    """

    task: str
    label: str
    prepare: Callable[[Run], Parts]
    save: Callable[[Any, Run, Parts], None]
    best_metric: str
    greater_is_better: bool
    guess_columns: ColumnGuess
    problems: TableProblems
    header_problems: HeaderProblems = column_problems
    base_model_tasks: tuple[str, ...] = ()
    also_serves: tuple[str, ...] = ()
    column_labels: tuple[str, str] | None = None
    labelled: bool = True
    read_upload: Callable[[Path], Any] | None = None
    read_whole: Callable[[Path, Path], Any] | None = None
    trainer_class: str = "Trainer"
    arguments_class: str = "TrainingArguments"
    lora: bool = False

    @property
    def serves(self) -> tuple[str, ...]:
        """The inference tasks whose tabs offer a run's model."""
        return (self.task, *self.also_serves)
