"""Audio > Speech recognition: a transcript (with timestamps) from a recording or an upload."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from components.context import TabContext

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "audio"
EXAMPLES = [
    {
        "audio": str(AUDIO / "quick_brown_fox.wav"),
        "return_timestamps": "none",
        "language": "auto",
        "task": "transcribe",
    },
    {"audio": str(AUDIO / "welcome.wav"), "return_timestamps": "segment", "language": "en", "task": "transcribe"},
    {"audio": str(AUDIO / "question.wav"), "return_timestamps": "word", "language": "auto", "task": "transcribe"},
]


def timestamp_table(chunks: list[dict]) -> pd.DataFrame:
    """[{text, timestamp: [start, end]}] as rows of start, end (seconds) and text."""
    rows = [[*chunk["timestamp"], chunk["text"]] for chunk in chunks]
    return pd.DataFrame(rows, columns=["start", "end", "text"])


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("automatic-speech-recognition")
    with gr.Row():
        with gr.Column():
            ui.input("audio", elem_classes=["asr-audio"])
            ui.input("return_timestamps")
            with gr.Row():
                ui.input("language", allow_custom_value=True)
                ui.input("task")
            ui.run_button("Transcribe")
        with gr.Column():
            text = gr.Textbox(label="Transcript", lines=4, interactive=False)
            chunks = gr.Dataframe(
                headers=["start", "end", "text"], label="Timestamps", interactive=False, elem_classes=["asr-timestamps"]
            )
            ui.raw_output()
    ui.finish(
        outputs=[text, chunks],
        to_outputs=lambda result: [result.output["text"], timestamp_table(result.output.get("chunks", []))],
        examples=EXAMPLES,
    )
