"""Vision > Image classification: the top labels for a photo."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.media_inputs import image_input
from components.outputs import as_label

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [[str(IMAGES / "cat.jpg"), 5], [str(IMAGES / "coffee.jpg"), 5], [str(IMAGES / "rocket.jpg"), 3]]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-classification")
    with gr.Row():
        with gr.Column():
            image = image_input(elem_classes=["image-upload"])
            top_k = gr.Slider(1, 20, value=5, step=1, label="top_k", info="How many labels to show")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(inputs=[image, top_k], outputs=[label], to_outputs=lambda result: [as_label(result)], examples=EXAMPLES)
