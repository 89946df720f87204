"""The "Loaded models" panel: what is in memory, and unloading it."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from studio.studio import Studio

COLUMNS = ["model", "task", "dtype", "quantization", "device", "size_mb", "load_seconds"]


def build(studio: Studio, tab: gr.Tab) -> None:
    """Render the panel inside `tab`; it refreshes whenever the tab is opened."""

    def table() -> pd.DataFrame:
        return pd.DataFrame(studio.loaded_models(), columns=COLUMNS)

    def choices() -> Any:
        ids = sorted({row["model"] for row in studio.loaded_models()})
        return gr.Dropdown(choices=ids, value=ids[0] if ids else None)

    def loaded_models() -> tuple[pd.DataFrame, Any]:
        """The models in memory, most recently used first."""
        return table(), choices()

    def unload_model(model: str | None) -> tuple[pd.DataFrame, Any]:
        """Unload one model id (every task and setting it is loaded with); empty means all."""
        count = studio.unload(model)
        gr.Info(f"Unloaded {count} model{'s' if count != 1 else ''}.")
        return table(), choices()

    gr.Markdown("Models load on first use and stay in memory until evicted (least recently used first).")
    frame = gr.Dataframe(value=table(), headers=COLUMNS, label="In memory", interactive=False)
    with gr.Row():
        selected = gr.Dropdown(choices=[], label="Model to unload", allow_custom_value=True, scale=3)
        refresh = gr.Button("Refresh", scale=1)
        unload = gr.Button("Unload", variant="stop", scale=1)
        unload_all = gr.Button("Unload all", scale=1)
    refresh.click(loaded_models, outputs=[frame, selected], api_name="loaded_models", queue=False)
    unload.click(unload_model, inputs=selected, outputs=[frame, selected], api_name="unload_model")
    unload_all.click(lambda: unload_model(None), outputs=[frame, selected], api_name=False)
    tab.select(loaded_models, outputs=[frame, selected], api_name=False, queue=False)
