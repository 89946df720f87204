"""Text > Fill mask: the likeliest words for the one masked word in a sentence."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext
from studio.adapters.text import mask_token_of
from studio.errors import UserError

EXAMPLES = [
    ["Paris is the [MASK] of France.", 5],
    ["The goal of life is [MASK].", 5],
    ["I take my coffee with milk and [MASK].", 3],
]
GENERIC_PLACEHOLDER = "Write the model's mask token where the missing word goes, e.g. Paris is the [MASK] of France."


def placeholder(mask: str | None) -> str:
    if not mask:
        return GENERIC_PLACEHOLDER
    return f"Write {mask} where the missing word goes, e.g. Paris is the {mask} of France."


def candidates(result: list[dict[str, Any]]) -> dict[str, float]:
    """gr.Label's value: each candidate word with its score."""
    shown: dict[str, float] = {}
    for item in result:
        shown.setdefault(str(item["token_str"]).strip() or repr(item["token_str"]), float(item["score"]))
    return shown


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("fill-mask")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=3, placeholder=GENERIC_PLACEHOLDER, elem_classes=["masked-text"])
            top_k = gr.Slider(1, 20, value=5, step=1, label="top_k", info="How many candidates")
            ui.run_button("Fill the mask")
        with gr.Column():
            label = gr.Label(label="Candidates", elem_classes=["candidates"])
            ui.raw_output()
    ui.finish(
        inputs=[text, top_k],
        outputs=[label],
        to_outputs=lambda result: [candidates(result)],
        examples=EXAMPLES,
    )

    def mask_placeholder(model_id: str | None) -> gr.Textbox:
        try:
            entry = ctx.studio.entry("fill-mask", model_id or "")
        except UserError:
            return gr.Textbox(placeholder=GENERIC_PLACEHOLDER)
        return gr.Textbox(placeholder=placeholder(mask_token_of(entry)))

    # On page load and when the model changes: the model's own mask token in the placeholder.
    gr.on(
        triggers=None,
        fn=mask_placeholder,
        inputs=[ui.model],
        outputs=[text],
        api_visibility="undocumented",
        show_progress="hidden",
    )
