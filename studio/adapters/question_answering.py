"""Extractive question answering: the answer spans of a context, from start/end logits.

transformers 5 removed the question-answering pipeline: this runs the model on the
context's windows and leaves the span search (pure numpy) to studio/adapters/answer_spans.py.
"""

from __future__ import annotations

from typing import Any

from studio.adapters import answer_spans as qa
from studio.adapters.common import limit_text
from studio.errors import UserError
from studio.spec.param import Param, takes
from studio.spec.shared import TOP_K_LABELS

QA_MAX_LENGTH = 384  # tokens per window, as the old question-answering pipeline used
QA_BATCH = 8  # windows per forward pass


def qa_window(tokenizer: Any, model: Any, question: str) -> tuple[int, int]:
    """(max_length, stride) of the windows a context is split into for this question."""
    limits = [QA_MAX_LENGTH, getattr(tokenizer, "model_max_length", None)]
    limits.append(getattr(getattr(model, "config", None), "max_position_embeddings", None))
    max_length = min(int(limit) for limit in limits if isinstance(limit, int) and 0 < limit < 1_000_000)
    if len(question) > 8 * max_length:  # refused before the tokenizer reads megabytes of it
        raise UserError(
            f"The question is {len(question):,} characters long; shorten it to under {8 * max_length:,} characters."
        )
    question_length = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    room = max_length - question_length - tokenizer.num_special_tokens_to_add(pair=True)
    if room < max(8, max_length // 4):
        raise UserError(
            f"The question is {question_length} tokens long; shorten it to under "
            f"{max_length - max(8, max_length // 4) - tokenizer.num_special_tokens_to_add(pair=True)} tokens."
        )
    return max_length, min(128, max_length // 2, room // 2)


@takes(
    Param(
        "question",
        "text",
        help="What to find in the context.",
        label="Question",
        placeholder="Ask something the context answers…",
        empty="Type a question first: the input is empty.",
    ),
    Param(
        "context",
        "text",
        help="The text that holds the answer.",
        label="Context",
        lines=8,
        placeholder="The text that holds the answer",
        empty="Type a context to find the answer in first: the input is empty.",
    ),
    TOP_K_LABELS.but(default=1, high=20, help="How many answers", label="Answers shown"),
    Param("max_answer_len", "int", 15, "Longest answer, in tokens", label="Longest answer", low=1, high=512, step=1),
    Param(
        "handle_impossible_answer",
        "bool",
        False,
        'Let "no answer" win when the context does not say (SQuAD 2.0 models)',
        label="Allow no answer",
    ),
)
def question_answering(
    loaded: Any, question: str, context: str, top_k: int, max_answer_len: int, handle_impossible_answer: bool
) -> list[dict[str, Any]]:
    """The top_k answer spans in the context, as the old question-answering pipeline gave them.

    Long contexts are split into overlapping windows; spans are aligned to whole words;
    with handle_impossible_answer (SQuAD 2.0 models), "no answer" ("" at 0..0) competes.

    Args:
        question: What to find in the context.
        context: The text that holds the answer.
        top_k: How many answers to return, best first.
        max_answer_len: The longest answer, in tokens.
        handle_impossible_answer: Let "no answer" ("" at 0..0) win when the context does not say.
    """
    import numpy as np
    import torch

    question = question.strip()  # never blank: its Param's `empty` sentence refused that
    context = limit_text(context)
    tokenizer, model = loaded.tokenizer, loaded.model
    max_length, stride = qa_window(tokenizer, model, question)
    encoding = tokenizer(
        question,
        context,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="np",
    )
    input_ids = encoding["input_ids"]
    names = [name for name in tokenizer.model_input_names if name in encoding]
    start_logits, end_logits = [], []
    with torch.inference_mode():
        for first in range(0, len(input_ids), QA_BATCH):
            batch = {name: torch.as_tensor(encoding[name][first : first + QA_BATCH]) for name in names}
            output = model(**{name: tensor.to(model.device) for name, tensor in batch.items()})
            start_logits.append(output.start_logits.float().cpu().numpy())
            end_logits.append(output.end_logits.float().cpu().numpy())
    in_context = np.array([[sid == 1 for sid in encoding.sequence_ids(w)] for w in range(len(input_ids))])
    cls_index = [_first_index(row, tokenizer.cls_token_id) for row in input_ids]
    word_ids = np.array(
        [[-1 if word is None else word for word in _word_ids(encoding, w)] for w in range(len(input_ids))]
    )
    spans, null_score = qa.decode(
        np.concatenate(start_logits), np.concatenate(end_logits), in_context, cls_index, top_k, max_answer_len, word_ids
    )
    candidates = []
    for span in spans:
        start, end = _span_chars(encoding, span.window, span.start, span.end)
        candidates.append(qa.Answer(context[start:end], span.score, start, end))
    answers = qa.best_answers(candidates, top_k, null_score if handle_impossible_answer else None)
    return [answer.as_dict() for answer in answers]


def _first_index(row: Any, token_id: int | None) -> int:
    if token_id is None:
        return 0
    positions = (row == token_id).nonzero()[0]
    return int(positions[0]) if len(positions) else 0


def _word_ids(encoding: Any, window: int) -> list[int | None]:
    try:
        word_ids: list[int | None] = encoding.word_ids(window)
        return word_ids
    except (TypeError, ValueError):  # tokenizers without word ids: every token on its own
        return [None] * len(encoding["input_ids"][window])


def _span_chars(encoding: Any, window: int, start: int, end: int) -> tuple[int, int]:
    """Character offsets in the context of a token span, widened to whole words."""
    word_ids = encoding.word_ids(window)
    offsets = encoding["offset_mapping"][window]
    try:
        return (
            encoding.word_to_chars(window, word_ids[start], sequence_index=1).start,
            encoding.word_to_chars(window, word_ids[end], sequence_index=1).end,
        )
    except (TypeError, ValueError, IndexError):
        return int(offsets[start][0]), int(offsets[end][1])
