"""Vision > Depth estimation: the depth map as a colour image beside the photo."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [{"image": str(IMAGES / name)} for name in ("coffee.jpg", "cat.jpg", "rocket.jpg")]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("depth-estimation")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["image-upload"])
            ui.run_button("Estimate depth")
        with gr.Column():
            depth = gr.Image(
                label="Depth map (bright = larger value: nearer for relative-depth models)",
                type="numpy",
                format="png",
                interactive=False,
                elem_classes=["depth-map"],
            )
            ui.raw_output()
    ui.finish(outputs=[depth], to_outputs=lambda result: [result.visual], examples=EXAMPLES)
