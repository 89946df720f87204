"""Text > Sentence similarity: rank sentences by meaning, using sentence embeddings."""

from __future__ import annotations

import gradio as gr

from components.context import TabContext
from components.outputs import ranked_table

EXAMPLES = [
    {
        "source": "A man is eating food.",
        "sentences": "A man is eating a piece of bread.\nThe girl is carrying a baby.\nA man is riding a horse.\n"
        "The stock market crashed.",
    },
    {
        "source": "How do I reset my password?",
        "sentences": "I forgot my login details, how can I change them?\nWhat are your opening hours?\n"
        "My account password does not work any more.",
    },
]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("feature-extraction")
    with gr.Row():
        with gr.Column():
            ui.inputs("source", "sentences", info=None)
            ui.run_button("Compare")
        with gr.Column():
            table = gr.Dataframe(headers=["sentence", "score"], label="Most similar first", interactive=False)
            plot = gr.BarPlot(x="sentence", y="score", label="Cosine similarity", sort="-y", y_lim=[-1, 1])
            ui.raw_output()
    ui.finish(
        outputs=[table, plot],
        to_outputs=lambda result: [ranked_table(result.output)] * 2,  # one frame for the table and the plot
        examples=EXAMPLES,
    )
