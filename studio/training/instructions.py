"""Instruction data for text generation: prompt/response pairs or chat `messages` lists, read as
conversations ([{role, content}, ...]) and checked with one sentence, as a classifier's labels
are (kinds/classification.py)."""

from __future__ import annotations

import json
from typing import Any

ROLES = ("system", "user", "assistant")
PROMPT_NAMES = ("messages", "conversations", "prompt", "instruction", "question", "input", "text")
RESPONSE_NAMES = ("response", "output", "answer", "completion", "target")


def guess_columns(columns: list[str]) -> tuple[str | None, str | None]:
    """The prompt (or messages) column and the response column; a messages column needs no response."""
    lowered = {column.lower(): column for column in columns}
    text = next((lowered[name] for name in PROMPT_NAMES if name in lowered), None)
    if text is not None and text.lower() in ("messages", "conversations"):
        return text, None
    label = next((lowered[name] for name in RESPONSE_NAMES if name in lowered and lowered[name] != text), None)
    if text is None:
        text = next((c for c in columns if c != label), None)
    if label is None:
        label = next((c for c in columns if c != text), None)
    return text, label


def as_messages(value: Any) -> list[dict[str, str]] | None:
    """A `messages` cell (a list of {role, content}, or that list as JSON text) as plain dicts; None when it
    is not one or has no assistant turn to learn."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list) or not value:
        return None
    messages = []
    for item in value:
        if not isinstance(item, dict) or item.get("role") not in ROLES or not isinstance(item.get("content"), str):
            return None
        messages.append({"role": item["role"], "content": item["content"]})
    return messages if any(m["role"] == "assistant" and m["content"].strip() for m in messages) else None


def conversation(row: dict[str, Any], text_column: str, label_column: str | None) -> list[dict[str, str]] | None:
    """One row as a conversation: its messages, or the prompt as the user's turn and the response as
    the assistant's; None for a row that cannot train (an empty prompt or response)."""
    if not label_column:
        return as_messages(row.get(text_column))
    prompt, response = row.get(text_column), row.get(label_column)
    if prompt is None or response is None or not str(prompt).strip() or not str(response).strip():
        return None
    return [{"role": "user", "content": str(prompt)}, {"role": "assistant", "content": str(response)}]


def column_problems(columns: list[str], text_column: str, label_column: str | None) -> list[str]:
    """The header check: the prompt (or messages) column exists, and so does the response column."""
    missing = [name for name in (text_column, label_column) if name and name not in columns]
    if not text_column or missing:
        names = ", ".join(repr(name or "") for name in missing or [text_column])
        return [f"column {names} is missing (the file has: {', '.join(columns)})"]
    if text_column == label_column:
        return ["the prompt and response columns are the same column; pick two different ones"]
    return []


def problems(table: Any, text_column: str, label_column: str | None) -> list[str]:
    """Everything wrong with instruction data (empty when it can train): unusable rows, by number."""
    found = column_problems(list(table.column_names), text_column, label_column)
    if found:
        return found
    columns = [text_column, label_column] if label_column else [text_column]
    rows = table.select_columns(columns).to_list()
    bad = [number for number, row in enumerate(rows, start=1) if conversation(row, text_column, label_column) is None]
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
        what = (
            f"an empty {text_column!r} or {label_column!r}"
            if label_column
            else "no list of {role, content} messages with an assistant turn"
        )
        found.append(f"{len(bad)} row{'s' if len(bad) > 1 else ''} with {what} (row {shown})")
    return found
