"""transformers internals studio relies on (see compat/__init__.py): a config's attention, a
pipeline's parameter split, Whisper's language names, and the plumbing of continuous batching
(the manager's loop thread, its logits processors and output router).

transformers is imported inside each function: studio imports this module at its top, and the
app's start must not import torch.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from compat import Reliance

if TYPE_CHECKING:
    import torch

CONTINUOUS_API = "transformers.generation.continuous_batching.continuous_api"
CB_PROCESSORS = "transformers.generation.continuous_batching.cb_logits_processors"
CB_REQUESTS = "transformers.generation.continuous_batching.requests"
CB_DISTRIBUTED = "transformers.generation.continuous_batching.distributed"
PIPELINES = "transformers.pipelines.base"

RELIES_ON = [
    Reliance(
        "transformers.configuration_utils",
        "PreTrainedConfig._attn_implementation",
        "compat.transformers.attention_implementation",
    ),
    Reliance(PIPELINES, "Pipeline._sanitize_parameters", "compat.transformers.pipeline_parameters"),
    Reliance(PIPELINES, "Pipeline._preprocess_params", "compat.transformers.pipeline_parameters", instance=True),
    Reliance(PIPELINES, "Pipeline._forward_params", "compat.transformers.pipeline_parameters", instance=True),
    Reliance(PIPELINES, "Pipeline._postprocess_params", "compat.transformers.pipeline_parameters", instance=True),
    Reliance(PIPELINES, "ChunkPipeline", "compat.transformers.is_chunk_pipeline"),
    Reliance(
        "transformers.models.whisper.tokenization_whisper",
        "TO_LANGUAGE_CODE",
        "compat.transformers.whisper_language_codes",
    ),
    Reliance(CONTINUOUS_API, "OutputRouter.deliver", "compat.transformers.route_outputs", parameters=("output",)),
    Reliance(
        CONTINUOUS_API, "OutputRouter.deliver_batch", "compat.transformers.route_outputs", parameters=("outputs",)
    ),
    Reliance(
        CONTINUOUS_API, "ContinuousBatchingManager.output_router", "compat.transformers.route_outputs", instance=True
    ),
    Reliance(
        CONTINUOUS_API, "ContinuousBatchingManager.logit_processor", "compat.transformers.process_rows", instance=True
    ),
    Reliance(CB_PROCESSORS, "ContinuousBatchingLogitsProcessorList", "compat.transformers.process_rows"),
    Reliance(
        CB_PROCESSORS,
        "ContinuousBatchingLogitsProcessorList.tensors_required",
        "compat.transformers.process_rows",
        instance=True,
    ),
    Reliance(
        CB_PROCESSORS,
        "ContinuousBatchingLogitsProcessor.supported_kwargs",
        "compat.transformers.process_rows",
        instance=True,
    ),
    Reliance(
        CB_PROCESSORS,
        "ContinuousBatchingLogitsProcessor.ignored_kwargs",
        "compat.transformers.process_rows",
        instance=True,
    ),
    Reliance(
        CB_PROCESSORS,
        "ContinuousBatchingLogitsProcessor.fill_defaults",
        "compat.transformers.process_rows",
        parameters=("int32_tensor",),
    ),
    Reliance(
        CB_PROCESSORS,
        "ContinuousBatchingLogitsProcessor.prepare_tensor_args",
        "compat.transformers.process_rows",
        parameters=("requests_with_new_token",),
    ),
    Reliance(
        CB_PROCESSORS,
        "ContinuousBatchingLogitsProcessor.__call__",
        "compat.transformers.process_rows",
        parameters=("scores", "tensor_arg"),
    ),
    Reliance(CB_REQUESTS, "FutureRequestState.state", "compat.transformers.process_rows", instance=True),
    Reliance(CB_REQUESTS, "RequestState.request_id", "compat.transformers.process_rows", instance=True),
    Reliance(CB_REQUESTS, "RequestState.initial_tokens", "compat.transformers.process_rows", instance=True),
    Reliance(CB_REQUESTS, "RequestState.generated_tokens", "compat.transformers.process_rows", instance=True),
    Reliance(
        CONTINUOUS_API, "ContinuousBatchingManager._generation_thread", "compat.transformers.start_loop", instance=True
    ),
    Reliance(CONTINUOUS_API, "ContinuousBatchingManager._run_generation_loop", "compat.transformers.start_loop"),
    Reliance(
        CONTINUOUS_API, "ContinuousBatchingManager.background_thread_status", "compat.transformers.start_loop", True
    ),
    Reliance(CONTINUOUS_API, "BackgroundThreadStatus.local_status", "compat.transformers.start_loop"),
    Reliance(CONTINUOUS_API, "BackgroundThreadStatus.DONT_STOP", "compat.transformers.start_loop"),
    Reliance(CONTINUOUS_API, "BackgroundThreadStatus.clear", "compat.transformers.start_loop"),
    Reliance(CONTINUOUS_API, "BackgroundThreadStatus.fatal_error", "compat.transformers.loop_error", instance=True),
    Reliance(
        CONTINUOUS_API,
        "BackgroundThreadStatus.request_stop",
        "compat.transformers.stop_loop",
        parameters=("status", "global_rank"),
    ),
    Reliance(CONTINUOUS_API, "BackgroundThreadStatus.FLUSH_AND_STOP", "compat.transformers.stop_loop"),
    Reliance(
        CONTINUOUS_API, "ContinuousBatchingManager.distributed_helper", "compat.transformers.stop_loop", instance=True
    ),
    Reliance(CB_DISTRIBUTED, "DistributedHelper.global_rank", "compat.transformers.stop_loop", instance=True),
    Reliance(CONTINUOUS_API, "ContinuousBatchingManager._wake_up_loop", "compat.transformers.stop_loop", instance=True),
    Reliance(
        CONTINUOUS_API, "ContinuousBatchingManager.batch_processor", "compat.transformers.drop_batch_processor", True
    ),
]


# ----------------------------------------------------------------- models and pipelines
def attention_implementation(config: Any) -> str | None:
    """The attention a loaded model runs ("sdpa", "eager", "flash_attention_2", ...). Relies on
    PreTrainedConfig._attn_implementation: transformers has no public reader. Continuous batching
    runs beside generate() on the same model only with SDPA, so studio asks before using it."""
    implementation = config._attn_implementation
    return None if implementation is None else str(implementation)


def pipeline_parameters(pipe: Any, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A call's keyword arguments split into (preprocess, forward, postprocess) parameters over
    the pipeline's own defaults, as Pipeline.__call__ splits them. Relies on
    Pipeline._sanitize_parameters and the _preprocess_params / _forward_params /
    _postprocess_params it set at construction; we need them to run the three steps ourselves
    and share the forward between concurrent calls (studio/serving/pipelines.py)."""
    preprocess, forward, postprocess = pipe._sanitize_parameters(**kwargs)
    return (
        {**pipe._preprocess_params, **preprocess},
        {**pipe._forward_params, **forward},
        {**pipe._postprocess_params, **postprocess},
    )


