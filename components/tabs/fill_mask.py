"""Text > Fill mask: the likeliest words for the one masked word in a sentence."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext

EXAMPLES = [
    {"text": "Paris is the [MASK] of France.", "top_k": 5},
    {"text": "The goal of life is [MASK].", "top_k": 5},
    {"text": "I take my coffee with milk and [MASK].", "top_k": 3},
]


def placeholder(mask: str | None, generic: str) -> str:
    """The text box's placeholder with the model's own mask token (the generic one if unknown)."""
    if not mask:
        return generic
    return f"Write {mask} where the missing word goes, e.g. Paris is the {mask} of France."


def candidates(result: list[dict[str, Any]]) -> dict[str, float]:
    """gr.Label's value: each candidate word with its score."""
    shown: dict[str, float] = {}
    for item in result:
        shown.setdefault(str(item["token_str"]).strip() or repr(item["token_str"]), float(item["score"]))
    return shown


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("fill-mask")
    generic = ui.spec["text"].placeholder
    with gr.Row():
        with gr.Column():
            text = ui.input("text", info=None, elem_classes=["masked-text"])
            ui.input("top_k")
            ui.run_button("Fill the mask")
        with gr.Column():
            label = gr.Label(label="Candidates", elem_classes=["candidates"])
            ui.raw_output()
    ui.finish(outputs=[label], to_outputs=lambda result: [candidates(result.output)], examples=EXAMPLES)

    def mask_placeholder(model_id: str | None) -> gr.Textbox:
        mask = ctx.studio.facts("fill-mask", model_id).get("mask_token")
        return gr.Textbox(placeholder=placeholder(mask, generic))

    # On page load and when the model changes: the model's own mask token in the placeholder.
    gr.on(
        triggers=None,
        fn=mask_placeholder,
        inputs=[ui.model],
        outputs=[text],
        api_visibility="undocumented",
        show_progress="hidden",
    )
