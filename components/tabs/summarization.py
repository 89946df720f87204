"""Text > Summarization: a shorter text from a sequence-to-sequence model."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext

ARTICLE = (
    "The tower is 324 metres tall, about the same height as an 81-storey building, and the tallest "
    "structure in Paris. Its base is square, measuring 125 metres on each side. During its construction, "
    "the Eiffel Tower surpassed the Washington Monument to become the tallest man-made structure in the "
    "world, a title it held for 41 years until the Chrysler Building in New York City was finished in "
    "1930. Due to the addition of a broadcasting aerial at the top of the tower in 1957, it is now taller "
    "than the Chrysler Building by 5.2 metres. Excluding transmitters, the Eiffel Tower is the second "
    "tallest free-standing structure in France after the Millau Viaduct."
)
NEWS = (
    "Heavy rain fell across the region on Monday, flooding roads and delaying trains for several hours. "
    "Officials said the river rose by two metres overnight and asked residents near the banks to move "
    "their cars. Schools stayed open, but several bus routes were cancelled. Forecasters expect the rain "
    "to ease on Wednesday."
)
EXAMPLES = [[ARTICLE, 60, 4], [NEWS, 40, 2]]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("summarization")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=10, placeholder="Paste an article or a long paragraph…")
            with gr.Row():
                max_new_tokens = gr.Slider(1, 512, value=60, step=1, label="max_new_tokens")
                num_beams = gr.Slider(1, 8, value=4, step=1, label="num_beams", info="1: greedy")
            with gr.Accordion("More generation settings", open=False), gr.Row():
                min_new_tokens = gr.Slider(0, 256, value=0, step=1, label="min_new_tokens")
                length_penalty = gr.Slider(
                    -2.0, 4.0, value=1.0, step=0.1, label="length_penalty", info=">1 longer, <1 shorter (beams only)"
                )
                no_repeat = gr.Slider(0, 10, value=3, step=1, label="no_repeat_ngram_size", info="0: off")
            ui.run_button("Summarize")
        with gr.Column():
            summary = gr.Textbox(label="Summary", lines=6, interactive=False, elem_classes=["summary"])
            ui.raw_output()
    ui.finish(
        inputs=[text, max_new_tokens, num_beams, min_new_tokens, length_penalty, no_repeat],
        outputs=[summary],
        to_outputs=lambda result: [result[0]["summary_text"]],
        examples=[[*row, 0, 1.0, 3] for row in EXAMPLES],
    )
