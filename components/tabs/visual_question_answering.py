"""Multimodal > Visual question answering: ask a question about an image, get scored answers."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "question": "What animal is this?", "top_k": 3},
    {"image": str(IMAGES / "shapes.png"), "question": "How many circles are there?", "top_k": 3},
    {"image": str(IMAGES / "coffee.jpg"), "question": "What is in the cup?", "top_k": 5},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("visual-question-answering")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["vqa-image"])
            ui.input("question")
            ui.input("top_k")
            ui.run_button("Answer")
        with gr.Column():
            answers = gr.Label(label="Answers")
            ui.raw_output()
    ui.finish(
        outputs=[answers],
        to_outputs=lambda result: [{item["answer"]: item["score"] for item in result.output}],
        examples=EXAMPLES,
    )
