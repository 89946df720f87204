"""Caps that keep fine-tuning from holding the machine: the queue length and the status streams
(how many at once, and for how long); and `Followers`, one live status stream per page.

Each is a constant that an environment variable of the same name overrides
(STUDIO_MAX_QUEUED_RUNS=8 python app.py), read as the upload caps are (studio/uploads/caps.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from studio.errors import UserError
from studio.uploads.caps import setting

T = TypeVar("T")


def max_queued_runs() -> int:
    return setting("STUDIO_MAX_QUEUED_RUNS", 4)


def max_status_streams() -> int:
    return setting("STUDIO_MAX_STATUS_STREAMS", 8)


def status_stream_seconds() -> int:
    return setting("STUDIO_STATUS_STREAM_SECONDS", 3600)


class StreamLimit:
    """At most `size` status streams at once, each ending after `seconds`."""

    def __init__(self, size: int, seconds: float) -> None:
        self.size, self.seconds = size, seconds
        self._open = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> int:
        return self._open

    def bounded(self, make: Callable[[float], Iterator[T]]) -> Iterator[T]:
        """make(deadline)'s items (it ends by the monotonic deadline) in a free slot; a UserError
        when all slots are taken."""
        with self._lock:
            if self._open >= self.size:
                raise UserError(
                    f"{self.size} status streams are open on this app already; press Refresh runs "
                    "to see the runs, or try the live status again in a minute."
                )
            self._open += 1
        try:
            yield from make(time.monotonic() + self.seconds)
        finally:
            with self._lock:
                self._open -= 1


class Followers:
    """One status stream per follower (a page's session): a page's boxes show one run, so a new
    stream for the page ends the one it replaces, which would otherwise keep writing its own run
    into them. The new stream starts once the old one has ended, so the old one's last update
    never lands after the new one's first. (Gradio's event `cancels` lost the new stream's
    later updates in the browser.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._newest: dict[str, threading.Event] = {}  # follower → the event its newest stream sets when it ends

    def leave(self, follower: str | None) -> None:
        """The follower moves on (its page started another run): end its stream, and wait until it has
        (so no update of the run it left comes after this)."""
        if not follower:
            return
        with self._lock:
            previous = self._newest.pop(follower, None)
        if previous is not None:
            previous.wait(timeout=2.0)

    def follow(self, follower: str | None, make: Callable[[Callable[[], bool]], Iterator[T]]) -> Iterator[T]:
        """make(current)'s items, where current() turns False once a newer stream for `follower`
        started (make then ends); without a follower, a stream like any other."""
        if not follower:
            yield from make(lambda: True)
            return
        ended = threading.Event()
        with self._lock:
            previous = self._newest.get(follower)
            self._newest[follower] = ended
        try:
            if previous is not None:
                previous.wait(timeout=2.0)  # it notices within one poll
            yield from make(lambda: self._newest.get(follower) is ended)
        finally:
            ended.set()
            with self._lock:
                if self._newest.get(follower) is ended:
                    del self._newest[follower]
