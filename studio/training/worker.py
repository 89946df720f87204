"""The Trainer script: `python -m studio.training.worker RUN_DIR` trains what RUN_DIR/config.json says.

It writes only files in the run dir, so nobody has to read its output for it to finish:
metrics.jsonl (one line per Trainer log event, plus train_begin/resume events),
progress.json (step, max_steps, epoch; rewritten each step), checkpoint-*/ (Trainer),
model/ (the final model with its label names) and result.json (outcome and final metrics).
SIGTERM sets `should_training_stop` (and `should_save`, so the stop leaves a checkpoint to
resume from); the worker then exits with code 0 and outcome "stopped". Under torchrun
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
from studio.training.metrics import compute_metrics_for
from studio.training.store import RunFolder, append_line, write_json
from studio.training.tokens import tokenize

MODEL_CLASSES = {
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
}


def make_trainer_class():
    from transformers import Trainer

    class CountingTrainer(Trainer):
        """A Trainer that counts the training rows this process sees (to show each rank's share)."""

        samples_seen = 0

        def training_step(self, model, inputs, num_items_in_batch=None):
            self.samples_seen += int(inputs["labels"].shape[0])
            return super().training_step(model, inputs, num_items_in_batch)

    return CountingTrainer


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def training_arguments(config: TrainingConfig, run_dir: Path, train_rows: int, world_size: int) -> Any:
    from transformers import TrainingArguments

    hp = config.training
    batch, accumulation = hp.per_device_train_batch_size, hp.gradient_accumulation_steps
    steps_per_epoch = max(1, math.ceil(train_rows / (batch * world_size * accumulation)))
    logging_steps = hp.logging_steps or max(1, min(50, steps_per_epoch // 10))
    best_metric = "f1" if config.task == "token-classification" else "accuracy"
    return TrainingArguments(
        output_dir=str(run_dir),
        num_train_epochs=hp.num_train_epochs,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=max(batch, 32),
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
        greater_is_better=True,
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


def run(run_dir: Path) -> int:
    """Train as config.json says; returns the process exit code."""
    folder = RunFolder(run_dir)
    config = folder.read_config()
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    main_process = rank == 0
    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop.handle)
    signal.signal(signal.SIGINT, stop.handle)
    task, hp = config.task, config.training
    say(f"run {config.run_id}: {task} on {config.base_model} (process {rank + 1} of {world_size})")

    import transformers
    from transformers import AutoTokenizer, DataCollatorForTokenClassification, DataCollatorWithPadding

    transformers.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()
    labels = config.labels
    label2id = {name: index for index, name in enumerate(labels)}
    id2label = dict(enumerate(labels))
    columns = (config.text_column, config.label_column)
    train_table, eval_table = training_data.load_splits(config.data.model_dump(), task, *columns, hp.seed)
    if hp.max_train_samples:
        train_table = train_table.select(range(min(len(train_table), hp.max_train_samples)))
    tokenizer = AutoTokenizer.from_pretrained(config.model_path)
    train_set = tokenize(train_table, tokenizer, task, *columns, label2id, hp.max_length)
    eval_set = tokenize(eval_table, tokenizer, task, *columns, label2id, hp.max_length)
    say(f"data: {len(train_set)} training and {len(eval_set)} evaluation examples, labels {labels}")

    model_class = getattr(transformers, MODEL_CLASSES[task])
    model = model_class.from_pretrained(
        config.model_path,
        num_labels=len(labels),
        id2label=id2label,
        label2id=label2id,
        ignore_mismatched_sizes=True,
    )
    collator = (
        DataCollatorForTokenClassification(tokenizer)
        if task == "token-classification"
        else DataCollatorWithPadding(tokenizer)
    )
    trainer = make_trainer_class()(
        model=model,
        args=training_arguments(config, run_dir, len(train_set), world_size),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=compute_metrics_for(task, id2label),
        callbacks=[make_callback(folder, stop, world_size)],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # our callback prints one readable line per log event
    resume = config.resume_from_checkpoint
    if resume and main_process:
        step = json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"]
        append_line(folder.metrics, {"event": "resume", "time": time.time(), "step": step, "checkpoint": resume})
        say(f"resuming from {resume} (step {step})")
    stop.training = True
    train_output = trainer.train(resume_from_checkpoint=resume or None)
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
    if main_process:
        model_dir = folder.model
        trainer.save_model(str(model_dir))
        write_json(model_dir / "studio_run.json", {"run_id": config.run_id, "task": task, "labels": labels})
        result: dict[str, Any] = {
            "outcome": "completed",
            "step": trainer.state.global_step,
            "final_metrics": {key.removeprefix("eval_"): value for key, value in final_metrics.items()},
            "train_metrics": train_output.metrics,
            "model_dir": str(model_dir),
        }
        if config.push_to_hub:
            result["push"] = push_to_hub(model_dir, config)
        write_json(folder.result, result)
        say(f"done: {result['final_metrics']}; model saved in {model_dir}")
    return 0


def push_to_hub(model_dir: Path, config: TrainingConfig) -> dict[str, str]:
    """Upload the model folder; the token comes from the HF_TOKEN environment variable only (never logged)."""
    from huggingface_hub import HfApi

    repo = config.hub_model_id or f"studio-{config.run_id}"
    try:
        api = HfApi(token=os.environ.get("HF_TOKEN") or None)
        api.create_repo(repo, exist_ok=True, private=True)
        url = api.upload_folder(folder_path=str(model_dir), repo_id=repo)
        say(f"pushed to the Hub: {repo}")
        return {"repo": repo, "url": str(url)}
    except Exception as exc:  # the run itself succeeded; say why the upload did not
        message = f"Could not push to the Hub ({type(exc).__name__}); the model is saved in {model_dir}."
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
        return 3


if __name__ == "__main__":
    sys.exit(main())
