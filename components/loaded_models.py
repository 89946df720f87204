"""The "Loaded models" panel: what is in memory, and unloading it.

Unloading is an admin action in public mode, which Studio.unload checks for the request's
caller (studio/policy/): /unload_model takes `admin_token`, and the page's admin box signs the
browser session in once. An empty model
id unloads nothing; only the "Unload all" button (not an API endpoint) unloads everything.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.api import caller
from components.errors import shown_as_gr_error
from studio.studio import Studio

COLUMNS = ["model", "task", "dtype", "quantization", "device", "size_mb", "load_seconds"]


def build(studio: Studio, tab: gr.Tab) -> None:
    """Render the panel inside `tab`; it refreshes whenever the tab is opened."""
    access = studio.access

    def table() -> pd.DataFrame:
        return pd.DataFrame(studio.loaded_models(), columns=COLUMNS)

    def ids() -> list[str]:
        return sorted({row["model"] for row in studio.loaded_models()})

    def first() -> str | None:
        """The model the "Model to unload" box shows: plain data, as the API returns it."""
        return next(iter(ids()), None)

    def choices() -> Any:
        """The dropdown's choices (the page only: the API's answer stays plain data)."""
        loaded = ids()
        return gr.Dropdown(choices=loaded, value=loaded[0] if loaded else None)

    def loaded_models() -> tuple[pd.DataFrame, str | None]:
        """The models in memory, most recently used first, and the first model id (or None)."""
        return table(), first()

    def unloaded(count: int) -> tuple[pd.DataFrame, str | None]:
        gr.Info(f"Unloaded {count} model{'s' if count != 1 else ''}.")
        return table(), first()

    def unload_model(
        model: str | None,
        admin_token: str = "",
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> tuple[pd.DataFrame, str | None]:
        """Unload one model id (every task and setting it is loaded with); an empty id unloads nothing.

        Args:
            model: The model id to unload, as the list of loaded models shows it.
            admin_token: The admin token, on a public app (unloading is an admin action there).
        """
        who = caller(studio.access, request, admin_token, profile)
        with shown_as_gr_error("Unloading"):
            count = studio.unload(model.strip() if isinstance(model, str) else "", who)
        return unloaded(count)

    def unload_all(
        admin_token: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None
    ) -> tuple[pd.DataFrame, str | None]:
        """Unload every model (the "Unload all" button only)."""
        with shown_as_gr_error("Unloading"):
            count = studio.unload_all(caller(studio.access, request, admin_token, profile))
        return unloaded(count)

    def sign_in(admin_token: str = "", request: gr.Request = None) -> None:
        session = getattr(request, "session_hash", None)
        if admin_token and not access.sign_in(session, admin_token):
            raise gr.Error("That admin token is not right; check it and try again.", print_exception=False)
        gr.Info("Signed in as admin for this browser session.")

    gr.Markdown("Models load on first use and stay in memory until evicted (least recently used first).")
    with gr.Row(visible=access.public):
        admin_token = gr.Textbox(
            "", label="Admin token (unloading is for the admin on this public app)", type="password", scale=3
        )
        sign_in_button = gr.Button("Sign in as admin", scale=1)
    frame = gr.Dataframe(value=table(), headers=COLUMNS, label="In memory", interactive=False)
    with gr.Row():
        selected = gr.Dropdown(choices=[], label="Model to unload", allow_custom_value=True, scale=3)
        refresh = gr.Button("Refresh", scale=1)
        unload = gr.Button("Unload", variant="stop", scale=1)
        unload_everything = gr.Button("Unload all", scale=1)

    def then_choices(event: Any) -> None:
        event.success(choices, outputs=selected, api_visibility="private", queue=False, show_progress="hidden")

    then_choices(refresh.click(loaded_models, outputs=[frame, selected], api_name="loaded_models", queue=False))
    then_choices(
        unload.click(unload_model, inputs=[selected, admin_token], outputs=[frame, selected], api_name="unload_model")
    )
    then_choices(
        unload_everything.click(unload_all, inputs=admin_token, outputs=[frame, selected], api_visibility="private")
    )
    sign_in_button.click(sign_in, inputs=admin_token, api_visibility="private")
    admin_token.submit(sign_in, inputs=admin_token, api_visibility="private")
    then_choices(tab.select(loaded_models, outputs=[frame, selected], api_name=False, queue=False))
