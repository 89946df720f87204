"""The Insight tab: Explain, Evaluate, Batch, Compare models. Each sub-tab is its own module,
over `studio.insight.Insight` (reached through studio.studio)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.insight import batch, compare, evaluate, explain

SUB_TABS = (
    ("Explain a classification", "explain", explain),
    ("Evaluate on a file", "evaluate", evaluate),
    ("Batch a file", "batch", batch),
    ("Two models side by side", "compare-models", compare),
)


def build(insight: Any, ctx: Any) -> None:
    """The Insight tab's sub-tabs (call inside `with gr.Tab("Insight")`)."""
    with gr.Tabs():
        for title, tab_id, module in SUB_TABS:
            with gr.Tab(title, id=tab_id):
                module.build(insight, ctx)
