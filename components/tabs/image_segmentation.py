"""Vision > Segmentation: semantic, instance or panoptic masks over the photo, with a legend."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.media_inputs import image_input
from studio.adapters.vision import SUBTASKS, visual_of

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    [str(IMAGES / "cat.jpg"), "auto", 0.9, 0.5, 0.5],
    [str(IMAGES / "rocket.jpg"), "auto", 0.9, 0.5, 0.5],
    [str(IMAGES / "shapes.png"), "semantic", 0.9, 0.5, 0.5],
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-segmentation")
    with gr.Row():
        with gr.Column():
            image = image_input(elem_classes=["image-upload"])
            subtask = gr.Dropdown(
                list(SUBTASKS),
                value="auto",
                label="subtask",
                info="auto: panoptic if the model can, else instance, else semantic",
            )
            with gr.Group(visible=True) as thresholds:
                threshold = gr.Slider(
                    0.0, 1.0, value=0.9, step=0.05, label="threshold", info="Panoptic / instance: keep masks above"
                )
                mask_threshold = gr.Slider(
                    0.0, 1.0, value=0.5, step=0.05, label="mask_threshold", info="Panoptic / instance: mask pixel cut"
                )
                overlap = gr.Slider(
                    0.0,
                    1.0,
                    value=0.5,
                    step=0.05,
                    label="overlap_mask_area_threshold",
                    info="Panoptic / instance: drop small disconnected parts",
                )
            ui.run_button("Segment")
        with gr.Column():
            drawn = gr.AnnotatedImage(label="Segments", elem_classes=["segments"])
            ui.raw_output()
    subtask.change(
        lambda kind: gr.Group(visible=kind != "semantic"),
        inputs=subtask,
        outputs=thresholds,
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
    ui.finish(
        inputs=[image, subtask, threshold, mask_threshold, overlap],
        outputs=[drawn],
        to_outputs=lambda result: [visual_of(result)],
        examples=EXAMPLES,
    )
