"""Multimodal > Image captioning: a sentence about an image, optionally started by a prompt."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.media_inputs import image_input

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    [str(IMAGES / "cat.jpg"), ""],
    [str(IMAGES / "coffee.jpg"), "a photo of"],
    [str(IMAGES / "rocket.jpg"), "a picture of"],
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-to-text")
    with gr.Row():
        with gr.Column():
            image = image_input("Image", elem_classes=["caption-image"])
            prompt = gr.Textbox(
                label="prompt", placeholder="Optional start of the caption, e.g. a photo of", info="May be empty"
            )
            max_new_tokens = gr.Slider(1, 128, value=30, step=1, label="max_new_tokens")
            ui.run_button("Caption")
        with gr.Column():
            caption = gr.Textbox(label="Caption", lines=3, interactive=False, elem_classes=["caption-output"])
            ui.raw_output()
    ui.finish(
        inputs=[image, prompt, max_new_tokens],
        outputs=[caption],
        to_outputs=lambda result: [result[0]["generated_text"] if result else ""],
        examples=EXAMPLES,
    )
