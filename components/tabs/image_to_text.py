"""Multimodal > Image captioning: a sentence about an image, optionally started by a prompt."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "prompt": ""},
    {"image": str(IMAGES / "coffee.jpg"), "prompt": "a photo of"},
    {"image": str(IMAGES / "rocket.jpg"), "prompt": "a picture of"},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-to-text")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["caption-image"])
            ui.input("prompt")
            ui.input("max_new_tokens")
            ui.run_button("Caption")
        with gr.Column():
            caption = gr.Textbox(label="Caption", lines=3, interactive=False, elem_classes=["caption-output"])
            ui.raw_output()
    ui.finish(
        outputs=[caption],
        to_outputs=lambda result: [result.output[0]["generated_text"] if result.output else ""],
        examples=EXAMPLES,
    )
