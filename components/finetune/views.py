"""The Fine-tune tab's layout, and how a run's status is drawn (progress bar, loss plot, tables).

The inputs of /train_start are built from the spec's params (`studio.jobs.spec`), so their
defaults and ranges are the API's; a few need more than a plain widget (the base model
list, the upload, the column pickers, the token) and are built here with the spec's labels.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr
import pandas as pd

from components.finetune.search_views import search_settings, trials_panel
from components.widgets import widget
from studio.spec.param import Spec

PLOT_SERIES = {"loss": "train loss", "eval_loss": "eval loss"}
# The hyperparameter widgets, row by row (API names).
HYPERPARAMETER_ROWS = (
    ("num_train_epochs", "per_device_train_batch_size", "learning_rate"),
    ("warmup_ratio", "weight_decay", "gradient_accumulation_steps"),
    ("seed", "max_length", "num_processes"),
    ("precision", "eval_each_epoch", "save_each_epoch", "load_best_model_at_end"),
)
# Gradio's own autoscroll follows a textbox once only: the log is kept at its end here, on
# every update, unless the reader has scrolled up (they follow again at the bottom).
FOLLOW_LOG_JS = """() => requestAnimationFrame(() => {
  const box = document.querySelector('.log-tail textarea');
  if (!box) return;
  const end = () => { box.scrollTop = box.scrollHeight; box.dataset.height = box.scrollHeight; };
  if (!box.dataset.watched) {  // shown again (its tab reopened): back to the end if following
    box.dataset.watched = '1';
    new ResizeObserver(() => { if (box.clientHeight && box.dataset.follow !== '0') end(); }).observe(box);
  }
  if (!box.clientHeight) return;
  const last = Number(box.dataset.height || 0);  // the height the reader last saw
  box.dataset.follow = !last || box.scrollTop + box.clientHeight >= last - 24 ? '1' : '0';
  if (box.dataset.follow === '1') end(); else box.dataset.height = box.scrollHeight;
})"""
# The last parameter of /train_start's first version: admin_token follows it, and the parameters
# added since (LoRA) follow admin_token, so calls written for the older endpoint keep working.
FIRST_VERSION_ENDS = "hub_token"


def admin_position(spec: Spec) -> int:
    """Where admin_token goes among the spec's parameters (after FIRST_VERSION_ENDS)."""
    names = spec.names
    return names.index(FIRST_VERSION_ENDS) + 1 if FIRST_VERSION_ENDS in names else len(names)


