"""Multimodal > Image chat: talk with a vision-language model about an image, replies streamed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from components.context import TabContext
from components.media_inputs import image_input
from studio.adapters.common import plain_history
from studio.generation import describe

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES = [
    [str(IMAGES / "astronaut.jpg"), "What is this person wearing?"],
    [str(IMAGES / "shapes.png"), "Which shapes do you see, and what colours are they?"],
    [str(IMAGES / "hubble_deep_field.jpg"), "Describe this image in one sentence."],
]


def conversation(output: Any, details: dict, inputs: dict) -> list[Any]:
    """The conversation so far (Chatbot and API history), the message box cleared, live figures."""
    history = plain_history(inputs.get("history"))
    history.append({"role": "user", "content": str(inputs.get("text") or "").strip()})
    reply = output[0]["generated_text"] if output else ""
    history.append({"role": "assistant", "content": reply or "…"})
    return [history, history, "", describe(details)]


def build(ctx: TabContext) -> None:
    ui = ctx.task_ui("image-text-to-text")
    with gr.Row():
        with gr.Column(scale=2):
            image = image_input("Image", elem_classes=["chat-image"])
            max_new_tokens = gr.Slider(1, 1024, value=256, step=1, label="max_new_tokens")
            ui.raw_output()
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", height=380, elem_classes=["image-chat"])
            # The API's history: [{role, content}] with plain-text content, kept in step with the Chatbot.
            history = gr.JSON(value=[], visible=False, label="history")
            text = gr.Textbox(label="Message", lines=1, max_lines=6, placeholder="Ask about the image and press Enter…")
            with gr.Row():
                ui.run_button("Send")
                ui.stop_button()
                clear = gr.Button("New conversation")
            figures = gr.Markdown(elem_classes=["live-figures"])
    ui.finish(
        inputs=[image, text, history, max_new_tokens],
        outputs=[chatbot, history, text, figures],
        to_outputs=conversation,
        examples=EXAMPLES,
        stream=True,
        submit=[text],
    )
    clear.click(
        lambda: ([], [], "", "", None),
        outputs=[chatbot, history, text, figures, ui.raw],
        api_visibility="undocumented",
        queue=False,
    )
