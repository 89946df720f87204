"""What one visitor may ask of a public app (a Space, --share, --public): how many of their
requests run at once, and the size of what they send. Each limit is models.yaml's
`public_limits:` (studio/config.py, PublicLimits); a request past one gets a sentence that
names the parameter and the limit. On localhost without --share nothing here applies.

    with VISITORS.running(studio, request):     # in a Run handler, around its work
        check_public_inputs(studio, inputs)     # before Studio.stream
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import gradio as gr

from studio.adapters.common import message_text
from studio.studio import Studio

# The generation parameters with a public limit, as PublicLimits names them.
CAPPED = ("max_new_tokens", "num_beams", "num_return_sequences")
# What a generating task is asked: its length is the visitor's prompt.
PROMPT_NAMES = ("prompt", "message", "text", "question", "system_prompt")
ELSEWHERE = "or run the app on your own machine, where there is no such limit"


class VisitorLimits:
    """Requests running per browser session (Gradio's session hash), at most PublicLimits'
    running_per_visitor at once: one visitor cannot hold every worker. Sessions with nothing
    running are forgotten, so this never grows with visitors."""

    def __init__(self) -> None:
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, session: str) -> int:
        with self._lock:
            return self._running[session]

    @contextmanager
    def running(self, studio: Studio, request: gr.Request | None) -> Iterator[None]:
        """Count one running request for the visitor's session while the block runs; a
        gr.Error when that session already has its limit running (public mode only)."""
        session = getattr(request, "session_hash", None) if studio.public else None
        if not session:
            yield
            return
        limit = studio.config.public_limits.running_per_visitor
        with self._lock:
            if self._running[session] >= limit:
                raise gr.Error(
                    f"You already have {limit} request{'s' if limit > 1 else ''} running, the most one visitor "
                    "may run at once on this public app; wait for one to finish (or stop it), then try again.",
                    print_exception=False,
                )
            self._running[session] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[session] -= 1
                if self._running[session] <= 0:
                    del self._running[session]


VISITORS = VisitorLimits()


def _number(value: Any) -> float | None:
    """A number sent by the visitor (a wrongly typed one is left to the spec's own sentence)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def history_chars(history: Any) -> int:
    """The characters of a chat history's messages, all together."""
    if not isinstance(history, (list, tuple)):
        return 0
    return sum(len(message_text(item.get("content"))) if isinstance(item, dict) else len(str(item)) for item in history)


def check_public_inputs(studio: Studio, inputs: Mapping[str, Any]) -> None:
    """A gr.Error naming the parameter and its public limit when an input passes it."""
    if not studio.public:
        return
    limits = studio.config.public_limits
    for name in CAPPED:
        value = _number(inputs.get(name))
        if name == "num_beams" and inputs.get("strategy") not in (None, "beam"):
            continue  # beams apply to beam search only
        cap = getattr(limits, name)
        if value is not None and value > cap:
            raise gr.Error(
                f"{name} can be at most {cap} on this public app; got {value:g}. Lower it, {ELSEWHERE}.",
                print_exception=False,
            )
    if "max_new_tokens" not in inputs:
        return  # the size limits are for the tasks that generate
    for name in PROMPT_NAMES:
        value = inputs.get(name)
        if isinstance(value, str) and len(value) > limits.prompt_chars:
            raise gr.Error(
                f"{name} is {len(value):,} characters long; this public app takes at most "
                f"{limits.prompt_chars:,}. Shorten it, {ELSEWHERE}.",
                print_exception=False,
            )
    size = history_chars(inputs.get("history"))
    if size > limits.history_chars:
        raise gr.Error(
            f"The history is {size:,} characters long; this public app takes at most {limits.history_chars:,}. "
            f"Start a new conversation, {ELSEWHERE}.",
            print_exception=False,
        )
