"""The Trainer script: `python -m studio.training.worker RUN_DIR` trains what RUN_DIR/config.json says.

It writes only files in the run dir, so nobody has to read its output for it to finish:
metrics.jsonl (one line per Trainer log event, plus train_begin/resume events),
progress.json (step, max_steps, epoch; rewritten each step), checkpoint-*/ (Trainer),
model/ (the final model with its label names) and result.json (outcome and final metrics).
SIGTERM during training steps sets `should_training_stop` (and `should_save`, so the stop
leaves a checkpoint to resume from); the worker then exits with code 0 and outcome "stopped".
In every other phase (reading the data, evaluating, saving) SIGTERM ends the process at once.
A problem found in the worker (an upload over a cap, bad rows, a push without a token) ends
it with outcome "failed" and that sentence, which the run's status shows. Under torchrun
(several CPU processes) or accelerate launch, rank 0 writes the shared files and every rank
writes ranks/rank-N.json with the number of training samples it saw.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.training import data as training_data
from studio.training.callback import StopRequest, make_callback, say
from studio.training.config import TrainingConfig
from studio.training.kinds import Parts, Run, kind_for
from studio.training.launcher import TOKEN_VARIABLE
from studio.training.model_card import write_card
from studio.training.store import RunFolder, append_line, write_json


def make_trainer_class(stop: StopRequest, base: str = "Trainer"):
    """base: the kind's Trainer class by its transformers name (Seq2SeqTrainer for summaries)."""
    import transformers

    Trainer = getattr(transformers, base)

    class CountingTrainer(Trainer):
        """A Trainer that counts the training rows this process sees (to show each rank's share),
        and lets SIGTERM end an evaluation at once (StopRequest.training is off while it runs)."""

        samples_seen = 0

        def training_step(self, model, inputs, num_items_in_batch=None):
            self.samples_seen += len(next(iter(inputs.values())))  # labels, or QA's start_positions
            return super().training_step(model, inputs, num_items_in_batch)

        def evaluate(self, *args, **kwargs):
            training, stop.training = stop.training, False
            say(f"evaluating on {len(self.eval_dataset)} examples")
            try:
                return super().evaluate(*args, **kwargs)
            finally:
                stop.training = training

    return CountingTrainer


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def training_arguments(config: TrainingConfig, run_dir: Path, train_rows: int, world_size: int, **more: Any) -> Any:
    """TrainingArguments from the config; `more` (the kind's, e.g. prediction_loss_only) added."""
    import transformers

    hp = config.training
    batch, accumulation = hp.per_device_train_batch_size, hp.gradient_accumulation_steps
    steps_per_epoch = max(1, math.ceil(train_rows / (batch * world_size * accumulation)))
    logging_steps = hp.logging_steps or max(1, min(50, steps_per_epoch // 10))
    kind = kind_for(config.task)
    best_metric, greater_is_better = kind.best_metric(config.task)
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
        metric_for_best_model=best_metric,
        greater_is_better=greater_is_better,
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
    return getattr(transformers, getattr(kind, "ARGUMENTS_CLASS", "TrainingArguments"))(**{**arguments, **more})


def run(run_dir: Path) -> int:
    """Train as config.json says; returns the process exit code."""
    stop = StopRequest()  # first: SIGTERM ends the process at once until training steps begin
    signal.signal(signal.SIGTERM, stop.handle)
    signal.signal(signal.SIGINT, stop.handle)
    hub_token = os.environ.pop(TOKEN_VARIABLE, None)  # kept in memory only; no library sees it
    folder = RunFolder(run_dir)
    config = folder.read_config()
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    main_process = rank == 0
    if config.push_to_hub and not hub_token:
        raise UserError(
            "Pushing to the Hub needs a Hub token given for this run (the app never uses its own login); "
            "start the run again with a token, or untick Push to Hub."
        )
    task, hp = config.task, config.training
    base = Path(config.base_model or "").name if str(config.base_model).startswith("/") else config.base_model
    say(f"run {config.run_id}: {task} on {base} (process {rank + 1} of {world_size})")

    import transformers

    transformers.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()
    if config.gguf_base and not config.model_path:  # a packaged GGUF base: converted once, as the app loads it
        config.model_path = gguf_model_path(config.gguf_base)
        if main_process:  # an adapter saved alone loads on this folder (store.model_entries)
            folder.write_config(config)
    say("reading the data")
    cache = folder.cache / "datasets"
    columns = (config.text_column, config.label_column)
    train_table, eval_table, counts = training_data.load_for_run(
        config.data.model_dump(), task, *columns, hp.seed, cache
    )
    if hp.max_train_samples:
        train_table = train_table.select(range(min(len(train_table), hp.max_train_samples)))
    kind = kind_for(task)
    run_parts = Run(config, folder, train_table, eval_table, counts, main_process)
    parts: Parts = kind.prepare(run_parts)
    train_set, eval_set = parts.train_set, parts.eval_set
    if config.search is not None:  # an optuna search: trials only, no model kept (search.py)
        from studio.training.search import run_search

        trainer_class = make_trainer_class(stop, getattr(kind, "TRAINER_CLASS", "Trainer"))
        return run_search(run_parts, parts, stop, trainer_class, training_arguments)
    trainer = make_trainer_class(stop, getattr(kind, "TRAINER_CLASS", "Trainer"))(
        model=parts.model,
        args=training_arguments(config, run_dir, len(train_set), world_size, **parts.arguments),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=parts.tokenizer,
        data_collator=parts.collator,
        compute_metrics=parts.compute_metrics,
        preprocess_logits_for_metrics=parts.preprocess_logits,
        callbacks=[make_callback(folder, stop, world_size), *parts.callbacks],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # our callback prints one readable line per log event
    resume = config.resume_from_checkpoint
    if resume and main_process:
        step = json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"]
        append_line(folder.metrics, {"event": "resume", "time": time.time(), "step": step, "checkpoint": resume})
        say(f"resuming from {Path(resume).name} (step {step})")
    stop.training = True
    train_output = trainer.train(resume_from_checkpoint=resume or None)
    stop.training = False  # from here (final evaluation, saving) SIGTERM ends the process at once
    folder.ranks.mkdir(exist_ok=True)
    write_json(
        folder.ranks / f"rank-{rank}.json",
        {"rank": rank, "world_size": world_size, "samples": trainer.samples_seen, "steps": trainer.state.global_step},
    )
    if stop.requested:
        if main_process:
            write_json(
                folder.result,
                {"outcome": "stopped", "step": trainer.state.global_step, "train_metrics": train_output.metrics},
            )
        say(f"stopped at step {trainer.state.global_step}; resume continues from the last checkpoint")
        return 0
    last_eval = [
        entry
        for entry in trainer.state.log_history
        if "eval_loss" in entry and entry.get("step") == trainer.state.global_step
    ]
    if last_eval and not trainer.args.load_best_model_at_end:
        final_metrics = {
            key: value for key, value in last_eval[-1].items() if key.startswith("eval_") or key == "epoch"
        }
    else:
        final_metrics = trainer.evaluate()
    final_metrics = parts.final(final_metrics)
    if main_process:
        kind.save(trainer, run_parts, parts)
        model_dir = folder.model if folder.model.is_dir() else folder.path / "adapter"
        result: dict[str, Any] = {
            "outcome": "completed",
            "step": trainer.state.global_step,
            "final_metrics": {key.removeprefix("eval_"): value for key, value in final_metrics.items()},
            "train_metrics": train_output.metrics,
            "rows": {"train": len(train_set), "eval": len(eval_set)},
        }
        write_card(folder, result)  # README.md beside the weights: the card a push uploads
        if config.push_to_hub:
            result["push"] = push_to_hub(model_dir, config, hub_token)
        write_json(folder.result, result)
        say(f"done: {result['final_metrics']}; model saved as runs/{config.run_id}")
    return 0


def gguf_model_path(base: dict[str, Any]) -> str:
    """The safetensors folder of a packaged GGUF model (studio/models/gguf.py: converted once, then reused)."""
    from types import SimpleNamespace

    from studio.models.gguf import packaged_gguf_source

    reported: set[str] = set()

    def progress(fraction: float, message: str) -> None:
        stage = message.split(" ", 1)[0]
        if stage not in reported:  # one line per stage, not one per tensor
            reported.add(stage)
            say(message)

    return packaged_gguf_source(SimpleNamespace(**base), progress)


def push_to_hub(model_dir: Path, config: TrainingConfig, token: str | None) -> dict[str, str]:
    """Upload the model folder with the token given for this run, never the stored login or the
    environment's: without one, refuse before anything is sent (the token is never logged)."""
    repo = config.hub_model_id or f"studio-{config.run_id}"
    if not token:
        message = "Not pushed to the Hub: no Hub token was given for this run; the model is saved in the app."
        say(message)
        return {"repo": repo, "error": message}
    from huggingface_hub import HfApi

    try:
        api = HfApi(token=token)
        api.create_repo(repo, exist_ok=True, private=True)
        url = api.upload_folder(folder_path=str(model_dir), repo_id=repo)
        say(f"pushed to the Hub: {repo}")
        return {"repo": repo, "url": str(url)}
    except Exception as exc:  # the run itself succeeded; say why the upload did not
        reason = "the token was refused" if "401" in str(exc) or "403" in str(exc) else "the Hub could not be reached"
        message = f"Could not push to the Hub ({reason}); the model is saved in the app."
        say(message)
        return {"repo": repo, "error": message}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m studio.training.worker RUN_DIR", file=sys.stderr)
        return 2
    run_dir = Path(args[0]).resolve()
    try:
        return run(run_dir)
    except UserError as exc:
        say(f"error: {exc}")
        if int(os.environ.get("RANK", "0")) == 0:
            write_json(RunFolder(run_dir).result, {"outcome": "failed", "error": str(exc)})
        return 3


if __name__ == "__main__":
    sys.exit(main())
