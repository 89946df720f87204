"""One request's decoding choices (`GenerationParams`) and the generate() arguments they make.

Each value is declared and checked once, by its Param in `studio.params.GENERATION` (kind,
range, default). This module keeps only what no single parameter can check: the rules
between them (greedy gives one answer, beam search needs beams, ...).

    params = GenerationParams.from_inputs(checked_inputs)   # an adapter's checked inputs
    params = GenerationParams.checked(strategy="sample", temperature=0.7, seed=1)  # raw values
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.errors import UserError
from studio.params import GENERATION, spec_of

GENERATION_SPEC = spec_of(GENERATION)
_DEFAULT = GENERATION_SPEC.defaults()


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
        return kwargs

    @property
    def streams(self) -> bool:
        """Whether text can stream token by token (one sequence, no beams)."""
        return self.strategy != "beam" and self.num_return_sequences == 1


# The fields are the spec's generation parameters, in the same order, with its defaults.
if [field.name for field in dataclasses.fields(GenerationParams)] != GENERATION_SPEC.names:
    raise TypeError("GenerationParams' fields must be studio.params.GENERATION's names, in order")
