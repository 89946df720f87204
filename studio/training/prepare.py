"""From /train_start's arguments to a checked TrainingConfig: the model, the data and every
setting are checked here, before a run folder exists, so a bad run is refused with one
sentence instead of failing in the worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.models.hub import hub_is_offline
from studio.training import launcher
from studio.training.catalogue import Catalogue
from studio.training.checks import checked
from studio.training.config import Hyperparameters, LoraSettings, TrainingConfig
from studio.training.data import ordered_labels
from studio.training.dataset import label_counts, training_data, validate
from studio.training.kinds.table import KINDS, TRAINING_TASKS

HYPERPARAMETERS = tuple(Hyperparameters.model_fields)
LORA_SETTINGS = tuple(LoraSettings.model_fields)


def build_config(
    catalogue: Catalogue,
    task: str,
    model: str | None,
    dataset: str | None = None,
    sample: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    num_processes: Any = 1,
    push_to_hub: Any = False,
    hub_model_id: str | None = None,
    accelerate_config: str | None = None,
    public: bool = False,
    **hyperparameters: Any,
) -> TrainingConfig:
    """Check every argument and the data; the run's config (without run_id).

    hyperparameters: any of Hyperparameters' (and LoraSettings') fields; left out, they keep their defaults.
    LoRA settings apply to text generation; other tasks ignore them (the page hides them there)."""
    lora = {name: hyperparameters.pop(name) for name in LORA_SETTINGS if name in hyperparameters}
    unknown = [name for name in hyperparameters if name not in HYPERPARAMETERS]
    if unknown:
        raise TypeError(f"build_config() got an unexpected keyword argument {unknown[0]!r}")
    if task not in TRAINING_TASKS:
        raise UserError(f"Fine-tuning supports {' and '.join(TRAINING_TASKS)}; got {task!r}.")
    model_path = catalogue.model_path(task, model)
    chosen = training_data(dataset, sample, task)
    text_column = text_column or chosen.text_column or ""
    label_column = label_column or chosen.label_column or ""
    # A large upload is checked here by its header only; the worker reads it whole, checks the
    # caps and every row in its first seconds, and finds the labels (a request never reads it all).
    validate(chosen.table, task, text_column, label_column, chosen.name, header_only=chosen.partial)
    counts = {} if chosen.partial else label_counts(chosen.table, task, label_column)
    training = checked(Hyperparameters, hyperparameters)
    if training.precision == "fp16" and not launcher.cuda_count():
        raise UserError("fp16 needs a CUDA GPU and this machine has none; choose bf16 or no.")
    config = checked(
        TrainingConfig,
        {
            "task": task,
            "base_model": catalogue.entry(task, model).public_id,  # never a server folder
            "model_path": model_path,
            "data": chosen.source,
            "text_column": text_column,
            "label_column": label_column,
            "labels": ordered_labels(counts, task),
            "training": training,
            "lora": checked(LoraSettings, lora) if KINDS[task].lora else None,
            "gguf_base": catalogue.gguf_base(task, model),
            "num_processes": num_processes,
            "push_to_hub": push_to_hub,
            "hub_model_id": hub_model_id or None,
            "accelerate_config": accelerate_config or None,
        },
        highs={"num_processes": launcher.max_processes()},
    )
    if training.load_best_model_at_end and not (training.eval_each_epoch and training.save_each_epoch):
        raise UserError("load_best_model_at_end needs both 'evaluate each epoch' and 'save each epoch' on.")
    if config.push_to_hub and hub_is_offline():
        raise UserError(
            "Pushing to the Hub needs internet access and this app runs offline (HF_HUB_OFFLINE=1); "
            "untick Push to Hub: the model is saved in the run folder either way."
        )
    if config.accelerate_config and (public or not Path(config.accelerate_config).is_file()):
        raise UserError("accelerate_config must be an existing accelerate config file on the server.")
    config.launcher = launcher.choose(config.num_processes, config.accelerate_config)
    return config
