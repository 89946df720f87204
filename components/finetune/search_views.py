"""The Fine-tune tab's hyperparameter search and "Push to the Hub" parts as drawn: the search_*
inputs, the trials table with the best trial, and the push panel. The page (views.py) lays them
out; search.py's handlers fill them.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.widgets import widget
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
