"""Text > Text classification: labels and scores for a piece of text."""

from __future__ import annotations

from components.context import TabContext
from components.layouts import scored_labels_tab

EXAMPLES = [
    {"text": "I loved every minute of this film, the cast was wonderful.", "top_k": 2},
    {"text": "The delivery was late and the box arrived crushed.", "top_k": 2},
    {"text": "Das Essen war ausgezeichnet und der Service sehr freundlich.", "top_k": 3},
]


def build(ctx: TabContext) -> None:
    scored_labels_tab(ctx, "text-classification", EXAMPLES, lines=5, placeholder="Type or paste text to classify…")
