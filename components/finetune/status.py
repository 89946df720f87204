"""The Fine-tune tab's status streams: a run's status drawn into the tab's boxes, on page load
(re-attaching to the running run) and after Train or Resume (/train_status).

A page follows one run at a time: the JobManager ends a page's stream when the page starts
another run (`jobs.leave`) or opens a newer stream, so an older stream never writes the run it
left back into the boxes that Stop reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from components.errors import shown_as_gr_error
from components.finetune.views import loss_frame, progress_html, queue_markdown, status_markdown
from studio.errors import UserError

ENDED = ("completed", "failed", "stopped")  # a run's final statuses


VIEW_OUTPUTS = 6  # what views() returns: FinetuneView.stream_outputs


def views(jobs: Any, status: dict[str, Any]) -> tuple[Any, ...]:
    """One status, drawn: the stream's outputs. Plain values, as the API gives them: the page
    shows each box once it has content (shown_boxes)."""
    return (
        status_markdown(status),
        progress_html(status),
        loss_frame(status["metrics"]),
        status["log_tail"],
        queue_markdown(jobs.queue()),
        status,
    )


def page_session(request: gr.Request | None) -> str | None:
    """The browser page's session when the page itself asks (its requests say `x-gradio-user: app`;
    gradio_client's say `api`): a page follows one run at a time, an API client any number."""
    headers = getattr(request, "headers", None) or {}
    return getattr(request, "session_hash", None) if headers.get("x-gradio-user") == "app" else None


def followed(jobs: Any, run_id: str, request: gr.Request | None) -> Iterator[dict[str, Any]]:
    """The run's statuses; for the page, until it follows another run. A page's stream that ends
    before its run does ends with None: Gradio re-sends a stream's last update when it completes,
    which would put the run the page left back into its boxes."""
    follower = page_session(request)
    status = None
    for status in jobs.status_stream(run_id, follower=follower):
        yield status
    if follower and (status is None or status["status"] not in ENDED):
        yield None


def train_status(jobs: Any, run_id: str, request: gr.Request = None) -> Iterator[tuple[Any, ...]]:
    """Stream the run's status (log tail, progress, loss) until it ends (streams are bounded in number and time)."""
    with shown_as_gr_error("Training status"):
        for status in followed(jobs, run_id, request):
            yield views(jobs, status) if status else (gr.skip(),) * VIEW_OUTPUTS


def attach(jobs: Any, request: gr.Request = None) -> Iterator[tuple[Any, ...]]:
    """On page load: re-attach to the running (or first queued) run (not when every stream is taken).
    Without one, the page stays as built (a generator that yields nothing would blank every output)."""
    active = jobs.active_run()
    if active is not None:
        try:
            for status in followed(jobs, active, request):
                yield (active, *views(jobs, status)) if status else (gr.skip(),) * (1 + VIEW_OUTPUTS)
            return
        except UserError:
            pass
    yield (gr.skip(),) * (1 + VIEW_OUTPUTS)
