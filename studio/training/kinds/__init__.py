"""The kinds of training, one module each: what a task trains (model class, tokenizing and
collating, metrics, what is saved and where its model is served). worker.run is the one driver;
a new kind (seq2seq, QA, images) is one module here and one line in KINDS.

A kind module gives:
- BASE_MODEL_TASKS: the models.yaml tasks whose models a run may start from (besides its own);
- serves(task): the inference tasks whose tabs offer the fine-tuned model;
- BEST_METRIC, GREATER_IS_BETTER: what load_best_model_at_end compares;
- prepare(run) -> Parts: tokenizer, tokenized data, model, collator and metrics;
- save(trainer, run, parts) -> None: the run's model/ (and adapter/) folders.
It may also give (data.py and the worker ask with `hook`): TRAINER_CLASS and ARGUMENTS_CLASS
(transformers names, e.g. Seq2SeqTrainer), LABELLED (False: no label counts), guess_columns(columns),
problems(table, text_column, label_column), read_upload(path) (a request's look) and
read_whole(path, cache_dir) (the worker's), for data that is not one table file (a zip of images).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # store.py asks served_tasks: no import cycle at run time
    from studio.training.config import TrainingConfig
    from studio.training.store import RunFolder


@dataclass
class Run:
    """What a kind gets from the driver: the config (a kind may complete it), the folder and the data."""

    config: TrainingConfig
    folder: RunFolder
    train_table: Any
    eval_table: Any
    counts: dict[str, int]
    main_process: bool = True


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


def kind_for(task: str) -> ModuleType:
    """The module that trains this task."""
    from studio.training.kinds import causal_lm, classification, images, question_answering, seq2seq

    kinds = {
        "text-classification": classification,
        "token-classification": classification,
        "text-generation": causal_lm,
        "summarization": seq2seq,
        "translation": seq2seq,
        "question-answering": question_answering,
        "image-classification": images,
    }
    return kinds[task]


def hook(task: str, name: str, default: Any = None) -> Any:
    """A kind's optional attribute (see above), else default (also for a task no kind trains)."""
    try:
        return getattr(kind_for(task), name, default)
    except KeyError:
        return default


def served_tasks(task: str | None) -> tuple[str, ...]:
    """The inference tasks that offer a run's model (a text-generation run also chats)."""
    try:
        return tuple(kind_for(str(task)).serves(task))
    except KeyError:  # no task, or one this app no longer trains
        return ()
