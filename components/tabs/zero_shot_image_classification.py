"""Vision > Zero-shot image classification: score a photo against labels you type (CLIP-style)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.media_inputs import image_input
from components.outputs import as_label
from studio.adapters.vision import DEFAULT_IMAGE_TEMPLATE

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    [str(IMAGES / "cat.jpg"), "a cat, a dog, a car", DEFAULT_IMAGE_TEMPLATE],
    [str(IMAGES / "rocket.jpg"), "a rocket launch, a lighthouse, a cup of coffee", DEFAULT_IMAGE_TEMPLATE],
    [str(IMAGES / "astronaut.jpg"), "an astronaut, a chef, a footballer", "A portrait of {}."],
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("zero-shot-image-classification")
    with gr.Row():
        with gr.Column():
            image = image_input(elem_classes=["image-upload"])
            labels = gr.Textbox(
                label="candidate_labels", placeholder="a cat, a dog, a car", info="Labels, separated by commas"
            )
            template = gr.Textbox(
                value=DEFAULT_IMAGE_TEMPLATE,
                label="hypothesis_template",
                info="Each label is put in place of {} before the model compares it with the image",
            )
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Best matching labels")
            ui.raw_output()
    ui.finish(
        inputs=[image, labels, template],
        outputs=[label],
        to_outputs=lambda result: [as_label(result)],
        examples=EXAMPLES,
    )
