"""Vision > Image classification: the top labels for a photo."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.outputs import as_label

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "top_k": 5},
    {"image": str(IMAGES / "coffee.jpg"), "top_k": 5},
    {"image": str(IMAGES / "rocket.jpg"), "top_k": 3},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-classification")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["image-upload"])
            ui.input("top_k")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [as_label(result.output)], examples=EXAMPLES)
