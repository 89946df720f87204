"""Text > Zero-shot classification: scores for labels you type, from an NLI model."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext
from studio.adapters.text import DEFAULT_HYPOTHESIS

EXAMPLES = [
    [
        "The new phone has a great camera but the battery drains quickly.",
        "technology, sports, politics, cooking",
        False,
    ],
    [
        "I have a problem with my iPhone that needs to be resolved asap!",
        "urgent, not urgent, phone, tablet, computer",
        True,
    ],
    ["Parliament passed the budget after a long night of debate.", "politics, economy, entertainment", False],
]


def as_label(result: dict[str, Any]) -> dict[str, float]:
    return {str(label): float(score) for label, score in zip(result["labels"], result["scores"])}


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("zero-shot-classification")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=4, placeholder="Type the text to classify…")
            labels = gr.Textbox(
                label="candidate_labels", placeholder="Labels, separated by commas: sport, politics, science"
            )
            multi_label = gr.Checkbox(
                value=False, label="multi_label", info="Score each label on its own (several can be true)"
            )
            template = gr.Textbox(
                value=DEFAULT_HYPOTHESIS,
                label="hypothesis_template",
                info="The sentence the model checks for each label; {} is replaced by the label",
            )
            ui.run_button("Classify")
        with gr.Column():
            label = gr.Label(label="Scores", elem_classes=["zero-shot-scores"])
            ui.raw_output()
    ui.finish(
        inputs=[text, labels, multi_label, template],
        outputs=[label],
        to_outputs=lambda result: [as_label(result)],
        examples=[[*row, DEFAULT_HYPOTHESIS] for row in EXAMPLES],
    )
