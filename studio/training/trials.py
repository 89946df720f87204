"""A hyperparameter search, run in the worker: optuna trials through `Trainer.hyperparameter_search`
over the ranges of the config's `search` section (search.py), each trial a line of trials.jsonl
as it goes, result.json with the best. A search keeps no model; Stop ends the running trial at
its next step and the study with it (that trial is "stopped", never the best).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from studio.training.callback import StopRequest
from studio.training.files import append_line, write_json
from studio.training.kinds.base import Parts, Run
from studio.training.search import FINISHED, TRIALS_FILE, SearchSettings, best_of, objective_of, read_trials
from studio.training.store import RunFolder
from studio.training.trainer import build_trainer
from studio.training.worker_log import say


def hp_space(settings: SearchSettings) -> Callable[[Any], dict[str, Any]]:
    """The optuna space: learning rate on a log scale, a batch size from the list, whole epochs."""

    def space(trial: Any) -> dict[str, Any]:
        low, high = settings.search_learning_rate_min, settings.search_learning_rate_max
        sizes, epochs = settings.batch_sizes(), (settings.search_epochs_min, settings.search_epochs_max)
        return {
            "learning_rate": trial.suggest_float("learning_rate", low, high, log=True),
            "per_device_train_batch_size": trial.suggest_categorical("per_device_train_batch_size", sizes),
            "num_train_epochs": trial.suggest_int("num_train_epochs", *epochs),
        }

    return space


class Trials:
    """The worker's record of the study: trials.jsonl lines, each trial's last evaluation, and
    which trial Stop ended."""

    def __init__(self, folder: RunFolder) -> None:
        self.path = folder.path / TRIALS_FILE
        self.trial: Any = None  # the optuna trial running now
        self.metrics: dict[int, dict[str, float]] = {}
        self.stopped: set[int] = set()
        self.written: dict[int, str] = {}

    def write(self, number: int, params: Mapping[str, Any], state: str, objective: float | None) -> None:
        metrics = {key: value for key, value in self.metrics.get(number, {}).items() if isinstance(value, float)}
        row = {"number": number, "params": dict(params), "state": state, "objective": objective, "metrics": metrics}
        append_line(self.path, {**row, "time": time.time()})
        self.written[number] = state

    def settle(self) -> None:
        """Write the final line of every trial the study has finished and this record has not."""
        if self.trial is None:
            return
        for frozen in self.trial.study.get_trials(deepcopy=False):
            state = "stopped" if frozen.number in self.stopped else frozen.state.name.lower()
            if state in FINISHED and self.written.get(frozen.number) != state:
                self.write(frozen.number, frozen.params, state, frozen.value if state == "complete" else None)


def make_trial_callback(trials: Trials, folder: RunFolder, stop: StopRequest) -> Any:
    """progress.json for the running trial, its evaluations, and Stop: the trial ends at its next
    step and the study stops (the trial counts as pruned in optuna, "stopped" here)."""
    import optuna
    from transformers import TrainerCallback

    class TrialFiles(TrainerCallback):
        started = 0.0

        def _progress(self, state: Any) -> None:
            values = {"time": time.time(), "started": self.started, "step": state.global_step}
            values.update(max_steps=state.max_steps, epoch=state.epoch or 0.0, first_step=None, first_time=None)
            write_json(folder.progress, {**values, "trial": trials.trial.number if trials.trial else None})

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            self.started = time.time()
            stop.training = True
            trial = trials.trial
            trials.write(trial.number, trial.params, "running", None)
            say(f"trial {trial.number}: {', '.join(f'{k} {v:.4g}' for k, v in trial.params.items())}")
            self._progress(state)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            self._progress(state)
            if stop.requested:
                stop.training = False
                trials.stopped.add(trials.trial.number)
                trials.trial.study.stop()
                say(f"trial {trials.trial.number} stopped at step {state.global_step}; the search ends")
                raise optuna.TrialPruned("stopped")
            return control

        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any) -> None:
            trials.metrics[trials.trial.number] = dict(metrics or {})

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            stop.training = False

    return TrialFiles()


def run_search(run: Run, parts: Parts, stop: StopRequest) -> int:
    """The study, in the worker: n trials, trials.jsonl as they go, result.json with the best."""
    import optuna

    config, folder = run.config, run.folder
    settings = config.search
    assert settings is not None
    metric, direction = objective_of(config)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is ours
    trials = Trials(folder)
    pristine = parts.model  # every trial starts from a fresh copy of the prepared model

    def model_init(trial: Any = None) -> Any:
        if trial is not None:
            trials.settle()
            trials.trial = trial
        return copy.deepcopy(pristine)

    trainer = build_trainer(
        run,
        parts,
        stop,
        [make_trial_callback(trials, folder, stop)],
        output_dir=folder.path / "trials",
        model_init=model_init,
        save_strategy="no",
        load_best_model_at_end=False,
        eval_strategy="epoch",
    )
    say(f"search: {settings.search_trials} trials, {direction} {metric.removeprefix('eval_')}")
    try:
        trainer.hyperparameter_search(
            hp_space=hp_space(settings),
            compute_objective=lambda metrics: float(metrics.get(metric, metrics.get("eval_loss", 0.0))),
            n_trials=settings.search_trials,
            direction=direction,
            backend="optuna",
            sampler=optuna.samplers.TPESampler(seed=config.training.seed),
        )
    except ValueError:  # every trial stopped or pruned: optuna has no best trial
        if not trials.stopped:
            raise
    except BaseException:  # Stop outside the steps (loading, evaluating) ends the process at once
        if trials.trial is not None and trials.written.get(trials.trial.number) == "running":
            trials.stopped.add(trials.trial.number)
            trials.write(trials.trial.number, trials.trial.params, "stopped", None)
        raise
    trials.settle()
    rows = read_trials(folder)
    best = best_of(rows, direction)
    outcome = "stopped" if trials.stopped else "completed"
    search = {"objective": metric, "direction": direction, "trials": len(rows), "best": best}
    write_json(folder.result, {"outcome": outcome, "search": search})
    say(f"search {outcome}: best trial {best['number'] if best else 'none'}" + (f", {best['params']}" if best else ""))
    return 0
