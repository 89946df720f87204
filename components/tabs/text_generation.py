"""Generate > Text generation: every decoding strategy, streamed token by token, with Stop,
live figures, and a side-by-side comparison of strategies on the same prompt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from components.context import TabContext, settings_from
from components.errors import shown_as_gr_error
from studio.generation import STRATEGIES, describe

STRATEGY_CHOICES = [("Greedy", "greedy"), ("Beam search", "beam"), ("Sampling", "sample")]
OFF = "off"
EXAMPLES = [
    ["The capital of Japan is", "greedy"],
    ["Once upon a time, in a small village by the sea,", "sample"],
    ["The three most important inventions in history are", "beam"],
]


def as_text(output: Any) -> str:
    """[{generated_text}] as one text; several sequences are numbered."""
    if not output:
        return ""
    texts = [item["generated_text"] for item in output]
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"── {number} ──\n{text}" for number, text in enumerate(texts, 1))


def visibility(strategy: str) -> list[Any]:
    """Show the parameters that apply to this strategy only."""
    return [
        gr.Group(visible=strategy == "beam"),
        gr.Group(visible=strategy == "sample"),
        gr.Slider(visible=strategy != "greedy"),
    ]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("text-generation")
    with gr.Row():
        with gr.Column():
            prompt = gr.Textbox(label="Prompt", lines=4, placeholder="Text for the model to continue…")
            strategy = gr.Radio(STRATEGY_CHOICES, value="greedy", label="strategy", info="How the next token is chosen")
            with gr.Row():
                max_new_tokens = gr.Slider(1, 4096, value=64, step=1, label="max_new_tokens")
                seed = gr.Number(0, precision=0, minimum=0, label="seed", info="Same seed, same text")
            with gr.Group(visible=False) as beam_group, gr.Row():
                num_beams = gr.Slider(1, 16, value=4, step=1, label="num_beams")
                length_penalty = gr.Slider(-2, 2, value=1.0, step=0.1, label="length_penalty", info=">0: longer")
                early_stopping = gr.Checkbox(False, label="early_stopping", info="Stop when num_beams are done")
            with gr.Group(visible=False) as sample_group, gr.Row():
                temperature = gr.Slider(0, 2, value=0.7, step=0.05, label="temperature", info="Higher: more random")
                top_k = gr.Slider(0, 200, value=50, step=1, label="top_k", info="0: off")
                top_p = gr.Slider(0, 1, value=0.95, step=0.01, label="top_p", info="1: off")
                min_p = gr.Slider(0, 0.5, value=0.0, step=0.01, label="min_p", info="0: off")
            num_return_sequences = gr.Slider(1, 8, value=1, step=1, label="num_return_sequences", visible=False)
            with gr.Accordion("Repetition", open=False), gr.Row():
                repetition_penalty = gr.Slider(0.5, 2, value=1.0, step=0.05, label="repetition_penalty", info="1: off")
                no_repeat_ngram_size = gr.Slider(0, 10, value=0, step=1, label="no_repeat_ngram_size", info="0: off")
            with gr.Row():
                ui.run_button("Generate")
                stop = ui.stop_button()
        with gr.Column():
            text = gr.Textbox(label="Generated text", lines=10, interactive=False, elem_classes=["generated-text"])
            figures = gr.Markdown(elem_classes=["live-figures"])
            ui.raw_output()
    strategy.change(
        visibility,
        strategy,
        [beam_group, sample_group, num_return_sequences],
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
    parameters = [
        strategy,
        max_new_tokens,
        num_beams,
        temperature,
        top_k,
        top_p,
        min_p,
        repetition_penalty,
        no_repeat_ngram_size,
        seed,
        early_stopping,
        length_penalty,
        num_return_sequences,
    ]
    ui.finish(
        inputs=[prompt, *parameters],
        outputs=[text, figures],
        to_outputs=lambda output, details, inputs: [as_text(output), describe(details)],
        stream=True,
    )
    gr.Examples(examples=EXAMPLES, inputs=[prompt, strategy], label="Examples")

    with gr.Accordion("Compare strategies", open=False):
        gr.Markdown("The same prompt and settings, run with each strategy in turn, side by side.")
        columns = []
        with gr.Row():
            for default in STRATEGIES:
                with gr.Column():
                    choice = gr.Dropdown([*STRATEGY_CHOICES, ("Off", OFF)], value=default, label="Strategy")
                    shown = gr.Textbox(label="Generated text", lines=6, interactive=False)
                    live = gr.Markdown(elem_classes=["compare-figures"])
                    columns.append((choice, shown, live))
        compare_button = gr.Button("Compare", variant="primary")
    compared = compare_button.click(
        compare_handler(ctx),
        inputs=[ui.model, prompt, *[c[0] for c in columns], *parameters[1:], *ui.settings],
        outputs=[item for column in columns for item in column[1:]],
        api_name="compare_strategies",
    )
    stop.click(None, cancels=[compared], api_visibility="undocumented", queue=False)


def compare_handler(ctx: TabContext) -> Any:
    studio = ctx.studio

    def compare_strategies(
        model: str,
        prompt: str,
        strategy_1: str,
        strategy_2: str,
        strategy_3: str,
        max_new_tokens: int,
        num_beams: int,
        temperature: float,
        top_k: int,
        top_p: float,
        min_p: float,
        repetition_penalty: float,
        no_repeat_ngram_size: int,
        seed: int,
        early_stopping: bool,
        length_penalty: float,
        num_return_sequences: int,
        dtype: str = "auto",
        quantization: str = "none",
        device: str = "auto",
    ) -> Iterator[list[Any]]:
        """Run the prompt with up to three strategies in turn; each column streams its text."""
        shared = {
            "prompt": prompt,
            "max_new_tokens": max_new_tokens,
            "num_beams": num_beams,
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "min_p": min_p,
            "repetition_penalty": repetition_penalty,
            "no_repeat_ngram_size": no_repeat_ngram_size,
            "seed": seed,
            "early_stopping": early_stopping,
            "length_penalty": length_penalty,
            "num_return_sequences": num_return_sequences,
        }
        shown: list[Any] = ["", ""] * 3
        with shown_as_gr_error("Compare"):
            settings = settings_from([dtype, quantization, device])
        for index, choice in enumerate((strategy_1, strategy_2, strategy_3)):
            if choice == OFF:
                shown[2 * index + 1] = "off"
                continue
            updates = studio.stream("text-generation", model, {**shared, "strategy": choice}, settings)
            try:
                while True:
                    with shown_as_gr_error("Compare"):
                        try:
                            result = next(updates)
                        except StopIteration:
                            break
                    if result.output is not None:
                        shown[2 * index] = as_text(result.output)
                    shown[2 * index + 1] = describe(result.details)
                    yield list(shown)
            finally:
                updates.close()

    return compare_strategies
