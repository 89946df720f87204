"""Vision > Image classification: the top labels for a photo."""

from __future__ import annotations

from pathlib import Path

from components.context import TabContext
from components.layouts import scored_labels_tab

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "cat.jpg"), "top_k": 5},
    {"image": str(IMAGES / "coffee.jpg"), "top_k": 5},
    {"image": str(IMAGES / "rocket.jpg"), "top_k": 3},
]


def build(ctx: TabContext) -> None:
    scored_labels_tab(ctx, "image-classification", EXAMPLES, input_classes=["image-upload"])
