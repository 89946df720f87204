"""One request's decoding choices (`GenerationParams`) and the generate() arguments they make.

Each value is declared and checked once, by its Param in `studio.spec.shared.GENERATION` (kind,
range, default). This module keeps only what no single parameter can check: the rules
between them (greedy gives one answer, beam search needs beams, ...), and
`private_sampling`: sampling with a request's own seeded generator (studio/generation/stream.py).

    params = GenerationParams.from_inputs(checked_inputs)   # an adapter's checked inputs
    params = GenerationParams.checked(strategy="sample", temperature=0.7, seed=1)  # raw values
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.errors import UserError
from studio.spec.param import spec_of
from studio.spec.shared import GENERATION

GENERATION_SPEC = spec_of(GENERATION)
_DEFAULT = GENERATION_SPEC.defaults()
MAX_STOP_STRINGS = 16
MAX_STOP_LENGTH = 200  # characters: transformers matches each stop string against the whole vocabulary


@dataclass(frozen=True)
class GenerationParams:
    """The decoding choices of one request, every value already checked by the spec (the
    defaults are the spec's; construct it directly only from checked values)."""

    strategy: str = _DEFAULT["strategy"]
    max_new_tokens: int = _DEFAULT["max_new_tokens"]
    num_beams: int = _DEFAULT["num_beams"]
    temperature: float = _DEFAULT["temperature"]
    top_k: int = _DEFAULT["top_k"]
    top_p: float = _DEFAULT["top_p"]
    min_p: float = _DEFAULT["min_p"]
    repetition_penalty: float = _DEFAULT["repetition_penalty"]
    no_repeat_ngram_size: int = _DEFAULT["no_repeat_ngram_size"]
    seed: int = _DEFAULT["seed"]
    early_stopping: bool = _DEFAULT["early_stopping"]
    length_penalty: float = _DEFAULT["length_penalty"]
    num_return_sequences: int = _DEFAULT["num_return_sequences"]
    stop: str = _DEFAULT["stop"]

    @classmethod
    def from_inputs(cls, values: Mapping[str, Any]) -> GenerationParams:
        """From checked inputs (other inputs, e.g. prompt, are ignored; missing ones take the
        spec's defaults); a UserError when the parameters contradict each other."""
        params = cls(**{name: values[name] for name in GENERATION_SPEC.names if name in values})
        params.check_rules()
        return params

    @classmethod
    def checked(cls, *args: Any, **kwargs: Any) -> GenerationParams:
        """From raw values (positional in GENERATION's order, or by name), checked by the spec."""
        values = dict(zip(GENERATION_SPEC.names, args))
        values.update(kwargs)
        return cls.from_inputs(GENERATION_SPEC.checked(values))

    def check_rules(self) -> None:
        """The rules between parameters; a UserError says what to change and why."""
        if self.strategy == "greedy" and self.num_return_sequences > 1:
            raise UserError("Greedy decoding gives one answer: set num_return_sequences to 1, or pick beam or sample.")
        if self.strategy == "beam":
            if self.num_beams < 2:
                raise UserError("Beam search needs num_beams of 2 or more; with 1 beam it is greedy decoding.")
            if self.num_return_sequences > self.num_beams:
                raise UserError(
                    f"num_return_sequences ({self.num_return_sequences}) cannot exceed num_beams ({self.num_beams}); "
                    "raise num_beams or lower num_return_sequences."
                )
        if len(self.stop_strings) > MAX_STOP_STRINGS:
            raise UserError(
                f"stop takes at most {MAX_STOP_STRINGS} texts, one per line; got {len(self.stop_strings)}: "
                "keep the ones that matter."
            )
        if any(len(text) > MAX_STOP_LENGTH for text in self.stop_strings):
            raise UserError(f"Each stop text must be at most {MAX_STOP_LENGTH} characters; shorten the long line.")
        if self.strategy == "sample" and self.temperature == 0:
            raise UserError(
                "temperature 0 with sampling means no randomness: set temperature above 0 "
                "(e.g. 0.7), or pick greedy for deterministic text."
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
        if self.stop_strings:
            kwargs["stop_strings"] = list(self.stop_strings)  # generate() needs tokenizer= with them
        return kwargs

    @property
    def stop_strings(self) -> tuple[str, ...]:
        return stop_strings(self.stop)

    @property
    def streams(self) -> bool:
        """Whether text can stream token by token (one sequence, no beams)."""
        return self.strategy != "beam" and self.num_return_sequences == 1

    def figures(
        self, tokens: int, started: float, first: float | None, now: float, done: bool, stopped: bool
    ) -> dict[str, Any]:
        """A run's live figures: new tokens so far, tokens/s, time to first token, elapsed seconds."""
        elapsed = max(now - started, 1e-9)
        return {
            "strategy": self.strategy,
            "tokens": tokens,
            "tokens_per_second": round(tokens / elapsed, 2) if tokens else 0.0,
            "time_to_first_token": round(first - started, 3) if first else None,
            "seconds": round(elapsed, 3),
            "seed": self.seed,
            "done": done,
            "stopped": stopped,
            "max_new_tokens": self.max_new_tokens,
        }


# The fields are the spec's generation parameters, in the same order, with its defaults.
if [field.name for field in dataclasses.fields(GenerationParams)] != GENERATION_SPEC.names:
    raise TypeError("GenerationParams' fields must be studio.spec.shared.GENERATION's names, in order")


def stop_strings(stop: str) -> tuple[str, ...]:
    """The stop texts: one per line of `stop`, as typed (spaces kept), empty lines left out."""
    return tuple(line.removesuffix("\r") for line in (stop or "").split("\n") if line.removesuffix("\r"))


def request_processors(params: GenerationParams, recorder: Any = None) -> tuple[dict[str, Any], list[Any]]:
    """generate()'s arguments for this request and its own logits processors, in the order
    generate() runs them: the seeded sampling (private_sampling) and, just before its draw, the
    token recorder (studio/generation/token_probabilities.py) that reads the processed scores."""
    kwargs = params.generate_kwargs()
    processors = private_sampling(kwargs, params.seed) if kwargs.get("do_sample") else []
    if recorder is not None:
        processors.insert(len(processors) - 1 if processors else 0, recorder)
    return kwargs, processors


def penalties(params: GenerationParams) -> list[Any]:
    """The processors generate() itself puts first for repetition_penalty and no_repeat_ngram_size
    (continuous batching runs them per request: studio/generation/continuous.py)."""
    from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    processors: list[Any] = []
    if params.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(float(params.repetition_penalty)))
    if params.no_repeat_ngram_size > 0:
        processors.append(NoRepeatNGramLogitsProcessor(params.no_repeat_ngram_size))
    return processors


def private_sampling(kwargs: dict[str, Any], seed: int) -> list[Any]:
    """Logits processors that sample with this request's own torch.Generator seeded with
    `seed`; rewrites `kwargs` so generate()'s own warpers are off and its draw is a formality.

    The warpers run in generate()'s order (temperature, top_k, top_p, min_p), then the
    draw, so the text is the one `torch.manual_seed(seed)` + generate() gives alone.
    """
    import torch
    from transformers import (
        LogitsProcessor,
        MinPLogitsWarper,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    class SeededDraw(LogitsProcessor):
        """Draws the next token with a private generator; leaves only it possible."""

        def __init__(self) -> None:
            self.generator: Any = None

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if self.generator is None:
                self.generator = torch.Generator(device=scores.device)
                self.generator.manual_seed(seed)
            probs = torch.nn.functional.softmax(scores, dim=-1)
            chosen = torch.multinomial(probs, num_samples=1, generator=self.generator)
            return torch.full_like(scores, -float("inf")).scatter_(1, chosen, 0.0)

    temperature = kwargs.pop("temperature", 1.0)
    top_k = kwargs.pop("top_k", 0)
    top_p = kwargs.pop("top_p", 1.0)
    min_p = kwargs.pop("min_p", None)
    processors: list[Any] = []
    if temperature != 1.0:
        processors.append(TemperatureLogitsWarper(temperature))
    if top_k:
        processors.append(TopKLogitsWarper(top_k=top_k, min_tokens_to_keep=1))
    if top_p < 1.0:
        processors.append(TopPLogitsWarper(top_p=top_p, min_tokens_to_keep=1))
    if min_p:
        processors.append(MinPLogitsWarper(min_p=min_p, min_tokens_to_keep=1))
    kwargs.update(temperature=1.0, top_k=0, top_p=1.0, typical_p=1.0, epsilon_cutoff=0.0, eta_cutoff=0.0)
    return [*processors, SeededDraw()]
