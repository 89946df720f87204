"""Assemble the Blocks app: modality tabs with a sub-tab per task, and the shared panels."""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

import gradio as gr

from components import finetune, insight, loaded_models
from components.context import TabContext
from components.errors import answer_gradio_errors
from components.run_errors import remember_errors
from studio.studio import Studio
from studio.tasks.task import MODALITY_TITLES, Task, TaskTableError, check_tasks

log = logging.getLogger(__name__)

INTRO = """# Transformers Studio
Every common Transformers task in the browser. Pick a model, try an example, open **Show code**
to get the same call in Python. Models load on first use; every tab is also an API endpoint
(see "Use via API" at the bottom of the page)."""

CSS = """
.show-code pre { font-size: 0.85em; }
.run-error { border-left: 4px solid var(--error-border-color, #ef4444); padding-left: 0.75em; }
footer { margin-top: 1em; }
/* A streaming output keeps its accent border, without Gradio's endless pulse: with software
   rendering, the pulse cost the browser ~0.3 of a core while a reply streamed (0.12 without it),
   taken from the model on a 2-core machine (bench/generation.py --page). */
.generating { animation: none !important; }
"""


def tab_module(task: Task) -> ModuleType:
    """The module the task row names for its tab; TaskTableError when it is missing or has no build()."""
    try:
        module = importlib.import_module(task.tab)
    except ModuleNotFoundError as exc:
        if exc.name != task.tab:
            raise
        raise TaskTableError(f"task {task.id}: no tab module {task.tab!r}") from None
    if not callable(getattr(module, "build", None)):
        raise TaskTableError(f"task {task.id}: tab module {task.tab!r} has no build(ctx)")
    return module


def check_task_table(studio: Studio) -> None:
    """Every row's adapter, snippet builder and tab exist: the app stops at start otherwise."""
    check_tasks(studio.tasks)
    for task in studio.tasks.values():
        tab_module(task)


OFFLINE_NOTE = (
    "**No model for this task is on this machine yet.** Pick one in the list and press **Download** "
    "(it needs a connection to the Hugging Face Hub); it then runs here, offline too."
)


def works_offline(studio: Studio, task: Task) -> bool:
    """Whether the model the tab starts on is on this machine (not one still to download)."""
    start = studio.default_model(task.id)
    return start is not None and not studio.needs_download(task.id, start)


def opening_task(studio: Studio) -> Task | None:
    """The first task, in page order, whose starting model works offline: the page opens on it."""
    for modality in MODALITY_TITLES:
        for task in studio.offered_tasks(modality):
            if works_offline(studio, task):
                return task
    return None


def build_app(studio: Studio) -> gr.Blocks:
    """The whole page: a sub-tab per task that has models; Fine-tune when studio.jobs is set."""
    check_task_table(studio)
    ctx = TabContext(studio)
    # Uploads and generated files are removed an hour after they were made (checked every 10 minutes).
    with gr.Blocks(title="Transformers Studio", delete_cache=(600, 3600)) as demo:
        gr.Markdown(INTRO)
        if studio.public and studio.access.public:
            gr.Markdown(studio.access.visitor_hint(), elem_classes=["visitor-hint"])
        opening = opening_task(studio)
        with gr.Tabs(selected=opening.modality if opening else None):
            for modality, title in MODALITY_TITLES.items():
                tasks = studio.offered_tasks(modality)
                if not tasks:
                    continue
                selected = opening.id if opening is not None and opening.modality == modality else None
                with gr.Tab(title, id=modality), gr.Tabs(selected=selected):
                    for task in tasks:
                        with gr.Tab(task.title, id=task.id) as task_tab:
                            if all(studio.needs_download(task.id, entry.id) for entry in studio.entries(task.id)):
                                gr.Markdown(OFFLINE_NOTE, elem_classes=["offline-note"])
                            tab_module(task).build(ctx)
                        ui = ctx.task_uis[-1]
                        task_tab.select(
                            ui.refresh_models,
                            inputs=ui.model,
                            outputs=ui.model,
                            api_visibility="undocumented",
                            queue=False,
                        )
            with gr.Tab("Insight", id="insight"):
                insight.build(ctx)
            if studio.jobs is not None:
                with gr.Tab("Fine-tune", id="fine-tune"):
                    finetune.build(studio, demo, ctx)
            with gr.Tab("Loaded models", id="loaded-models") as models_tab:
                loaded_models.build(studio, models_tab)
    answer_gradio_errors(demo)
    remember_errors(demo)  # a failed run's sentence stays in its tab (components/run_errors.py)
    return demo
