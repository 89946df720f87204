"""Generate > Text generation: every decoding strategy, streamed token by token, with Stop,
live figures, each token shaded by its probability once the run ends, and a side-by-side
comparison of strategies on the same prompt (components/tabs/compare_strategies.py)."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext
from components.generation_outputs import PAGE_ONLY, figures_line, generated_text, shaded, token_view
from components.tabs.compare_strategies import compare_strategies

EXAMPLES = [
    # Greedy with a mild repetition penalty: plain greedy loops on small base models (Gemma 270M:
    # "The capital of the world is New York." again and again); 1.2 keeps it deterministic and on topic.
    {"prompt": "The capital of Japan is", "strategy": "greedy", "repetition_penalty": 1.2},
    {"prompt": "Once upon a time, in a small village by the sea,", "strategy": "sample"},
    {"prompt": "The three most important inventions in history are", "strategy": "beam"},
]


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
                ui.stop_button()
        with gr.Column():
            text = gr.Textbox(label="Generated text", lines=10, interactive=False, elem_classes=["generated-text"])
            figures = gr.Markdown(elem_classes=["live-figures"])
            shading = token_view()
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
        to_outputs=lambda result: [generated_text(result.output), figures_line(result.visual)],
        examples=EXAMPLES,
    )
    # Page only (the API's outputs stay text, figures, raw): cleared when a run starts, drawn
    # from the raw output's tokens when it ends.
    ui.button.click(lambda: "", outputs=shading, **PAGE_ONLY)
    ui.event.then(shaded, inputs=ui.raw, outputs=shading, **PAGE_ONLY)
    compare_strategies(ui)
