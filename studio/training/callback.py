"""The worker's side of the run folder while the Trainer runs: one metrics.jsonl line per log
event, progress.json each step, and a Stop (SIGTERM) that ends training at a checkpoint.

Every rank runs the callback; rank 0 writes the shared files.
"""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING, Any

from studio.training.files import append_line, write_json
from studio.training.store import RunFolder
from studio.training.worker_log import say

if TYPE_CHECKING:
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments


class StopRequest:
    """Set by SIGTERM/SIGINT. During training steps it stops at the next step with a checkpoint;
    in every other phase (reading data, evaluating, saving) it ends the process at once."""

    def __init__(self) -> None:
        self.requested = False
        self.training = False

    def handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        if not self.training:
            say(f"received {signal.Signals(signum).name} outside the training steps: exiting")
            raise SystemExit(143)
        say(f"received {signal.Signals(signum).name}: stopping after this step and saving a checkpoint")


def make_callback(folder: RunFolder, stop: StopRequest, world_size: int) -> TrainerCallback:
    """The TrainerCallback that writes metrics.jsonl / progress.json and obeys a stop request."""
    from transformers import TrainerCallback

    class RunFiles(TrainerCallback):
        started = 0.0
        first: tuple[int, float] | None = None  # (step, time) when this process's first step began

        def _append(self, state: TrainerState, record: dict[str, Any]) -> None:
            if state.is_world_process_zero:
                append_line(folder.metrics, record)

        def on_train_begin(
            self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
        ) -> None:
            self.started = time.time()
            stop.training = True
            self._append(
                state,
                {
                    "event": "train_begin",
                    "time": self.started,
                    "step": state.global_step,
                    "max_steps": state.max_steps,
                    "num_train_epochs": state.num_train_epochs,
                    "world_size": world_size,
                },
            )
            self._progress(state)

        def _progress(self, state: TrainerState) -> None:
            if state.is_world_process_zero:
                write_json(
                    folder.progress,
                    {
                        "time": time.time(),
                        "started": self.started,
                        "step": state.global_step,
                        "max_steps": state.max_steps,
                        "epoch": state.epoch or 0.0,
                        "first_step": self.first[0] if self.first else None,
                        "first_time": self.first[1] if self.first else None,
                    },
                )

        def on_step_begin(
            self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
        ) -> None:
            if self.first is None:
                self.first = (state.global_step, time.time())

        def on_step_end(
            self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
        ) -> TrainerControl:
            self._progress(state)
            requested = stop.requested
            if world_size > 1:  # every rank must stop at the same step, or the collectives hang
                import torch
                import torch.distributed as dist

                flag = torch.tensor([1.0 if requested else 0.0])
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                requested = bool(flag.item())
            if requested:
                stop.requested = True
                control.should_training_stop = True
                control.should_save = True
                control.should_evaluate = False  # save the checkpoint now; no evaluation first
            return control

        def on_epoch_end(
            self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
        ) -> TrainerControl:
            if stop.requested:
                control.should_evaluate = False
            return control

        def on_log(
            self,
            args: TrainingArguments,
            state: TrainerState,
            control: TrainerControl,
            logs: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            record = {"time": time.time(), "step": state.global_step, "epoch": state.epoch, **(logs or {})}
            self._append(state, record)
            if state.is_world_process_zero:
                shown = ", ".join(
                    f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                    for key, value in (logs or {}).items()
                )
                say(f"step {state.global_step}/{state.max_steps}: {shown}")

        def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                say(f"saved checkpoint-{state.global_step}")

    return RunFiles()
