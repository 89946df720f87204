"""Audio > Audio classification: which sounds (or words, or emotions) a clip holds."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from components.context import TabContext
from components.media_inputs import audio_input
from components.outputs import as_label

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "audio"
EXAMPLES = [
    [str(AUDIO / "review.wav"), 5],
    [str(AUDIO / "tone_440hz.wav"), 5],
    [str(AUDIO / "question.wav"), 3],
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("audio-classification")
    with gr.Row():
        with gr.Column():
            audio = audio_input("Audio", elem_classes=["audio-classification-audio"])
            top_k = gr.Slider(1, 20, value=5, step=1, label="top_k", info="How many labels to show")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Prediction")
            ui.raw_output()
    ui.finish(
        inputs=[audio, top_k],
        outputs=[label],
        to_outputs=lambda result: [as_label(result)],
        examples=EXAMPLES,
    )
