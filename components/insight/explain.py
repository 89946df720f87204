"""Explain a classification: which tokens pushed a text-classification model towards a label
and which away from it. The page; the logic is studio/insight/explain.py."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import gradio as gr

from components import run_errors
from components.api import caller
from components.context import TabContext
from components.errors import shown_as_gr_error
from components.widgets import widget
from studio.studio import Studio

TASK_ID = "text-classification"
API_NAME = "explain_text_classification"
EXAMPLES = [
    ["the movie was great and the music was wonderful", "predicted", 50],
    ["the food was bad but the coffee was amazing", "predicted", 100],
]
# Backgrounds with alpha: the page's own text colour stays readable on them in light and dark themes.
TOWARDS = "22, 163, 74"  # green
AWAY = "220, 38, 38"  # red
EMPTY_VIEW = "<div class='explain-tokens'><em>Press Explain to see which tokens pushed the prediction.</em></div>"


def build(ctx: TabContext) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    studio = ctx.studio
    insight = studio.insight
    text_param, target_param, steps_param = insight.explain_params
    default = studio.default_model(TASK_ID)
    gr.Markdown(
        "Which tokens pushed a text-classification model **towards** a label (green) and which **away** from "
        "it (red): integrated gradients over the token embeddings, from a baseline of pad tokens to your text. "
        "The attributions add up to f(text) − f(baseline) for the label's logit, up to the convergence delta."
    )
    if not studio.model_choices(TASK_ID):
        gr.Markdown("No text-classification model is listed in models.yaml, so there is nothing to explain.")
    with gr.Row():
        with gr.Column():
            model = gr.Dropdown(
                choices=studio.model_choices(TASK_ID),
                value=default,
                label="Model",
                info="The text-classification models this app offers; each loads when first used.",
                allow_custom_value=True,  # checked by Studio.entry, as on the task tabs
                elem_classes=["explain-model"],
            )
            text = widget(text_param, lines=4, elem_classes=["explain-text"])
            with gr.Row():
                target = gr.Dropdown(
                    choices=target_choices(studio, default),
                    value=target_param.default,
                    label=target_param.title,
                    info=target_param.help,
                    allow_custom_value=True,  # the API may name any label; unknown ones get a sentence
                    elem_classes=["explain-target"],
                )
                n_steps = widget(steps_param)
            button = gr.Button("Explain", variant="primary", elem_classes=["explain-button"])
            gr.Examples(examples=EXAMPLES, inputs=[text, target, n_steps], label="Examples")
        with gr.Column():
            error = run_errors.error_box()
            tokens = gr.HTML(EMPTY_VIEW, label="Attributions", elem_classes=["explain-view"])
            summary = gr.Markdown(elem_classes=["explain-summary"])
            raw = gr.JSON(label="Raw output", elem_classes=["raw-output"])
    model.change(
        lambda chosen: gr.Dropdown(choices=target_choices(studio, chosen), value=insight.predicted_target),
        inputs=model,
        outputs=target,
        api_visibility="undocumented",
        queue=False,
    )
    event = button.click(
        explain_handler(studio),
        inputs=[model, text, target, n_steps],
        outputs=[tokens, summary, target, raw],
        api_name=API_NAME,
        concurrency_limit=1,  # attributions are many forward and backward passes: one at a time
        concurrency_id=API_NAME,
    )
    run_errors.wire_error_box(event, error, [tokens, summary, raw], API_NAME)


def target_choices(studio: Studio, model_id: str | None) -> list[str]:
    """ "predicted", then the model's labels (read from its config; none before a Hub download)."""
    return [studio.insight.predicted_target, *studio.insight.explain_labels(model_id)]


def explain_handler(studio: Studio) -> Callable[..., Any]:
    """The Explain event; its parameter names are the API's."""
    insight = studio.insight

    def explain_text_classification(
        model: str,
        text: str,
        target: str,
        n_steps: float,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[str, str, Any, dict[str, Any]]:
        """Which tokens pushed the model towards the target label (positive attributions) and
        which away from it (negative), by integrated gradients from a baseline of pad tokens.

        Args:
            model: A text-classification model the app offers.
            text: The text to classify and explain.
            target: The label to explain, or "predicted" for the model's top label.
            n_steps: Integration steps, 1 to 300: more is closer to exact and slower.
        """
        report = lambda fraction, message: progress(fraction, desc=message)  # noqa: E731
        with shown_as_gr_error("Explain"):
            result = studio.explain(model, text, target, n_steps, report, caller(studio.access, request))
        for notice in result["notices"]:
            gr.Warning(notice)
        chosen = target if target else insight.predicted_target
        choices = list(dict.fromkeys([insight.predicted_target, *result["labels"], chosen]))
        return tokens_html(result), summary_line(result), gr.Dropdown(choices=choices, value=chosen), result

    return explain_text_classification


def tokens_html(result: dict[str, Any]) -> str:
    """The text with each token's background: green towards the label, red away, stronger for
    larger attributions; the value shows on hover. Special tokens (always 0) are left out."""
    rows = [row for row in result["tokens"] if row["start"] is not None] or result["tokens"]
    scale = max((abs(row["attribution"]) for row in rows), default=0.0) or 1.0
    text = result["text"]
    parts, at = [], 0
    for row in rows:
        if row["start"] is not None:
            parts.append(html.escape(text[at : row["start"]]))
            shown, at = text[row["start"] : row["end"]], row["end"]
        else:  # a tokenizer without character offsets: the tokens themselves, spaced
            shown = row["token"] + " "
        value = row["attribution"]
        rgb = TOWARDS if value >= 0 else AWAY
        alpha = 0.08 + 0.55 * abs(value) / scale
        parts.append(
            f"<span class='token {'towards' if value >= 0 else 'away'}' data-attribution='{value:.6g}' "
            f"title='{html.escape(row['token'])}: {value:+.4f}' "
            f"style='background: rgba({rgb}, {alpha:.2f}); border-radius: 3px; padding: 1px 2px;'>"
            f"{html.escape(shown)}</span>"
        )
    parts.append(html.escape(text[at:]) if rows and rows[0]["start"] is not None else "")
    label = html.escape(result["label"])
    legend = (
        f"<div class='legend' style='margin-top: 0.6em; font-size: 0.9em;'>"
        f"<span style='background: rgba({TOWARDS}, 0.5); padding: 1px 4px; border-radius: 3px;'>towards {label}</span> "
        f"<span style='background: rgba({AWAY}, 0.5); padding: 1px 4px; border-radius: 3px;'>away from {label}</span>"
        "</div>"
    )
    body = "".join(parts)
    return f"<div class='explain-tokens' style='line-height: 2; white-space: pre-wrap;'>{body}</div>{legend}"


def summary_line(result: dict[str, Any]) -> str:
    """The label, and the completeness check in numbers: sum of attributions, f(text) − f(baseline), delta."""
    return (
        f"**{result['label']}** (predicted: {result['predicted']}) · sum of attributions "
        f"{result['attribution_sum']:+.4f} · f(text) − f(baseline) = {result['target_logit']:+.4f} − "
        f"({result['baseline_logit']:+.4f}) = {result['logit_difference']:+.4f} · convergence delta "
        f"{result['delta']:+.2e} · {result['n_steps']} steps"
    )
