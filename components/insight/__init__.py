"""The Insight tab: Explain, Evaluate, Batch, Compare models. Each sub-tab is its own module;
their actions go through Studio (Studio.explain, evaluate, batch, compare_models), which
applies the app's policy to the request's caller."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext
from components.insight import batch, compare, evaluate, explain

SUB_TABS = (
    ("Explain a classification", "explain", explain),
    ("Evaluate on a file", "evaluate", evaluate),
    ("Batch a file", "batch", batch),
    ("Two models side by side", "compare-models", compare),
)


def build(ctx: TabContext) -> None:
    """The Insight tab's sub-tabs (call inside `with gr.Tab("Insight")`)."""
    with gr.Tabs():
        for title, tab_id, module in SUB_TABS:
            with gr.Tab(title, id=tab_id):
                module.build(ctx)
