"""The Fine-tune tab's event handlers: plain functions of the JobManager (`studio.jobs`) and the
event's inputs, bound with `bind` in __init__.py.

Training runs in a subprocess; these only start, stop and read runs, so a closed or reloaded
page never blocks one. Handlers named after an endpoint keep its parameter names. Admin
actions take `admin_token` (the page's admin box) and Gradio's request and Hugging Face
profile, from which components/api.py's `caller` tells who asks (studio/policy/access.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from components.api import api_handler, caller
from components.errors import shown_as_gr_error
from components.finetune.status import ENDED, page_session
from components.finetune.views import (
    PLOT_SERIES,
    admin_position,
    empty_counts,
    runs_frame,
)
from studio.spec.param import Spec

PLOTTED = tuple(PLOT_SERIES)  # the metrics keys drawn

# Empty texts from the page mean "not given" (the config stores None).
OPTIONAL_TEXTS = ("sample", "text_column", "label_column", "hub_model_id")


def bind(
    function: Callable[..., Any], jobs: Any, name: str | None = None, spec: Spec | None = None, admin: bool = False
) -> Any:
    """function with the JobManager filled in, as a plain function Gradio can read: its signature
    (with a spec, the *values become the spec's parameter names and defaults, so the API shows
    them; admin=True adds the function's keyword-only admin_token, request and profile, after
    the first version's parameters) and its annotations (so Gradio fills gr.Request and
    gr.OAuthProfile, hidden from the API)."""
    params = list(inspect.signature(function).parameters.values())[1:]
    if spec is not None:
        named = [
            inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in spec.params
        ]
        keyword = [p.replace(kind=p.POSITIONAL_OR_KEYWORD) for p in params if p.kind == p.KEYWORD_ONLY]
        split = admin_position(spec) if admin else len(named)
        params = named[:split] + (keyword if admin else []) + named[split:]
    signature = inspect.Signature(params)
    spec_names = spec.names if spec is not None else []

    def call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if spec is None:
            return function(jobs, *args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = [bound.arguments[key] for key in spec_names]
        rest = {key: value for key, value in bound.arguments.items() if key not in spec_names}
        return function(jobs, *values, **rest)

    if inspect.isgeneratorfunction(function):

        def handler(*args: Any, **kwargs: Any) -> Any:
            yield from call(args, kwargs)
    else:

        def handler(*args: Any, **kwargs: Any) -> Any:
            return call(args, kwargs)

    return api_handler(handler, params, name or function.__name__, function.__doc__)


def arguments(jobs: Any, values: tuple[Any, ...]) -> tuple[dict[str, Any], str | None]:
    """/train_start's values by name, without the token; and the token."""
    named = dict(zip(jobs.spec.names, values))
    token = named.pop("hub_token", None) or None
    for key in OPTIONAL_TEXTS:
        named[key] = named[key] or None
    return named, token


def start(
    jobs: Any,
    *values: Any,
    admin_token: str = "",
    request: gr.Request = None,
    profile: gr.OAuthProfile | None = None,
) -> tuple[str, dict[str, str]]:
    with shown_as_gr_error("Starting the training run"):
        named, token = arguments(jobs, values)
        # One check of who asks, in the JobManager, before it reads the upload.
        new_id = jobs.start_from_request(
            named, hub_token=token, actor=caller(jobs.access, request, admin_token, profile)
        )
    jobs.leave(page_session(request))  # the page's boxes now follow the new run
    return new_id, {"run_id": new_id}


def command_preview(jobs: Any, *values: Any) -> str:
    with shown_as_gr_error("Show command"):
        return jobs.preview(**arguments(jobs, values)[0])


def shown_boxes(
    jobs: Any, status: dict[str, Any] | None, request: gr.Request = None, profile: gr.OAuthProfile | None = None
) -> tuple[Any, ...]:
    """The run's boxes (run id, progress, loss plot, log) shown once they have content, and Stop
    enabled while the run waits or trains, for whoever may stop it (the page's own event on each
    status; the API's values stay plain)."""
    status = status or {}
    has_metrics = any(isinstance(r.get(key), int | float) for r in status.get("metrics") or [] for key in PLOTTED)
    stoppable = status.get("status") in ("queued", "running") and caller(jobs.access, request, None, profile).admin
    return (
        gr.Textbox(visible=bool(status.get("run_id"))),
        gr.HTML(visible=bool(status.get("run_id"))),
        gr.LinePlot(visible=has_metrics),
        gr.Textbox(visible=bool(status.get("log_tail"))),
        gr.Button(interactive=stoppable),
    )


def shown_if(component: type[gr.components.Component]) -> Any:
    """A handler: the component shown while the value it gets is not empty."""

    def shown(value: Any) -> gr.components.Component:
        return component(visible=value is not None and len(value) > 0)

    return shown


