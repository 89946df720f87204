"""Tokenizing a run's data: token ids and labels, with NER labels aligned to sub-words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.training.data import as_tags, as_tokens

if TYPE_CHECKING:
    from transformers import BatchEncoding

IGNORE_INDEX = -100  # label of sub-words and special tokens: not scored by the loss


def tokenize(
    table: Any,
    tokenizer: Any,
    task: str,
    text_column: str,
    label_column: str,
    label2id: dict[str, int],
    max_length: int,
) -> Any:
    """Token ids and labels; for NER the first sub-word of each word gets the word's tag, the rest -100."""
    if task == "token-classification":

        def encode(batch: dict[str, list[Any]]) -> BatchEncoding:
            words = [as_tokens(value) for value in batch[text_column]]
            encoded: BatchEncoding = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
            encoded["labels"] = [
                align_labels(encoded.word_ids(index), [label2id.get(tag, 0) for tag in as_tags(tags)])
                for index, tags in enumerate(batch[label_column])
            ]
            return encoded

    else:

        def encode(batch: dict[str, list[Any]]) -> BatchEncoding:
            texts = [str(value or "") for value in batch[text_column]]
            encoded: BatchEncoding = tokenizer(texts, truncation=True, max_length=max_length)
            encoded["labels"] = [label2id[str(label).strip()] for label in batch[label_column]]
            return encoded

    table = table.filter(lambda row: _usable(row, task, text_column, label_column, label2id))
    return table.map(encode, batched=True, remove_columns=list(table.column_names))


def _usable(row: dict[str, Any], task: str, text_column: str, label_column: str, label2id: dict[str, int]) -> bool:
    if task == "token-classification":
        tokens = as_tokens(row[text_column])
        return bool(tokens) and len(tokens) == len(as_tags(row[label_column]))
    text, label = row[text_column], row[label_column]
    return text is not None and str(text).strip() != "" and str(label).strip() in label2id


def align_labels(word_ids: list[int | None], word_labels: list[int]) -> list[int]:
    """Per-token labels: the word's label on its first sub-word, -100 on the others and on special tokens."""
    aligned, previous = [], None
    for word in word_ids:
        if word is None or word == previous:
            aligned.append(IGNORE_INDEX)
        else:
            aligned.append(word_labels[word])
        previous = word
    return aligned
