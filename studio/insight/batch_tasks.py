"""Which tasks a batch file runs, and the result columns each writes per row.

A row fills the task's first input (text, prompt, question, image) from the chosen column;
the task's other inputs come from the settings, and a required text input that the settings
leave out (question answering's context, zero-shot's candidate_labels) from the file's column
of that name. Every task writes a few flat columns (the best answer) and `output`, the raw
output as JSON: what the task's own endpoint returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Flat = Callable[[Any], dict[str, Any]]


def _best(*keys: str) -> Flat:
    """The first item's keys (the best label, answer, candidate) of a list output."""

    def flat(output: Any) -> dict[str, Any]:
        first = output[0] if isinstance(output, list) and output else {}
        return {key: first.get(key) for key in keys}

    return flat


def _zero_shot(output: Any) -> dict[str, Any]:
    labels, scores = output.get("labels") or [None], output.get("scores") or [None]
    return {"label": labels[0], "score": scores[0]}


def _nothing(output: Any) -> dict[str, Any]:
    return {}


# task id -> the flat columns of its result (from the raw output)
BATCH_TASKS: dict[str, tuple[tuple[str, ...], Flat]] = {
    "text-classification": (("label", "score"), _best("label", "score")),
    "token-classification": ((), _nothing),
    "zero-shot-classification": (("label", "score"), _zero_shot),
    "fill-mask": (("token_str", "score", "sequence"), _best("token_str", "score", "sequence")),
    "question-answering": (("answer", "score"), _best("answer", "score")),
    "summarization": (("summary_text",), _best("summary_text")),
    "translation": (("translation_text",), _best("translation_text")),
    "feature-extraction": ((), _nothing),  # its output is the sentence's vector (studio/insight/batch_run.py)
    "text-generation": (("generated_text",), _best("generated_text")),
    "image-classification": (("label", "score"), _best("label", "score")),
}
EMBEDDING_TASK = "feature-extraction"


def flat_columns(task_id: str) -> tuple[str, ...]:
    return BATCH_TASKS[task_id][0]


def flat_values(task_id: str, output: Any) -> dict[str, Any]:
    return BATCH_TASKS[task_id][1](output)


def stored_output(task_id: str, output: Any) -> Any:
    """The raw output as the CSV keeps it: text generation's token probabilities (five
    alternatives per token) are left out, the rest is as the endpoint returns it."""
    if task_id == "text-generation" and isinstance(output, list):
        return [{key: value for key, value in item.items() if key != "tokens"} for item in output]
    return output
