"""Refreshing the task tabs' model lists from events outside those tabs.

A model list is built with the page; a model made later (a completed fine-tuning run) is
added by refreshing the list: when its own tab is selected (components/app.py), and at once,
through `model_lists`, after every event that can add or remove one (a run ending, a run
deleted) and on page load, whether or not the task's tab is open.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import gradio as gr

from components.context import TaskUI


def model_lists(uis: Sequence[TaskUI], task_ids: Collection[str]) -> tuple[Callable[..., Any], list[gr.Dropdown]]:
    """The model dropdowns of the tabs of task_ids, and a handler that takes each one's pick
    and gives each its current choices, the pick kept (wire it with the dropdowns as both
    inputs and outputs)."""
    chosen = [ui for ui in uis if ui.task.id in task_ids and ui.model is not None]

    def refresh_model_lists(*picks: str | None) -> Any:
        updates = [ui.refresh_models(pick) for ui, pick in zip(chosen, picks)]
        return updates[0] if len(updates) == 1 else updates  # Gradio takes a lone output's value bare

    return refresh_model_lists, [ui.model for ui in chosen]
