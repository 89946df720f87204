"""Continuous batching: concurrent greedy and sampling requests on one model share its forward
passes, through transformers' own engine (`model.init_continuous_batching()`, the one behind
`transformers serve --continuous-batching`). See docs/ARCHITECTURE.md, "Continuous batching".

    reason = unsupported(model, batch, params)        # None: continuous batching can run it
    request = submit(model, batch, params, recorder)  # Unavailable: run generate() instead
    for output in request.outputs(0.25): ...          # GenerationOutput (tokens so far) or None
    request.release()                                 # Stop: cancels this request only

One `Engine` per model, made on its first request; its loop thread runs while requests are in
flight. The manager picks tokens by argmax; each request's own processors first run on its row
of scores (`Rows`): penalties, the token recorder and, when sampling, the warpers and a draw
from the request's own seeded generator (studio/generation/decoding.py), so greedy text is generate()'s
and a seed gives the same text whatever else runs.
"""

from __future__ import annotations

import atexit
import itertools
import queue
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from compat.transformers import (
    attention_implementation,
    drop_batch_processor,
    loop_error,
    process_rows,
    route_outputs,
    start_loop,
    stop_loop,
)
from studio.generation.continuous_hooks import request_queues, request_rows
from studio.generation.decoding import GenerationParams, penalties, request_processors
from studio.generation.token_probabilities import eos_ids

__all__ = ["CONTINUOUS", "GENERATE", "Unavailable", "stop_engine", "submit", "unsupported"]

CONTINUOUS = "continuous batching"
GENERATE = "generate"
THREAD_NAME = "studio-generate"  # studio.generation.THREAD_NAME: every thread that runs a model's generation
PAGE_SIZE = 256  # tokens per cache page
CACHE_TOKENS = 16_384  # cache of every request on one model together (a longer request uses generate())
MAX_BATCH_TOKENS = 256  # tokens per forward pass (a longer prompt is read in several): small static tensors
MAX_REQUESTS = 32
IDLE_SECONDS = 0.3  # the loop thread ends this long after its last request
# generate() settings from a model's generation_config that continuous batching does not apply
UNAPPLIED = ("suppress_tokens", "begin_suppress_tokens", "bad_words_ids", "sequence_bias", "forced_bos_token_id",
             "forced_eos_token_id", "min_new_tokens", "exponential_decay_length_penalty")  # fmt: skip


class Unavailable(Exception):
    """Continuous batching cannot take this request; the message says why (shown as engine_reason)."""


def unsupported(model: Any, batch: dict[str, Any], params: GenerationParams) -> str | None:
    """Why continuous batching cannot run this request (the raw reason), or None when it can."""
    if params.strategy == "beam":
        return "beam search needs generate"
    if params.num_return_sequences > 1:
        return "several sequences need generate"
    if params.stop_strings:
        return "stop strings need generate"
    config = getattr(model, "config", None)
    if not hasattr(model, "init_continuous_batching") or config is None or config.is_encoder_decoder:
        return "this architecture needs generate"
    if set(batch) - {"input_ids", "attention_mask"} or config.get_text_config() is not config:
        return "image and audio inputs need generate"
    if getattr(model, "hf_quantizer", None) is not None or model.device.type != "cpu":
        return "quantized or accelerator models need generate"
    attention = attention_implementation(config)
    if attention != "sdpa":
        return f"{attention} attention needs generate"
    if "attention_mask" in batch and not bool(batch["attention_mask"].all()):
        return "a padded prompt needs generate"
    if int(batch["input_ids"].shape[-1]) + params.max_new_tokens > CACHE_TOKENS:
        return f"a request over {CACHE_TOKENS:,} tokens needs generate"
    generation_config = getattr(model, "generation_config", None)
    if any(getattr(generation_config, name, None) not in (None, [], 0) for name in UNAPPLIED):
        return "this model's generation settings need generate"
    return None


class ContinuousRequest:
    """One request in a model's engine: its processors, its queue of outputs, its timing."""

    def __init__(self, engine: Engine, prompt: list[int], params: GenerationParams, recorder: Any) -> None:
        self.engine, self.prompt, self.params = engine, prompt, params
        self.processors = penalties(params) + request_processors(params, recorder)[1]
        self.id = f"studio-{next(engine.counter)}"
        self.queue: queue.Queue[Any] = queue.Queue()
        self.finished = False

    def outputs(self, timeout: float) -> Iterator[Any]:
        """Each output (GenerationOutput: tokens so far) as it comes; None after `timeout` without
        one. Raises Unavailable when the engine failed (its error in the message)."""
        while not self.finished:
            try:
                output = self.queue.get(timeout=timeout)
            except queue.Empty:
                if self.engine.running():
                    yield None
                    continue
                raise Unavailable(f"continuous batching stopped: {self.engine.broken or 'its loop ended'}") from None
            if output.error is not None:
                raise Unavailable(f"continuous batching failed: {output.error}")
            self.finished = output.is_finished()
            yield output

    def release(self) -> None:
        """Leave the engine; cancels the request if it is still running."""
        self.engine.release(self)


