"""Vision > Object detection: boxes with labels and scores drawn on the photo, and a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.context import TabContext

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "threshold": 0.5},
    {"image": str(IMAGES / "astronaut.jpg"), "threshold": 0.7},
    {"image": str(IMAGES / "coffee.jpg"), "threshold": 0.5},
]
COLUMNS = ["label", "score", "xmin", "ymin", "xmax", "ymax"]


def detections_table(result: list[dict[str, Any]]) -> pd.DataFrame:
    """[{label, score, box}] as rows of label, score and box corners (original pixels)."""
    rows = [[item["label"], round(item["score"], 4), *(item["box"][key] for key in COLUMNS[2:])] for item in result]
    return pd.DataFrame(rows, columns=COLUMNS)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("object-detection")
    with gr.Row():
        with gr.Column():
            ui.input("image", elem_classes=["image-upload"])
            ui.input("threshold")
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
        outputs=[drawn, table],
        to_outputs=lambda result: [result.visual, detections_table(result.output)],
        examples=EXAMPLES,
    )
