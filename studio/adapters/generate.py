"""Generation tasks: text generation with every decoding strategy, and chat.

Both adapters are generators: they yield `Output(raw so far, visual=live figures)` while
`model.generate` runs in a worker thread, and the full raw output last. Closing them (Stop,
a closed browser tab) ends `generate` itself. Their decoding inputs are
`studio.params.GENERATION`, declared once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from studio.adapters.common import limit_text, max_tokens, plain_history
from studio.errors import UserError, notify
from studio.generation import GenerationParams, stream_generation
from studio.params import GENERATION, Param, takes
from studio.results import Output

PROMPT = Param(
    "prompt",
    "text",
    help="The text for the model to continue.",
    label="Prompt",
    lines=4,
    placeholder="Text for the model to continue…",
)
MESSAGE = Param(
    "message",
    "text",
    help="The new message to the assistant.",
    label="Message",
    placeholder="Type a message and press Enter…",
)
HISTORY = Param(
    "history",
    "any",
    None,
    "The conversation so far: [{role, content}], user and assistant turns.",
    widget="json",
)
SYSTEM_PROMPT = Param(
    "system_prompt",
    "text",
    "You are a helpful assistant.",
    "Sent first",
    label="System prompt",
    lines=3,
)
# Chat gives one reply: it takes the generation group up to seed (its API since the start),
# and starts with longer replies than text generation.
ONE_REPLY_LEFT_OUT = ("early_stopping", "length_penalty", "num_return_sequences")
CHAT_GENERATION = tuple(
    param.but(default=128) if param.name == "max_new_tokens" else param
    for param in GENERATION
    if param.name not in ONE_REPLY_LEFT_OUT
)


def _encode_prompt(loaded: Any, prompt: str) -> dict[str, Any]:
    """The tokenized prompt; a prompt longer than the model reads keeps its end, with a notice."""
    batch = loaded.tokenizer(prompt, return_tensors="pt")
    return _fit(loaded, dict(batch))


def _fit(loaded: Any, batch: dict[str, Any]) -> dict[str, Any]:
    limit = max_tokens(loaded)
    length = int(batch["input_ids"].shape[-1])
    if length > limit:
        notify(f"The prompt has {length:,} tokens; only its last {limit:,} were used.")
        batch = {name: value[:, -limit:] for name, value in batch.items()}
    device = loaded.model.device
    return {name: value.to(device) for name, value in batch.items()}


@takes(PROMPT, *GENERATION)
def text_generation(
    loaded: Any,
    prompt: str,
    strategy: str,
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
) -> Iterator[Output]:
    """The continuation of a prompt as [{generated_text}] (new text only), streamed where possible."""
    prompt = limit_text(prompt, "a prompt")
    params = GenerationParams.from_inputs(locals())
    batch = _encode_prompt(loaded, prompt)
    yield from stream_generation(
        loaded.model,
        loaded.tokenizer,
        batch,
        params,
        shape=lambda texts: [{"generated_text": text} for text in texts],
    )


# ------------------------------------------------------------------------------- chat


def chat_messages(message: str, history: Any, system_prompt: str | None) -> list[dict[str, str]]:
    """The conversation for the chat template: system prompt, earlier turns, the new message."""
    messages: list[dict[str, str]] = []
    if system_prompt and str(system_prompt).strip():
        messages.append({"role": "system", "content": str(system_prompt).strip()})
    messages += plain_history(history)
    messages.append({"role": "user", "content": message})
    return messages


@takes(MESSAGE, HISTORY, SYSTEM_PROMPT, *CHAT_GENERATION)
def chat(
    loaded: Any,
    message: str,
    history: list[dict[str, Any]] | None,
    system_prompt: str,
    strategy: str,
    max_new_tokens: int,
    num_beams: int,
    temperature: float,
    top_k: int,
    top_p: float,
    min_p: float,
    repetition_penalty: float,
    no_repeat_ngram_size: int,
    seed: int,
) -> Iterator[Output]:
    """The assistant's reply (a string) to the message after the history, streamed token by token."""
    message = limit_text(message, "a message")
    params = GenerationParams.from_inputs(locals())
    tokenizer = loaded.tokenizer
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            f"{loaded.entry.display_name} has no chat template; pick a chat (instruct) model, "
            "or use the Text generation tab for this one."
        )
    messages = chat_messages(message, history, system_prompt)
    try:
        batch = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
    except Exception as exc:  # templates raise on roles they do not support (e.g. system)
        raise UserError(
            f"The chat template of {loaded.entry.display_name} refused this conversation ({exc}); "
            "try without a system prompt."
        ) from None
    batch = _fit(loaded, {name: batch[name] for name in ("input_ids", "attention_mask") if name in batch})
    yield from stream_generation(loaded.model, tokenizer, batch, params, shape=lambda texts: texts[0].strip())
