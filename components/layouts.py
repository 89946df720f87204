"""Tab layouts several tasks share, so a tab that looks like another is one call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from components.context import TabContext
from components.outputs import as_label


def scored_labels_tab(
    ctx: TabContext,
    task_id: str,
    examples: list[Mapping[str, Any]],
    input_classes: list[str] | None = None,
    **input_layout: Any,
) -> None:
    """An input, top_k and Classify on the left; the labels with their scores on the right
    (text, image and audio classification)."""
    ui = ctx.task_ui(task_id)
    first = ui.spec.names[0]
    with gr.Row():
        with gr.Column():
            ui.input(first, elem_classes=input_classes, **input_layout)
            ui.input("top_k")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [as_label(result.output)], examples=examples)
