"""Vision > Zero-shot image classification: score a photo against labels you type (CLIP-style)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.outputs import as_label

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "candidate_labels": "a cat, a dog, a car"},
    {"image": str(IMAGES / "rocket.jpg"), "candidate_labels": "a rocket launch, a lighthouse, a cup of coffee"},
    {
        "image": str(IMAGES / "astronaut.jpg"),
        "candidate_labels": "an astronaut, a chef, a footballer",
        "hypothesis_template": "A portrait of {}.",
    },
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("zero-shot-image-classification")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["image-upload"])
            ui.input("candidate_labels")
            ui.input("hypothesis_template")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Best matching labels")
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [as_label(result.output)], examples=EXAMPLES)
