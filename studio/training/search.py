"""Hyperparameter search: a run whose config has a `search` section (search_trials > 0) runs
optuna trials through `Trainer.hyperparameter_search` in its worker, over the learning rate,
the batch size and the epochs, within ranges the user sets.

Each trial is a line of trials.jsonl in the run folder (number, params, objective, state,
metrics; a trial's later line replaces its earlier one), so the page shows a live table and the
best trial, whose settings it copies into the hyperparameter inputs for a normal run. A search
trains no model to keep. Stop ends the running trial at its next step and the study with it:
that trial is "stopped", never the best. See docs/ARCHITECTURE.md, "Training".
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.errors import UserError
from studio.training.checks import checked

if TYPE_CHECKING:
    from studio.training.config import TrainingConfig
    from studio.training.kinds import Parts, Run
    from studio.training.store import RunFolder

TRIALS_FILE = "trials.jsonl"
FINISHED = ("complete", "pruned", "fail", "stopped")


class SearchSettings(BaseModel):
    """config.json's "search" section: how many trials, and the ranges they draw from."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    search_trials: int = Field(
        0, ge=0, le=50, description="Optuna trials to run instead of one training (0: no search; it keeps no model)."
    )
    search_learning_rate_min: float = Field(1e-5, ge=1e-8, le=1.0, description="The lowest learning rate tried.")
    search_learning_rate_max: float = Field(5e-4, ge=1e-8, le=1.0, description="The highest learning rate tried.")
    search_batch_sizes: str = Field("8,16,32", description="Batch sizes tried, comma-separated.")
    search_epochs_min: int = Field(1, ge=1, le=100, description="The fewest epochs tried.")
    search_epochs_max: int = Field(3, ge=1, le=100, description="The most epochs tried.")
    search_objective: Literal["metric", "eval_loss"] = Field(
        "metric",
        description="What the search optimizes: the task's metric (maximized) or the evaluation loss (minimized).",
        json_schema_extra={
            "widget": "radio",
            "choice_labels": ("The task's metric (accuracy, F1; maximized)", "Evaluation loss (minimized)"),
        },
    )

    def batch_sizes(self) -> list[int]:
        """The sizes listed ([] when one is not a whole number)."""
        parts = [part for part in self.search_batch_sizes.replace(" ", "").split(",") if part]
        return [int(part) for part in parts] if all(part.isdigit() for part in parts) else []


SEARCH_FIELDS = tuple(SearchSettings.model_fields)


def settings_from(arguments: dict[str, Any]) -> SearchSettings | None:
    """Pop the search_* arguments (the API's names) and check them; None when no search is asked."""
    given = {name: arguments.pop(name) for name in SEARCH_FIELDS if name in arguments}
    given = {name: value for name, value in given.items() if value is not None and value != ""}
    settings: SearchSettings = checked(SearchSettings, given)
    if not settings.search_trials:
        return None
    sizes = settings.batch_sizes()
    if not sizes or not all(1 <= size <= 1024 for size in sizes):
        raise UserError(
            f"search_batch_sizes must be whole numbers between 1 and 1024, comma-separated; "
            f"got {settings.search_batch_sizes!r}."
        )
    if settings.search_learning_rate_min > settings.search_learning_rate_max:
        raise UserError("search_learning_rate_min must not be above search_learning_rate_max.")
    if settings.search_epochs_min > settings.search_epochs_max:
        raise UserError("search_epochs_min must not be above search_epochs_max.")
    return settings


def attached(config: TrainingConfig, settings: SearchSettings | None) -> TrainingConfig:
    """The run's config with its search section (a search runs in one process)."""
    if settings is not None and config.num_processes > 1:
        raise UserError("A hyperparameter search runs in one process; set num_processes to 1.")
    if settings is not None and config.push_to_hub:
        raise UserError("A hyperparameter search keeps no model to push; untick Push to Hub (or set search_trials 0).")
    config.search = settings
    return config


def objective_of(config: TrainingConfig) -> tuple[str, str]:
    """(the metrics key the search optimizes, "maximize" or "minimize")."""
    from studio.training.kinds import kind_for

    if config.search is not None and config.search.search_objective == "eval_loss":
        return "eval_loss", "minimize"
    metric, greater = kind_for(config.task).best_metric(config.task)
    return (metric if metric.startswith("eval_") else f"eval_{metric}"), ("maximize" if greater else "minimize")


