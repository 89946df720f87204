"""Attributions for text classification (captum integrated gradients). The page; the logic is studio/insight/explain.py."""

from __future__ import annotations

from typing import Any

import gradio as gr


def build(insight: Any, ctx: Any) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    gr.Markdown("Not built yet.")
