"""studio.adapters.answer_spans span decoding on hand-built logits: no model, every case set by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pytest import approx

from studio.adapters import answer_spans as qa

LOW = -20.0  # a logit that makes a position practically impossible


def window(length: int, context: range, start: dict[int, float], end: dict[int, float]):
    """(start_logits, end_logits, in_context) for one window with the given peaks."""
    starts, ends = np.full(length, LOW), np.full(length, LOW)
    for position, logit in start.items():
        starts[position] = logit
    for position, logit in end.items():
        ends[position] = logit
    in_context = np.zeros(length, dtype=bool)
    in_context[list(context)] = True
    return starts, ends, in_context


def softmax(values: np.ndarray) -> np.ndarray:
    exp = np.exp(values - values.max())
    return exp / exp.sum()


def brute_force(starts, ends, in_context, cls, max_answer_len):
    """Every allowed span with its score, best first (the definition, written as loops)."""
    allowed = in_context.copy()
    allowed[cls] = True
    p_start = np.where(allowed, softmax(np.where(allowed, starts, -np.inf)), 0.0)
    p_end = np.where(allowed, softmax(np.where(allowed, ends, -np.inf)), 0.0)
    spans = []
    for s, e in itertools.product(range(len(starts)), repeat=2):
        if in_context[s] and in_context[e] and s <= e < s + max_answer_len:
            spans.append((float(p_start[s] * p_end[e]), s, e))
    return sorted(spans, reverse=True), float(p_start[cls] * p_end[cls])


def test_the_best_span_has_start_before_end() -> None:
    # The highest end logit (position 3) comes before the highest start logit (position 6):
    # the best allowed span is the best pair with start <= end, not the two argmaxes.
    starts, ends, context = window(12, range(2, 11), start={6: 5.0, 2: 4.0}, end={3: 6.0, 8: 4.5})
    spans, _ = qa.decode(starts, ends, context, top_k=1, max_answer_len=15)
    assert [(span.start, span.end) for span in spans] == [(2, 3)]
    assert all(span.start <= span.end for span in qa.decode(starts, ends, context, top_k=50)[0])


def test_max_answer_len_limits_the_span() -> None:
    starts, ends, context = window(20, range(1, 19), start={2: 8.0}, end={12: 8.0, 4: 2.0})
    (longest,), _ = qa.decode(starts, ends, context, top_k=1, max_answer_len=11)
    assert (longest.start, longest.end) == (2, 12)  # 11 tokens: allowed
    (shorter,), _ = qa.decode(starts, ends, context, top_k=1, max_answer_len=10)
    assert (shorter.start, shorter.end) == (2, 4)  # 2..12 is 11 tokens: too long now
    one_token, _ = qa.decode(starts, ends, context, top_k=5, max_answer_len=1)
    assert all(span.start == span.end for span in one_token)


def test_question_and_special_tokens_are_never_the_answer() -> None:
    # Peaks on the question (1..3), [CLS] (0) and [SEP] (4, 11) must all be ignored.
    starts, ends, context = window(
        12, range(5, 11), start={1: 9.0, 0: 9.0, 4: 9.0, 7: 1.0}, end={3: 9.0, 11: 9.0, 8: 1.0}
    )
    spans, _ = qa.decode(starts, ends, context, top_k=10, max_answer_len=15)
    assert spans and all(5 <= span.start <= span.end <= 10 for span in spans)
    assert (spans[0].start, spans[0].end) == (7, 8)


def test_answer_at_the_edge_of_a_window() -> None:
    # The context ends at token 9, the last before [SEP] at 10: a span ending exactly
    # there is allowed, one reaching into [SEP] is not.
    starts, ends, context = window(11, range(4, 10), start={8: 6.0}, end={9: 6.0, 10: 9.0})
    (best,), _ = qa.decode(starts, ends, context, top_k=1, max_answer_len=15)
    assert (best.start, best.end) == (8, 9)


def test_a_long_context_across_windows_picks_the_best_window() -> None:
    # Two overlapping windows of one context (question at 1..2, context from 4).
    # Window 0 is unsure (flat logits), window 1 is sure of tokens 6..7.
    first = window(12, range(4, 11), start={5: 1.0, 6: 1.0}, end={6: 1.0, 7: 1.0})
    second = window(12, range(4, 11), start={6: 9.0}, end={7: 9.0})
    starts, ends, context = (np.stack(parts) for parts in zip(first, second))
    spans, _ = qa.decode(starts, ends, context, top_k=3, max_answer_len=15)
    assert (spans[0].window, spans[0].start, spans[0].end) == (1, 6, 7)
    assert spans[0].score > 0.9
    assert [span.score for span in spans] == sorted((span.score for span in spans), reverse=True)
    # Each window is normalised on its own: its scores are those of the window alone.
    alone, _ = qa.decode(second[0], second[1], second[2], top_k=1)
    assert spans[0].score == approx(alone[0].score)


def test_no_answer_is_the_lowest_cls_score_over_windows() -> None:
    # [CLS] is sure in window 0 (no answer there) but not in window 1, which holds the answer:
    # as in the old pipeline, the no-answer score is the minimum over the windows.
    first = window(10, range(4, 9), start={0: 9.0}, end={0: 9.0})
    second = window(10, range(4, 9), start={0: 0.0, 5: 6.0}, end={0: 0.0, 6: 6.0})
    starts, ends, context = (np.stack(parts) for parts in zip(first, second))
    spans, null_score = qa.decode(starts, ends, context, cls_index=0, top_k=1)
    p_cls = softmax(np.array([0.0, 6.0, *[LOW] * 4]))[0]  # [CLS] and the context of window 1
    assert null_score == approx(p_cls * p_cls, rel=1e-6)
    assert spans[0].window == 1 and spans[0].score > null_score


def test_no_answer_wins_when_cls_is_sure_everywhere() -> None:
    starts, ends, context = window(10, range(4, 9), start={0: 8.0, 5: 1.0}, end={0: 8.0, 6: 1.0})
    spans, null_score = qa.decode(starts, ends, context, top_k=2)
    assert null_score > spans[0].score
    candidates = [qa.Answer("word", span.score, 10 + span.start, 12 + span.end) for span in spans]
    answers = qa.best_answers(candidates, top_k=2, null_score=null_score)
    assert answers[0] == qa.Answer("", null_score, 0, 0)
    assert len(answers) == 2 and answers[1].answer == "word"
    # Without handle_impossible_answer (no null_score), the span is the answer.
    assert qa.best_answers(candidates, top_k=1)[0].answer == "word"


def test_spans_over_the_same_words_count_once() -> None:
    # Tokens 5, 6, 7 are one word ("zu ##ri ##ch"): spans inside it widen to the same word,
    # so top_k=2 gives that word once and then the next best other span.
    starts, ends, context = window(12, range(4, 11), start={5: 5.0, 6: 4.9, 9: 3.0}, end={7: 5.0, 6: 4.9, 9: 3.0})
    words = np.array([-1, 0, 1, 2, -1, 3, 3, 3, 4, 5, 6, -1])
    spans, _ = qa.decode(starts, ends, context, top_k=2, word_ids=words)
    assert len(spans) == 2
    assert {(int(words[spans[0].start]), int(words[spans[0].end]))} == {(3, 3)}
    assert (words[spans[1].start], words[spans[1].end]) != (3, 3)
    # The same answer found in two windows is listed once, with its best score.
    duplicates = [qa.Answer("Paris", 0.3, 10, 15), qa.Answer("Paris", 0.6, 10, 15), qa.Answer("in Paris", 0.2, 7, 15)]
    assert qa.best_answers(duplicates, top_k=5) == [qa.Answer("Paris", 0.6, 10, 15), qa.Answer("in Paris", 0.2, 7, 15)]


def test_fewer_allowed_spans_than_top_k() -> None:
    starts, ends, context = window(6, range(3, 5), start={3: 1.0}, end={4: 1.0})
    spans, _ = qa.decode(starts, ends, context, top_k=10, max_answer_len=15)
    assert sorted((span.start, span.end) for span in spans) == [(3, 3), (3, 4), (4, 4)]


@pytest.mark.parametrize("seed", range(5))
def test_decode_matches_brute_force_on_random_logits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    length, top_k, max_answer_len = 24, 7, 5
    starts, ends = rng.normal(0, 3, (2, length)), rng.normal(0, 3, (2, length))
    context = np.zeros((2, length), dtype=bool)
    context[:, 6:22] = True
    spans, null_score = qa.decode(starts, ends, context, cls_index=0, top_k=top_k, max_answer_len=max_answer_len)
    expected, nulls = [], []
    for w in range(2):
        found, null = brute_force(starts[w], ends[w], context[w], 0, max_answer_len)
        expected += [(score, w, s, e) for score, s, e in found[:top_k]]
        nulls.append(null)
    expected.sort(reverse=True)
    assert [(span.window, span.start, span.end) for span in spans] == [(w, s, e) for _, w, s, e in expected]
    assert [span.score for span in spans] == approx([score for score, *_ in expected], rel=1e-9)
    assert null_score == approx(min(nulls), rel=1e-9)


def test_bad_arguments_are_refused() -> None:
    starts, ends, context = window(6, range(3, 5), start={}, end={})
    with pytest.raises(ValueError):
        qa.decode(starts, ends, context, max_answer_len=0)
    with pytest.raises(ValueError):
        qa.decode(starts, ends[:4], context)
