"""Extractive question answering: the best answer spans from start/end logits (pure numpy).

transformers 5 removed the question-answering pipeline; this is its span search, written
so that it can be tested on hand-built logits. A long context is split by the tokenizer
into overlapping windows; each window gives one row of logits. Per window, the start and
end logits become probabilities with a softmax over the context tokens and the [CLS]
token (as the old pipeline did); a span (s, e) scores p_start[s] * p_end[e], with s <= e,
e - s < max_answer_len and both ends inside the context. The "no answer" score (SQuAD 2.0
models) is the lowest p_start[cls] * p_end[cls] over the windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MASKED = -10_000.0


@dataclass(frozen=True)
class Span:
    """A candidate answer: token positions (inclusive) in one window, and its score."""

    window: int
    start: int
    end: int
    score: float


def window_probabilities(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax of one window's logits over the allowed positions (others get 0)."""
    masked = np.where(allowed, logits.astype(np.float64), MASKED)
    exp = np.exp(masked - masked.max())
    exp = np.where(allowed, exp, 0.0)
    probabilities: np.ndarray = exp / exp.sum()
    return probabilities


def span_scores(p_start: np.ndarray, p_end: np.ndarray, in_context: np.ndarray, max_answer_len: int) -> np.ndarray:
    """Scores of every (start, end) pair; -1 where the span is not allowed."""
    scores = np.outer(p_start, p_end)
    length = np.arange(len(p_end))[None, :] - np.arange(len(p_start))[:, None]  # end - start
    valid = (length >= 0) & (length < max_answer_len) & in_context[:, None] & in_context[None, :]
    return np.where(valid, scores, -1.0)


def decode(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    in_context: np.ndarray,
    cls_index: np.ndarray | Sequence[int] | int = 0,
    top_k: int = 1,
    max_answer_len: int = 15,
    word_ids: np.ndarray | None = None,
) -> tuple[list[Span], float]:
    """The top_k spans of each window, best first, and the no-answer score.

    start_logits, end_logits, in_context: arrays of shape (windows, tokens) (or one
    window as 1-D); in_context is True for the tokens of the context. cls_index: the
    position of the [CLS] token in each window (an int for all windows). word_ids, same
    shape, the word of each token (-1 for none): answers are widened to whole words, so
    spans covering the same words are one answer, counted once (the best) per window.
    """
    if max_answer_len < 1:
        raise ValueError("max_answer_len must be at least 1")
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    start_logits, end_logits = np.atleast_2d(start_logits), np.atleast_2d(end_logits)
    in_context = np.atleast_2d(np.asarray(in_context, dtype=bool))
    if not start_logits.shape == end_logits.shape == in_context.shape:
        raise ValueError("start_logits, end_logits and in_context must have the same shape")
    cls_positions = np.broadcast_to(np.asarray(cls_index), (len(start_logits),))
    tokens = np.arange(start_logits.shape[1])
    if word_ids is None:
        word_ids = np.full(start_logits.shape, -1)
    word_ids = np.atleast_2d(word_ids)
    spans: list[Span] = []
    null_score = 1.0
    for window, (starts, ends, context) in enumerate(zip(start_logits, end_logits, in_context)):
        # A token without a word is its own "word" (a negative key that no other token has).
        keys = np.where(word_ids[window] >= 0, word_ids[window], -1 - tokens)
        allowed = context.copy()
        cls = int(cls_positions[window])
        allowed[cls] = True
        p_start = window_probabilities(starts, allowed)
        p_end = window_probabilities(ends, allowed)
        null_score = min(null_score, float(p_start[cls] * p_end[cls]))
        scores = span_scores(p_start, p_end, context & (np.arange(len(context)) != cls), max_answer_len)
        flat = scores.ravel()
        valid = np.flatnonzero(flat >= 0)
        taken: set[tuple[int, int]] = set()
        for index in valid[np.argsort(-flat[valid], kind="stable")]:
            if len(taken) == top_k:
                break
            start, end = divmod(int(index), scores.shape[1])
            key = (int(keys[start]), int(keys[end]))
            if key not in taken:
                taken.add(key)
                spans.append(Span(window, start, end, float(flat[index])))
    spans.sort(key=lambda span: -span.score)
    return spans, null_score


@dataclass(frozen=True)
class Answer:
    """An answer in the context's characters (the raw output of the question-answering task)."""

    answer: str
    score: float
    start: int
    end: int

    def as_dict(self) -> dict[str, str | float]:
        return {"answer": self.answer, "score": self.score, "start": self.start, "end": self.end}


def best_answers(candidates: list[Answer], top_k: int, null_score: float | None = None) -> list[Answer]:
    """The top_k answers: one per character span (its best score), with the no-answer
    candidate ("" at 0..0) when null_score is given, best first."""
    by_span: dict[tuple[int, int], Answer] = {}
    for candidate in candidates:
        key = (candidate.start, candidate.end)
        if key not in by_span or candidate.score > by_span[key].score:
            by_span[key] = candidate
    answers = list(by_span.values())
    if null_score is not None:
        answers.append(Answer("", null_score, 0, 0))
    answers.sort(key=lambda answer: -answer.score)
    return answers[:top_k]
