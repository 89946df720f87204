"""Multimodal > Image chat: talk with a vision-language model about an image, replies streamed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from components.context import TabContext
from components.generation_outputs import figures_line
from components.run_errors import error_box
from studio.results import RunResult
from studio.spec.messages import plain_history

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    {"image": str(IMAGES / "astronaut.jpg"), "text": "What is this person wearing?"},
    {"image": str(IMAGES / "shapes.png"), "text": "Which shapes do you see, and what colours are they?"},
    {"image": str(IMAGES / "hubble_deep_field.jpg"), "text": "Describe this image in one sentence."},
]


def conversation(result: RunResult) -> list[Any]:
    """The conversation so far (Chatbot and API history), the message box cleared, live figures."""
    history = plain_history(result.inputs.get("history"))
    history.append({"role": "user", "content": str(result.inputs.get("text") or "").strip()})
    reply = result.output[0]["generated_text"] if result.output else ""
    history.append({"role": "assistant", "content": reply or "…"})
    return [history, history, "", figures_line(result.visual or {})]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-text-to-text")
    with gr.Row():
        with gr.Column(scale=2):
            ui.input("image", elem_classes=["chat-image"])
            ui.input("max_new_tokens")
            ui.raw_output()
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", height=380, elem_classes=["image-chat"])
            ui.error = error_box()  # a failed run's sentence, under the conversation
            # The API's history: [{role, content}] with plain-text content, kept in step with the Chatbot.
            history = ui.input("history", visible=False)
            text = ui.input("text", max_lines=6, placeholder="Ask about the image and press Enter…")
            with gr.Row():
                ui.run_button("Send")
                ui.stop_button()
                clear = gr.Button("New conversation")
            figures = gr.Markdown(elem_classes=["live-figures"])
    ui.finish(
        outputs=[chatbot, history, text, figures],
        to_outputs=conversation,
        examples=EXAMPLES,
        submit=[text],
    )
    clear.click(
        lambda: ([], [], "", "", None),
        outputs=[chatbot, history, text, figures, ui.raw],
        api_visibility="undocumented",
        queue=False,
    )
