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
import os
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from studio.errors import UserError
from studio.models.gguf import packaged_gguf_source
from studio.training.callback import StopRequest, make_callback
from studio.training.dataset import load_for_run
from studio.training.files import append_line, write_json
from studio.training.kinds.base import Parts, Run
from studio.training.kinds.table import KINDS
from studio.training.launcher import TOKEN_VARIABLE
from studio.training.model_card import push_to_hub, write_card
from studio.training.store import RunFolder
from studio.training.trainer import build_trainer
from studio.training.trials import run_search
from studio.training.worker_log import say


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

    transformers.logging.set_verbosity_warning()  # type: ignore[no-untyped-call]  # unannotated in transformers
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # unannotated in transformers
    if config.gguf_base and not config.model_path:  # a packaged GGUF base: converted once, as the app loads it
        config.model_path = gguf_model_path(config.gguf_base)
        if main_process:  # an adapter saved alone loads on this folder (store.model_entries)
            folder.write_config(config)
    say("reading the data")
    cache = folder.cache / "datasets"
    columns = (config.text_column, config.label_column)
    train_table, eval_table, counts = load_for_run(config.data.model_dump(), task, *columns, hp.seed, cache)
    if hp.max_train_samples:
        train_table = train_table.select(range(min(len(train_table), hp.max_train_samples)))
    kind = KINDS[task]
    run_parts = Run(config, folder, train_table, eval_table, counts, main_process)
    parts: Parts = kind.prepare(run_parts)
    train_set, eval_set = parts.train_set, parts.eval_set
    if config.search is not None:  # an optuna search: trials only, no model kept (trials.py)
        return run_search(run_parts, parts, stop)
    trainer = build_trainer(run_parts, parts, stop, [make_callback(folder, stop, world_size)], world_size)
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
    reported: set[str] = set()

    def progress(fraction: float, message: str) -> None:
        stage = message.split(" ", 1)[0]
        if stage not in reported:  # one line per stage, not one per tensor
            reported.add(stage)
            say(message)

    return packaged_gguf_source(SimpleNamespace(**base), progress)


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