# ----------------------------------------------------------------------- reading (the app)
def read_trials(folder: RunFolder, finished: bool = False) -> list[dict[str, Any]]:
    """The trials so far, by number (the last line of each wins); a run that has ended shows a
    trial still "running" as "stopped"."""
    rows: dict[int, dict[str, Any]] = {}
    path = folder.path / TRIALS_FILE
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            row = json.loads(line)
        except ValueError:  # a line being written
            continue
        rows[int(row["number"])] = row
    if finished:
        for row in rows.values():
            if row["state"] not in FINISHED:
                row["state"] = "stopped"
    return [rows[number] for number in sorted(rows)]


def best_of(rows: list[dict[str, Any]], direction: str) -> dict[str, Any] | None:
    """The best completed trial (a stopped or pruned one never is)."""
    done = [row for row in rows if row["state"] == "complete" and isinstance(row.get("objective"), int | float)]
    if not done:
        return None
    pick = max if direction == "maximize" else min
    return pick(done, key=lambda row: row["objective"])


def summary(folder: RunFolder, finished: bool = False) -> dict[str, Any]:
    """{run_id, search (the settings, or None), objective, direction, trials, best}."""
    config = folder.read_config()
    metric, direction = objective_of(config)
    rows = read_trials(folder, finished)
    search = config.search.model_dump() if config.search else None
    found = {"search": search, "objective": metric, "direction": direction, "trials": rows}
    return {"run_id": folder.path.name, **found, "best": best_of(rows, direction)}


# ---------------------------------------------------------------------- running (the worker)
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
        from studio.training.store import append_line

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


def make_trial_callback(trials: Trials, folder: RunFolder, stop: Any, say: Callable[[str], None]) -> Any:
    """progress.json for the running trial, its evaluations, and Stop: the trial ends at its next
    step and the study stops (the trial counts as pruned in optuna, "stopped" here)."""
    import optuna
    from transformers import TrainerCallback

    from studio.training.store import write_json

    class TrialFiles(TrainerCallback):
        started = 0.0

        def _progress(self, state: Any) -> None:
            values = {"time": time.time(), "started": self.started, "step": state.global_step}
            values.update(max_steps=state.max_steps, epoch=state.epoch or 0.0, first_step=None, first_time=None)
            write_json(folder.progress, {**values, "trial": trials.trial.number if trials.trial else None})

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.time()
            stop.training = True
            trial = trials.trial
            trials.write(trial.number, trial.params, "running", None)
            say(f"trial {trial.number}: {', '.join(f'{k} {v:.4g}' for k, v in trial.params.items())}")
            self._progress(state)

        def on_step_end(self, args, state, control, **kwargs):
            self._progress(state)
            if stop.requested:
                stop.training = False
                trials.stopped.add(trials.trial.number)
                trials.trial.study.stop()
                say(f"trial {trials.trial.number} stopped at step {state.global_step}; the search ends")
                raise optuna.TrialPruned("stopped")
            return control

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            trials.metrics[trials.trial.number] = dict(metrics or {})

        def on_train_end(self, args, state, control, **kwargs):
            stop.training = False

    return TrialFiles()


def run_search(run: Run, parts: Parts, stop: Any, trainer_class: type, arguments_for: Callable[..., Any]) -> int:
    """The study, in the worker: n trials, trials.jsonl as they go, result.json with the best."""
    import optuna

    from studio.training.callback import say
    from studio.training.store import write_json

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

    more = {"save_strategy": "no", "load_best_model_at_end": False, "eval_strategy": "epoch"}
    arguments = arguments_for(config, folder.path, len(parts.train_set), 1, **{**parts.arguments, **more})
    arguments.output_dir = str(folder.path / "trials")
    trainer = trainer_class(
        model_init=model_init,
        args=arguments,
        train_dataset=parts.train_set,
        eval_dataset=parts.eval_set,
        processing_class=parts.tokenizer,
        data_collator=parts.collator,
        compute_metrics=parts.compute_metrics,
        preprocess_logits_for_metrics=parts.preprocess_logits,
        callbacks=[make_trial_callback(trials, folder, stop, say), *getattr(parts, "callbacks", [])],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
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
