"""Text > Named entities: entities highlighted in the text, and a table of them."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.context import TabContext

EXAMPLES = [
    {"text": "My name is Wolfgang and I live in Berlin. I work for Siemens.", "aggregation_strategy": "simple"},
    {"text": "Angela Merkel met Emmanuel Macron in Paris on Tuesday.", "aggregation_strategy": "first"},
    {"text": "Apple was founded by Steve Jobs in Cupertino, California.", "aggregation_strategy": "max"},
]
COLUMNS = ["entity", "type", "score", "start", "end"]


def entity_type(item: dict[str, Any]) -> str:
    return str(item.get("entity_group") or item.get("entity") or "")


def highlighted(text: str, result: list[dict[str, Any]] | None) -> dict[str, Any]:
    """gr.HighlightedText's value: the text with each entity's span labelled by its type."""
    spans = [item for item in result or [] if item.get("start") is not None and item.get("end") is not None]
    entities, last_end = [], 0
    for item in sorted(spans, key=lambda item: item["start"]):
        if item["start"] >= last_end:  # overlapping spans (long texts) are shown once
            entities.append({"entity": entity_type(item), "start": item["start"], "end": item["end"]})
            last_end = item["end"]
    return {"text": text or "", "entities": entities}


def entity_table(result: list[dict[str, Any]] | None) -> pd.DataFrame:
    """One row per entity: its words (as the tokenizer spells them), type, score and offsets."""
    rows = [
        [item.get("word", ""), entity_type(item), round(float(item["score"]), 4), item.get("start"), item.get("end")]
        for item in result or []
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("token-classification")
    with gr.Row():
        with gr.Column():
            text = ui.input("text", info=None)
            ui.input("aggregation_strategy")
            ui.run_button("Find entities")
        with gr.Column():
            shown = gr.HighlightedText(label="Entities", show_legend=True, elem_classes=["entities"])
            table = gr.Dataframe(
                headers=COLUMNS, label="Entity table", interactive=False, elem_classes=["entity-table"]
            )
            raw = ui.raw_output()
    ui.finish(outputs=[table], to_outputs=lambda result: [entity_table(result.output)], examples=EXAMPLES)
    # The highlight needs the text as well as the result: drawn when the raw output arrives.
    raw.change(
        highlighted,
        inputs=[text, raw],
        outputs=shown,
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
