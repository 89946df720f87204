"""Audio > Text to speech: type text, hear it (VITS / MMS-TTS and other text-to-audio models)."""

from __future__ import annotations

import gradio as gr
import numpy as np

from components.context import TabContext
from studio.results import RunResult

EXAMPLES = [
    {"text": "Hello, and welcome to Transformers Studio."},
    {"text": "The quick brown fox jumps over the lazy dog."},
    {"text": "Speech synthesis runs on this machine, no internet needed."},
]


def playable(result: RunResult) -> tuple[int, np.ndarray]:
    """The waveform (the run's visual) as (rate, 16-bit samples) for gr.Audio."""
    waveform = np.clip(np.asarray(result.visual, dtype=np.float32), -1.0, 1.0)
    return int(result.output["sampling_rate"]), (waveform * 32767).astype(np.int16)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("text-to-audio")
    with gr.Row():
        with gr.Column():
            ui.input("text", placeholder="Type what the voice should say…")
            ui.run_button("Speak")
        with gr.Column():
            speech = gr.Audio(label="Speech", type="numpy", interactive=False, format="wav", elem_classes=["tts-audio"])
            ui.raw_output()
    ui.finish(outputs=[speech], to_outputs=lambda result: [playable(result)], examples=EXAMPLES)
