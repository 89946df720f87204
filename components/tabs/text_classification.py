"""Text > Text classification: labels and scores for a piece of text."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext
from components.outputs import as_label

EXAMPLES = [
    {"text": "I loved every minute of this film, the cast was wonderful.", "top_k": 2},
    {"text": "The delivery was late and the box arrived crushed.", "top_k": 2},
    {"text": "Das Essen war ausgezeichnet und der Service sehr freundlich.", "top_k": 3},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("text-classification")
    with gr.Row():
        with gr.Column():
            ui.input("text", lines=5, placeholder="Type or paste text to classify…", info=None)
            ui.input("top_k")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [as_label(result.output)], examples=EXAMPLES)
