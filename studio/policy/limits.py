"""What one visitor may ask of a public app (a Space, --share, --public): the size of what they
send, and how many of their requests run at once. Each limit is models.yaml's `public_limits:`
(studio/config.py, PublicLimits); a request past one gets a sentence that names the parameter
and the limit. On localhost without --share nothing here applies.

Studio applies both itself (studio/policy/rules.py), so no endpoint has to remember them: the
caps to a task's inputs once its spec has checked them ("2000" sent as text is capped like
2000), the running limit around every action a Caller asks for.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from studio.config import PublicLimits
from studio.errors import UserError
from studio.policy.access import Caller
from studio.spec.messages import message_text

# The generation parameters with a public limit, as PublicLimits names them.
CAPPED = ("max_new_tokens", "num_beams", "num_return_sequences")
# What a generating task is asked: its length is the visitor's prompt.
PROMPT_NAMES = ("prompt", "message", "text", "question", "system_prompt")
ELSEWHERE = "or run the app on your own machine, where there is no such limit"


def _number(value: Any) -> float | None:
    """A number among the inputs (anything else is the spec's to refuse, with its own sentence)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def history_chars(history: Any) -> int:
    """The characters of a chat history's messages, all together."""
    if not isinstance(history, (list, tuple)):
        return 0
    return sum(len(message_text(item.get("content"))) if isinstance(item, dict) else len(str(item)) for item in history)


def check_caps(limits: PublicLimits, inputs: Mapping[str, Any]) -> None:
    """A UserError naming the parameter and its public limit when a checked input passes it."""
    for name in CAPPED:
        value = _number(inputs.get(name))
        if name == "num_beams" and inputs.get("strategy") not in (None, "beam"):
            continue  # beams apply to beam search only
        cap = getattr(limits, name)
        if value is not None and value > cap:
            raise UserError(f"{name} can be at most {cap} on this public app; got {value:g}. Lower it, {ELSEWHERE}.")
    if "max_new_tokens" not in inputs:
        return  # the size limits are for the tasks that generate
    for name in PROMPT_NAMES:
        value = inputs.get(name)
        if isinstance(value, str) and len(value) > limits.prompt_chars:
            raise UserError(
                f"{name} is {len(value):,} characters long; this public app takes at most "
                f"{limits.prompt_chars:,}. Shorten it, {ELSEWHERE}."
            )
    size = history_chars(inputs.get("history"))
    if size > limits.history_chars:
        raise UserError(
            f"The history is {size:,} characters long; this public app takes at most {limits.history_chars:,}. "
            f"Start a new conversation, {ELSEWHERE}."
        )


class VisitorLimits:
    """Requests running per browser session, at most PublicLimits' running_per_visitor at once:
    one visitor cannot hold every worker. Sessions with nothing running are forgotten, so this
    never grows with visitors."""

    def __init__(self) -> None:
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, session: str) -> int:
        with self._lock:
            return self._running[session]

    @contextmanager
    def running(self, caller: Caller | None, limit: int) -> Iterator[None]:
        """Count one running request for the caller's session while the block runs; a UserError
        when that session already has `limit` running. A call without a session is not counted."""
        session = caller.session if caller is not None else None
        if not session:
            yield
            return
        with self._lock:
            if self._running[session] >= limit:
                raise UserError(
                    f"You already have {limit} request{'s' if limit > 1 else ''} running, the most one visitor "
                    "may run at once on this public app; wait for one to finish (or stop it), then try again."
                )
            self._running[session] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[session] -= 1
                if self._running[session] <= 0:
                    del self._running[session]
