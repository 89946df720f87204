"""Token probabilities of generated text: for each returned sequence,
`[{token, probability, top: [{token, probability}]}]`, one item per generated token.

`probability` is `softmax(scores)[token]` where `scores` are the *processed* scores that
`generate(output_scores=True, return_dict_in_generate=True)` returns at that step: after
repetition_penalty and no_repeat_ngram_size, and when sampling after temperature, top_k, top_p
and min_p (a token a warper removed has probability 0). `top` is the 5 likeliest tokens of the
same distribution (`topk`), best first. Beam search shows the beam each returned sequence
came from at each step (its `beam_indices`, as `compute_transition_scores` reads them).

`TokenRecorder` is a logits processor placed last in generate()'s list (before the seeded
draw when sampling: studio/generation/decoding.py), so it sees exactly those scores. It keeps no step's
whole distribution (steps x vocabulary floats: gigabytes for a long reply of a 256k-vocabulary
model, which output_scores would keep): each step keeps its top candidates per row, and the
chosen token's probability is read from the previous step's distribution when the next step
shows which token was chosen. Beam rows are reordered every step, so for beams each step keeps
as many candidates per row as beam search picks from (at most (2 + end tokens) x num_beams): the
chosen token is always among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TOP = 5


def rounded(probability: float) -> float:
    """A probability to 6 significant digits (small ones keep their magnitude)."""
    return float(f"{float(probability):.6g}")


def eos_ids(model: Any) -> set[int]:
    """The model's end-of-text token ids (generation_config.eos_token_id: none, one or several)."""
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        return set()
    return {int(token) for token in (eos if isinstance(eos, (list, tuple)) else [eos])}


class TokenRecorder:
    """A logits processor that records each step's token probabilities; changes no score."""

    def __init__(self, num_beams: int = 1, end_tokens: int = 1) -> None:
        self.beams = num_beams > 1
        self.keep = max(TOP, (2 + end_tokens) * num_beams) if self.beams else TOP  # a margin over beam search's pick
        self.top: list[tuple[Any, Any]] = []  # per step: (probabilities, ids), each [rows, keep]
        self.chosen: list[Any] = []  # greedy and sampling: per step, the chosen token's probability per row
        self.previous: Any = None  # the last step's distribution, until the next step shows the choice

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        probabilities = torch.softmax(scores.float(), dim=-1)
        if self.previous is not None:
            self.chosen.append(self.previous.gather(1, input_ids[:, -1:].to(probabilities.device)).squeeze(1))
        values, ids = probabilities.topk(min(self.keep, probabilities.shape[-1]), dim=-1)
        self.top.append((values.cpu(), ids.cpu()))
        self.previous = None if self.beams else probabilities
        return scores

    def tokens(
        self, tokenizer: Any, sequences: Any, prompt_length: int, ends: Iterable[int], beam_indices: Any = None
    ) -> list[list[dict[str, Any]]]:
        """The token items of every returned sequence (up to and including its end token)."""
        if self.previous is not None and len(self.chosen) < len(self.top):  # the last step's choice
            self.chosen.append(self.previous.gather(1, sequences[:, -1:].to(self.previous.device)).squeeze(1))
            self.previous = None
        ends = set(ends)
        names: dict[int, str] = {}

        def name(token_id: int) -> str:
            if token_id not in names:
                names[token_id] = tokenizer.decode([token_id])
            return names[token_id]

        chosen = [step.cpu().tolist() for step in self.chosen]
        rows = beam_indices.tolist() if beam_indices is not None else None
        result = []
        for index, sequence in enumerate(sequences[:, prompt_length:].tolist()):
            items = []
            for step, token_id in enumerate(sequence[: len(self.top)]):
                row = rows[index][step] if rows is not None else index
                if row < 0:  # this beam had ended
                    break
                values, ids = self.top[step][0][row].tolist(), self.top[step][1][row].tolist()
                if self.beams:
                    probability = values[ids.index(token_id)] if token_id in ids else 0.0
                else:
                    probability = chosen[step][row]
                top = [{"token": name(i), "probability": rounded(v)} for i, v in zip(ids[:TOP], values[:TOP])]
                items.append({"token": name(token_id), "probability": rounded(probability), "top": top})
                if token_id in ends:
                    break
            result.append(items)
        return result
