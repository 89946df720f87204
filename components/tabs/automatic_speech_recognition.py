"""Audio > Speech recognition: a transcript (with timestamps) from a recording or an upload."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from components.context import TabContext
from components.media_inputs import audio_input

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "audio"
LANGUAGES = ["auto", "en", "de", "fr", "es", "it", "pt", "nl", "ja", "zh"]
EXAMPLES = [
    [str(AUDIO / "quick_brown_fox.wav"), "none", "auto", "transcribe"],
    [str(AUDIO / "welcome.wav"), "segment", "en", "transcribe"],
    [str(AUDIO / "question.wav"), "word", "auto", "transcribe"],
]


def timestamp_table(chunks: list[dict]) -> pd.DataFrame:
    """[{text, timestamp: [start, end]}] as rows of start, end (seconds) and text."""
    rows = [[*chunk["timestamp"], chunk["text"]] for chunk in chunks]
    return pd.DataFrame(rows, columns=["start", "end", "text"])


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("automatic-speech-recognition")
    with gr.Row():
        with gr.Column():
            audio = audio_input("Speech", elem_classes=["asr-audio"])
            return_timestamps = gr.Radio(
                ["none", "segment", "word"],
                value="none",
                label="return_timestamps",
                info="segment: Whisper only; word: Whisper and CTC models (wav2vec2)",
            )
            with gr.Row():
                language = gr.Dropdown(
                    LANGUAGES,
                    value="auto",
                    label="language",
                    info="Whisper only; auto detects it",
                    allow_custom_value=True,
                )
                task = gr.Radio(
                    ["transcribe", "translate"], value="transcribe", label="task", info="Whisper: translate to English"
                )
            ui.run_button("Transcribe")
        with gr.Column():
            text = gr.Textbox(label="Transcript", lines=4, interactive=False)
            chunks = gr.Dataframe(
                headers=["start", "end", "text"], label="Timestamps", interactive=False, elem_classes=["asr-timestamps"]
            )
            ui.raw_output()
    ui.finish(
        inputs=[audio, return_timestamps, language, task],
        outputs=[text, chunks],
        to_outputs=lambda result: [result["text"], timestamp_table(result.get("chunks", []))],
        examples=EXAMPLES,
    )
