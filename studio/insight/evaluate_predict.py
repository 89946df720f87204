"""Predictions for evaluation, a batch of rows per pipeline call, read off the same pipeline
outputs the tabs show: a text's best label (text classification's top 1), and a word's tag
(token classification with aggregation "none": the tag of the word's first sub-token)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from studio.adapters.common import MAX_INPUT_CHARS
from studio.errors import UserError

BATCH_ROWS = 32  # rows per pipeline call (and per progress update)
DELIMITER = " "  # how the pipeline joins a row's words into the sentence its offsets count in


def predict_labels(loaded: Any, texts: list[str]) -> list[str]:
    """Each text's best label, as the Text classification tab ranks it first."""
    outputs = loaded.pipeline(
        [text[:MAX_INPUT_CHARS] for text in texts], top_k=1, truncation=True, batch_size=len(texts)
    )
    return [str(scores[0]["label"]) for scores in outputs]


def predict_tags(loaded: Any, rows: list[list[str]]) -> list[list[str]]:
    """Each word's tag: the tag of its first sub-token; "O" for words cut off by truncation."""
    if not getattr(loaded.tokenizer, "is_fast", False):
        raise UserError(
            f"{loaded.entry.display_name} has no fast tokenizer, which evaluation needs to find "
            "each word's first sub-token; evaluate another model."
        )
    outputs = loaded.pipeline(
        rows,
        is_split_into_words=True,
        delimiter=DELIMITER,
        aggregation_strategy="none",
        ignore_labels=[],  # every token, "O" ones too
        batch_size=len(rows),
    )
    return [word_tags(words, tokens) for words, tokens in zip(rows, outputs)]


def word_tags(words: list[str], tokens: list[dict[str, Any]]) -> list[str]:
    """The words' tags from the pipeline's token entities: a token's `start` counts characters
    in the words joined by DELIMITER, so it names its word; the first token of a word wins."""
    starts, ends, offset = [], [], 0
    for word in words:
        starts.append(offset)
        ends.append(offset + len(word))
        offset += len(word) + len(DELIMITER)
    tags: list[str | None] = [None] * len(words)
    for token in sorted(tokens, key=lambda item: item["index"]):
        start = token.get("start")
        if start is None:
            continue
        at = bisect_right(starts, int(start)) - 1  # the word the token starts in
        if at >= 0 and int(start) < max(ends[at], starts[at] + 1) and tags[at] is None:
            tags[at] = str(token["entity"])
    return [tag or "O" for tag in tags]
