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
EXAMPLES = [
    {"text": ARTICLE, "max_new_tokens": 60, "num_beams": 4},
    {"text": NEWS, "max_new_tokens": 40, "num_beams": 2},
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("summarization")
    with gr.Row():
        with gr.Column():
            ui.input("text", info=None)
            with gr.Row():
                ui.inputs("max_new_tokens", "num_beams")
            with gr.Accordion("More generation settings", open=False), gr.Row():
                ui.inputs("min_new_tokens", "length_penalty", "no_repeat_ngram_size")
            ui.run_button("Summarize")
        with gr.Column():
            summary = gr.Textbox(label="Summary", lines=6, interactive=False, elem_classes=["summary"])
            ui.raw_output()
    ui.finish(outputs=[summary], to_outputs=lambda result: [result.output[0]["summary_text"]], examples=EXAMPLES)
