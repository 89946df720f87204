"""The Fine-tune tab's event handlers: plain functions of the JobManager (`studio.jobs`) and the
event's inputs, bound with `bind` in __init__.py.

Training runs in a subprocess; these only start, stop and read runs, so a closed or reloaded
page never blocks one. Handlers named after an endpoint keep its parameter names.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
import pandas as pd

from components.errors import shown_as_gr_error
from components.finetune.views import (
    empty_counts,
    loss_frame,
    progress_html,
    queue_markdown,
    runs_frame,
    status_markdown,
)
from studio.params import Spec

# Empty texts from the page mean "not given" (the config stores None).
OPTIONAL_TEXTS = ("sample", "text_column", "label_column", "hub_model_id")


def bind(function: Callable[..., Any], jobs: Any, name: str | None = None, spec: Spec | None = None) -> Any:
    """function with the JobManager filled in; with a spec, the *values handler gets the spec's
    parameter names and defaults (so the API shows them)."""
    handler: Any = functools.partial(function, jobs)
    handler.__name__ = name or function.__name__
    handler.__doc__ = function.__doc__
    if spec is not None:
        handler.__signature__ = inspect.Signature(
            [
                inspect.Parameter(param.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=param.default)
                for param in spec.params
            ]
        )
    return handler


def arguments(jobs: Any, values: tuple[Any, ...]) -> tuple[dict[str, Any], str | None]:
    """/train_start's values by name, without the token; and the token."""
    named = dict(zip(jobs.spec.names, values))
    token = named.pop("hub_token", None) or None
    for key in OPTIONAL_TEXTS:
        named[key] = named[key] or None
    return named, token


def start(jobs: Any, *values: Any) -> tuple[str, dict[str, str]]:
    with shown_as_gr_error("Starting the training run"):
        named, token = arguments(jobs, values)
        config = jobs.build_config(**named)
        new_id = jobs.start(config, hub_token=token)
    return new_id, {"run_id": new_id}


def command_preview(jobs: Any, *values: Any) -> str:
    with shown_as_gr_error("Show command"):
        return jobs.preview(**arguments(jobs, values)[0])


def views(jobs: Any, status: dict[str, Any]) -> tuple[Any, ...]:
    """One status, drawn: the stream's outputs."""
    return (
        status_markdown(status),
        progress_html(status),
        loss_frame(status["metrics"]),
        status["log_tail"],
        queue_markdown(jobs.queue()),
        status,
    )


def train_status(jobs: Any, run_id: str) -> Iterator[tuple[Any, ...]]:
    """Stream the run's status (log tail, progress, loss) until it ends."""
    with shown_as_gr_error("Training status"):
        stream = jobs.status_stream(run_id)
    for status in stream:
        yield views(jobs, status)


def train_stop(jobs: Any, run_id: str) -> dict[str, Any]:
    """Stop a run (queued: leaves the queue; running: SIGTERM, then SIGKILL after a grace period)."""
    with shown_as_gr_error("Stop"):
        status = jobs.stop(run_id)
    return {key: status[key] for key in ("run_id", "status", "step", "max_steps")}


def train_runs(jobs: Any) -> tuple[pd.DataFrame, gr.Dropdown, list[dict[str, Any]]]:
    """Every run, newest first, with its final metrics and the model id the inference tab accepts."""
    runs = jobs.runs()
    shown = [
        {k: run[k] for k in ("run_id", "status", "task", "base_model", "final_metrics", "model_id")} for run in runs
    ]
    resumable = gr.Dropdown(choices=[r["run_id"] for r in runs if r["resumable"]])
    return runs_frame(runs), resumable, shown


def runs_view(jobs: Any) -> tuple[pd.DataFrame, gr.Dropdown, list[dict[str, Any]]]:
    """train_runs for the page's own refreshes (a separate name keeps /train_runs the API's)."""
    return train_runs(jobs)


def train_resume(jobs: Any, run_id: str) -> tuple[str, dict[str, str]]:
    with shown_as_gr_error("Resume"):
        resumed = jobs.resume(run_id)
    return resumed, {"run_id": resumed}


def attach(jobs: Any) -> Iterator[tuple[Any, ...]]:
    """On page load: re-attach to the running (or first queued) run."""
    active = jobs.active_run()
    if active is None:
        return
    for status in jobs.status_stream(active):
        yield (active, *views(jobs, status))


def choose_task(jobs: Any, chosen: str, current: str | None) -> gr.Dropdown:
    choices = [(e.display_name, e.id) for e in jobs.base_models(chosen)]
    ids = [i for _, i in choices]
    return gr.Dropdown(choices=choices, value=current if current in ids else jobs.default_base_model(chosen))


def describe(jobs: Any, path: str | None, sample: str, task: str) -> tuple[Any, ...]:
    """The chosen data's columns (with the mapping guessed), its labels, and its task (a sample's own)."""
    with shown_as_gr_error("Reading the data"):
        described = jobs.describe_data(path, sample, task)
    if described is None:
        return gr.Dropdown(choices=[], value=""), gr.Dropdown(choices=[], value=""), empty_counts(), task
    new_task, summary = described
    frame = pd.DataFrame(list(summary.label_counts.items()), columns=["label", "count"])
    return (
        gr.Dropdown(choices=summary.columns, value=summary.text_column or ""),
        gr.Dropdown(choices=summary.columns, value=summary.label_column or ""),
        frame,
        new_task,
    )


def recount(jobs: Any, path: str | None, sample: str, task: str, label: str) -> pd.DataFrame:
    """Label counts for the label column the user picked."""
    with shown_as_gr_error("Reading the data"):
        found = jobs.label_counts(path, sample, task, label)
    return pd.DataFrame(list(found.items()), columns=["label", "count"]) if found else empty_counts()
