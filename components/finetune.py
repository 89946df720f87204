"""Fine-tune tab: pick a base model and data, set hyperparameters, Train, and watch it learn.

Training runs in a subprocess (studio.training.jobs); this tab only polls its files, so a
closed or reloaded page never blocks it, and a reloaded page re-attaches to the running job.
API: /train_start, /train_status, /train_stop, /train_runs (and /train_resume, /train_command).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import gradio as gr
import pandas as pd

from components.errors import shown_as_gr_error
from studio.training import data as training_data
from studio.training.jobs import DEFAULTS, PRECISIONS, JobManager, status_stream

TASK_CHOICES = [("Text classification", "text-classification"), ("Token classification (NER)", "token-classification")]
SAMPLE_CHOICES = [("none: upload a file", "")] + [
    (f"{name}: {sample.description}", name) for name, sample in training_data.SAMPLES.items()
]
PLOT_SERIES = {"loss": "train loss", "eval_loss": "eval loss"}

# /train_start's parameters, in order (names as in TrainingArguments where there is one).
START_PARAMETERS = [
    ("task", "text-classification"),
    ("model", None),
    ("dataset", None),
    ("sample", ""),
    ("text_column", ""),
    ("label_column", ""),
    *[
        (name, DEFAULTS[name])
        for name in (
            "num_train_epochs",
            "per_device_train_batch_size",
            "learning_rate",
            "warmup_ratio",
            "weight_decay",
            "gradient_accumulation_steps",
            "seed",
            "max_length",
            "num_processes",
            "precision",
            "eval_each_epoch",
            "save_each_epoch",
            "load_best_model_at_end",
        )
    ],
    ("push_to_hub", False),
    ("hub_model_id", ""),
    ("hub_token", ""),
]


def with_signature(function: Any, parameters: list[tuple[str, Any]], name: str) -> Any:
    """Give a *args handler the real parameter names, so the API shows them."""
    function.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for p, d in parameters]
    )
    function.__name__ = name
    return function


def loss_frame(metrics: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Train and eval loss by step, long format for gr.LinePlot; None while there is none yet
    (Gradio 6 never draws a coloured LinePlot whose value was once an empty frame)."""
    rows = [
        {"step": record["step"], "value": float(record[key]), "series": series}
        for record in metrics
        for key, series in PLOT_SERIES.items()
        if isinstance(record.get(key), int | float)
    ]
    if not rows:
        return None
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
        shown = {k: round(v, 4) for k, v in status["final_metrics"].items() if k in ("accuracy", "f1", "loss")}
        text += f"\n\nFinal metrics: {shown}. The model is now offered in the {status['task']} tab."
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
    return pd.DataFrame(rows, columns=["run", "status", "task", "base model", "data", "accuracy", "f1", "resumable"])


def queue_markdown(jobs: JobManager) -> str:
    queued = jobs.queue()
    return "Queue: " + (", ".join(f"`{run_id}`" for run_id in queued) if queued else "empty")