class Engine:
    """A model's continuous batching manager, its requests, and its loop thread."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.guard = threading.Lock()
        self.requests: dict[str, ContinuousRequest] = {}
        self.counter = itertools.count()
        self.manager: Any = None
        self.broken: str | None = None

    def _make_manager(self) -> Any:
        from transformers import ContinuousBatchingConfig, GenerationConfig

        config = ContinuousBatchingConfig(
            page_size=PAGE_SIZE,
            num_blocks=CACHE_TOKENS // PAGE_SIZE,
            max_batch_tokens=MAX_BATCH_TOKENS,
            max_requests_per_batch=MAX_REQUESTS,
            use_async_batching=False,  # the row hook reads the batch it was just given (process_rows)
            use_cuda_graph=False,
            auto_switch_to_flash=False,  # the attention stays the one generate() uses beside it
        )
        greedy = GenerationConfig(do_sample=False, eos_token_id=-1)  # type: ignore[no-untyped-call]  # unannotated __init__
        manager = self.model.init_continuous_batching(greedy, config)
        process_rows(manager, request_rows(self.requests))
        route_outputs(manager, request_queues(self.requests))
        return manager

    def submit(self, request: ContinuousRequest) -> None:
        with self.guard:
            if self.broken:
                raise Unavailable(f"continuous batching failed earlier on this model: {self.broken}")
            try:
                self.manager = self.manager or self._make_manager()
                self._start()
            except Exception as exc:
                self.broken = str(exc) or type(exc).__name__
                raise Unavailable(f"continuous batching could not start: {self.broken}") from exc
            self.requests[request.id] = request
            ends = sorted(eos_ids(self.model)) or -1
            added = self.manager.add_request(
                request.prompt, request.id, request.params.max_new_tokens, streaming=True, eos_token_id=ends
            )
            if added is None:
                self.requests.pop(request.id, None)
                raise Unavailable("continuous batching refused the request")

    def release(self, request: ContinuousRequest) -> None:
        with self.guard:
            if self.requests.pop(request.id, None) is not None and not request.finished:
                self.manager.cancel_request(request.id)
            if not self.requests:  # the loop ends after a short idle time (a restart costs a cache reset)
                timer = threading.Timer(IDLE_SECONDS, self._stop_if_idle)
                timer.daemon = True
                timer.start()

    def _stop_if_idle(self) -> None:
        with self.guard:
            if not self.requests:
                self._stop_loop()

    def running(self) -> bool:
        """Whether the loop thread runs and has not failed (else the reason is kept in `broken`)."""
        error = loop_error(self.manager) if self.manager else None
        if error is not None:
            self.broken = self.broken or str(error) or type(error).__name__
        return error is None and self.manager is not None and self.manager.is_running()

    def _start(self) -> None:
        """Start the loop thread (daemon, so it never holds up process exit) unless it runs."""
        start_loop(self.manager, THREAD_NAME)

    def _stop_loop(self, wait: float = 0.0) -> None:
        """Let the loop end once its (cancelled) requests are gone; the batch processor and its cache stay."""
        if self.manager is not None:
            stop_loop(self.manager, wait)


# The engine is kept on its model (model -> engine -> manager -> model: a cycle the garbage
# collector frees once the model is unloaded and its loop has ended).
_engines_guard = threading.Lock()
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def submit(model: Any, batch: dict[str, Any], params: GenerationParams, recorder: Any = None) -> ContinuousRequest:
    """Add one request (a prompt without padding) to the model's engine; Unavailable if it cannot."""
    with _engines_guard:
        engine = getattr(model, "_studio_engine", None)
        if engine is None:
            engine = model._studio_engine = Engine(model)
            _engines.add(engine)
    request = ContinuousRequest(engine, batch["input_ids"][0].tolist(), params, recorder)
    engine.submit(request)
    return request


def stop_engine(model: Any, timeout: float = 5.0) -> None:
    """Stop a model's engine now (e.g. on unload): its requests are cancelled, its loop ends."""
    with _engines_guard:
        engine = model.__dict__.pop("_studio_engine", None)
    if engine is not None:
        with engine.guard:
            for request_id in list(engine.requests):
                engine.manager.cancel_request(request_id)
            engine.broken = "the model was unloaded"
            engine._stop_loop(wait=timeout)


@atexit.register
def _close() -> None:
    """Drop the batch processors while the interpreter still runs (their __del__ needs torch)."""
    for engine in list(_engines):
        if engine.manager is not None:
            drop_batch_processor(engine.manager)
