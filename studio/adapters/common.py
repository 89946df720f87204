"""Input checks and limits shared by the adapters."""

from __future__ import annotations

from typing import Any

from studio.errors import UserError, notify
from studio.spec.shared import TEXT

MAX_INPUT_CHARS = 50_000
MAX_LABELS = 100  # labels scored in one zero-shot request; more are dropped with a notice
MAX_LABEL_CHARS = 200  # a longer label is cut, with a notice
MAX_TEMPLATE_CHARS = 500


def limit_text(text: str | None) -> str:
    """Stripped text, cut to MAX_INPUT_CHARS with a notice.

    An adapter's text is never empty here (its Param's `empty` sentence refused it first); a
    text with no Param of its own (a batch file's cell) gets TEXT's sentence."""
    if TEXT.is_blank(text):
        raise UserError(TEXT.empty)
    text = str(text).strip()
    if len(text) > MAX_INPUT_CHARS:
        notify(f"The input was {len(text):,} characters long; only the first {MAX_INPUT_CHARS:,} were used.")
        text = text[:MAX_INPUT_CHARS]
    return text


def parse_labels(candidate_labels: str | None, example: str, blank_is_empty: bool = False) -> list[str]:
    """Comma-separated labels, stripped, repeats and empty ones dropped, each cut to
    MAX_LABEL_CHARS and at most MAX_LABELS of them (with a notice); a UserError if none.
    blank_is_empty: commas with nothing between them get the "type the labels" message."""
    text = str(candidate_labels or "")
    labels = [label for label in dict.fromkeys(part.strip() for part in text.split(",")) if label]
    if not labels:
        if text.strip() and not blank_is_empty:
            raise UserError(
                f"The labels are all empty; type label names between the commas of candidate_labels, e.g. {example}."
            )
        raise UserError(f"Type the candidate labels, separated by commas, in candidate_labels, e.g. {example}.")
    if len(labels) > MAX_LABELS:
        notify(f"There were {len(labels):,} candidate_labels; only the first {MAX_LABELS} were scored.")
        labels = labels[:MAX_LABELS]
    if any(len(label) > MAX_LABEL_CHARS for label in labels):
        notify(f"candidate_labels longer than {MAX_LABEL_CHARS} characters were cut to that length.")
        labels = list(dict.fromkeys(label[:MAX_LABEL_CHARS].strip() for label in labels))
    return labels


def label_template(template: str | None, default: str) -> str:
    """A hypothesis template with {} once, where the label goes; other braces are kept as
    text (the pipelines call str.format on it), or a UserError saying how to write one."""
    template = str(template or "").strip() or default
    if len(template) > MAX_TEMPLATE_CHARS:
        raise UserError(
            f"hypothesis_template is {len(template):,} characters long; keep it under {MAX_TEMPLATE_CHARS}, "
            f"e.g. {default}"
        )
    parts = template.split("{}")
    if len(parts) != 2:
        raise UserError(
            "The hypothesis template must contain {} exactly once, where the label goes; "
            f"write hypothesis_template like {default}"
        )
    return "{}".join(part.replace("{", "{{").replace("}", "}}") for part in parts)


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