LORA_SETTINGS = ("use_lora", "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "merge_adapter")
# Where a finished run's model is offered, when more than its own tab.
OFFERED_IN = {"text-generation": "Text generation and Chat tabs"}
RUN_COLUMNS = ["run", "status", "task", "base model", "data", "accuracy", "f1", "resumable"]


# ------------------------------------------------------------------------------- drawing
def loss_frame(metrics: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Train and eval loss by step, long format for gr.LinePlot; None while there is none yet.

    Gradio 6 fixes a LinePlot's colours (its series) at its first drawing and only swaps the
    data after that, so a series missing then is never drawn: eval loss, which comes an epoch
    later. So every frame names each series, one still without points as a blank (NaN) row."""
    rows = [
        {"step": record["step"], "value": float(record[key]), "series": series}
        for record in metrics
        for key, series in PLOT_SERIES.items()
        if isinstance(record.get(key), int | float)
    ]
    if not rows:
        return None
    drawn = {row["series"] for row in rows}
    rows += [{"step": rows[0]["step"], "value": math.nan, "series": s} for s in PLOT_SERIES.values() if s not in drawn]
    # explicit dtypes: an object column makes the plot treat the axis as categories
    return pd.DataFrame(rows, columns=["step", "value", "series"]).astype({"step": "int64", "value": "float64"})


def progress_html(status: dict[str, Any]) -> str:
    step, total = status["step"], status["max_steps"]
    fraction = step / total if total else (1.0 if status["status"] == "completed" else 0.0)
    eta = status.get("eta_seconds")
    eta_text = f" · ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else ""
    return (
        f'<div class="train-progress" data-step="{step}" data-max-steps="{total}">'
        f'<div style="background:#e5e7eb;border-radius:6px;height:14px;overflow:hidden">'
        f'<div style="background:#f97316;height:14px;width:{fraction * 100:.1f}%"></div></div>'
        f"<small>step {step} / {total or '?'} · epoch {status['epoch']:.2f}{eta_text}</small></div>"
    )


def status_markdown(status: dict[str, Any]) -> str:
    text = f"**Run** `{status['run_id']}` · **{status['status']}**"
    if status.get("queue_position"):
        text += f" (position {status['queue_position']} in the queue)"
    if status.get("error"):
        text += f"\n\n⚠️ {status['error']}"
    if status.get("final_metrics"):
        metrics = status["final_metrics"].items()
        shown = {k: round(v, 4) for k, v in metrics if k in ("accuracy", "f1", "exact_match", "loss", "perplexity")}
        where = OFFERED_IN.get(status["task"], f"{status['task']} tab")
        text += f"\n\nFinal metrics: {shown}. The model is now offered in the {where}."
    return text


def runs_frame(runs: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for run in runs:
        metrics = run.get("final_metrics") or {}
        rows.append(
            {
                "run": run["run_id"],
                "status": run["status"],
                "task": run["task"],
                "base model": run["base_model"],
                "data": run.get("data"),
                "accuracy": round(metrics["accuracy"], 4) if "accuracy" in metrics else None,
                "f1": round(metrics["f1"], 4) if "f1" in metrics else None,
                "resumable": "yes" if run.get("resumable") else "",
            }
        )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def queue_markdown(queued: list[str]) -> str:
    return "Queue: " + (", ".join(f"`{run_id}`" for run_id in queued) if queued else "empty")


def empty_counts() -> pd.DataFrame:
    return pd.DataFrame(columns=["label", "count"])


# -------------------------------------------------------------------------------- layout
class FinetuneView:
    """The tab's components: /train_start's in `inputs` (by API name), the others as attributes."""

    def __init__(self) -> None:
        self.inputs: dict[str, gr.Component] = {}

    def start_inputs(self, spec: Spec) -> list[gr.Component]:
        return [self.inputs[name] for name in spec.names]

    def train_inputs(self, spec: Spec) -> list[gr.Component]:
        """/train_start's inputs: the spec's, with the admin token after the first version's."""
        inputs = self.start_inputs(spec)
        split = admin_position(spec)
        return [*inputs[:split], self.admin_token, *inputs[split:]]

    @property
    def stream_outputs(self) -> list[gr.Component]:
        return [self.status_md, self.progress, self.plot, self.log_tail, self.queue_md, self.status_raw]

    @property
    def runs_outputs(self) -> list[gr.Component]:
        return [self.runs_table, self.resume_id, self.delete_id, self.runs_raw]

    @property
    def admin_buttons(self) -> list[gr.Component]:
        """Disabled for a visitor of a public app (handlers.access_view); Stop also while no run is on."""
        return [self.train, self.stop, self.resume, self.delete]


def _data_inputs(view: FinetuneView, spec: Spec, jobs: Any) -> None:
    inputs = view.inputs
    task = spec["task"]
    inputs["task"] = widget(task)
    inputs["model"] = gr.Dropdown(
        [(e.display_name, e.public_id) for e in jobs.base_models(task.default)],
        value=jobs.default_base_model(task.default),
        label=spec["model"].title,
        info="Classification: a new head is added for your labels. Text generation: it learns your responses.",
        # Checked by the JobManager (models.yaml encoders + earlier runs), so the API can pick any task's.
        allow_custom_value=True,
        elem_classes=["base-model"],
    )
    inputs["sample"] = widget(spec["sample"])
    inputs["dataset"] = gr.File(
        label=spec["dataset"].title, file_types=[".csv", ".tsv", ".json", ".jsonl", ".zip"], type="filepath"
    )
    with gr.Row():
        for name in ("text_column", "label_column"):
            inputs[name] = gr.Dropdown([], value="", label=spec[name].title, allow_custom_value=True)
    view.counts = gr.Dataframe(
        empty_counts(), label="Labels found", interactive=False, max_height=220, visible=False
    )  # shown with the chosen data's labels


def _settings(view: FinetuneView, spec: Spec, jobs: Any) -> None:
    inputs = view.inputs
    with gr.Accordion("Hyperparameters", open=False):
        for row in HYPERPARAMETER_ROWS:
            with gr.Row():
                for name in row:
                    inputs[name] = widget(spec[name])
    lora_shown = jobs.trains_lora(spec["task"].default)
    with gr.Accordion("LoRA (text generation)", open=True, visible=lora_shown) as view.lora_settings:
        with gr.Row():
            for name in LORA_SETTINGS[:4]:
                inputs[name] = widget(spec[name])
        with gr.Row():
            for name in LORA_SETTINGS[4:]:
                inputs[name] = widget(spec[name])
    search_settings(view, spec)  # /train_start's search_* inputs (search_views.py)
    with gr.Accordion("Push to the Hub", open=False):
        inputs["push_to_hub"] = widget(spec["push_to_hub"])
        inputs["hub_model_id"] = widget(spec["hub_model_id"], placeholder="you/my-model")
        token = spec["hub_token"]
        inputs["hub_token"] = gr.Textbox(token.default, label=token.title, type="password")


def _run_panel(view: FinetuneView, jobs: Any) -> None:
    # The run's boxes are hidden until they have something to show (handlers.views).
    view.run_id = gr.Textbox(label="Run", interactive=False, elem_classes=["run-id"], visible=False)
    view.status_md = gr.Markdown("No run yet.", elem_classes=["train-status"])
    idle = {"step": 0, "max_steps": 0, "epoch": 0.0, "status": "", "eta_seconds": None}
    view.progress = gr.HTML(progress_html(idle), visible=False)
    view.plot = gr.LinePlot(
        None, x="step", y="value", color="series", title="Loss", elem_classes=["loss-plot"], height=260, visible=False
    )
    trials_panel(view)  # a search run's trials and best trial
    view.log_tail = gr.Textbox(
        label="Log (last lines)", lines=10, max_lines=10, autoscroll=True, elem_classes=["log-tail"], visible=False
    )
    view.queue_md = gr.Markdown(queue_markdown(jobs.queue()), elem_classes=["train-queue"])
    with gr.Accordion("Raw status", open=False):
        view.start_raw = gr.JSON(label="Start")
        view.status_raw = gr.JSON(label="Status", elem_classes=["status-raw"])
        view.stop_raw = gr.JSON(label="Stop")


def _past_runs(view: FinetuneView, jobs: Any, admin: bool) -> None:
    gr.Markdown("### Past runs")
    runs = jobs.runs()
    with gr.Row():
        view.runs_table = gr.Dataframe(
            runs_frame(runs), interactive=False, elem_classes=["runs-table"], max_height=300, visible=bool(runs)
        )
    with gr.Row():
        view.refresh = gr.Button("Refresh runs")
        view.resume_id = gr.Dropdown(
            [r["run_id"] for r in runs if r["resumable"]], label="Resumable run", allow_custom_value=True
        )
        view.resume = gr.Button("Resume from last checkpoint", interactive=admin)
    with gr.Row():
        finished = [r["run_id"] for r in runs if r["status"] in ("completed", "failed", "stopped")]
        view.delete_id = gr.Dropdown(finished, label="Finished run to delete", allow_custom_value=True, scale=3)
        view.delete = gr.Button("Delete run", variant="stop", interactive=admin, scale=1)
    view.runs_raw = gr.JSON(visible=False)


def _admin_row(view: FinetuneView, access: Any) -> None:
    """Public mode: the read-only line, the admin box and (on a Space) Hugging Face sign-in.
    Hidden on localhost; the box still gives the admin endpoints their admin_token."""
    with gr.Row(visible=access.public, elem_classes=["admin-row"]):
        view.access_md = gr.Markdown(access.visitor_hint(), elem_classes=["access-line"])
        view.admin_token = gr.Textbox(
            "", label="Admin token", type="password", placeholder="once per browser session", scale=2
        )
        view.sign_in = gr.Button("Sign in as admin", scale=1)
        if access.oauth:
            gr.LoginButton(scale=1)


def layout(jobs: Any) -> FinetuneView:
    """Build the tab's components (call inside `with gr.Tab(...)`)."""
    spec: Spec = jobs.spec
    view = FinetuneView()
    admin = not jobs.access.public  # a visitor of a public app sees the tab read-only
    gr.Markdown(
        "Fine-tune a model on your data: an encoder as a classifier or question answerer, an encoder-decoder "
        "for summaries or translations, an image classifier (a zip of class folders), or a causal LM on "
        "instructions (full or LoRA), served in Text generation and Chat. The run happens in its own process "
        "on the server, so you can close or reload the page. One run trains at a time; others wait in the queue."
    )
    _admin_row(view, jobs.access)
    with gr.Row():
        with gr.Column(scale=2):
            _data_inputs(view, spec, jobs)
            _settings(view, spec, jobs)
            with gr.Row():
                view.train = gr.Button("Train", variant="primary", elem_classes=["train-button"], interactive=admin)
                view.stop = gr.Button("Stop", variant="stop", elem_classes=["stop-button"], interactive=False)
                view.show = gr.Button("Show command")
            view.command = gr.Code(  # shown by Show command
                label="The run as a command and config.json", language="shell", visible=False, value=""
            )
        with gr.Column(scale=3):
            _run_panel(view, jobs)
    _past_runs(view, jobs, admin)
    return view
