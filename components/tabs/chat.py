"""Generate > Chat: a conversation with a chat model (its chat template), replies streamed;
the last reply's tokens shaded by their probability once it ends (page only: they ride in a
gr.State, which API clients never see, so /chat returns what it always has)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.context import TabContext
from components.generation_outputs import PAGE_ONLY, figures_line, token_view
from components.run_errors import error_box
from components.tabs.text_generation import strategy_groups
from components.token_view import token_html
from studio.results import RunResult
from studio.spec.messages import plain_history

EXAMPLES = [
    {
        "message": "What is the capital of Japan?",
        "system_prompt": "You are a helpful assistant. Answer in one sentence.",
    },
    {"message": "Write a haiku about autumn.", "system_prompt": "You are a poet."},
    {"message": "Explain beam search to a child.", "system_prompt": ""},
]


def conversation(result: RunResult) -> list[Any]:
    """The conversation so far (shown in the Chatbot and kept as history), the message box cleared,
    the figures, and the reply's token probabilities (the final update's visual has them)."""
    history = plain_history(result.inputs.get("history"))
    history.append({"role": "user", "content": str(result.inputs.get("message") or "").strip()})
    history.append({"role": "assistant", "content": result.output or "…"})
    tokens = result.visual.get("token_probabilities") if isinstance(result.visual, dict) else None
    return [history, history, "", figures_line(result.visual), tokens]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("chat")
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", height=420, elem_classes=["chatbot"])
            ui.error = error_box()  # a failed run's sentence, under the conversation
            # The API's history: [{role, content}] with plain-text content (the Chatbot's own
            # value wants content as a list of parts), kept in step with the Chatbot.
            history = ui.input("history", visible=False)
            message = ui.input("message")
            with gr.Row():
                ui.run_button("Send")
                ui.stop_button()
                clear = gr.Button("Clear")
            figures = gr.Markdown(elem_classes=["live-figures"])
            with gr.Accordion("Token probabilities of the last reply", open=True):
                shading = token_view()
            reply_tokens = gr.State()
        with gr.Column(scale=2):
            ui.input("system_prompt")
            strategy = ui.input("strategy")
            ui.inputs("max_new_tokens", "seed")
            ui.input("stop")
            with gr.Group(visible=False) as beam_group:
                ui.input("num_beams")
            with gr.Group(visible=False) as sample_group:
                ui.inputs("temperature", "top_k", "top_p", "min_p")
            with gr.Accordion("Repetition", open=False):
                ui.inputs("repetition_penalty", "no_repeat_ngram_size")
            ui.raw_output()
    strategy.change(
        strategy_groups,
        strategy,
        [beam_group, sample_group],
        api_visibility="undocumented",
        queue=False,
        show_progress="hidden",
    )
    ui.finish(
        outputs=[chatbot, history, message, figures, reply_tokens],
        to_outputs=conversation,
        examples=EXAMPLES,
        submit=[message],
    )
    reply_tokens.change(lambda tokens: token_html([tokens]), reply_tokens, shading, **PAGE_ONLY)
    clear.click(
        lambda: ([], [], "", None, None),
        outputs=[chatbot, history, figures, ui.raw, reply_tokens],
        api_visibility="undocumented",
        queue=False,
    )
