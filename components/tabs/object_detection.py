"""Vision > Object detection: boxes with labels and scores drawn on the photo, and a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.context import TabContext
from components.media_inputs import image_input
from studio.adapters.vision import visual_of

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [[str(IMAGES / "cat.jpg"), 0.5], [str(IMAGES / "astronaut.jpg"), 0.7], [str(IMAGES / "coffee.jpg"), 0.5]]
COLUMNS = ["label", "score", "xmin", "ymin", "xmax", "ymax"]


def detections_table(result: list[dict[str, Any]]) -> pd.DataFrame:
    """[{label, score, box}] as rows of label, score and box corners (original pixels)."""
    rows = [[item["label"], round(item["score"], 4), *(item["box"][key] for key in COLUMNS[2:])] for item in result]
    return pd.DataFrame(rows, columns=COLUMNS)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("object-detection")
    with gr.Row():
        with gr.Column():
            image = image_input(elem_classes=["image-upload"])
            threshold = gr.Slider(
                0.0, 1.0, value=0.5, step=0.05, label="threshold", info="Hide detections scoring below this"
            )
            ui.run_button("Detect")
        with gr.Column():
            drawn = gr.AnnotatedImage(label="Detections", elem_classes=["detections"])
            table = gr.Dataframe(
                headers=COLUMNS,
                label="Boxes (original image pixels)",
                interactive=False,
                elem_classes=["detections-table"],
            )
            ui.raw_output()
    ui.finish(
        inputs=[image, threshold],
        outputs=[drawn, table],
        to_outputs=lambda result: [visual_of(result), detections_table(result)],
        examples=EXAMPLES,
    )
