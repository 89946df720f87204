"""The worker's voice: one timestamped line on its stdout, which the launcher sends to train.log."""

from __future__ import annotations

import time


def say(message: str) -> None:
    """A line of train.log (the page's log tail shows it)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
