"""Audio > Audio classification: which sounds (or words, or emotions) a clip holds."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.outputs import as_label

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "audio"
EXAMPLES = [
    {"audio": str(AUDIO / "review.wav"), "top_k": 5},
    {"audio": str(AUDIO / "tone_440hz.wav"), "top_k": 5},
    {"audio": str(AUDIO / "question.wav"), "top_k": 3},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("audio-classification")
    with gr.Row():
        with gr.Column():
            ui.input("audio", elem_classes=["audio-classification-audio"])
            ui.input("top_k")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [as_label(result.output)], examples=EXAMPLES)
