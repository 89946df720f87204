"""Hyperparameter search: a run whose config has a `search` section (search_trials > 0) runs
optuna trials through `Trainer.hyperparameter_search` in its worker, over the learning rate,
the batch size and the epochs, within ranges the user sets.

Each trial is a line of trials.jsonl in the run folder (number, params, objective, state,
metrics; a trial's later line replaces its earlier one), so the page shows a live table and the
best trial, whose settings it copies into the hyperparameter inputs for a normal run. A search
trains no model to keep. Stop ends the running trial at its next step and the study with it:
that trial is "stopped", never the best. See docs/ARCHITECTURE.md, "Training".

Here: the settings, the objective and reading the trials (the app's side); trials.py runs them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.errors import UserError
from studio.training.checks import checked
from studio.training.kinds.table import KINDS

if TYPE_CHECKING:  # annotations only: the config holds a SearchSettings, the run folder the config
    from studio.training.config import TrainingConfig
    from studio.training.store import RunFolder

TRIALS_FILE = "trials.jsonl"
FINISHED = ("complete", "pruned", "fail", "stopped")
# The objective's hints for the page, as config.ui() gives other fields theirs (choice_labels is a
# tuple, which pydantic's JSON-only JsonDict has no room for).
OBJECTIVE_HINTS: dict[str, Any] = {
    "widget": "radio",
    "choice_labels": ("The task's metric (accuracy, F1; maximized)", "Evaluation loss (minimized)"),
}


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
        json_schema_extra=OBJECTIVE_HINTS,
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
    if config.search is not None and config.search.search_objective == "eval_loss":
        return "eval_loss", "minimize"
    kind = KINDS[config.task]
    metric, greater = kind.best_metric, kind.greater_is_better
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