def train_stop(
    jobs: Any, run_id: str, admin_token: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None
) -> dict[str, Any]:
    """Stop a run (queued: leaves the queue; running: SIGTERM, then SIGKILL after a grace period)."""
    with shown_as_gr_error("Stop"):
        status = jobs.stop(run_id, actor=caller(jobs.access, request, admin_token, profile))
    return {key: status[key] for key in ("run_id", "status", "step", "max_steps")}


def delete_run(
    jobs: Any, run_id: str, admin_token: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None
) -> tuple[Any, ...]:
    """Delete a finished run: its folder (model, checkpoints, data copy) is removed."""
    with shown_as_gr_error("Delete"):
        jobs.delete(run_id, actor=caller(jobs.access, request, admin_token, profile))
    gr.Info(f"Run {run_id} deleted.")
    return train_runs(jobs)


def train_runs(jobs: Any) -> tuple[Any, ...]:
    """Every run, newest first, with its final metrics and the model id (runs/<run_id>) the inference tabs accept."""
    runs = jobs.runs()
    shown = [
        {k: run[k] for k in ("run_id", "status", "task", "base_model", "final_metrics", "model_id")} for run in runs
    ]
    resumable = gr.Dropdown(choices=[r["run_id"] for r in runs if r["resumable"]])
    finished = gr.Dropdown(choices=[r["run_id"] for r in runs if r["status"] in ENDED])
    return runs_frame(runs), resumable, finished, shown


def runs_view(jobs: Any) -> tuple[Any, ...]:
    """train_runs for the page's own refreshes (a separate name keeps /train_runs the API's)."""
    return train_runs(jobs)


def train_resume(
    jobs: Any, run_id: str, admin_token: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None
) -> tuple[str, dict[str, str]]:
    with shown_as_gr_error("Resume"):
        resumed = jobs.resume(run_id, actor=caller(jobs.access, request, admin_token, profile))
    jobs.leave(page_session(request))
    return resumed, {"run_id": resumed}


def sign_in(
    jobs: Any, admin_token: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None
) -> tuple[Any, ...]:
    """The admin box (or a Hugging Face login): remember this browser session as admin, and
    enable the admin buttons; a wrong token gets a sentence."""
    session = getattr(request, "session_hash", None)
    if admin_token and not jobs.access.sign_in(session, admin_token):
        raise gr.Error("That admin token is not right; check it and try again.")
    return access_view(jobs, request=request, profile=profile)


def access_view(jobs: Any, request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> tuple[Any, ...]:
    """The read-only line and the admin buttons, for this session (on page load and after sign-in)."""
    admin = caller(jobs.access, request, None, profile).admin
    line = "Signed in as admin: you can start, stop and delete runs." if admin else jobs.access.visitor_hint()
    train, resume, delete = (gr.Button(interactive=admin) for _ in range(3))
    return gr.Markdown(line), train, gr.skip(), resume, delete  # Stop: enabled by shown_boxes while a run is on


def choose_task(jobs: Any, chosen: str, current: str | None) -> tuple[Any, ...]:
    """The task's base models (the pick kept when offered), the LoRA settings shown for text generation,
    and the column pickers named for what the task reads."""
    choices = [(e.display_name, e.public_id) for e in jobs.base_models(chosen)]
    ids = [i for _, i in choices]
    value = current if current in ids else jobs.default_base_model(chosen)
    default = (jobs.spec["text_column"].title, jobs.spec["label_column"].title)
    text, label = jobs.column_labels(chosen) or default
    models, lora = gr.Dropdown(choices=choices, value=value), gr.Accordion(visible=jobs.trains_lora(chosen))
    return models, lora, gr.Dropdown(label=text), gr.Dropdown(label=label)


def describe(jobs: Any, path: str | None, sample: str, task: str) -> tuple[Any, ...]:
    """The chosen data's columns (with the mapping guessed), its labels, and its task (a sample's own)."""
    with shown_as_gr_error("Reading the data"):
        described = jobs.describe_data(path, sample, task)
    if described is None:
        columns = gr.Dropdown(choices=[], value=""), gr.Dropdown(choices=[], value="")
        return *columns, gr.Dataframe(empty_counts(), visible=False), task
    new_task, summary = described
    frame = pd.DataFrame(list(summary.label_counts.items()), columns=["label", "count"])
    return (
        gr.Dropdown(choices=summary.columns, value=summary.text_column or ""),
        gr.Dropdown(choices=summary.columns, value=summary.label_column or ""),
        gr.Dataframe(frame, visible=not frame.empty),
        new_task,
    )


def recount(jobs: Any, path: str | None, sample: str, task: str, label: str) -> gr.Dataframe:
    """Label counts for the label column the user picked."""
    with shown_as_gr_error("Reading the data"):
        found = jobs.label_counts(path, sample, task, label)
    frame = pd.DataFrame(list(found.items()), columns=["label", "count"]) if found else empty_counts()
    return gr.Dataframe(frame, visible=bool(found))
