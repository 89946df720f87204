"""The Fine-tune tab's hyperparameter search and "Push to the Hub" parts.

The search settings are /train_start's last parameters (search_*, studio/training/search.py);
a search run's trials show live in a table with the best one, and "Train with these settings"
copies the best trial's learning rate, batch size and epochs into the hyperparameter inputs
(search off) for a run that keeps its model. Push uploads a completed run's model with its
model card (admin-only in public mode, like Stop and Delete); the token is used for that one
push and never stored. API: /train_trials(run_id), /train_push(run_id, hub_model_id, hub_token,
admin_token).
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.errors import shown_as_gr_error
from components.widgets import widget
from studio.errors import UserError
from studio.spec.param import Spec

SEARCH_ROWS = (
    ("search_trials", "search_objective"),
    ("search_learning_rate_min", "search_learning_rate_max"),
    ("search_batch_sizes", "search_epochs_min", "search_epochs_max"),
)
# A trial's params, as the hyperparameter inputs name them, with the table's headings.
TRIAL_PARAMS = {
    "learning_rate": "learning rate",
    "per_device_train_batch_size": "batch size",
    "num_train_epochs": "epochs",
}
TRIAL_COLUMNS = ["trial", "state", *TRIAL_PARAMS.values(), "objective"]
PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}


# ------------------------------------------------------------------------------- drawing
def trials_frame(summary: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for trial in summary.get("trials") or []:
        params = trial.get("params") or {}
        objective = trial.get("objective")
        row = {"trial": trial["number"], "state": trial["state"]}
        row.update({heading: params.get(name) for name, heading in TRIAL_PARAMS.items()})
        if isinstance(params.get("learning_rate"), float):  # 3 significant digits are what differ
            row["learning rate"] = float(f"{params['learning_rate']:.3g}")
        row["objective"] = round(objective, 4) if isinstance(objective, int | float) else None
        rows.append(row)
    return pd.DataFrame(rows, columns=TRIAL_COLUMNS)


def best_markdown(summary: dict[str, Any]) -> str:
    """The best trial in one line (or why there is none yet)."""
    if not summary.get("search"):
        return "This run is not a hyperparameter search."
    metric = str(summary.get("objective", "")).removeprefix("eval_")
    goal = f"{summary.get('direction', 'maximize')} {metric}"
    best = summary.get("best")
    if best is None:
        return f"Search ({goal}): no completed trial yet."
    params = best["params"]
    shown = ", ".join(f"{TRIAL_PARAMS.get(name, name)} {value:.3g}" for name, value in params.items())
    return f"**Best trial {best['number']}** ({goal}): {metric} {best['objective']:.4f} with {shown}."


# -------------------------------------------------------------------------------- layout
def search_settings(view: Any, spec: Spec) -> None:
    """The search_* inputs of /train_start, in an accordion below the hyperparameters."""
    with gr.Accordion("Hyperparameter search (optuna)", open=False):
        gr.Markdown(
            "With trials > 0 the run tries learning rates, batch sizes and epochs in these ranges and keeps "
            "no model; then **Train with these settings** fills the hyperparameters with the best trial's."
        )
        for row in SEARCH_ROWS:
            with gr.Row():
                for name in row:
                    view.inputs[name] = widget(spec[name])


def trials_panel(view: Any) -> None:
    """The live trials table and the best trial (shown for a search run)."""
    with gr.Column(visible=False, elem_classes=["trials-panel"]) as view.trials_box:
        view.best_md = gr.Markdown("", elem_classes=["best-trial"])
        view.trials_table = gr.Dataframe(
            pd.DataFrame(columns=TRIAL_COLUMNS), label="Trials", interactive=False, elem_classes=["trials-table"]
        )
        with gr.Row():
            view.use_best = gr.Button("Train with these settings", elem_classes=["use-best"])
            view.trials_refresh = gr.Button("Refresh trials")
        view.trials_raw = gr.JSON(visible=False)


def push_panel(view: Any, jobs: Any) -> None:
    """A past search's trials (shown in the run panel), and Push a completed run's model (with its card)."""
    admin = not jobs.access.public
    with gr.Row():
        view.trials_id = gr.Dropdown(
            [r["run_id"] for r in jobs.runs()], label="A past run's search trials", allow_custom_value=True, scale=3
        )
        view.show_trials = gr.Button("Show its trials", scale=1)
    with gr.Accordion("Push a finished run to the Hub", open=False):
        with gr.Row():
            done = [r["run_id"] for r in jobs.runs() if r["model_id"]]
            view.push_id = gr.Dropdown(done, label="Completed run", allow_custom_value=True, scale=2)
            view.push_repo = gr.Textbox("", label="Hub repo (empty: the run's, else studio-<run>)", scale=2)
            view.push_token = gr.Textbox("", label="Hub token (write access; this push only)", type="password", scale=2)
        view.push = gr.Button("Push to the Hub", interactive=admin, elem_classes=["push-button"])
        view.push_raw = gr.JSON(label="Push")


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
    from components.finetune.handlers import actor  # handlers imports views, which imports this module

    with shown_as_gr_error("Push to the Hub"):
        who = actor(jobs, admin_token, request, profile)
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
    from components.finetune.handlers import actor

    return gr.Button(interactive=actor(jobs, admin_token or None, request, profile).admin)


# -------------------------------------------------------------------------------- wiring
def wire(view: Any, jobs: Any, demo: gr.Blocks) -> None:
    """The search and push events (call after the tab's own wiring, inside its Blocks)."""
    from components.finetune.handlers import bind

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
