"""The app as an MCP server (`python app.py --mcp`): every task endpoint is a tool.

Gradio serves every public endpoint as a tool at /gradio_api/mcp/, described by its handler's
docstring: a description, then `Args:` with `name: text` lines. The task handlers get the
adapter's docstring (`@takes` writes its Args from the spec's help lines), plus lines for
the model and the settings row (`tool_doc`). UI-only events are `api_visibility="undocumented"`
(not in the API docs, so not tools). In public mode admin actions are not tools
(`hide_admin_tools`).
"""

from __future__ import annotations

import inspect

import gradio as gr

from compat.gradio import Event, events
from studio.spec.shared import MODEL_SETTINGS
from studio.studio import Studio
from studio.tasks.task import Task

# Admin endpoints (studio/policy/access.py): they take an admin_token; these names are admin even without one.
ADMIN_APIS = ("unload_model", "train_start", "train_stop", "train_resume", "train_delete", "push_to_hub")
MCP_PATH = "/gradio_api/mcp/"


def tool_doc(studio: Studio, task: Task) -> str:
    """The Run handler's docstring: the adapter's description and Args, then the model and settings."""
    doc = inspect.getdoc(task.adapter_function()) or f"Run {task.title}."
    if "Args:" not in doc:
        doc += "\n\nArgs:"
    models = ", ".join(model_id for _, model_id in studio.model_choices(task.id)[:8])
    example = f" (e.g. {models})" if models else ""
    lines = [f"    model: The model id, as models.yaml lists it{example}."]
    lines += [f"    {param.name}: {param.help}" for param in MODEL_SETTINGS]
    return f"{task.title}: {doc}\n" + "\n".join(lines)


def is_admin(event: Event) -> bool:
    """Whether an endpoint is an admin action: it takes an admin_token, or is a known admin API."""
    try:
        takes_token = "admin_token" in inspect.signature(event.handler).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        takes_token = False
    return takes_token or event.api_name in ADMIN_APIS


def hide_admin_tools(demo: gr.Blocks) -> list[str]:
    """Public mode: admin endpoints leave the API docs, hence the MCP tool list; returns their names."""
    hidden = []
    for event in events(demo):
        if event.handler is not None and event.api_visibility == "public" and is_admin(event):
            event.api_visibility = "undocumented"
            hidden.append(str(event.api_name))
    return hidden


def mcp_available() -> bool:
    try:
        import mcp  # noqa: F401
    except ImportError:
        return False
    return True
