"""Readable run logs: the weight-loading report in one line, and no terminal escape codes.

transformers prints a LOAD REPORT table when a model loads with weights missing, unused or
resized. For a fine-tuning run that table is expected (the new head for the run's labels is
missing from the base model) but reads like a failure ("classifier.weight | MISSING"), so
the worker replaces it with `describe_loading`'s one line. `readable` cleans any log text
for the page: colour codes removed, and a progress bar redrawn with carriage returns kept
at its last state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

# CSI sequences (colours, cursor moves) and the two-character escapes.
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
DIGITS = re.compile(r"(?<=\.)\d+(?=\.|$)")
# Parts of the base model a task model adds when the base checkpoint (e.g. a masked-LM) has none.
NEW_PARTS = ("pooler", "pre_classifier")
SHOWN_NAMES = 4


def readable(text: str) -> str:
    """Log text for the page: escape codes removed; of a line redrawn with \\r, its last state."""
    lines = []
    for line in ESCAPE.sub("", text).split("\n"):
        lines.append(line.rstrip("\r").split("\r")[-1])
    return "\n".join(lines)


def _names(keys: Iterable[str]) -> str:
    """A few key names, numbered layers collapsed (layer.0.x, layer.1.x -> layer.*.x)."""
    unique = sorted({DIGITS.sub("*", key) for key in keys})
    shown = ", ".join(unique[:SHOWN_NAMES])
    return shown + (f" and {len(unique) - SHOWN_NAMES} more" if len(unique) > SHOWN_NAMES else "")


def _is_new_part(key: str, prefix: str) -> bool:
    """A weight of the task's own head (outside the base model), or a part the head adds."""
    return not key.startswith(f"{prefix}.") or any(f".{part}." in f".{key}" for part in NEW_PARTS)


def describe_loading(info: dict[str, Any], prefix: str, labels: int) -> str | None:
    """The loading report in one line (None when every weight loaded as it was).

    `info` is from_pretrained's output_loading_info; `prefix` the model's base_model_prefix."""
    missing = set(info.get("missing_keys") or ())
    unused = set(info.get("unexpected_keys") or ())
    resized = {key for key, *_ in info.get("mismatched_keys") or ()}
    head = {key for key in missing if _is_new_part(key, prefix)} | resized
    odd = missing - head
    parts = []
    if head:
        parts.append(
            f"the new head for your {labels} labels ({_names(head)}) starts from random weights, "
            "as expected: this run trains it"
        )
    if unused:
        parts.append(f"{len(unused)} weights of the base model's own head are not used ({_names(unused)})")
    if odd:
        parts.append(
            f"{len(odd)} weights of the base model itself were not in its checkpoint ({_names(odd)}) and start "
            "from random weights: check that this base model fits the task"
        )
    return ("loading the base model: " + "; ".join(parts) + ".") if parts else None


class _Capture(logging.Filter):
    """Holds back transformers' LOAD REPORT records (shown again only if loading fails)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "LOAD REPORT" in message:
            self.held.append(readable(message))
            return False
        return True


@contextmanager
def load_report_held(say: Callable[[str], None]) -> Iterator[None]:
    """Within: transformers' LOAD REPORT tables are not printed; if the block fails, they are
    printed (cleaned) before the error, since the error refers to them."""
    logger = logging.getLogger("transformers.modeling_utils")
    capture = _Capture()
    logger.addFilter(capture)
    try:
        yield
    except BaseException:
        for report in capture.held:
            say(report)
        raise
    finally:
        logger.removeFilter(capture)
