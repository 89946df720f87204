"""Text > Text classification: labels and scores for a piece of text."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext
from components.outputs import as_label

EXAMPLES = [
    ["I loved every minute of this film, the cast was wonderful.", 2],
    ["The delivery was late and the box arrived crushed.", 2],
    ["Das Essen war ausgezeichnet und der Service sehr freundlich.", 3],
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("text-classification")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=5, placeholder="Type or paste text to classify…")
            top_k = gr.Slider(1, 10, value=2, step=1, label="top_k", info="How many labels to show")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(inputs=[text, top_k], outputs=[label], to_outputs=lambda result: [as_label(result)], examples=EXAMPLES)