def is_chunk_pipeline(pipe: Any) -> bool:
    """Whether a pipeline's preprocess yields several items (one per window or label) that its
    postprocess takes together. Relies on transformers.pipelines.base.ChunkPipeline, which
    transformers does not export."""
    from transformers.pipelines.base import ChunkPipeline

    return isinstance(pipe, ChunkPipeline)


def whisper_language_codes() -> dict[str, str]:
    """Whisper's English language names and codes, each to its code ("german" -> "de"). Relies on
    transformers.models.whisper.tokenization_whisper.TO_LANGUAGE_CODE, an undocumented constant:
    the one list of the names Whisper's language argument takes."""
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    return dict(TO_LANGUAGE_CODE)


# ----------------------------------------------------------------- continuous batching
# on_row(request_id, sequence, row): a request's row of scores (1 x vocabulary) in place of the
# manager's; None leaves the row as it is. sequence() gives the request's prompt and tokens so far.
RowHook = Callable[[str, Callable[[], list[int]], "torch.Tensor"], "torch.Tensor | None"]
OutputHook = Callable[[str, Any], None]


def route_outputs(manager: Any, deliver: OutputHook) -> None:
    """Send each output of a ContinuousBatchingManager to `deliver(request_id, output)` instead of its
    shared queue. Relies on ContinuousBatchingManager.output_router (handed to the batch processor
    when it is made, so set before the first request) and OutputRouter.deliver / deliver_batch, in
    the undocumented continuous_batching.continuous_api. We need it so that each request reads its
    own outputs as they come, and a cancelled request's are dropped."""
    from transformers.generation.continuous_batching.continuous_api import OutputRouter

    class Router(OutputRouter):
        """Hands each output to `deliver` with its request id."""

        def deliver(self, output: Any) -> None:
            deliver(output.request_id, output)

        def deliver_batch(self, outputs: list[Any]) -> None:
            for output in outputs:
                deliver(output.request_id, output)

    manager.output_router = Router()


