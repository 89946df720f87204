"""Scores of predictions against a file's labels: scikit-learn for labels, seqeval (CoNLL
entity spans) for tags. No metric is computed by hand here, so the figures are the libraries'.

A file's labels are read in the model's terms: as spelled, else the one model label that
differs only in case ("positive" for POSITIVE), else a whole number as a label id ("1" for
id2label[1]); the result says which were read so. Labels the model does not have stay as they
are and are reported: their rows (NER: their words) are scored, so they count as mistakes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MISTAKES_SHOWN = 50
MATRIX_LABELS = 30  # a model with more labels shows only those the file or the predictions use
UNKNOWN_POLICY = "counted as mistakes"


def plain(value: Any) -> Any:
    """Numpy numbers and containers as JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def match_labels(file_labels: Iterable[str], model_labels: list[str]) -> tuple[dict[str, str], list[str]]:
    """({file label: model label} for those spelled another way, file labels the model lacks)."""
    by_case: dict[str, list[str]] = {}
    for label in model_labels:
        by_case.setdefault(label.casefold(), []).append(label)
    renamed, unknown = {}, []
    for label in sorted(set(file_labels)):
        if label in model_labels:
            continue
        same = by_case.get(label.casefold(), [])
        if len(same) == 1:
            renamed[label] = same[0]
        elif label.isdigit() and int(label) < len(model_labels):
            renamed[label] = model_labels[int(label)]
        else:
            unknown.append(label)
    return renamed, unknown


def matrix_labels(model_labels: list[str], unknown: list[str], used: set[str]) -> list[str]:
    """The confusion matrix's rows and columns: the model's labels in id order, then unknown ones."""
    shown = model_labels if len(model_labels) <= MATRIX_LABELS else [label for label in model_labels if label in used]
    return [*shown, *unknown]


def confusion(expected: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(expected, predicted, labels=labels)
    return {"labels": labels, "matrix": plain(matrix.tolist())}


def label_facts(renamed: dict[str, str], unknown: list[str], unknown_rows: int) -> dict[str, Any]:
    return {
        "labels_read_as": renamed,
        "unknown_labels": unknown,
        "unknown_label_rows": unknown_rows,
        "unknown_labels_are": UNKNOWN_POLICY,
    }


def classification_scores(
    texts: list[str], labels: list[str], predicted: list[str], model_labels: list[str], numbers: list[int]
) -> dict[str, Any]:
    """Accuracy, macro F1, sklearn's classification report, the confusion matrix and the mistakes."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    renamed, unknown = match_labels(labels, model_labels)
    expected = [renamed.get(label, label) for label in labels]
    mistakes = [
        {"row": number, "text": text, "expected": want, "predicted": got}
        for number, text, want, got in zip(numbers, texts, expected, predicted)
        if want != got
    ]
    unknown_rows = sum(label in unknown for label in expected)
    return {
        "accuracy": float(accuracy_score(expected, predicted)),
        "macro_f1": float(f1_score(expected, predicted, average="macro", zero_division=0)),
        "per_label": plain(classification_report(expected, predicted, output_dict=True, zero_division=0)),
        "confusion_matrix": confusion(
            expected, predicted, matrix_labels(model_labels, unknown, {*expected, *predicted})
        ),
        "mistakes": mistakes[:MISTAKES_SHOWN],
        "mistake_count": len(mistakes),
        **label_facts(renamed, unknown, unknown_rows),
    }


def tagging_scores(
    rows: list[list[str]],
    tags: list[list[str]],
    predicted: list[list[str]],
    model_labels: list[str],
    numbers: list[int],
) -> dict[str, Any]:
    """Entity-level precision, recall and F1 (seqeval, CoNLL style), per entity type, word
    accuracy, the word-level tag confusion matrix and the sentences with a wrong tag."""
    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score

    renamed, unknown = match_labels((tag for row in tags for tag in row), model_labels)
    expected = [[renamed.get(tag, tag) for tag in row] for row in tags]
    report = plain(classification_report(expected, predicted, output_dict=True, zero_division=0))
    flat_expected = [tag for row in expected for tag in row]
    flat_predicted = [tag for row in predicted for tag in row]
    mistakes = [
        {"row": number, "text": " ".join(words), "expected": " ".join(want), "predicted": " ".join(got)}
        for number, words, want, got in zip(numbers, rows, expected, predicted)
        if want != got
    ]
    unknown_rows = sum(any(tag in unknown for tag in row) for row in expected)
    return {
        "accuracy": float(accuracy_score(expected, predicted)),
        "precision": float(precision_score(expected, predicted, zero_division=0)),
        "recall": float(recall_score(expected, predicted, zero_division=0)),
        "f1": float(f1_score(expected, predicted, zero_division=0)),
        "macro_f1": float(report.get("macro avg", {}).get("f1-score", 0.0)),
        "per_label": report,
        "confusion_matrix": confusion(
            flat_expected, flat_predicted, matrix_labels(model_labels, unknown, {*flat_expected, *flat_predicted})
        ),
        "mistakes": mistakes[:MISTAKES_SHOWN],
        "mistake_count": len(mistakes),
        **label_facts(renamed, unknown, unknown_rows),
    }
