"""Decoding strategies for causal LMs: checked generate() arguments, a streaming worker thread
that a per-request event stops, and live figures (tokens, tokens/s, time to first token).

    params = GenerationParams.checked(strategy="sample", temperature=0.7, seed=1)
    for update in stream_generation(model, tokenizer, batch, params):
        print(update.output, update.details)     # partial texts, then the final ones

`model.generate` runs in a worker thread. Greedy and sampling with one sequence stream
through `TextIteratorStreamer`; beam search cannot stream in transformers 5 (a streamer
with num_beams > 1 raises), so it reports progress and then the beams. Closing the
generator (Stop, a closed browser tab) sets the request's event; a StoppingCriteria checks
it every step, so `generate` itself ends, not just the stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from studio.adapters.common import positive_int
from studio.errors import UserError

log = logging.getLogger(__name__)

STRATEGIES = ("greedy", "beam", "sample")
MAX_NEW_TOKENS = 4096
MAX_SEED = 2**32 - 1
PROGRESS_EVERY = 0.25  # seconds between progress updates while beam search runs
STREAM_EVERY = 0.05  # at most ~20 updates a second: a browser redraws no faster, and each costs a message
THREAD_NAME = "studio-generate"

# torch's default random generator is process-wide: one generate() at a time keeps a seed's
# text reproducible (two cores gain nothing from running two at once anyway).
_generate_lock = threading.Lock()


def _number(value: Any, name: str, low: float, high: float, *, low_open: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number between {low:g} and {high:g}.") from None
    if number != number or not (low < number if low_open else low <= number) or number > high:
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise UserError(f"{name} must be {bound} and at most {high:g}; got {number:g}.")
    return number


@dataclass(frozen=True)
class GenerationParams:
    """The decoding choices of one request, already checked."""

    strategy: str = "greedy"
    max_new_tokens: int = 64
    num_beams: int = 4
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    seed: int = 0
    early_stopping: bool = False
    length_penalty: float = 1.0
    num_return_sequences: int = 1

    @classmethod
    def checked(
        cls,
        strategy: str = "greedy",
        max_new_tokens: Any = 64,
        num_beams: Any = 4,
        temperature: Any = 1.0,
        top_k: Any = 50,
        top_p: Any = 1.0,
        min_p: Any = 0.0,
        repetition_penalty: Any = 1.0,
        no_repeat_ngram_size: Any = 0,
        seed: Any = 0,
        early_stopping: Any = False,
        length_penalty: Any = 1.0,
        num_return_sequences: Any = 1,
    ) -> GenerationParams:
        """Validate every parameter; a UserError says what to change and why."""
        strategy = str(strategy or "greedy").strip().lower()
        if strategy not in STRATEGIES:
            raise UserError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}.")
        max_new_tokens = positive_int(max_new_tokens, "max_new_tokens", 1, MAX_NEW_TOKENS)
        repetition_penalty = _number(repetition_penalty, "repetition_penalty", 0.0, 10.0, low_open=True)
        no_repeat_ngram_size = positive_int(no_repeat_ngram_size, "no_repeat_ngram_size", 0, 20)
        seed = positive_int(seed if seed is not None else 0, "seed", 0, MAX_SEED)
        num_return_sequences = positive_int(num_return_sequences, "num_return_sequences", 1, 16)
        num_beams = positive_int(num_beams, "num_beams", 1, 16)
        length_penalty = _number(length_penalty, "length_penalty", -10.0, 10.0)
        if strategy == "greedy" and num_return_sequences > 1:
            raise UserError("Greedy decoding gives one answer: set num_return_sequences to 1, or pick beam or sample.")
        if strategy == "beam":
            if num_beams < 2:
                raise UserError("Beam search needs num_beams of 2 or more; with 1 beam it is greedy decoding.")
            if num_return_sequences > num_beams:
                raise UserError(
                    f"num_return_sequences ({num_return_sequences}) cannot exceed num_beams ({num_beams}); "
                    "raise num_beams or lower num_return_sequences."
                )
        try:
            temperature_value = float(temperature)
        except (TypeError, ValueError):
            temperature_value = -1.0
        if strategy == "sample" and temperature_value == 0:
            raise UserError(
                "temperature 0 with sampling means no randomness: set temperature above 0 "
                "(e.g. 0.7), or pick greedy for deterministic text."
            )
        temperature = _number(temperature, "temperature", 0.0, 5.0, low_open=strategy == "sample")
        top_k = positive_int(top_k, "top_k", 0, 1000)
        top_p = _number(top_p, "top_p", 0.0, 1.0, low_open=True)
        min_p = _number(min_p, "min_p", 0.0, 1.0)
        if min_p >= 1:
            raise UserError("min_p must be below 1 (1 would keep no token at all); 0 turns it off.")
        return cls(
            strategy,
            max_new_tokens,
            num_beams,
            temperature,
            top_k,
            top_p,
            min_p,
            repetition_penalty,
            no_repeat_ngram_size,
            seed,
            bool(early_stopping),
            length_penalty,
            num_return_sequences,
        )

    def generate_kwargs(self) -> dict[str, Any]:
        """The generate() arguments for this strategy: only those that apply to it."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": self.repetition_penalty,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
        }
        if self.strategy == "greedy":
            kwargs.update(do_sample=False, num_beams=1)
        elif self.strategy == "beam":
            kwargs.update(
                do_sample=False,
                num_beams=self.num_beams,
                early_stopping=self.early_stopping,
                length_penalty=self.length_penalty,
                num_return_sequences=self.num_return_sequences,
            )
        else:
            kwargs.update(
                do_sample=True,
                num_beams=1,
                temperature=self.temperature,
                top_k=self.top_k,
                top_p=self.top_p,
                num_return_sequences=self.num_return_sequences,
            )
            if self.min_p > 0:
                kwargs["min_p"] = self.min_p
        return kwargs

    @property
    def streams(self) -> bool:
        """Whether text can stream token by token (one sequence, no beams)."""
        return self.strategy != "beam" and self.num_return_sequences == 1