def build(jobs: JobManager, demo: gr.Blocks) -> None:
    """The Fine-tune tab (call inside `with gr.Tab(...)`)."""
    gr.Markdown(
        "Fine-tune an encoder on your data: the run happens in its own process (output to files in "
        f"`{jobs.runs_dir}`), so you can close or reload the page. One run trains at a time; others wait in the queue."
    )
    default_task = "text-classification"
    with gr.Row():
        with gr.Column(scale=2):
            task = gr.Radio(TASK_CHOICES, value=default_task, label="Task")
            model = gr.Dropdown(
                [(e.display_name, e.id) for e in jobs.base_models(default_task)],
                value=jobs.default_base_model(default_task),
                label="Base model",
                info="A new classification head is added for your labels.",
                # Checked by JobManager (models.yaml encoders + earlier runs), so the API can pick any task's.
                allow_custom_value=True,
                elem_classes=["base-model"],
            )
            sample = gr.Dropdown(SAMPLE_CHOICES, value="", label="Bundled sample")
            dataset = gr.File(
                label="Or upload data (CSV, TSV, JSON, JSONL)",
                file_types=[".csv", ".tsv", ".json", ".jsonl"],
                type="filepath",
            )
            with gr.Row():
                text_column = gr.Dropdown([], value="", label="Text column", allow_custom_value=True)
                label_column = gr.Dropdown([], value="", label="Label column", allow_custom_value=True)
            counts = gr.Dataframe(
                pd.DataFrame(columns=["label", "count"]), label="Labels found", interactive=False, max_height=220
            )
            with gr.Accordion("Hyperparameters", open=False):
                with gr.Row():
                    epochs = gr.Number(DEFAULTS["num_train_epochs"], label="num_train_epochs", minimum=0.01)
                    batch = gr.Number(
                        DEFAULTS["per_device_train_batch_size"], label="per_device_train_batch_size", precision=0
                    )
                    lr = gr.Number(DEFAULTS["learning_rate"], label="learning_rate")
                with gr.Row():
                    warmup = gr.Number(DEFAULTS["warmup_ratio"], label="warmup_ratio")
                    decay = gr.Number(DEFAULTS["weight_decay"], label="weight_decay")
                    accumulation = gr.Number(
                        DEFAULTS["gradient_accumulation_steps"], label="gradient_accumulation_steps", precision=0
                    )
                with gr.Row():
                    seed = gr.Number(DEFAULTS["seed"], label="seed", precision=0)
                    max_length = gr.Number(DEFAULTS["max_length"], label="max_length", precision=0)
                    processes = gr.Number(
                        DEFAULTS["num_processes"],
                        label="num_processes",
                        precision=0,
                        info="2+: torchrun on the CPU, accelerate launch on GPUs",
                    )
                with gr.Row():
                    precision = gr.Dropdown(list(PRECISIONS), value="no", label="precision", info="fp16 needs a GPU")
                    eval_each = gr.Checkbox(True, label="Evaluate each epoch")
                    save_each = gr.Checkbox(True, label="Save a checkpoint each epoch")
                    best = gr.Checkbox(False, label="load_best_model_at_end")
            with gr.Accordion("Push to the Hub", open=False):
                push = gr.Checkbox(False, label="Push the model to the Hub when done")
                hub_model_id = gr.Textbox("", label="hub_model_id", placeholder="you/my-model")
                hub_token = gr.Textbox(
                    "", label="Hub token (write access; kept in memory only, never logged)", type="password"
                )
            with gr.Row():
                train = gr.Button("Train", variant="primary", elem_classes=["train-button"])
                stop = gr.Button("Stop", variant="stop", elem_classes=["stop-button"])
                show = gr.Button("Show command")
            command = gr.Code(label="The run as a command and config.json", language="shell", visible=True, value="")
        with gr.Column(scale=3):
            run_id = gr.Textbox(label="Run", interactive=False, elem_classes=["run-id"])
            status_md = gr.Markdown("No run yet.", elem_classes=["train-status"])
            progress = gr.HTML(
                progress_html({"step": 0, "max_steps": 0, "epoch": 0.0, "status": "", "eta_seconds": None})
            )
            plot = gr.LinePlot(
                None,
                x="step",
                y="value",
                color="series",
                title="Loss",
                elem_classes=["loss-plot"],
                height=260,
            )
            log_tail = gr.Textbox(
                label="Log (last lines)", lines=10, max_lines=10, autoscroll=True, elem_classes=["log-tail"]
            )
            queue_md = gr.Markdown(queue_markdown(jobs), elem_classes=["train-queue"])
            with gr.Accordion("Raw status", open=False):
                start_raw = gr.JSON(label="Start")
                status_raw = gr.JSON(label="Status", elem_classes=["status-raw"])
                stop_raw = gr.JSON(label="Stop")
    gr.Markdown("### Past runs")
    with gr.Row():
        runs_table = gr.Dataframe(
            runs_frame(jobs.runs()), interactive=False, elem_classes=["runs-table"], max_height=300
        )
    with gr.Row():
        refresh = gr.Button("Refresh runs")
        resume_id = gr.Dropdown(
            [r["run_id"] for r in jobs.runs() if r["resumable"]], label="Resumable run", allow_custom_value=True
        )
        resume = gr.Button("Resume from last checkpoint")
    runs_raw = gr.JSON(visible=False)

    start_inputs = [task, model, dataset, sample, text_column, label_column, epochs, batch, lr, warmup, decay]
    start_inputs += [accumulation, seed, max_length, processes, precision, eval_each, save_each, best, push]
    start_inputs += [hub_model_id, hub_token]
    stream_outputs = [status_md, progress, plot, log_tail, queue_md, status_raw]

    def arguments(values: tuple[Any, ...]) -> dict[str, Any]:
        named = dict(zip([name for name, _ in START_PARAMETERS], values))
        named.pop("hub_token", None)
        for key in ("sample", "text_column", "label_column", "hub_model_id"):
            named[key] = named[key] or None
        return named

    def start(*values: Any) -> tuple[str, dict[str, str]]:
        with shown_as_gr_error("Starting the training run"):
            token = dict(zip([name for name, _ in START_PARAMETERS], values)).get("hub_token") or None
            config = jobs.build_config(**arguments(values))
            new_id = jobs.start(config, hub_token=token)
        return new_id, {"run_id": new_id}

    def command_preview(*values: Any) -> str:
        with shown_as_gr_error("Show command"):
            return jobs.preview(**arguments(values))

    def views(status: dict[str, Any]) -> tuple[Any, ...]:
        return (
            status_markdown(status),
            progress_html(status),
            loss_frame(status["metrics"]),
            status["log_tail"],
            queue_markdown(jobs),
            status,
        )

    def train_status(run_id: str) -> Iterator[tuple[Any, ...]]:
        """Stream the run's status (log tail, progress, loss) until it ends."""
        with shown_as_gr_error("Training status"):
            jobs.run_dir(run_id)
        for status in status_stream(jobs, run_id)():
            yield views(status)

    def train_stop(run_id: str) -> dict[str, Any]:
        """Stop a run (queued: leaves the queue; running: SIGTERM, then SIGKILL after a grace period)."""
        with shown_as_gr_error("Stop"):
            status = jobs.stop(run_id)
        return {key: status[key] for key in ("run_id", "status", "step", "max_steps")}

    def train_runs() -> tuple[pd.DataFrame, gr.Dropdown, list[dict[str, Any]]]:
        """Every run, newest first, with its final metrics and the model id the inference tab accepts."""
        runs = jobs.runs()
        shown = [
            {k: run[k] for k in ("run_id", "status", "task", "base_model", "final_metrics", "model_id")} for run in runs
        ]
        resumable = gr.Dropdown(choices=[r["run_id"] for r in runs if r["resumable"]])
        return runs_frame(runs), resumable, shown

    def runs_view() -> tuple[pd.DataFrame, gr.Dropdown, list[dict[str, Any]]]:
        return train_runs()

    def train_resume(run_id: str) -> tuple[str, dict[str, str]]:
        with shown_as_gr_error("Resume"):
            resumed = jobs.resume(run_id)
        return resumed, {"run_id": resumed}

    def attach() -> Iterator[tuple[Any, ...]]:
        """On page load: re-attach to the running (or first queued) run."""
        active = jobs.active_run()
        if active is None:
            return
        for status in status_stream(jobs, active)():
            yield (active, *views(status))

    def choose_task(chosen: str, current: str | None) -> gr.Dropdown:
        choices = [(e.display_name, e.id) for e in jobs.base_models(chosen)]
        ids = [i for _, i in choices]
        return gr.Dropdown(choices=choices, value=current if current in ids else jobs.default_base_model(chosen))

    def describe(path: str | None, chosen_sample: str, chosen_task: str) -> tuple[Any, ...]:
        with shown_as_gr_error("Reading the data"):
            if path:
                summary = training_data.summarize(path, chosen_task)
                new_task = chosen_task
            elif chosen_sample:
                bundled = training_data.sample(chosen_sample)
                new_task = bundled.task
                summary = training_data.summarize(bundled.train, new_task)
                summary.text_column, summary.label_column = bundled.text_column, bundled.label_column
            else:
                empty = pd.DataFrame(columns=["label", "count"])
                return gr.Dropdown(choices=[], value=""), gr.Dropdown(choices=[], value=""), empty, chosen_task
        frame = pd.DataFrame(list(summary.label_counts.items()), columns=["label", "count"])
        return (
            gr.Dropdown(choices=summary.columns, value=summary.text_column or ""),
            gr.Dropdown(choices=summary.columns, value=summary.label_column or ""),
            frame,
            new_task,
        )

    def recount(path: str | None, chosen_sample: str, chosen_task: str, label: str) -> pd.DataFrame:
        source = path or (training_data.sample(chosen_sample).train if chosen_sample else None)
        if not source or not label:
            return pd.DataFrame(columns=["label", "count"])
        with shown_as_gr_error("Reading the data"):
            table = training_data.read_table(source)
            if label not in table.column_names:
                return pd.DataFrame(columns=["label", "count"])
            found = training_data.label_counts(table, chosen_task, label)
        return pd.DataFrame(list(found.items()), columns=["label", "count"])

    quiet = {"api_visibility": "undocumented", "show_progress": "hidden"}
    task.change(choose_task, [task, model], model, queue=False, **quiet)
    dataset.upload(describe, [dataset, sample, task], [text_column, label_column, counts, task], **quiet)
    sample.input(describe, [dataset, sample, task], [text_column, label_column, counts, task], **quiet)
    label_column.input(recount, [dataset, sample, task, label_column], counts, **quiet)

    start_handler = with_signature(start, START_PARAMETERS, "train_start")
    started = train.click(start_handler, start_inputs, [run_id, start_raw], api_name="train_start")
    streaming = started.success(
        train_status, run_id, stream_outputs, api_name="train_status", concurrency_limit=None, show_progress="hidden"
    )
    runs_outputs = [runs_table, resume_id, runs_raw]
    streaming.then(runs_view, None, runs_outputs, **quiet)
    stop.click(train_stop, run_id, stop_raw, api_name="train_stop", concurrency_limit=None)
    refresh.click(train_runs, None, runs_outputs, api_name="train_runs", concurrency_limit=None)
    resumed = resume.click(train_resume, resume_id, [run_id, start_raw], api_name="train_resume")
    resumed.success(train_status, run_id, stream_outputs, concurrency_limit=None, **quiet).then(
        runs_view, None, runs_outputs, **quiet
    )
    preview_handler = with_signature(command_preview, START_PARAMETERS, "train_command")
    show.click(preview_handler, start_inputs, command, api_name="train_command")
    demo.load(attach, None, [run_id, *stream_outputs], concurrency_limit=None, **quiet).then(
        runs_view, None, runs_outputs, **quiet
    )
