"""Generate > Text generation > Compare strategies: the same prompt and settings run with up
to three strategies in turn, side by side; each column's tokens are shaded when it ends.

The /compare_strategies API returns (text, figures) per column, as it always has. The shaded
tokens are page only: they ride in a gr.State (which API clients never see) whose change
draws the columns' HTML.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from components.api import KEYWORD, api_handler, progress_parameter, request_parameter
from components.context import SETTING_NAMES, TaskUI, on_zero_gpu
from components.generation_outputs import PAGE_ONLY, figures_line, generated_text, has_tokens, shaded, token_view
from components.stopping import on_start, wire_stop
from studio.spec.shared import MODEL_SETTINGS

OFF = "off"
COMPARE_COLUMNS = 3


def compare_strategies(ui: TaskUI) -> None:
    """The Compare strategies accordion, under the Text generation tab whose inputs it shares."""
    with gr.Accordion("Compare strategies", open=False):
        gr.Markdown("The same prompt and settings, run with each strategy in turn, side by side.")
        columns, views = [], []
        with gr.Row():
            for default in ui.spec["strategy"].choices[:COMPARE_COLUMNS]:
                with gr.Column(elem_classes=["compare-column"]):
                    choice = gr.Dropdown([*strategy_choices(ui), ("Off", OFF)], value=default, label="Strategy")
                    shown = gr.Textbox(label="Generated text", lines=6, interactive=False)
                    live = gr.Markdown(elem_classes=["compare-figures"])
                    views.append(token_view())
                    columns.append((choice, shown, live))
        compare_button = gr.Button("Compare", variant="primary")
        outputs_shaded = gr.State([None] * COMPARE_COLUMNS)  # each column's raw output, once it has tokens
    shared = [ui.widgets[name] for name in compare_shared_names(ui)]
    compared = on_start(ui.stop, [compare_button.click])(
        fn=on_zero_gpu(compare_handler(ui)),
        inputs=[ui.model, ui.widgets["prompt"], *[c[0] for c in columns], *shared, *ui.settings],
        outputs=[*[item for column in columns for item in column[1:]], outputs_shaded],
        api_name="compare_strategies",
    )
    outputs_shaded.change(lambda raws: [shaded(raw) for raw in raws], outputs_shaded, views, **PAGE_ONLY)
    if ui.stop is not None:
        wire_stop(ui.stop, [compared])  # Stop ends a comparison too


def strategy_choices(ui: TaskUI) -> list[tuple[str, str]]:
    """(label, value) of each strategy, as the strategy radio shows them."""
    param = ui.spec["strategy"]
    return list(zip(param.choice_labels, param.choices))


def compare_shared_names(ui: TaskUI) -> list[str]:
    """The inputs every compared strategy shares: the generation parameters but strategy."""
    return [name for name in ui.spec.names if name not in ("prompt", "strategy")]


def compare_handler(ui: TaskUI) -> Callable[..., Iterator[list[Any]]]:
    """The /compare_strategies handler: its signature (model, prompt, strategy_1..3, the shared
    generation parameters, the model settings) comes from the spec, with its defaults."""
    shared_names = compare_shared_names(ui)
    strategy = ui.spec["strategy"]

    def compare_strategies(*args: Any) -> Iterator[list[Any]]:
        """Run the prompt with up to three strategies in turn; each column streams its text."""
        *values, progress, request = args
        model_id, prompt = values[0], values[1]
        choices = values[2 : 2 + COMPARE_COLUMNS]
        rest = values[2 + COMPARE_COLUMNS :]
        shared = {"prompt": prompt, **dict(zip(shared_names, rest))}
        settings = dict(zip(SETTING_NAMES, rest[len(shared_names) :]))
        shown: list[Any] = ["", ""] * COMPARE_COLUMNS
        finished: list[Any] = [None] * COMPARE_COLUMNS  # the page shades a column's tokens when it ends
        for index, choice in enumerate(choices):
            if choice == OFF:
                shown[2 * index + 1] = "off"
                continue
            for result in ui.results(model_id, {**shared, "strategy": choice}, settings, progress, request):
                if result.output is not None:
                    shown[2 * index] = generated_text(result.output)
                    finished[index] = result.output if has_tokens(result.output) else None
                shown[2 * index + 1] = figures_line(result.visual)
                yield [*shown, list(finished)]

    by_name = {parameter.name: parameter for parameter in ui.spec.signature_parameters()}
    parameters = [inspect.Parameter("model", KEYWORD), by_name["prompt"]]
    parameters += [
        inspect.Parameter(f"strategy_{number}", KEYWORD, default=default, annotation=str)
        for number, default in enumerate(strategy.choices[:COMPARE_COLUMNS], 1)
    ]
    parameters += [by_name[name] for name in shared_names]
    parameters += [inspect.Parameter(param.name, KEYWORD, default=param.default) for param in MODEL_SETTINGS]
    parameters += [progress_parameter(), request_parameter()]
    return api_handler(compare_strategies, parameters)
