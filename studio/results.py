"""One result type: the raw output (what the API returns) and an optional visual (what the
page draws beside it: a boxed image, masks, a waveform, live generation figures).

Adapters return either the bare raw output or `Output(raw, visual)`; streaming adapters
yield `Output`s. Studio turns both into `RunResult`s (see docs/ARCHITECTURE.md, "Results").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Seconds between a stream's text updates (at most 5 a second): each costs the page ~40 ms of
# browser CPU, which on a small machine the model itself needs (bench/generation.py --page).
STREAM_EVERY = 0.2

# Progress of something slow (a load, a download, rows of a file): a fraction 0..1 and a sentence.
ProgressCallback = Callable[[float, str], None]


@dataclass
class Output:
    """What an adapter may return: the raw output, and what the page draws from it."""

    raw: Any
    visual: Any = None


def split_output(value: Any) -> tuple[Any, Any]:
    """(raw, visual) of an adapter's return value, bare or an Output."""
    if isinstance(value, Output):
        return value.raw, value.visual
    return value, None


@dataclass
class RunResult:
    """One run (or one streamed update): raw output, visual, notices and the checked inputs."""

    output: Any
    notices: list[str] = field(default_factory=list)
    visual: Any = None
    inputs: dict[str, Any] = field(default_factory=dict)