def process_rows(manager: Any, on_row: RowHook) -> None:
    """Run `on_row` on each request's row of every batch's scores, before the manager picks the next
    tokens. Relies on ContinuousBatchingManager.logit_processor (set before the first request), the
    ContinuousBatchingLogitsProcessorList / ContinuousBatchingLogitsProcessor protocol of the
    undocumented continuous_batching.cb_logits_processors (tensors_required, fill_defaults,
    prepare_tensor_args, __call__(scores, tensor_arg)), and FutureRequestState.state with
    RequestState.request_id / initial_tokens / generated_tokens. Needs the manager's synchronous
    batching (use_async_batching=False): the rows are those of the batch just prepared. We need
    it so that each request's own processors (penalties, sampling with its seed, the token
    recorder) run as generate() runs them for that request alone."""
    from transformers import LogitsProcessorList
    from transformers.generation.continuous_batching.cb_logits_processors import (
        ContinuousBatchingLogitsProcessorList,
    )

    processors = ContinuousBatchingLogitsProcessorList(LogitsProcessorList([_rows_class()(on_row)]))
    processors.tensors_required = 1  # the per-row argument of the rows processor
    manager.logit_processor = processors


def _sequence_of(state: Any) -> list[int]:
    sequence: list[int] = state.initial_tokens + state.generated_tokens
    return sequence


@functools.cache
def _rows_class() -> type:
    """The ContinuousBatchingLogitsProcessor that calls a RowHook on each row (made once)."""
    import torch
    from transformers.generation.continuous_batching.cb_logits_processors import ContinuousBatchingLogitsProcessor

    class Rows(ContinuousBatchingLogitsProcessor):
        """Calls on_row for each row of the batch's scores, with its request's id and sequence."""

        def __init__(self, on_row: RowHook) -> None:
            self.supported_kwargs: dict[str, type] = {}  # takes no per-request arguments
            self.ignored_kwargs: tuple[str, ...] = ()
            self.on_row = on_row
            self.rows: list[Any] = []

        def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
            int32_tensor.fill_(0)

        def prepare_tensor_args(self, requests_with_new_token: list[Any]) -> torch.Tensor:
            self.rows = [future.state for future in requests_with_new_token]
            return torch.arange(len(self.rows), dtype=torch.int32)

        def __call__(self, scores: torch.Tensor, tensor_arg: torch.Tensor) -> torch.Tensor:
            for index, state in enumerate(self.rows[: scores.shape[0]]):
                row = self.on_row(state.request_id, functools.partial(_sequence_of, state), scores[index : index + 1])
                if row is not None:
                    scores[index] = row[0]
            return scores

    return Rows


def start_loop(manager: Any, thread_name: str) -> None:
    """Start the manager's loop thread unless it runs: what manager.start() does, with a named daemon
    thread (so it never holds up the process's exit, and studio knows its generation threads by
    name). A loop asked to stop after its last request is waited for (one turn of the loop).
    Relies on ContinuousBatchingManager._generation_thread and _run_generation_loop, and on
    BackgroundThreadStatus (local_status, DONT_STOP, fatal_error, clear): all undocumented.
    RuntimeError when the previous loop does not end or failed."""
    status = manager.background_thread_status
    thread: threading.Thread | None = manager._generation_thread
    if thread is not None and thread.is_alive():
        if status.local_status == status.DONT_STOP:
            return
        thread.join(timeout=10)  # the idle stop asked by the last request: one turn of the loop
        if thread.is_alive():
            raise RuntimeError("the previous loop did not end")
    if status.fatal_error is not None:
        raise RuntimeError(str(status.fatal_error))
    status.clear()
    manager._generation_thread = threading.Thread(target=manager._run_generation_loop, name=thread_name, daemon=True)
    manager._generation_thread.start()


def stop_loop(manager: Any, wait: float = 0.0) -> None:
    """Let the manager's loop end once its (cancelled) requests are gone, waiting up to `wait`
    seconds; unlike manager.stop(), the batch processor and its cache stay for the next start.
    Relies on BackgroundThreadStatus.request_stop(FLUSH_AND_STOP, rank), the manager's
    distributed_helper.global_rank, _wake_up_loop and _generation_thread: all undocumented."""
    if not manager.is_running():
        return
    status = manager.background_thread_status
    status.request_stop(status.FLUSH_AND_STOP, manager.distributed_helper.global_rank)
    manager._wake_up_loop.set()
    if wait:
        manager._generation_thread.join(timeout=wait)


def loop_error(manager: Any) -> BaseException | None:
    """The error the manager's loop thread died of, or None. Relies on the undocumented
    ContinuousBatchingManager.background_thread_status.fatal_error: a failed loop is otherwise
    only seen as requests that never finish."""
    error: BaseException | None = manager.background_thread_status.fatal_error
    return error


def drop_batch_processor(manager: Any) -> None:
    """Drop the manager's batch processor (and its cache) now. Relies on the undocumented
    ContinuousBatchingManager.batch_processor; we need it at exit, while the interpreter still
    runs, because the processor's __del__ needs torch."""
    manager.batch_processor = None
