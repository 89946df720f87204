"""Token probabilities as HTML: each generated token shaded by its probability, and its 5
likeliest alternatives shown on hover, keyboard focus or a tap (CSS only, no JavaScript).

    token_html([tokens])  # tokens: [{token, probability, top: [{token, probability}]}]

The items are the `tokens` of text generation's raw output (studio/generation/token_probabilities.py).
Every piece of text is escaped, and also `$`, `{`, `}`, backslash and backtick, which a
template engine could read (Gradio renders gr.HTML through one). Whitespace a reader could
not see (a token that is only spaces, a newline, a tab) is drawn as a symbol. The colours
are a tint with alpha over the theme's own text colour, so the page reads in light and dark
themes alike (Gradio's theme variables where the page has them). The HTML carries its own
<style>, so it reads the same in any page that shows it (a gr.HTML, a notebook).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

SHADE_MIN, SHADE_MAX = 0.06, 0.55  # tint alpha of a certain token, and of an impossible one
_TEMPLATE_CHARACTERS = {"$": "&#36;", "{": "&#123;", "}": "&#125;", "\\": "&#92;", "`": "&#96;"}
_SHOWN_WHITESPACE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
TITLE = "Token probabilities."
LEGEND = (
    "The stronger the tint, the less likely the model found the token. "
    "Hover over a token (or tap it) to see its 5 likeliest alternatives."
)

TOKEN_CSS = """
.gr-accordion:has(.token-view) { overflow: visible !important; } /* a tooltip may reach past the accordion */
.token-view {
  line-height: 1.9; padding: 0.6em 0.8em; border: 1px solid var(--border-color-primary, #999);
  border-radius: var(--block-radius, 8px); background: var(--block-background-fill, transparent);
}
.token-view .token-legend { font-size: 0.85em; margin: 0 0 0.3em; color: var(--body-text-color-subdued, inherit); }
.token-view .token-legend b { color: var(--body-text-color, inherit); }
.token-view .token-sequence-title { font-weight: 600; margin: 0.6em 0 0.1em; }
.token-view .token-text { white-space: pre-wrap; word-break: break-word; }
.token-view .token {
  position: relative; border-radius: 3px; padding: 1px 0; cursor: help; outline: none; color: inherit;
  background: rgb(234 88 12 / var(--shade)); box-shadow: inset -1px 0 0 rgb(127 127 127 / 0.4);
}
.token-view .token:hover, .token-view .token:focus { box-shadow: 0 0 0 2px rgb(234 88 12 / 0.9); }
.token-view .token-symbol { opacity: 0.65; }
.token-view .token-tip {
  display: none; position: absolute; left: 0; top: 1.7em; z-index: 50; min-width: 13em;
  padding: 0.4em 0.6em; border-radius: 6px; white-space: nowrap; line-height: 1.4; font-size: 0.85em;
  background: var(--background-fill-primary, #fff); color: var(--body-text-color, #111);
  border: 1px solid var(--border-color-primary, #999); box-shadow: 0 4px 14px rgb(0 0 0 / 0.3);
}
.token-view .token:hover > .token-tip, .token-view .token:focus > .token-tip { display: block; }
.token-view .token-tip table { border-collapse: collapse; width: 100%; margin: 0.2em 0 0; border: none; }
.token-view .token-tip tr, .token-view .token-tip td {
  padding: 0.05em 0.4em !important; border: none !important; background: none !important; color: inherit;
}
.token-view .token-tip td.token-probability { text-align: right; font-variant-numeric: tabular-nums; }
.token-view .token-tip tr.token-chosen td { font-weight: 700; }
"""


def escaped(text: str) -> str:
    """Text safe inside HTML and inside a template: html.escape, then the template's characters."""
    return "".join(_TEMPLATE_CHARACTERS.get(character, character) for character in html.escape(text))


def shown_token(text: str) -> str:
    """A token as HTML text: a token that is only whitespace (or empty) as symbols; newlines as
    ↵ then a line break, so the text keeps its lines."""
    if text == "":
        return '<span class="token-symbol">∅</span>'
    if not text.strip():
        symbols = "".join(_SHOWN_WHITESPACE.get(character, "·") for character in text)
        breaks = "\n" * text.count("\n")
        return f'<span class="token-symbol">{escaped(symbols)}</span>{breaks}'
    if "\n" not in text:
        return escaped(text)
    return '<span class="token-symbol">↵</span>\n'.join(escaped(line) for line in text.split("\n"))


def visible_whitespace(text: str) -> str:
    """A token in the alternatives list: every space, newline and tab drawn (" the" is "␣the")."""
    return "".join(_SHOWN_WHITESPACE.get(character, character) for character in text) if text else "∅"


def percent(probability: float) -> str:
    """A probability as a percentage: 83.1%, 2.35%, 0.12%, 0%."""
    value = float(probability) * 100
    if value >= 10:
        return f"{value:.1f}%"
    if value >= 1:
        return f"{value:.2f}%"
    if value <= 0:
        return "0%"
    return f"{value:.2g}%" if value >= 1e-4 else "<0.0001%"


def shade(probability: float) -> float:
    """The tint's alpha: faint for a likely token, strong for an unlikely one."""
    probability = min(max(float(probability), 0.0), 1.0)
    return round(SHADE_MIN + (SHADE_MAX - SHADE_MIN) * (1 - probability), 3)


def token_span(item: dict[str, Any]) -> str:
    """One token: shaded, focusable (a tap or Tab shows its tooltip), with its alternatives."""
    token, probability = str(item.get("token", "")), float(item.get("probability", 0.0))
    rows = []
    for alternative in item.get("top") or []:
        chosen = ' class="token-chosen"' if alternative.get("token") == token else ""
        rows.append(
            f"<tr{chosen}><td>{escaped(visible_whitespace(str(alternative.get('token', ''))))}</td>"
            f'<td class="token-probability">{percent(alternative.get("probability", 0.0))}</td></tr>'
        )
    tip = (
        f'<span class="token-tip" role="tooltip">'
        f"<b>{escaped(visible_whitespace(token))}</b>: {percent(probability)}"
        f"<table>{''.join(rows)}</table></span>"
    )
    label = f"{visible_whitespace(token)}, probability {percent(probability)}"
    return (
        f'<span class="token" tabindex="0" style="--shade:{shade(probability)}" '
        f'data-probability="{probability:.6g}" aria-label="{escaped(label)}">{shown_token(token)}{tip}</span>'
    )


def token_html(sequences: Sequence[Sequence[dict[str, Any]] | None] | None, titles: Sequence[str] | None = None) -> str:
    """The shaded tokens of every sequence (one block each, titled when there are several);
    "" when no sequence has tokens (a run still streaming, or an engine that sends none)."""
    sequences = [list(tokens or []) for tokens in sequences or []]
    if not any(sequences):
        return ""
    if titles is None:
        titles = [f"Sequence {number}" for number in range(1, len(sequences) + 1)] if len(sequences) > 1 else [""]
    legend = f'<p class="token-legend"><b>{TITLE}</b> {escaped(LEGEND)}</p>'
    parts = [f'<div class="token-view"><style>{TOKEN_CSS}</style>{legend}']
    for title, tokens in zip(titles, sequences):
        if title:
            parts.append(f'<div class="token-sequence-title">{escaped(title)}</div>')
        parts.append(f'<div class="token-text">{"".join(token_span(item) for item in tokens)}</div>')
    parts.append("</div>")
    return "".join(parts)
