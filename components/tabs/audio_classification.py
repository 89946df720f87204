"""Audio > Audio classification: which sounds (or words, or emotions) a clip holds."""

from __future__ import annotations

from pathlib import Path

from components.context import TabContext
from components.layouts import scored_labels_tab

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "audio"
EXAMPLES = [
    {"audio": str(AUDIO / "review.wav"), "top_k": 5},
    {"audio": str(AUDIO / "tone_440hz.wav"), "top_k": 5},
    {"audio": str(AUDIO / "question.wav"), "top_k": 3},
]


def build(ctx: TabContext) -> None:
    scored_labels_tab(ctx, "audio-classification", EXAMPLES, input_classes=["audio-classification-audio"])
