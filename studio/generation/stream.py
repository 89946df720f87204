"""Generation, streamed: live figures (tokens, tokens/s, time to first token) and Stop.

    params = GenerationParams.checked(strategy="sample", temperature=0.7, seed=1)
    for update in stream_generation(model, tokenizer, batch, params):
        print(update.raw, update.visual)     # partial texts and figures, then the final ones

Greedy and sampling with one sequence go through the model's continuous batching
(studio/generation/continuous.py), shared with the other requests on the model. The rest (beam search,
several samples, stop strings, image chat, ...) runs `model.generate` in a worker thread, one
at a time per model (a wait for it ends on Stop); the figures name the engine and why
(`engine`, `engine_reason`). Greedy and sampling stream token by token (studio/generation/text_stream.py); beam
search cannot stream in transformers 5, so it reports progress and then the beams. Closing
the generator (Stop, a closed browser tab) cancels the request, or sets generate()'s event: a
StoppingCriteria checks it every step and a pre-hook on every layer inside one, so a long
prefill ends too. Sampling draws from the request's own seeded `torch.Generator` on both
engines: a seed gives the same text whatever else runs. With `token_probabilities`, a
TokenRecorder (studio/generation/token_probabilities.py) records each step; the final update has them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from studio.generation import continuous
from studio.generation.continuous import CONTINUOUS, GENERATE, THREAD_NAME, Unavailable
from studio.generation.decoding import GenerationParams, request_processors
from studio.generation.locks import GenerationStopped, model_lock, running_request, stop_criteria_class, watch_layers
from studio.generation.text_stream import drain, token_streamer
from studio.generation.token_probabilities import TokenRecorder, eos_ids
from studio.results import STREAM_EVERY, Output

__all__ = ["GenerationRun", "stream_generation"]

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.25  # seconds between progress updates while beam search runs or no token comes


@dataclass
class GenerationRun:
    """One generate() call in a worker thread, with its stop event and timing."""

    model: Any
    tokenizer: Any
    batch: dict[str, Any]
    params: GenerationParams
    stop_event: threading.Event = field(default_factory=threading.Event)
    output: Any = None
    error: BaseException | None = None
    streamer: Any = None
    started_at: float = 0.0
    finished_at: float | None = None
    waiting: bool = True  # for the model's lock (another request is generating with it)
    record: bool = False  # token probabilities (studio/generation/token_probabilities.py)
    beam_indices: Any = None
    engine_reason: str | None = None  # why continuous batching did not run it (studio/generation/continuous.py)

    def __post_init__(self) -> None:
        self.prompt_length = int(self.batch["input_ids"].shape[-1])
        self.watch = stop_criteria_class()(self.stop_event, self.prompt_length)
        if self.params.streams:
            # The timeout lets the consumer yield (and so be closed by Stop) during a long prefill.
            self.streamer = token_streamer(self.tokenizer, skip_special_tokens=True, timeout=PROGRESS_EVERY)
        self.recorder: TokenRecorder | None = None
        if self.record:
            beams = self.params.num_beams if self.params.strategy == "beam" else 1
            self.recorder = TokenRecorder(beams, len(eos_ids(self.model)))
        self.thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=True)

    def start(self) -> None:
        self.started_at = time.perf_counter()
        self.thread.start()

    def _work(self) -> None:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        lock = model_lock(self.model)
        try:
            while not lock.acquire(timeout=0.1):
                if self.stop_event.is_set():
                    return
            try:
                self.waiting = False
                if self.stop_event.is_set():
                    return
                watch_layers(self.model)
                kwargs, processors = request_processors(self.params, self.recorder)
                if processors:
                    kwargs["logits_processor"] = LogitsProcessorList(processors)
                if "stop_strings" in kwargs:
                    kwargs["tokenizer"] = self.tokenizer
                if self.streamer is not None:
                    kwargs["streamer"] = self.streamer
                with running_request(self.stop_event), torch.inference_mode():
                    result = self.model.generate(
                        **self.batch,
                        **kwargs,
                        stopping_criteria=StoppingCriteriaList([self.watch]),
                        return_dict_in_generate=True,
                    )
                self.beam_indices = getattr(result, "beam_indices", None)
                self.output = result.sequences
            finally:
                lock.release()
        except GenerationStopped:
            pass  # Stop inside a forward pass: nothing to report
        except BaseException as exc:  # reported by the consumer, in its own thread
            self.error = exc
        finally:
            self.finished_at = time.perf_counter()
            if self.streamer is not None and (self.error is not None or self.output is None):
                self.streamer.end()  # wake the consumer: nothing more will come

    def stop(self) -> None:
        self.stop_event.set()

    def texts(self) -> list[str]:
        """The new text of every returned sequence (prompt left out, special tokens skipped)."""
        return [
            self.tokenizer.decode(sequence[self.prompt_length :], skip_special_tokens=True) for sequence in self.output
        ]

    def tokens(self) -> list[list[dict[str, Any]]] | None:
        """Every returned sequence's token probabilities, when recorded."""
        if self.recorder is None or self.output is None:
            return None
        ends = eos_ids(self.model)
        return self.recorder.tokens(self.tokenizer, self.output, self.prompt_length, ends, self.beam_indices)

    def figures(self, final: bool = False) -> dict[str, Any]:
        """Live figures: new tokens so far, tokens/s, time to first token, elapsed seconds."""
        now = self.finished_at if final and self.finished_at else time.perf_counter()
        tokens = self.watch.steps
        if final and self.output is not None:
            tokens = int(self.output.shape[-1]) - self.prompt_length
        figures = self.params.figures(
            tokens, self.started_at, self.watch.first_token_at, now, final, self.stop_event.is_set()
        )
        return {**figures, "engine": GENERATE, "engine_reason": self.engine_reason}


