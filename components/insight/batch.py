"""Run a task over every row of a file, into a CSV. The page; the logic is studio/insight/batch.py.

Stop does not cancel the run (a cancelled event delivers nothing): it tells the run of this
browser session to stop after the rows in flight, and the run returns the CSV of the rows
done, with stopped=True in its summary.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components import run_errors, stopping
from components.api import caller
from components.context import TabContext
from components.errors import shown_as_gr_error

API_NAME = "batch"
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "data" / "sentiment" / "test.csv"
PREVIEW_ROWS = 20
PREVIEW_CHARS = 40  # shown per cell (a click shows the cell whole)
PREVIEW_CELL = 2000  # sent per cell
# The example file's tasks: a sentiment classifier, and the packaged sentence embedder (offline everywhere).
EXAMPLE_TASKS = ("text-classification", "feature-extraction")
FILE_TYPES = [".csv", ".tsv", ".json", ".jsonl", ".zip"]
# Column names that likely hold a task's input: the column list starts on the first one found.
INPUT_NAMES = ("text", "prompt", "question", "sentence", "image", "review", "content")


class SessionStops:
    """The running batch of each browser session, and its Stop flag."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    @contextmanager
    def running(self, session: str | None) -> Iterator[threading.Event]:
        event = threading.Event()
        if session:
            with self._lock:
                self._events[session] = event
        try:
            yield event
        finally:
            if session:
                with self._lock:
                    if self._events.get(session) is event:
                        del self._events[session]

    def stop(self, session: str | None) -> None:
        with self._lock:
            event = self._events.get(session or "")
        if event is not None:
            event.set()


STOPS = SessionStops()


def settings_text(settings: dict[str, Any]) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False)


def guess_column(columns: list[str], current: str | None) -> str | None:
    """The column kept (still in the file) or the likeliest input column."""
    if current in columns:
        return current
    for name in INPUT_NAMES:
        for column in columns:
            if column.lower() == name:
                return column
    return columns[0] if columns else None


def preview(path: str | None) -> Any:
    """The first rows of the results CSV, for the table under the download (a long cell, such
    as a sentence vector, cut to PREVIEW_CELL characters: the CSV has it whole)."""
    if not path:
        return gr.Dataframe(visible=False)
    table = pd.read_csv(path, nrows=PREVIEW_ROWS, keep_default_na=False, dtype=str)
    cut = table.map(lambda cell: cell if len(cell) <= PREVIEW_CELL else cell[: PREVIEW_CELL - 1] + "…")
    return gr.Dataframe(cut, visible=True)


def build(ctx: TabContext) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    studio = ctx.studio
    insight = studio.insight
    tasks = insight.batch_tasks()
    first = tasks[0][1] if tasks else None
    gr.Markdown(
        "Run a task on every row of a file: upload a CSV, TSV, JSON or JSONL table (or a zip of images for "
        "image classification), pick the column to read and the task's settings, and download a CSV with a "
        "result per row. Rows run in batches, as concurrent requests of the task's tab do."
    )
    with gr.Row():
        with gr.Column():
            task = gr.Dropdown(choices=tasks, value=first, label="Task", elem_classes=["batch-task"])
            model = gr.Dropdown(
                choices=studio.model_choices(first) if first else [],
                value=studio.default_model(first) if first else None,
                label="Model",
                allow_custom_value=True,  # checked by Studio.entry: only the task's models run
                elem_classes=["batch-model"],
            )
            dataset = gr.File(label="File", file_types=FILE_TYPES, type="filepath", elem_classes=["batch-file"])
            column = gr.Dropdown(
                choices=[], label="Input column", allow_custom_value=True, elem_classes=["batch-column"]
            )
            settings = gr.Code(
                value=settings_text(insight.batch_settings(first)) if first else "{}",
                language="json",
                label="Settings (the task's other inputs, by parameter name)",
                elem_classes=["batch-settings"],
            )
            with gr.Row():
                run = gr.Button("Run on every row", variant="primary", elem_classes=["run-button"])
                stop = stopping.stop_button()
        with gr.Column():
            error = run_errors.error_box()
            summary = gr.JSON(label="Summary", elem_classes=["batch-summary"])
            result = gr.File(label="Results (CSV)", interactive=False, elem_classes=["batch-result"])
            table = gr.Dataframe(
                label=f"First {PREVIEW_ROWS} rows",
                interactive=False,
                max_chars=PREVIEW_CHARS,
                visible=False,  # until a run has rows to show
                elem_classes=["batch-preview"],
            )

    def on_task(task_id: str | None) -> tuple[Any, str]:
        if not task_id:
            return gr.skip(), gr.skip()
        with shown_as_gr_error("Batch a file"):
            defaults = insight.batch_settings(task_id)
        choices = studio.model_choices(task_id)
        return gr.Dropdown(choices=choices, value=studio.default_model(task_id)), settings_text(defaults)

    def on_file(path: str | None, current: str | None) -> Any:
        if not path:
            return gr.Dropdown(choices=[], value=None)
        with shown_as_gr_error("Reading the file"):
            columns = insight.batch_columns(path)
        return gr.Dropdown(choices=columns, value=guess_column(columns, current))

    quiet = {"api_visibility": "undocumented", "queue": False, "show_progress": "hidden"}
    task.change(on_task, inputs=task, outputs=[model, settings], **quiet)
    dataset.change(on_file, inputs=[dataset, column], outputs=column, api_visibility="undocumented")

    def batch(
        task: str,
        model: str,
        dataset: str,
        column: str,
        settings: str = "",
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[str, dict]:
        """Run a task on every row of a file; the results as a CSV, and a summary of the run."""
        session = getattr(request, "session_hash", None)
        with STOPS.running(session) as stop_asked, shown_as_gr_error("Batch a file"):
            path, figures = studio.batch(
                task,
                model,
                dataset,
                column,
                insight.batch_settings_of(settings),
                progress=lambda fraction, message: progress(fraction, desc=message),
                should_stop=stop_asked.is_set,
                caller=caller(studio.access, request),
            )
        return str(path), figures

    started = stopping.on_start(stop, [run.click])
    event = started(
        fn=batch,
        inputs=[task, model, dataset, column, settings],
        outputs=[result, summary],
        api_name=API_NAME,
        concurrency_id=API_NAME,  # one batch at a time: it fills the model's batches by itself
        concurrency_limit=1,
        show_progress_on=[summary],
    )
    event.then(lambda: gr.Button(**stopping.IDLE), outputs=[stop], **stopping.QUIET)
    event.success(preview, inputs=result, outputs=table, api_visibility="undocumented", show_progress="hidden")
    run_errors.wire_error_box(event, error, [result, summary], API_NAME)

    def stop_batch(request: gr.Request) -> None:
        STOPS.stop(getattr(request, "session_hash", None))

    stop.click(stop_batch, **stopping.QUIET)
    offered = {task_id for _, task_id in tasks}
    examples = [[task_id, str(EXAMPLE_FILE)] for task_id in EXAMPLE_TASKS if task_id in offered]
    if examples:  # the file fills the column list, which starts on its "text" column
        gr.Examples(examples=examples, inputs=[task, dataset], label="Examples: the sentiment test reviews")
