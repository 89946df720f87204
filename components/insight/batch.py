"""Run a task over every row of a file, into a CSV. The page; the logic is studio/insight/batch.py."""

from __future__ import annotations

from typing import Any

import gradio as gr


def build(insight: Any, ctx: Any) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    gr.Markdown("Not built yet.")
