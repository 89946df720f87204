"""What studio's continuous batching requests do at the manager's two hooks
(studio/generation/continuous.py; compat/transformers.py plugs them in): each request's own
logits processors run on its row of every batch (`request_rows`), and its outputs go to its own
queue (`request_queues`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from compat.transformers import OutputHook, RowHook

if TYPE_CHECKING:
    import torch

__all__ = ["request_queues", "request_rows"]


def request_queues(requests: dict[str, Any]) -> OutputHook:
    """Puts each output in its own request's queue (a cancelled request's are dropped)."""

    def deliver(request_id: str, output: Any) -> None:
        request = requests.get(request_id)
        if request is not None:
            request.queue.put(output)

    return deliver


def request_rows(requests: dict[str, Any]) -> RowHook:
    """Runs each request's own processors on its row of the batch's scores, with its whole
    sequence so far as input_ids, as generate() would for that request alone."""

    def on_row(request_id: str, sequence: Callable[[], list[int]], row: torch.Tensor) -> torch.Tensor | None:
        import torch

        request = requests.get(request_id)
        if request is None or not request.processors:
            return None
        input_ids = torch.tensor([sequence()], device=row.device)
        for processor in request.processors:
            row = processor(input_ids, row)
        return row

    return on_row
