"""The Download row under a task's model picker.

It shows when the picked model is a Hugging Face Hub model that is not on this machine, and
downloads it with a progress bar in bytes and files; the model list then drops its
"not downloaded" tag and Run loads it. In public mode downloading is an admin action (the
Loaded models panel's admin box signs a browser session in). Not an API endpoint: the API's
endpoints stay the tasks'. The work is Studio.download (studio/models/downloading.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from components.api import caller
from studio.errors import UserError
from studio.studio import Studio

if TYPE_CHECKING:  # context.py draws this row under each model picker, so it imports this module
    from components.context import TaskUI


def note(studio: Studio, model_id: str | None) -> str:
    """What the row says about the picked model."""
    text = f"**{model_id}** is not on this machine yet: **Download** fetches it from the Hugging Face Hub."
    state = studio.hub_state()
    if state == "offline":
        text += " The Hub did not answer when the app started; Download asks it again."
    elif state == "off":
        text += " HF_HUB_OFFLINE is set, so this app does not download: restart it without HF_HUB_OFFLINE."
    if studio.access.public:
        text += " On this public app downloading is for the admin."
    return text


def download_row(ui: TaskUI) -> None:
    """Render the row below ui's model picker and wire it."""
    studio, task_id = ui.studio, ui.task.id
    assert ui.model is not None, "render the model picker first"
    needed = studio.needs_download(task_id, ui.model.value)
    with gr.Row(visible=needed, elem_classes=["download-row"]) as row:
        text = gr.Markdown(
            note(studio, ui.model.value) if needed else "", elem_classes=["download-note"], min_height=48
        )
        button = gr.Button("Download", elem_classes=["download-button"], scale=0, min_width=140)

    def picked(model_id: str | None) -> tuple[Any, str]:
        needed = studio.needs_download(task_id, model_id)
        return gr.Row(visible=needed), note(studio, model_id) if needed else ""

    def run_download(
        model_id: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
        request: gr.Request = None,
        profile: gr.OAuthProfile | None = None,
    ) -> tuple[Any, str, Any]:
        who = caller(studio.access, request, None, profile)
        try:
            done = studio.download(task_id, model_id or "", lambda f, m: progress(f, desc=m), who)
        except UserError as exc:  # the sentence stays in the row until the next try
            gr.Warning(str(exc))
            return gr.Row(visible=True), f"**Download failed:** {exc}", gr.Dropdown()
        gr.Info(done)
        return gr.Row(visible=False), done, ui.refresh_models(model_id)

    ui.model.change(
        picked, inputs=ui.model, outputs=[row, text], queue=False, show_progress="hidden", api_visibility="private"
    )
    # The note makes way for the progress bar, which Gradio draws over the component it is shown on.
    button.click(lambda: "", None, text, queue=False, show_progress="hidden", api_visibility="private").then(
        run_download,
        inputs=ui.model,
        outputs=[row, text, ui.model],
        show_progress_on=[text],
        api_visibility="private",
        concurrency_id="download",
        concurrency_limit=1,  # one download at a time, app-wide
    )
