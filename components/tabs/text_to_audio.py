"""Audio > Text to speech: type text, hear it (VITS / MMS-TTS and other text-to-audio models)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np

from components.context import TabContext

EXAMPLES = [
    ["Hello, and welcome to Transformers Studio."],
    ["The quick brown fox jumps over the lazy dog."],
    ["Speech synthesis runs on this machine, no internet needed."],
]


def playable(result: Any) -> tuple[int, np.ndarray]:
    """The waveform the adapter attached, as (rate, 16-bit samples) for gr.Audio."""
    waveform = np.clip(np.asarray(result.waveform, dtype=np.float32), -1.0, 1.0)
    return int(result["sampling_rate"]), (waveform * 32767).astype(np.int16)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("text-to-audio")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=4, placeholder="Type what the voice should say…")
            ui.run_button("Speak")
        with gr.Column():
            speech = gr.Audio(label="Speech", type="numpy", interactive=False, format="wav", elem_classes=["tts-audio"])
            ui.raw_output()
    ui.finish(inputs=[text], outputs=[speech], to_outputs=lambda result: [playable(result)], examples=EXAMPLES)
