"""Vision > Segmentation: semantic, instance or panoptic masks over the photo, with a legend."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
THRESHOLDS = {"threshold": 0.9, "mask_threshold": 0.5, "overlap_mask_area_threshold": 0.5}
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "subtask": "auto", **THRESHOLDS},
    {"image": str(IMAGES / "rocket.jpg"), "subtask": "auto", **THRESHOLDS},
    {"image": str(IMAGES / "shapes.png"), "subtask": "semantic", **THRESHOLDS},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-segmentation")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["image-upload"])
            subtask = ui.input("subtask")
            # The thresholds apply to panoptic and instance segmentation only.
            with gr.Group(visible=True) as thresholds:
                ui.inputs("threshold", "mask_threshold", "overlap_mask_area_threshold")
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
    ui.finish(outputs=[drawn], to_outputs=lambda result: [result.visual], examples=EXAMPLES)
