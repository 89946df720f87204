"""Evaluation metrics with numpy and scikit-learn (the `evaluate` package fetches code from the hub)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

IGNORE_INDEX = -100


def predicted(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Predicted ids: given as ids already (the worker's evaluation keeps only those), or the
    argmax of scores (one more dimension than the labels)."""
    predictions = np.asarray(predictions)
    return predictions if predictions.ndim == np.asarray(labels).ndim else predictions.argmax(axis=-1)


def classification_metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy and macro F1 of the predictions (ids, or scores to take the argmax of)."""
    from sklearn.metrics import accuracy_score, f1_score

    predictions = predicted(logits, labels)
    labels = np.asarray(labels)
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "f1": float(f1_score(labels, predictions, average="macro", zero_division=0)),
    }


def entity_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """(type, start, end) of each IOB2 entity; an I- without its B- starts an entity (as seqeval does)."""
    spans: set[tuple[str, int, int]] = set()
    kind, start = None, 0
    for index, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-")
        continues = prefix == "I" and name == kind
        if kind is not None and not continues:
            spans.add((kind, start, index))
            kind = None
        if prefix in ("B", "I") and not continues:
            kind, start = name, index
    return spans


def token_metrics(logits: np.ndarray, labels: np.ndarray, id2label: dict[int, str]) -> dict[str, float]:
    """Entity-level precision/recall/F1 (exact spans) and word accuracy, over the scored (first) sub-words."""
    predictions = predicted(logits, labels)
    labels = np.asarray(labels)
    true_spans = predicted_spans = correct = 0
    right = total = 0
    for predicted_row, label_row in zip(predictions, labels):
        keep = label_row != IGNORE_INDEX
        gold = [id2label[int(i)] for i in label_row[keep]]
        guess = [id2label[int(i)] for i in predicted_row[keep]]
        right += sum(g == p for g, p in zip(gold, guess))
        total += len(gold)
        gold_spans, guess_spans = entity_spans(gold), entity_spans(guess)
        true_spans += len(gold_spans)
        predicted_spans += len(guess_spans)
        correct += len(gold_spans & guess_spans)
    precision = correct / predicted_spans if predicted_spans else 0.0
    recall = correct / true_spans if true_spans else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": right / total if total else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def compute_metrics_for(task: str, id2label: dict[int, str]) -> Callable[[Any], dict[str, float]]:
    """A Trainer `compute_metrics` for the task."""

    def compute(prediction: Any) -> dict[str, float]:
        logits, labels = prediction.predictions, prediction.label_ids
        if isinstance(logits, tuple):
            logits = logits[0]
        if task == "token-classification":
            return token_metrics(logits, labels, id2label)
        return classification_metrics(logits, labels)

    return compute