def texts_as_they_are(texts: list[str]) -> list[str]:
    """stream_generation's raw output when the adapter gives no shape."""
    return texts


def stream_generation(
    model: Any,
    tokenizer: Any,
    batch: dict[str, Any],
    params: GenerationParams,
    shape: Callable[..., Any] | None = None,
    token_probabilities: bool = False,
) -> Generator[Output, None, None]:
    """Run generate() in a worker thread; yield Output(raw so far, visual=figures), the final one last.

    `shape(texts)` turns the list of new texts into the raw output (default: the texts); while
    beam search (or several samples) runs, updates carry progress figures and raw None. With
    `token_probabilities`, the final update's raw output is `shape(texts, tokens)` (one list of
    token items per text: studio/generation/token_probabilities.py).
    Closing this generator sets the stop event, so generate() ends within one step.
    """
    to_raw: Callable[..., Any] = shape or texts_as_they_are
    reason = continuous.unsupported(model, batch, params)
    if reason is None:
        try:
            yield from stream_continuous(model, tokenizer, batch, params, to_raw, token_probabilities)
            return
        except Unavailable as exc:  # only before its first update: nothing was shown yet
            reason = str(exc)
    run = GenerationRun(model, tokenizer, batch, params, record=token_probabilities, engine_reason=reason)
    run.start()
    try:
        if run.streamer is not None:
            text, shown_at = "", 0.0
            while True:
                try:
                    piece = next(run.streamer)
                except StopIteration:
                    break
                except queue.Empty:  # no token yet: yield, so that Stop can close this stream
                    yield waiting_update(run, to_raw, text)
                    continue
                text += piece
                if piece and time.perf_counter() - shown_at >= STREAM_EVERY:
                    shown_at = time.perf_counter()
                    yield Output(to_raw([text]), visual=run.figures())
        else:
            while run.thread.is_alive():
                run.thread.join(PROGRESS_EVERY)
                if run.thread.is_alive():
                    figures = run.figures()
                    what = "beam search" if params.strategy == "beam" else f"{params.num_return_sequences} samples"
                    figures["progress"] = f"{what}: step {figures['tokens']} of up to {params.max_new_tokens}"
                    yield Output(None, visual=figures)
        run.thread.join()
        if run.error is not None:
            raise run.error
        raw = to_raw(run.texts(), run.tokens()) if token_probabilities else to_raw(run.texts())
        yield Output(raw, visual=run.figures(final=True))
    finally:
        run.stop()
        if run.thread.is_alive():
            run.thread.join(timeout=1.0)
            if run.thread.is_alive():
                log.warning("generate() did not stop within 1 s of the stop event")


def stream_continuous(
    model: Any, tokenizer: Any, batch: dict[str, Any], params: GenerationParams, shape: Callable[..., Any], record: bool
) -> Iterator[Output]:
    """stream_generation through the model's continuous batching (studio/generation/continuous.py): the same
    updates; Unavailable when it cannot take the request or fails before its first update."""
    import torch

    recorder = TokenRecorder(1, len(eos_ids(model))) if record else None
    prompt_length = int(batch["input_ids"].shape[-1])
    started, first, shown = time.perf_counter(), None, 0
    tokens: list[int] = []
    streamer = token_streamer(tokenizer, skip_prompt=False, skip_special_tokens=True, timeout=0)  # as generate()'s
    request = continuous.submit(model, batch, params, recorder)

    def figures(done: bool = False, stopped: bool = False) -> dict[str, Any]:
        figures = params.figures(len(tokens), started, first, time.perf_counter(), done, stopped)
        return {**figures, "engine": CONTINUOUS, "engine_reason": None}

    text, shown_at = "", 0.0
    try:
        for output in request.outputs(PROGRESS_EVERY):
            if output is None:
                waiting = figures()
                if first is None:
                    waiting["progress"] = f"reading the prompt ({prompt_length:,} tokens)"
                yield Output(shape([text]) if text else None, visual=waiting)
                continue
            first = first or time.perf_counter()
            tokens = output.generated_tokens
            if len(tokens) > shown:
                streamer.put(torch.tensor(tokens[shown:]))
                shown = len(tokens)
            if request.finished:
                streamer.end()
            text += "".join(drain(streamer))
            if text and not request.finished and time.perf_counter() - shown_at >= STREAM_EVERY:
                shown_at = time.perf_counter()
                yield Output(shape([text]), visual=figures())
    except Unavailable:
        if tokens:  # text was shown: the request cannot start again with generate()
            raise RuntimeError("Generation failed in continuous batching; run it again.") from None
        raise
    finally:
        request.release()
    texts = [tokenizer.decode(tokens, skip_special_tokens=True)]
    if recorder is None:
        yield Output(shape(texts), visual=figures(done=True))
        return
    sequences = torch.tensor([batch["input_ids"][0].tolist() + tokens])
    items = recorder.tokens(tokenizer, sequences, prompt_length, eos_ids(model))
    yield Output(shape(texts, items), visual=figures(done=True))


def waiting_update(run: GenerationRun, shape: Callable[[list[str]], Any], text: str) -> Output:
    """The update while no new token comes: the text so far, and what generate() is doing."""
    figures = run.figures()
    if run.waiting:
        figures["progress"] = "waiting for the model: another request is generating with it"
    elif run.watch.first_token_at is None:
        figures["progress"] = f"reading the prompt ({run.prompt_length:,} tokens)"
    return Output(shape([text]) if text else None, visual=figures)
