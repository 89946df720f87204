"""Errors that stay: a run's sentence is shown in the tab's output area until the next run.

A toast alone vanishes after a few seconds and leaves bare "Error" badges behind. The Run
event still raises its gr.Error (the API's answer is unchanged); `remember_errors` keeps the
last sentence per browser session and endpoint, and a `.failure()` listener writes it into
the tab's error box, clearing the outputs' "Error" badges. The next run that succeeds hides it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import gradio as gr

from compat.gradio import Event, wrap_process_api

UNKNOWN = "This run failed; the message was shown at the top right of the page."
_MAX_KEPT = 1000  # sessions whose last error is kept (oldest dropped first)


class RecentErrors:
    """The last error sentence per (session, endpoint), taken once by the failure listener."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._errors: dict[tuple[str, str], str] = {}

    def record(self, session: str | None, endpoint: str | None, message: str) -> None:
        if not session or not endpoint:
            return
        with self._lock:
            self._errors.pop((session, endpoint), None)
            self._errors[(session, endpoint)] = message
            while len(self._errors) > _MAX_KEPT:
                self._errors.pop(next(iter(self._errors)))

    def take(self, session: str | None, endpoint: str) -> str | None:
        with self._lock:
            return self._errors.pop((session or "", endpoint), None)


RECENT = RecentErrors()


def remember_errors(blocks: gr.Blocks) -> None:
    """Keep each failed event's sentence (a gr.Error from preprocessing or from the handler,
    streaming or not) for the failure listener of its tab."""

    def record(event: Event | None, session: str | None, exc: Exception) -> None:
        message = str(exc.message) if isinstance(exc, gr.Error) else UNKNOWN
        RECENT.record(session, event.api_name if event is not None else None, message)

    wrap_process_api(blocks, record)


def error_box() -> gr.Markdown:
    """The box the sentence appears in (hidden until a run fails)."""
    return gr.Markdown(visible=False, elem_classes=["run-error"], container=True)


def badges(outputs: Sequence[Any], inputs: Sequence[Any]) -> list[Any]:
    """The outputs that show a run's progress: not those that are inputs too (a chat's message
    box, cleared by the run, must never show "Error")."""
    return [out for out in outputs if all(out is not component for component in inputs)]


def wire_error_box(event: Any, box: gr.Markdown, badges: Sequence[Any], api: str) -> None:
    """Show the run's sentence in `box` when `event` fails, and hide it when a run succeeds.
    `badges`: the outputs that showed the event's progress, whose "Error" badge is cleared.
    (Hiding it on the click instead races the failure listener when a run fails at once.)"""

    def failed(request: gr.Request) -> list[Any]:
        message = RECENT.take(getattr(request, "session_hash", None), api)
        if message is None:  # nothing failed: the run was cancelled (Stop), which is not an error
            return [gr.skip(), *[gr.skip() for _ in badges]]
        return [gr.Markdown(f"**Could not run:** {message}", visible=True), *[gr.skip() for _ in badges]]

    quiet = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
    event.failure(failed, outputs=[box, *badges], **quiet)
    event.success(lambda: gr.Markdown("", visible=False), outputs=box, **quiet)
