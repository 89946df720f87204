"""Two models of one task on one input, side by side. The page; the logic is studio/insight/compare.py."""

from __future__ import annotations

from typing import Any

import gradio as gr


def build(insight: Any, ctx: Any) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    gr.Markdown("Not built yet.")
