"""A remote model (source: openai) on a generation tab: the inputs the OpenAI API has no field
for (beams, top_k, no_repeat_ngram_size...) are set off and disabled, with a notice on each;
picking a local model enables them again. The API gets a notice instead (studio/models/remote.py)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.widgets import info_line

NOTICE = "Off for remote models: the OpenAI API has no such parameter."


def _update(param: Any, off: dict[str, Any]) -> dict[str, Any]:
    if param.name not in off:
        return gr.update(interactive=True, info=info_line(param))
    value = off[param.name]
    if value is None:
        return gr.update(interactive=False, info=NOTICE)
    return gr.update(interactive=False, info=NOTICE, value=value)


def wire_remote_inputs(ui: Any) -> None:
    """On a task whose model list has a remote entry: toggle its unsupported inputs with the model."""
    studio, task_id = ui.studio, ui.task.id
    choices = [model_id for _, model_id in studio.model_choices(task_id)]
    wanted = {name for model_id in choices for name in studio.unsupported_inputs(task_id, model_id)}
    names = [name for name in ui.spec.names if name in wanted and name in ui.widgets]
    if not names or ui.model is None:
        return
    params = [ui.spec[name] for name in names]
    targets = [ui.widgets[name] for name in names]

    def remote_inputs(model_id: str | None) -> list[dict[str, Any]]:
        off = studio.unsupported_inputs(task_id, model_id)
        return [_update(param, off) for param in params]

    ui.model.change(
        remote_inputs,
        ui.model,
        targets,
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
    off = studio.unsupported_inputs(task_id, ui.model.value)  # the page starts on a remote default
    for param, component in zip(params, targets):
        if param.name in off:
            component.interactive = False
            component.info = NOTICE
            if off[param.name] is not None:
                component.value = off[param.name]
