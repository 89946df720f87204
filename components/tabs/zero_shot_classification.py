"""Text > Zero-shot classification: scores for labels you type, from an NLI model."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext

EXAMPLES = [
    {
        "text": "The new phone has a great camera but the battery drains quickly.",
        "candidate_labels": "technology, sports, politics, cooking",
        "multi_label": False,
    },
    {
        "text": "I have a problem with my iPhone that needs to be resolved asap!",
        "candidate_labels": "urgent, not urgent, phone, tablet, computer",
        "multi_label": True,
    },
    {
        "text": "Parliament passed the budget after a long night of debate.",
        "candidate_labels": "politics, economy, entertainment",
        "multi_label": False,
    },
]


def as_label(result: dict[str, Any]) -> dict[str, float]:
    return {str(label): float(score) for label, score in zip(result["labels"], result["scores"])}


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("zero-shot-classification")
    with gr.Row():
        with gr.Column():
            ui.inputs("text", "candidate_labels", info=None)
            ui.inputs("multi_label", "hypothesis_template")
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Scores", elem_classes=["zero-shot-scores"])
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [as_label(result.output)], examples=EXAMPLES)
