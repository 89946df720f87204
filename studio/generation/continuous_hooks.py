"""How studio's requests plug into transformers' ContinuousBatchingManager (studio/generation/continuous.py):
each request's own logits processors run on its row of every batch (`rows_class`), and its
outputs go to its own queue (`router`)."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

__all__ = ["router", "rows_class"]


def router(requests: dict[str, Any]) -> Any:
    from transformers.generation.continuous_batching.continuous_api import OutputRouter

    class Router(OutputRouter):
        """Puts each output in its own request's queue (a cancelled request's are dropped)."""

        def deliver(self, output: Any) -> None:
            request = requests.get(output.request_id)
            if request is not None:
                request.queue.put(output)

        def deliver_batch(self, outputs: list[Any]) -> None:
            for output in outputs:
                self.deliver(output)

    return Router()


@functools.cache
def rows_class() -> type:
    from transformers.generation.continuous_batching.cb_logits_processors import ContinuousBatchingLogitsProcessor

    class Rows(ContinuousBatchingLogitsProcessor):
        """Runs each request's own processors on its row of the batch's scores, with its whole
        sequence so far as input_ids, as generate() would for that request alone."""

        supported_kwargs: ClassVar[dict[str, type]] = {}
        ignored_kwargs: ClassVar[tuple[str, ...]] = ()

        def __init__(self, requests: dict[str, Any]) -> None:
            self.requests = requests
            self.rows: list[tuple[Any, Any]] = []

        def fill_defaults(self, int32_tensor: Any) -> None:
            int32_tensor.fill_(0)

        def prepare_tensor_args(self, requests_with_new_token: list[Any]) -> Any:
            import torch

            self.rows = [
                (self.requests.get(future.state.request_id), future.state) for future in requests_with_new_token
            ]
            return torch.arange(len(self.rows), dtype=torch.int32)

        def __call__(self, scores: Any, tensor_arg: Any) -> Any:
            import torch

            for index, (request, state) in enumerate(self.rows[: scores.shape[0]]):
                if request is None or not request.processors:
                    continue
                input_ids = torch.tensor([state.initial_tokens + state.generated_tokens], device=scores.device)
                row = scores[index : index + 1]
                for processor in request.processors:
                    row = processor(input_ids, row)
                scores[index] = row[0]
            return scores

    return Rows
