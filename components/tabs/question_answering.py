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
    ["Who designed the Eiffel Tower?", CONTEXT, 3],
    ["How tall is the tower?", CONTEXT, 1],
    ["When was the tower built?", CONTEXT, 2],
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
            question = gr.Textbox(label="Question", lines=1, placeholder="Ask something the context answers…")
            context = gr.Textbox(label="Context", lines=8, placeholder="The text that holds the answer")
            with gr.Row():
                top_k = gr.Slider(1, 10, value=1, step=1, label="top_k", info="How many answers")
                max_answer_len = gr.Slider(
                    1, 100, value=15, step=1, label="max_answer_len", info="Longest answer, in tokens"
                )
            no_answer = gr.Checkbox(
                value=False,
                label="handle_impossible_answer",
                info='Let "no answer" win when the context does not say (SQuAD 2.0 models)',
            )
            ui.run_button("Answer")
        with gr.Column():
            shown = gr.HighlightedText(label="Answer in the context", elem_classes=["answer-in-context"])
            table = gr.Dataframe(headers=COLUMNS, label="Answers", interactive=False, elem_classes=["answers"])
            raw = ui.raw_output()
    ui.finish(
        inputs=[question, context, top_k, max_answer_len, no_answer],
        outputs=[table],
        to_outputs=lambda result: [answers_table(result)],
        examples=[[*row, 15, False] for row in EXAMPLES],
    )
    raw.change(
        answer_in_context,
        inputs=[context, raw],
        outputs=shown,
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
