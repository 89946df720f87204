"""Generate > Chat: a conversation with a chat model (its chat template), replies streamed."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext
from components.tabs.text_generation import STRATEGY_CHOICES, visibility
from studio.adapters.common import plain_history
from studio.generation import describe

EXAMPLES = [
    ["What is the capital of Japan?", "You are a helpful assistant. Answer in one sentence."],
    ["Write a haiku about autumn.", "You are a poet."],
    ["Explain beam search to a child.", ""],
]


def conversation(output: Any, details: dict, inputs: dict) -> list[Any]:
    """The conversation so far (shown in the Chatbot and kept as history), the message box cleared."""
    history = plain_history(inputs.get("history"))
    history.append({"role": "user", "content": str(inputs.get("message") or "").strip()})
    history.append({"role": "assistant", "content": output or "…"})
    return [history, history, "", describe(details)]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("chat")
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", height=420, elem_classes=["chatbot"])
            # The API's history: [{role, content}] with plain-text content (the Chatbot's own
            # value wants content as a list of parts), kept in step with the Chatbot.
            history = gr.JSON(value=[], visible=False, label="history")
            message = gr.Textbox(label="Message", lines=1, placeholder="Type a message and press Enter…")
            with gr.Row():
                ui.run_button("Send")
                ui.stop_button()
                clear = gr.Button("Clear")
            figures = gr.Markdown(elem_classes=["live-figures"])
        with gr.Column(scale=2):
            system_prompt = gr.Textbox(
                label="System prompt",
                lines=3,
                value="You are a helpful assistant.",
                info="Sent first",
            )
            strategy = gr.Radio(STRATEGY_CHOICES, value="greedy", label="strategy")
            max_new_tokens = gr.Slider(1, 4096, value=128, step=1, label="max_new_tokens")
            seed = gr.Number(0, precision=0, minimum=0, label="seed")
            with gr.Group(visible=False) as beam_group:
                num_beams = gr.Slider(1, 16, value=4, step=1, label="num_beams")
            with gr.Group(visible=False) as sample_group:
                temperature = gr.Slider(0, 2, value=0.7, step=0.05, label="temperature")
                top_k = gr.Slider(0, 200, value=50, step=1, label="top_k", info="0: off")
                top_p = gr.Slider(0, 1, value=0.95, step=0.01, label="top_p", info="1: off")
                min_p = gr.Slider(0, 0.5, value=0.0, step=0.01, label="min_p", info="0: off")
            with gr.Accordion("Repetition", open=False):
                repetition_penalty = gr.Slider(0.5, 2, value=1.0, step=0.05, label="repetition_penalty")
                no_repeat_ngram_size = gr.Slider(0, 10, value=0, step=1, label="no_repeat_ngram_size")
            ui.raw_output()
    hidden = gr.Slider(visible=False)  # chat gives one reply: num_return_sequences stays hidden
    strategy.change(
        visibility,
        strategy,
        [beam_group, sample_group, hidden],
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
    ui.finish(
        inputs=[
            message,
            history,
            system_prompt,
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
        ],
        outputs=[chatbot, history, message, figures],
        to_outputs=conversation,
        stream=True,
        submit=[message],
    )
    gr.Examples(examples=EXAMPLES, inputs=[message, system_prompt], label="Examples")
    clear.click(
        lambda: ([], [], "", None),
        outputs=[chatbot, history, figures, ui.raw],
        api_visibility="undocumented",
        queue=False,
    )
