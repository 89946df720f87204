"""Stop for a streaming tab: enabled (and red) only while one of its runs goes on, and after a
Stop the live-figures line says how far the run got ("Stopped after 12 tokens").

Gradio's cancel ends the stream without a last update, so the page writes that line itself,
from the figures line it shows (components/generation_outputs.py's figures_line format: "**12 tokens** · ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import gradio as gr

IDLE = {"interactive": False, "variant": "secondary"}
QUIET = {"queue": False, "api_visibility": "undocumented", "show_progress": "hidden"}
RUNNING = {"interactive": True, "variant": "stop"}
_TOKENS = re.compile(r"\*\*(\d+) tokens\*\*")
_STEP = re.compile(r"\bstep (\d+)\b")


def stop_button(label: str = "Stop") -> gr.Button:
    """A Stop button, disabled and grey until a run starts (on_start)."""
    return gr.Button(label, elem_classes=["stop-button"], **IDLE)


def on_start(stop: gr.Button | None, triggers: Sequence[Any], report: gr.Markdown | None = None) -> Callable[..., Any]:
    """What a stoppable run is wired with, instead of gr.on(triggers, ...): an event that enables
    `stop` (and clears `report`, the last run's figures) and then, chained, the run. Chained,
    because Gradio's page applies a parallel event's update only once the run has ended."""
    if stop is None:
        return partial(gr.on, triggers=list(triggers))
    outputs = [stop] if report is None else [stop, report]
    started = gr.on(
        triggers=list(triggers),
        fn=lambda: gr.Button(**RUNNING) if report is None else (gr.Button(**RUNNING), ""),
        outputs=outputs,
        **QUIET,
    )
    return started.then


def wire_stop(stop: gr.Button, runs: Sequence[Any], report: gr.Markdown | None = None) -> None:
    """Disable `stop` when one of the `runs` (wired with on_start) ends; a click cancels them all
    and, with `report` (the live-figures Markdown), writes how far the run got."""
    for run in runs:
        run.then(lambda: gr.Button(**IDLE), outputs=[stop], **QUIET)
    stopped = stop.click(None, cancels=list(runs), **QUIET)
    if report is None:
        stopped.then(lambda: gr.Button(**IDLE), outputs=[stop], **QUIET)
    else:  # after the cancel: written earlier, the cancelled run's outputs would cover it
        stopped.then(lambda shown: (stopped_line(shown), gr.Button(**IDLE)), [report], [report, stop], **QUIET)


def stopped_line(shown: str | None) -> str:
    """The figures line after a Stop: "**Stopped after N tokens** · ..." from the line shown
    (tokens so far and tokens/s kept); a progress line (beam search's steps, the prompt being
    read) says where it stopped; no line means no token came yet (wire_stop clears it at the
    start); a finished run's line stays as it is (Stop came too late to stop anything)."""
    shown = (shown or "").strip()
    if {"done", "stopped"} & {part.strip() for part in shown.split("·")}:
        return shown
    tokens = _TOKENS.search(shown)
    if tokens:
        count = int(tokens.group(1))
        return shown.replace(tokens.group(0), f"**Stopped after {count} token{'' if count == 1 else 's'}**", 1)
    if shown.startswith("⏳"):
        doing = shown.removeprefix("⏳").strip()
        step = _STEP.search(doing)
        where = f"after {step.group(1)} steps" if step else "before the first token"
        return f"**Stopped {where}** ({doing})"
    return "**Stopped before the first token.**"


def live_figures(outputs: Sequence[Any]) -> gr.Markdown | None:
    """The tab's live-figures Markdown among its outputs (elem_classes "live-figures"), if any."""
    return next((c for c in outputs if isinstance(c, gr.Markdown) and "live-figures" in (c.elem_classes or [])), None)
