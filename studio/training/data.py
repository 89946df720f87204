"""The cells and columns of training data, whatever the kind: the bundled samples by name, a
classifier's likely columns, token and tag cells, label counts and their id order.

Kinds and Insight's evaluation read tables through these; choosing and checking a run's data
per kind is dataset.py's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from studio.errors import UserError
from studio.training.samples import SAMPLES, Sample

TOKEN_CLASSIFICATION = "token-classification"  # the task whose cells are lists of words and tags


def sample(name: str) -> Sample:
    if name not in SAMPLES:
        raise UserError(f"There is no bundled dataset {name!r}; pick one of {', '.join(SAMPLES)}.")
    return SAMPLES[name]


def guess_columns(columns: list[str], task: str) -> tuple[str | None, str | None]:
    """A classifier's likely text and label columns, by name (NER: tokens and tags first)."""
    lowered = {column.lower(): column for column in columns}
    text_names = ["tokens", "words", "text", "sentence"] if task == TOKEN_CLASSIFICATION else []
    text_names += ["text", "sentence", "content", "review", "review_text", "document", "tokens", "words"]
    label_names = ["ner_tags", "tags", "labels", "label"] if task == TOKEN_CLASSIFICATION else []
    label_names += ["label", "labels", "sentiment", "category", "class", "target", "ner_tags", "tags"]
    text = next((lowered[name] for name in text_names if name in lowered), None)
    label = next((lowered[name] for name in label_names if name in lowered and lowered[name] != text), None)
    if text is None:
        text = next((c for c in columns if c != label), None)
    if label is None:
        label = next((c for c in columns if c != text), None)
    return text, label


def as_tokens(value: Any) -> list[str]:
    """A token-classification text cell: a list of words, or a string split on spaces."""
    if isinstance(value, list):
        return [str(token) for token in value]
    return str(value or "").split()


def as_tags(value: Any) -> list[str]:
    """A token-classification label cell: a list of tags, or a string split on spaces."""
    if isinstance(value, list):
        return [str(tag) for tag in value]
    return str(value or "").split()


def count_labels(table: Any, task: str, label_column: str) -> dict[str, int]:
    """Every label with how often it occurs (per row, or per token for NER), most common first."""
    counts: Counter[str] = Counter()
    for value in table[label_column]:
        if task == TOKEN_CLASSIFICATION:
            counts.update(as_tags(value))
        elif value is not None and str(value).strip():
            counts[str(value).strip()] += 1
    return dict(counts.most_common())


def ordered_labels(counts: dict[str, int], task: str) -> list[str]:
    """Label names in id order: sorted, with "O" first for NER."""
    names = sorted(counts)
    if task == TOKEN_CLASSIFICATION and "O" in names:
        names.remove("O")
        names.insert(0, "O")
    return names


def looks_like_formula(value: str) -> bool:
    """A cell a spreadsheet would run (=, @, or + - not starting a number): refused as a label."""
    if value[:1] in ("=", "@"):
        return True
    if value[:1] in ("+", "-"):
        try:
            float(value)
        except ValueError:
            return True
    return False
