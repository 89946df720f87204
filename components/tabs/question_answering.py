"""Text > Question answering: the answer found in a context, highlighted there."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.context import TabContext

CONTEXT = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the tower "
    "from 1887 to 1889. It is 330 metres tall."
)
EXAMPLES = [
    {"question": "Who designed the Eiffel Tower?", "context": CONTEXT, "top_k": 3},
    {"question": "How tall is the tower?", "context": CONTEXT, "top_k": 1},
    {"question": "When was the tower built?", "context": CONTEXT, "top_k": 2},
]
COLUMNS = ["answer", "score", "start", "end"]


def answer_in_context(context: str, result: list[dict[str, Any]] | None) -> dict[str, Any]:
    """gr.HighlightedText's value: the context with the best answer marked."""
    best = (result or [None])[0]
    if not best or best["end"] <= best["start"]:
        return {"text": context or "", "entities": []}
    return {"text": context or "", "entities": [{"entity": "answer", "start": best["start"], "end": best["end"]}]}


def answers_table(result: list[dict[str, Any]] | None) -> pd.DataFrame:
    rows = [
        [item["answer"] or "(no answer)", round(float(item["score"]), 4), item["start"], item["end"]]
        for item in result or []
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("question-answering")
    with gr.Row():
        with gr.Column():
            ui.input("question", info=None)
            context = ui.input("context", info=None)
            with gr.Row():
                ui.inputs("top_k", "max_answer_len")
            ui.input("handle_impossible_answer")
            ui.run_button("Answer")
        with gr.Column():
            shown = gr.HighlightedText(label="Answer in the context", elem_classes=["answer-in-context"])
            table = gr.Dataframe(headers=COLUMNS, label="Answers", interactive=False, elem_classes=["answers"])
            raw = ui.raw_output()
    ui.finish(outputs=[table], to_outputs=lambda result: [answers_table(result.output)], examples=EXAMPLES)
    raw.change(
        answer_in_context,
        inputs=[context, raw],
        outputs=shown,
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
