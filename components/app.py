"""Assemble the Blocks app: modality tabs with a sub-tab per task, and the shared panels."""

from __future__ import annotations

import importlib
import logging

import gradio as gr

from components import finetune, loaded_models
from components.context import TabContext
from studio.studio import Studio
from studio.tasks import MODALITY_TITLES, Task, available_tasks
from studio.training.jobs import JobManager

log = logging.getLogger(__name__)

INTRO = """# Transformers Studio
Every common Transformers task in the browser. Pick a model, try an example, open **Show code**
to get the same call in Python. Models load on first use; every tab is also an API endpoint
(see "Use via API" at the bottom of the page)."""

CSS = """
.show-code pre { font-size: 0.85em; }
footer { margin-top: 1em; }
"""


def tab_module(task: Task) -> object | None:
    """components/tabs/<api name>.py, or None when the tab is not built yet."""
    try:
        return importlib.import_module(f"components.tabs.{task.api_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"components.tabs.{task.api_name}":
            raise
        return None


def build_app(studio: Studio, jobs: JobManager | None = None) -> gr.Blocks:
    """The whole page; tasks without an adapter, tab or models.yaml entry are left out.

    With a JobManager (fine-tuning runs), the Fine-tune tab is added."""
    ctx = TabContext(studio)
    with gr.Blocks(title="Transformers Studio") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            for modality, title in MODALITY_TITLES.items():
                tasks = [
                    (task, module)
                    for task in available_tasks()
                    if task.modality == modality
                    and studio.entries(task.id)
                    and (module := tab_module(task)) is not None
                ]
                if not tasks:
                    continue
                with gr.Tab(title, id=modality), gr.Tabs():
                    for task, module in tasks:
                        with gr.Tab(task.title, id=task.id) as task_tab:
                            module.build(ctx)
                        ui = ctx.task_uis[-1]
                        task_tab.select(
                            ui.refresh_models,
                            inputs=ui.model,
                            outputs=ui.model,
                            api_visibility="undocumented",
                            queue=False,
                        )
            if jobs is not None:
                with gr.Tab("Fine-tune", id="fine-tune"):
                    finetune.build(jobs, demo)
            with gr.Tab("Loaded models", id="loaded-models") as models_tab:
                loaded_models.build(studio, models_tab)
    return demo
