"""How generation requests share the machine: a lock per model, and Stop inside a forward pass.

One generate() at a time runs on a model (its tokenizer and weights are shared by its
requests); other models are not held up, so a long request on one model never blocks the
others. `watch_layers` puts a pre-hook on every layer that ends the forward pass of a
stopped request, so Stop ends even a long prefill within one layer, not after it.

    with model_lock(model), running_request(stop_event):
        model.generate(...)          # raises GenerationStopped once stop_event is set
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["GenerationStopped", "model_lock", "running_request", "stop_criteria_class", "watch_layers"]

# Locks go with their models: an unloaded model takes its lock with it.
_model_locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_model_locks_guard = threading.Lock()
# The stop event of the request whose forward passes run in this thread.
_running = threading.local()


class GenerationStopped(Exception):
    """Raised inside a forward pass when the request's stop event is set."""


def model_lock(model: Any) -> threading.Lock:
    """The lock that lets one generate() at a time run on this model."""
    with _model_locks_guard:
        lock = _model_locks.get(model)
        if lock is None:
            lock = _model_locks[model] = threading.Lock()
        return lock


@contextmanager
def running_request(stop_event: threading.Event) -> Iterator[None]:
    """While the block runs, this thread's forward passes end (GenerationStopped) once stop_event is set."""
    _running.stop_event = stop_event
    try:
        yield
    finally:
        _running.stop_event = None


def _stop_inside_forward(module: Any, args: Any) -> None:
    event = getattr(_running, "stop_event", None)
    if event is not None and event.is_set():
        raise GenerationStopped


def watch_layers(model: Any) -> None:
    """A pre-hook on every layer (each item of an nn.ModuleList) that ends the forward pass of a
    stopped request. Installed once per model; a thread with no request running is not affected."""
    import torch

    with _model_locks_guard:
        if getattr(model, "_studio_stop_hooks", False):
            return
        for module in model.modules():
            if isinstance(module, torch.nn.ModuleList):
                for layer in module:
                    layer.register_forward_pre_hook(_stop_inside_forward)
        model._studio_stop_hooks = True


def stop_criteria_class() -> type:
    """StopOnEvent: a StoppingCriteria that ends generate() once the request's event is set."""
    from transformers import StoppingCriteria

    class StopOnEvent(StoppingCriteria):
        """Ends generate() when the request's event is set; records when tokens arrive."""

        def __init__(self, event: threading.Event, prompt_length: int) -> None:
            self.event = event
            self.prompt_length = prompt_length
            self.steps = 0
            self.first_token_at: float | None = None

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
            self.steps = int(input_ids.shape[-1]) - self.prompt_length
            return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)

    return StopOnEvent
