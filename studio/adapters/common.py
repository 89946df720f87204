"""Input checks and limits shared by the adapters."""

from __future__ import annotations

from typing import Any

from studio.errors import UserError, notify, require_text

MAX_INPUT_CHARS = 50_000


def limit_text(text: str | None, what: str = "some text") -> str:
    """Stripped text, cut to MAX_INPUT_CHARS with a notice; a UserError when empty."""
    text = require_text(text, what)
    if len(text) > MAX_INPUT_CHARS:
        notify(f"The input was {len(text):,} characters long; only the first {MAX_INPUT_CHARS:,} were used.")
        text = text[:MAX_INPUT_CHARS]
    return text


def max_tokens(loaded: Any) -> int:
    """The longest input the model takes, from its tokenizer and config."""
    limits = [getattr(loaded.tokenizer, "model_max_length", None)]
    limits.append(getattr(getattr(loaded.model, "config", None), "max_position_embeddings", None))
    usable = [int(limit) for limit in limits if isinstance(limit, int) and 0 < limit < 1_000_000]
    return min(usable) if usable else 512


def notify_if_truncated(loaded: Any, text: str) -> None:
    """Say so when the model will only see the start of the text."""
    limit = max_tokens(loaded)
    count = len(loaded.tokenizer(text, truncation=False)["input_ids"])
    if count > limit:
        notify(f"The text has {count:,} tokens; the model reads only the first {limit:,}.")


MAX_HISTORY_MESSAGES = 40


def message_text(content: Any) -> str:
    """The text of a chat message's content: a string, a list of parts, or one part (Gradio's forms)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if content.get("type", "text") == "text":
            return str(content.get("text") or content.get("content") or "")
        return ""
    if isinstance(content, (list, tuple)):
        return "\n".join(text for text in (message_text(part) for part in content) if text)
    return str(content)


def plain_history(history: Any) -> list[dict]:
    """The conversation so far as [{role, content: str}], user and assistant turns only."""
    if not history:
        return []
    if not isinstance(history, (list, tuple)):
        raise UserError("history must be a list of messages like {'role': 'user', 'content': 'Hi'}.")
    messages = []
    for message in history:
        if not isinstance(message, dict) or message.get("role") not in {"system", "user", "assistant"}:
            raise UserError("history must be a list of messages like {'role': 'user', 'content': 'Hi'}.")
        if message["role"] == "system":
            continue  # the tab's own system prompt (if any) is the one in effect
        text = message_text(message.get("content")).strip()
        if text:
            messages.append({"role": message["role"], "content": text})
    if len(messages) > MAX_HISTORY_MESSAGES:
        notify(f"The conversation has {len(messages)} messages; only the last {MAX_HISTORY_MESSAGES} were sent.")
        messages = messages[-MAX_HISTORY_MESSAGES:]
        while messages and messages[0]["role"] != "user":
            messages = messages[1:]
    return messages
