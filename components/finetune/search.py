"""The Fine-tune tab's hyperparameter search and "Push to the Hub" parts.

The search settings are /train_start's last parameters (search_*, studio/training/search.py);
a search run's trials show live in a table with the best one, and "Train with these settings"
copies the best trial's learning rate, batch size and epochs into the hyperparameter inputs
(search off) for a run that keeps its model. Push uploads a completed run's model with its
model card (admin-only in public mode, like Stop and Delete); the token is used for that one
push and never stored. API: /train_trials(run_id), /train_push(run_id, hub_model_id, hub_token,
admin_token). Their inputs and tables are drawn in search_views.py; the handlers and wiring are here.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.api import caller
from components.errors import shown_as_gr_error
from components.finetune.handlers import bind
from components.finetune.search_views import TRIAL_PARAMS, best_markdown, trials_frame
from studio.errors import UserError

PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}


# ------------------------------------------------------------------------------ handlers
def train_trials(jobs: Any, run_id: str) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    """A search run's trials (number, params, objective, state) and its best trial."""
    with shown_as_gr_error("Trials"):
        summary = jobs.trials(run_id)
    return best_markdown(summary), trials_frame(summary), summary


def trials_view(jobs: Any, status: dict[str, Any] | None) -> tuple[Any, ...]:
    """On each status of the watched run: its trials, the panel shown for a search run."""
    run_id = (status or {}).get("run_id")
    if not run_id:
        return gr.Column(visible=False), gr.skip(), gr.skip(), gr.skip()
    try:
        summary = jobs.trials(run_id)
    except UserError:  # a deleted run: nothing to show
        return gr.Column(visible=False), gr.skip(), gr.skip(), gr.skip()
    shown = bool(summary.get("search"))
    return gr.Column(visible=shown), best_markdown(summary), trials_frame(summary), summary


def use_best(jobs: Any, summary: dict[str, Any] | None) -> tuple[Any, ...]:
    """The best trial's settings into the hyperparameter inputs, and the search off."""
    best = (summary or {}).get("best")
    if not best:
        raise gr.Error("There is no completed trial yet; wait for one, or start a search.", print_exception=False)
    params = best["params"]
    gr.Info(f"Filled in trial {best['number']}'s settings; the search is off: Train keeps the model.")
    return (*(params.get(name, gr.skip()) for name in TRIAL_PARAMS), 0)


def train_push(
    jobs: Any,
    run_id: str,
    hub_model_id: str = "",
    hub_token: str = "",
    admin_token: str = "",
    request: gr.Request = None,
    profile: gr.OAuthProfile | None = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
) -> dict[str, str]:
    """Upload a completed run's model (or LoRA adapter) with its model card; {repo, url}."""
    with shown_as_gr_error("Push to the Hub"):
        who = caller(jobs.access, request, admin_token, profile)
        progress(0.1, desc="Uploading to the Hub…")
        pushed = jobs.push(run_id, hub_token or None, hub_model_id or None, actor=who)
    gr.Info(f"Pushed to the Hub: {pushed['repo']}.")
    return pushed


def past_trials(jobs: Any, run_id: str) -> tuple[Any, ...]:
    """A past run's trials in the run panel (shown whether or not it was a search: it says which)."""
    shown = train_trials(jobs, run_id)
    return (gr.Column(visible=True), *shown)


def run_choices(jobs: Any, runs: list[dict[str, Any]] | None) -> tuple[gr.Dropdown, gr.Dropdown]:
    """The runs whose trials can be shown, and the completed runs that have a model to push."""
    runs = runs or []
    done = [run["run_id"] for run in runs if run.get("model_id")]
    return gr.Dropdown(choices=[run["run_id"] for run in runs]), gr.Dropdown(choices=done)


def push_access(
    jobs: Any, admin_token: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None
) -> gr.Button:
    """The Push button, enabled for the admin only (on page load and after sign-in)."""
    return gr.Button(interactive=caller(jobs.access, request, admin_token or None, profile).admin)


# -------------------------------------------------------------------------------- wiring
def wire(view: Any, jobs: Any, demo: gr.Blocks) -> None:
    """The search and push events (call after the tab's own wiring, inside its Blocks)."""
    trial_outputs = [view.best_md, view.trials_table, view.trials_raw]
    view.status_raw.change(bind(trials_view, jobs), view.status_raw, [view.trials_box, *trial_outputs], **PRIVATE)
    view.trials_refresh.click(bind(train_trials, jobs), view.run_id, trial_outputs, api_name="train_trials")
    filled = [view.inputs[name] for name in (*TRIAL_PARAMS, "search_trials")]
    view.use_best.click(bind(use_best, jobs), view.trials_raw, filled, queue=False, **PRIVATE)
    push_inputs = [view.push_id, view.push_repo, view.push_token, view.admin_token]
    view.push.click(bind(train_push, jobs), push_inputs, view.push_raw, api_name="train_push")
    view.show_trials.click(bind(past_trials, jobs), view.trials_id, [view.trials_box, *trial_outputs], **PRIVATE)
    choices = [view.trials_id, view.push_id]
    view.runs_raw.change(bind(run_choices, jobs), view.runs_raw, choices, queue=False, **PRIVATE)
    access = bind(push_access, jobs)
    view.sign_in.click(access, view.admin_token, view.push, **PRIVATE)
    view.admin_token.submit(access, view.admin_token, view.push, **PRIVATE)
    if jobs.access.public:
        demo.load(access, None, view.push, queue=False, **PRIVATE)
