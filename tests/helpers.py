"""Helpers shared by the test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.config import load_config
from studio.models import ModelManager, ModelSettings
from studio.studio import Studio


def run_snippet(models_yaml: Path, task: str, model: str, inputs: dict[str, Any]) -> tuple[str, Any]:
    """The tab's "Show code" snippet for these inputs, and the `result` it computes when run."""
    code = Studio(load_config(models_yaml), ModelManager()).code(task, model, inputs, ModelSettings())
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<show code {task}>", "exec"), namespace)
    return code, namespace["result"]
