"""What the generation tabs (Text generation, Compare strategies, Chat, Image chat) draw from a
run: the generated text, the live-figures line, and each token shaded by its probability
(components/token_view.py) once the run ends.

Studio streams plain data: the raw output ([{generated_text, tokens}]) and the live figures
(a dict: tokens, tokens/s, time to first token, seconds, engine, progress); this module
words and draws them for the page.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.token_view import token_html

# An event only the page sees (drawing the shaded tokens): not in the API, not queued, no spinner.
PAGE_ONLY: dict[str, Any] = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}


def generated_text(output: Any) -> str:
    """[{generated_text}] as one text; several sequences are numbered."""
    if not output:
        return ""
    texts = [item["generated_text"] for item in output]
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"── {number} ──\n{text}" for number, text in enumerate(texts, 1))


def figures_line(figures: dict[str, Any] | None) -> str:
    """The live figures (an update's visual) as one line of Markdown; components/stopping.py
    reads its "**N tokens**" back after a Stop."""
    if not figures:
        return ""
    if figures.get("progress"):
        return f"⏳ {figures['progress']} · {figures.get('seconds', 0):.1f} s"
    parts = [f"**{figures.get('tokens', 0)} tokens**", f"{figures.get('tokens_per_second', 0):.1f} tokens/s"]
    if figures.get("time_to_first_token") is not None:
        parts.append(f"first token after {figures['time_to_first_token']:.2f} s")
    parts.append(f"{figures.get('seconds', 0):.1f} s")
    if figures.get("done"):
        parts.append("stopped" if figures.get("stopped") else "done")
    if figures.get("load_seconds"):  # this request waited for the model's load: shown apart, not in the times above
        parts.append(f"model loaded first in {figures['load_seconds']:.1f} s")
    reason = f" ({figures['engine_reason']})" if figures.get("engine_reason") else ""
    return " · ".join(parts + ([f"{figures['engine']}{reason}"] if figures.get("engine") else []))


def has_tokens(output: Any) -> bool:
    """Whether text generation's raw output has each sequence's `tokens` (only the final update has)."""
    return bool(output) and isinstance(output, list) and all(isinstance(i, dict) and i.get("tokens") for i in output)


def shaded(output: Any) -> str:
    """Text generation's raw output as shaded tokens (components/token_view.py); "" before it has them."""
    return token_html([item["tokens"] for item in output]) if has_tokens(output) else ""


def token_view() -> gr.HTML:
    """Where a run's shaded tokens appear, titled by the HTML itself (nothing shows before a run
    ends); hover or tap a token for its alternatives. No JavaScript."""
    return gr.HTML(container=False, js_on_load=None, elem_classes=["token-shading"])
