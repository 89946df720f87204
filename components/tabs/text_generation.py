"""Generate > Text generation: every decoding strategy, streamed token by token, with Stop,
live figures, and a side-by-side comparison of strategies on the same prompt."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from components.context import SETTING_NAMES, TabContext, TaskUI, on_zero_gpu, visitor_request_parameter
from components.limits import VISITORS
from components.stopping import on_start, wire_stop
from studio.params import MODEL_SETTINGS
from studio.studio import describe

OFF = "off"
COMPARE_COLUMNS = 3
EXAMPLES = [
    # Greedy with a mild repetition penalty: plain greedy loops on small base models (Gemma 270M:
    # "The capital of the world is New York." again and again); 1.2 keeps it deterministic and on topic.
    {"prompt": "The capital of Japan is", "strategy": "greedy", "repetition_penalty": 1.2},
    {"prompt": "Once upon a time, in a small village by the sea,", "strategy": "sample"},
    {"prompt": "The three most important inventions in history are", "strategy": "beam"},
]


def as_text(output: Any) -> str:
    """[{generated_text}] as one text; several sequences are numbered."""
    if not output:
        return ""
    texts = [item["generated_text"] for item in output]
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"── {number} ──\n{text}" for number, text in enumerate(texts, 1))


def strategy_groups(strategy: str) -> list[gr.Group]:
    """Show the beam-search or sampling parameters, for that strategy only."""
    return [gr.Group(visible=strategy == "beam"), gr.Group(visible=strategy == "sample")]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("text-generation")
    with gr.Row():
        with gr.Column():
            ui.input("prompt")
            strategy = ui.input("strategy")
            with gr.Row():
                ui.inputs("max_new_tokens", "seed")
            ui.input("stop")  # no accordion: a button named "Stop…" would be a second Stop
            with gr.Group(visible=False) as beam_group, gr.Row():
                ui.inputs("num_beams", "length_penalty", "early_stopping")
            with gr.Group(visible=False) as sample_group, gr.Row():
                ui.inputs("temperature", "top_k", "top_p", "min_p")
            num_return_sequences = ui.input("num_return_sequences", visible=False)
            with gr.Accordion("Repetition", open=False), gr.Row():
                ui.inputs("repetition_penalty", "no_repeat_ngram_size")
            with gr.Row():
                ui.run_button("Generate")
                stop = ui.stop_button()
        with gr.Column():
            text = gr.Textbox(label="Generated text", lines=10, interactive=False, elem_classes=["generated-text"])
            figures = gr.Markdown(elem_classes=["live-figures"])
            ui.raw_output()
    strategy.change(
        lambda chosen: [*strategy_groups(chosen), gr.Slider(visible=chosen != "greedy")],
        strategy,
        [beam_group, sample_group, num_return_sequences],
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
    ui.finish(
        outputs=[text, figures],
        to_outputs=lambda result: [as_text(result.output), describe(result.visual)],
        examples=EXAMPLES,
    )

    with gr.Accordion("Compare strategies", open=False):
        gr.Markdown("The same prompt and settings, run with each strategy in turn, side by side.")
        columns = []
        with gr.Row():
            for default in ui.spec["strategy"].choices[:COMPARE_COLUMNS]:
                with gr.Column():
                    choice = gr.Dropdown([*strategy_choices(ui), ("Off", OFF)], value=default, label="Strategy")
                    shown = gr.Textbox(label="Generated text", lines=6, interactive=False)
                    live = gr.Markdown(elem_classes=["compare-figures"])
                    columns.append((choice, shown, live))
        compare_button = gr.Button("Compare", variant="primary")
    shared = [ui.widgets[name] for name in compare_shared_names(ui)]
    compared = on_start(stop, [compare_button.click])(
        fn=on_zero_gpu(compare_handler(ui)),
        inputs=[ui.model, ui.widgets["prompt"], *[c[0] for c in columns], *shared, *ui.settings],
        outputs=[item for column in columns for item in column[1:]],
        api_name="compare_strategies",
    )
    wire_stop(stop, [compared])  # Stop ends a comparison too


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
        with VISITORS.running(ui.studio, request):
            yield from compare_columns(values, progress)

    def compare_columns(values: list[Any], progress: Any) -> Iterator[list[Any]]:
        model_id, prompt = values[0], values[1]
        choices = values[2 : 2 + COMPARE_COLUMNS]
        rest = values[2 + COMPARE_COLUMNS :]
        shared = {"prompt": prompt, **dict(zip(shared_names, rest))}
        settings = dict(zip(SETTING_NAMES, rest[len(shared_names) :]))
        shown: list[Any] = ["", ""] * COMPARE_COLUMNS
        for index, choice in enumerate(choices):
            if choice == OFF:
                shown[2 * index + 1] = "off"
                continue
            for result in ui.results(model_id, {**shared, "strategy": choice}, settings, progress):
                if result.output is not None:
                    shown[2 * index] = as_text(result.output)
                shown[2 * index + 1] = describe(result.visual)
                yield list(shown)

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    by_name = {parameter.name: parameter for parameter in ui.spec.signature_parameters()}
    parameters = [inspect.Parameter("model", keyword), by_name["prompt"]]
    parameters += [
        inspect.Parameter(f"strategy_{number}", keyword, default=default, annotation=str)
        for number, default in enumerate(strategy.choices[:COMPARE_COLUMNS], 1)
    ]
    parameters += [by_name[name] for name in shared_names]
    parameters += [inspect.Parameter(param.name, keyword, default=param.default) for param in MODEL_SETTINGS]
    parameters.append(inspect.Parameter("progress", keyword, default=gr.Progress()))
    parameters.append(visitor_request_parameter())
    compare_strategies.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    compare_strategies.__annotations__ = {"request": gr.Request}
    return compare_strategies
