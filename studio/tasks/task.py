"""What a task row is (Task), how its names are resolved and checked; the rows are in studio/tasks/table.py.

See docs/ARCHITECTURE.md, "Adding a task".
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from studio.spec.param import Spec

Modality = Literal["text", "generate", "vision", "audio", "multimodal"]
MODALITY_TITLES: dict[str, str] = {
    "text": "Text",
    "generate": "Generate",
    "vision": "Vision",
    "audio": "Audio",
    "multimodal": "Multimodal",
}


class TaskTableError(Exception):
    """A task row names an adapter, snippet builder or tab module that does not exist."""


@functools.cache
def resolve(reference: str) -> Callable[..., Any]:
    """The function a `module:function` reference names; TaskTableError when there is none."""
    module_name, _, function_name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise TaskTableError(f"no module {module_name!r} (in {reference!r})") from None
    function: object = getattr(module, function_name, None)
    if not callable(function):
        raise TaskTableError(f"{module_name} has no function {function_name!r} (in {reference!r})")
    return function


@dataclass(frozen=True)
class Task:
    """How one task is loaded and run.

    `pipeline_task` set: the model is loaded as `transformers.pipeline(pipeline_task)`.
    Otherwise `model_class` (a transformers Auto class) and `processor_class` are loaded.
    `adapter` takes (loaded, **inputs) and returns the raw output (or a results.Output);
    `code` builds the Show-code snippet; `tab` is the components module that draws the tab
    (resolved by the UI layer, never imported here).
    """

    id: str
    modality: Modality
    title: str
    model_class: str
    pipeline_task: str | None = None
    processor_class: str = "AutoTokenizer"
    adapter: str = ""
    code: str = ""
    tab: str = ""
    facts: str = ""  # optional: what a tab shows about a model before running it (mask token...)

    @property
    def api_name(self) -> str:
        return self.id.replace("-", "_")

    def adapter_function(self) -> Callable[..., Any]:
        """The function that runs the task (imported on first use)."""
        return resolve(self.adapter)

    def code_function(self) -> Callable[..., str]:
        """The "Show code" snippet builder."""
        return resolve(self.code)

    @property
    def spec(self) -> Spec:
        """The task's inputs, as its adapter declares them."""
        spec = getattr(self.adapter_function(), "spec", None)  # set by @takes (studio/spec/param.py)
        if not isinstance(spec, Spec):
            raise TaskTableError(f"{self.adapter} is not declared with @takes, so it has no spec")
        return spec

    @property
    def batched(self) -> bool:
        """Whether concurrent requests for one model run as one forward pass (studio/serving/batching.py)."""
        return bool(getattr(self.adapter_function(), "batched", False))

    @property
    def streams(self) -> bool:
        """Whether the adapter yields updates (generation) rather than returning once."""
        function = self.adapter_function()
        return inspect.isgeneratorfunction(getattr(function, "unchecked", function))


def check_tasks(tasks: Mapping[str, Task]) -> None:
    """Resolve every row's adapter and snippet builder; TaskTableError names the first wrong one."""
    for task in tasks.values():
        for what, reference in (("adapter", task.adapter), ("code", task.code), ("facts", task.facts)):
            if not reference and what == "facts":
                continue
            try:
                resolve(reference)
            except TaskTableError as exc:
                raise TaskTableError(f"task {task.id}: {what} {exc}") from None
        if not isinstance(getattr(task.adapter_function(), "spec", None), Spec):
            raise TaskTableError(f"task {task.id}: adapter {task.adapter!r} declares no inputs (use @takes)")
