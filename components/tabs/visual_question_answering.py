"""Multimodal > Visual question answering: ask a question about an image, get scored answers."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.media_inputs import image_input

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    [str(IMAGES / "cat.jpg"), "What animal is this?", 3],
    [str(IMAGES / "shapes.png"), "How many circles are there?", 3],
    [str(IMAGES / "coffee.jpg"), "What is in the cup?", 5],
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("visual-question-answering")
    with gr.Row():
        with gr.Column():
            image = image_input("Image", elem_classes=["vqa-image"])
            question = gr.Textbox(label="question", placeholder="Ask something about the image…")
            top_k = gr.Slider(
                1, 20, value=3, step=1, label="top_k", info="Answer classifiers (ViLT); generative models give one"
            )
            ui.run_button("Answer")
        with gr.Column():
            answers = gr.Label(label="Answers")
            ui.raw_output()
    ui.finish(
        inputs=[image, question, top_k],
        outputs=[answers],
        to_outputs=lambda result: [{item["answer"]: item["score"] for item in result}],
        examples=EXAMPLES,
    )
