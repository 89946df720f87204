"""Show code: the transformers snippet that reproduces a tab's call with its settings.

Every snippet is runnable as printed (once a server folder's placeholder is filled in) and
leaves its answer in a variable named `result`, equal to the tab's raw output (the tests
execute them, with Studio.code(reveal_paths=True), to make sure).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.config import ModelEntry
from studio.models.settings import ModelSettings

# Snippets never show a server path (issue 11): a local folder becomes a placeholder and a
# file its own name. Tests run snippets with the real paths (Studio.code(reveal_paths=True)).
_reveal = contextvars.ContextVar("reveal_paths", default=False)


@contextmanager
def paths_revealed(reveal: bool = True) -> Iterator[None]:
    """Within the block, snippets name real folders and files (runnable on this machine)."""
    token = _reveal.set(reveal)
    try:
        yield
    finally:
        _reveal.reset(token)


def model_source(entry: ModelEntry) -> str:
    """The `model` string of a hub or local entry: its id, or a placeholder for a server folder
    (a models.yaml folder, or the model folder of a run fine-tuned here)."""
    folder = getattr(entry, "folder", "")  # a fine-tuned run's weights (studio.training.store.RunModel)
    if _reveal.get():
        return repr(folder or entry.id)
    if folder:
        return repr(f"<folder of {entry.display_name!r}>")
    if entry.is_server_folder:
        return repr(f"<folder of {entry.display_name!r} in models.yaml>")
    return repr(entry.id)


def file_reference(path: str) -> str:
    """How a snippet names an input file: its own name (an upload keeps its original name as
    the last part of Gradio's cache path), or the full path when paths are revealed."""
    return str(path) if _reveal.get() else Path(str(path)).name


def model_reference(entry: ModelEntry) -> tuple[list[str], str]:
    """Lines that locate the model, and the expression to pass as `model`."""
    if entry.source == "package":
        package = entry.package[0] if isinstance(entry.package, list) else entry.package
        return [f"import {package}", ""], f"str({package}.get_model_path())"
    return [], model_source(entry)


def load_arguments(entry: ModelEntry, settings: ModelSettings, for_pipeline: bool) -> list[str]:
    """Keyword arguments (as source text) matching the settings row."""
    arguments: list[str] = []
    if entry.revision:
        arguments.append(f"revision={entry.revision!r}")
    if entry.trust_remote_code:
        arguments.append("trust_remote_code=True")
    if settings.dtype != "auto":
        arguments.append(f"dtype={settings.dtype!r}")
    if settings.quantization != "none":
        flag = "load_in_8bit" if settings.quantization == "8bit" else "load_in_4bit"
        config = f"BitsAndBytesConfig({flag}=True)"
        if for_pipeline:
            arguments.append(f'model_kwargs={{"quantization_config": {config}}}')
        else:
            arguments.append(f"quantization_config={config}")
    elif settings.device != "auto":
        arguments.append(f"device={settings.device!r}")
    return arguments


def _call(function: str, first: str, arguments: list[str]) -> str:
    return f"{function}({', '.join([first, *arguments])})"


def pipeline_snippet(
    pipeline_task: str, entry: ModelEntry, settings: ModelSettings, call_arguments: list[str], name: str = "pipe"
) -> str:
    """A pipeline-based snippet: build the pipeline, call it, print the result."""
    setup, model = model_reference(entry)
    imports = "from transformers import pipeline"
    if settings.quantization != "none":
        imports = "from transformers import BitsAndBytesConfig, pipeline"
    load = load_arguments(entry, settings, for_pipeline=True)
    lines = [
        imports,
        "",
        *setup,
        f"{name} = " + _call("pipeline", repr(pipeline_task), [f"model={model}", *load]),
        f"result = {name}({', '.join(call_arguments)})",
        "print(result)",
    ]
    return "\n".join(lines) + "\n"
