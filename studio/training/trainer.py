"""The one place a Trainer is built, for a training run (worker.py) and for a search's trials
(trials.py): the kind's Trainer class with the run's counting and Stop, its TrainingArguments
from the config, and the kind's prepared parts."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.training.callback import StopRequest
from studio.training.config import TrainingConfig
from studio.training.kinds.base import Parts, Run
from studio.training.kinds.table import KINDS
from studio.training.worker_log import say


def make_trainer_class(stop: StopRequest, base: str = "Trainer") -> Any:
    """base: the kind's Trainer class by its transformers name (Seq2SeqTrainer for summaries)."""
    import transformers

    Trainer = getattr(transformers, base)

    class CountingTrainer(Trainer):  # type: ignore[misc, valid-type]
        """A Trainer that counts the training rows this process sees (to show each rank's share),
        and lets SIGTERM end an evaluation at once (StopRequest.training is off while it runs)."""

        samples_seen = 0

        def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
            self.samples_seen += len(next(iter(inputs.values())))  # labels, or QA's start_positions
            return super().training_step(model, inputs, num_items_in_batch)

        def evaluate(self, *args: Any, **kwargs: Any) -> Any:
            training, stop.training = stop.training, False
            say(f"evaluating on {len(self.eval_dataset)} examples")
            try:
                return super().evaluate(*args, **kwargs)
            finally:
                stop.training = training

    return CountingTrainer


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def training_arguments(config: TrainingConfig, run_dir: Path, train_rows: int, world_size: int, **more: Any) -> Any:
    """TrainingArguments (the kind's class) from the config, writing under run_dir; `more` (the
    kind's, e.g. prediction_loss_only, or a search's) added."""
    import transformers

    hp = config.training
    kind = KINDS[config.task]
    batch, accumulation = hp.per_device_train_batch_size, hp.gradient_accumulation_steps
    steps_per_epoch = max(1, math.ceil(train_rows / (batch * world_size * accumulation)))
    logging_steps = hp.logging_steps or max(1, min(50, steps_per_epoch // 10))
    arguments = dict(
        output_dir=str(run_dir),
        num_train_epochs=hp.num_train_epochs,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=max(batch, 32),
        eval_accumulation_steps=8,  # predictions leave the device every 8 batches
        learning_rate=hp.learning_rate,
        warmup_steps=min(hp.warmup_ratio, 0.99),  # a float < 1 is a ratio in transformers 5
        weight_decay=hp.weight_decay,
        gradient_accumulation_steps=accumulation,
        seed=hp.seed,
        fp16=hp.precision == "fp16",
        bf16=hp.precision == "bf16",
        eval_strategy="epoch" if hp.eval_each_epoch else "no",
        save_strategy="epoch" if hp.save_each_epoch else "no",
        save_total_limit=2,
        load_best_model_at_end=hp.load_best_model_at_end,
        metric_for_best_model=kind.best_metric,
        greater_is_better=kind.greater_is_better,
        logging_strategy="steps",
        logging_steps=logging_steps,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=cuda_available(),
        # On the CPU, use_cpu is what makes accelerate see torchrun's processes (MULTI_CPU, gloo).
        use_cpu=not cuda_available(),
        ddp_backend="gloo" if world_size > 1 and not cuda_available() else None,
        save_only_model=False,
        average_tokens_across_devices=False,
    )
    return getattr(transformers, kind.arguments_class)(**{**arguments, **more})


def build_trainer(
    run: Run,
    parts: Parts,
    stop: StopRequest,
    callbacks: list[Any],
    world_size: int = 1,
    output_dir: Path | None = None,
    model_init: Callable[..., Any] | None = None,
    **more_arguments: Any,
) -> Any:
    """The kind's Trainer on the prepared parts, with these callbacks first and then the kind's.

    output_dir: where checkpoints go (default: the run folder); model_init: a fresh model for each
    of a search's trials, instead of the prepared one; more_arguments: TrainingArguments over the
    kind's and the config's (a search: no checkpoints)."""
    from transformers.trainer_callback import PrinterCallback

    config = run.config
    arguments = training_arguments(
        config,
        output_dir or run.folder.path,
        len(parts.train_set),
        world_size,
        **{**parts.arguments, **more_arguments},
    )
    trainer = make_trainer_class(stop, KINDS[config.task].trainer_class)(
        model=None if model_init is not None else parts.model,
        model_init=model_init,
        args=arguments,
        train_dataset=parts.train_set,
        eval_dataset=parts.eval_set,
        processing_class=parts.tokenizer,
        data_collator=parts.collator,
        compute_metrics=parts.compute_metrics,
        preprocess_logits_for_metrics=parts.preprocess_logits,
        callbacks=[*callbacks, *parts.callbacks],
    )
    trainer.remove_callback(PrinterCallback)  # our callbacks print one readable line per log event
    return trainer
