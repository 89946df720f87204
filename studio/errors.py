"""UserError: a mistake a person made (or can fix), told in one sentence.

Everything that is not a UserError is a bug: it is logged with its traceback on the
server and shown to the person as a short generic message.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """An error the person can fix; its message is one sentence saying what to do."""


_notices: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("notices", default=None)


def notify(message: str) -> None:
    """Tell the person something they should know about a result (e.g. input truncated)."""
    collected = _notices.get()
    if collected is not None and message not in collected:
        collected.append(message)


@contextmanager
def collect_notices() -> Iterator[list[str]]:
    """Collect the notices raised by adapters while the block runs (per request)."""
    collected: list[str] = []
    token = _notices.set(collected)
    try:
        yield collected
    finally:
        _notices.reset(token)


def shorten(text: str, limit: int = 40) -> str:
    """A user's value as a message may quote it: cut to `limit` characters, never echoed whole."""
    return text if len(text) <= limit else text[:limit] + "…"
