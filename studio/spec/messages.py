"""The chat history input, parsed: Gradio's message forms (a string, a list of parts, one part)
as plain [{role, content: str}].

A value parser like Param.check's, for the chat tasks' `history`: the adapters and Show code
read it to build the conversation, and the chat tabs to redraw theirs, so it sits in the
spec, which both may import.
"""

from __future__ import annotations

from typing import Any

from studio.errors import UserError, notify
from studio.spec.param import clean_text

MAX_HISTORY_MESSAGES = 40
_BAD_HISTORY = "history must be a list of messages like {'role': 'user', 'content': 'Hi'}."


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


def plain_history(history: Any) -> list[dict[str, str]]:
    """The conversation so far as [{role, content: str}], user and assistant turns only."""
    if not history:
        return []
    if not isinstance(history, (list, tuple)):
        raise UserError(_BAD_HISTORY)
    messages = []
    for message in history:
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or role not in {"system", "user", "assistant"}:
            raise UserError(_BAD_HISTORY)
        if role == "system":
            continue  # the tab's own system prompt (if any) is the one in effect
        text = clean_text(message_text(message.get("content"))).strip()
        if text:
            messages.append({"role": role, "content": text})
    if len(messages) > MAX_HISTORY_MESSAGES:
        notify(f"The conversation has {len(messages)} messages; only the last {MAX_HISTORY_MESSAGES} were sent.")
        messages = messages[-MAX_HISTORY_MESSAGES:]
        while messages and messages[0]["role"] != "user":
            messages = messages[1:]
    return messages