def _stop_criteria_class() -> type:
    from transformers import StoppingCriteria

    class StopOnEvent(StoppingCriteria):
        """Ends generate() when the request's event is set; records when tokens arrive."""

        def __init__(self, event: threading.Event, prompt_length: int) -> None:
            self.event = event
            self.prompt_length = prompt_length
            self.steps = 0
            self.first_token_at: float | None = None

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
            self.steps = int(input_ids.shape[-1]) - self.prompt_length
            return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)

    return StopOnEvent


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

    def __post_init__(self) -> None:
        self.prompt_length = int(self.batch["input_ids"].shape[-1])
        self.watch = _stop_criteria_class()(self.stop_event, self.prompt_length)
        if self.params.streams:
            from transformers import TextIteratorStreamer

            self.streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=True)

    def start(self) -> None:
        self.started_at = time.perf_counter()
        self.thread.start()

    def _work(self) -> None:
        import torch
        from transformers import StoppingCriteriaList

        try:
            with _generate_lock:
                if self.stop_event.is_set():
                    return
                torch.manual_seed(self.params.seed)
                kwargs = self.params.generate_kwargs()
                if self.streamer is not None:
                    kwargs["streamer"] = self.streamer
                with torch.inference_mode():
                    self.output = self.model.generate(
                        **self.batch, **kwargs, stopping_criteria=StoppingCriteriaList([self.watch])
                    )
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

    def figures(self, final: bool = False) -> dict[str, Any]:
        """Live figures: new tokens so far, tokens/s, time to first token, elapsed seconds."""
        now = self.finished_at if final and self.finished_at else time.perf_counter()
        tokens = self.watch.steps
        if final and self.output is not None:
            tokens = int(self.output.shape[-1]) - self.prompt_length
        elapsed = max(now - self.started_at, 1e-9)
        first = self.watch.first_token_at
        return {
            "strategy": self.params.strategy,
            "tokens": tokens,
            "tokens_per_second": round(tokens / elapsed, 2) if tokens else 0.0,
            "time_to_first_token": round(first - self.started_at, 3) if first else None,
            "seconds": round(elapsed, 3),
            "seed": self.params.seed,
            "done": final,
            "stopped": self.stop_event.is_set(),
            "max_new_tokens": self.params.max_new_tokens,
        }


@dataclass
class Update:
    """What a streaming adapter yields: the raw output so far, and figures to show beside it."""

    output: Any
    details: dict[str, Any] = field(default_factory=dict)


def stream_generation(
    model: Any,
    tokenizer: Any,
    batch: dict[str, Any],
    params: GenerationParams,
    shape: Any = None,
) -> Iterator[Update]:
    """Run generate() in a worker thread; yield partial outputs, then the final one.

    `shape(texts)` turns the list of new texts into the raw output (default: the texts).
    Closing this generator sets the stop event, so generate() ends within one step.
    """
    shape = shape or (lambda texts: texts)
    run = GenerationRun(model, tokenizer, batch, params)
    run.start()
    try:
        if run.streamer is not None:
            text, shown_at = "", 0.0
            for piece in run.streamer:
                text += piece
                if piece and time.perf_counter() - shown_at >= STREAM_EVERY:
                    shown_at = time.perf_counter()
                    yield Update(shape([text]), run.figures())
        else:
            while run.thread.is_alive():
                run.thread.join(PROGRESS_EVERY)
                if run.thread.is_alive():
                    figures = run.figures()
                    what = "beam search" if params.strategy == "beam" else f"{params.num_return_sequences} samples"
                    figures["progress"] = f"{what}: step {figures['tokens']} of up to {params.max_new_tokens}"
                    yield Update(None, figures)
        run.thread.join()
        if run.error is not None:
            raise run.error
        yield Update(shape(run.texts()), run.figures(final=True))
    finally:
        run.stop()
        if run.thread.is_alive():
            run.thread.join(timeout=1.0)
            if run.thread.is_alive():
                log.warning("generate() did not stop within 1 s of the stop event")


def describe(details: dict[str, Any]) -> str:
    """The live figures as one line of Markdown."""
    if not details:
        return ""
    if details.get("progress"):
        return f"⏳ {details['progress']} · {details.get('seconds', 0):.1f} s"
    parts = [f"**{details.get('tokens', 0)} tokens**", f"{details.get('tokens_per_second', 0):.1f} tokens/s"]
    if details.get("time_to_first_token") is not None:
        parts.append(f"first token after {details['time_to_first_token']:.2f} s")
    parts.append(f"{details.get('seconds', 0):.1f} s")
    if details.get("done"):
        parts.append("stopped" if details.get("stopped") else "done")
    return " · ".join(parts)
