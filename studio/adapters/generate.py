"""Generation tasks: text generation with every decoding strategy, and chat.

Both adapters are generators: they yield `Update`s (the raw output so far and live
figures) while `model.generate` runs in a worker thread, and the full raw output last.
Closing them (Stop, a closed browser tab) ends `generate` itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from studio.adapters.common import limit_text, max_tokens, plain_history
from studio.errors import UserError, notify
from studio.generation import GenerationParams, Update, stream_generation


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


def text_generation(
    loaded: Any,
    prompt: str,
    strategy: str = "greedy",
    max_new_tokens: int = 64,
    num_beams: int = 4,
    temperature: float = 1.0,
    top_k: int = 50,
    top_p: float = 1.0,
    min_p: float = 0.0,
    repetition_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
    seed: int = 0,
    early_stopping: bool = False,
    length_penalty: float = 1.0,
    num_return_sequences: int = 1,
) -> Iterator[Update]:
    """The continuation of a prompt as [{generated_text}] (new text only), streamed where possible."""
    prompt = limit_text(prompt, "a prompt")
    params = GenerationParams.checked(
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
    )
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


def chat(
    loaded: Any,
    message: str,
    history: list[dict[str, Any]] | None = None,
    system_prompt: str = "",
    strategy: str = "greedy",
    max_new_tokens: int = 128,
    num_beams: int = 4,
    temperature: float = 0.7,
    top_k: int = 50,
    top_p: float = 1.0,
    min_p: float = 0.0,
    repetition_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
    seed: int = 0,
) -> Iterator[Update]:
    """The assistant's reply (a string) to the message after the history, streamed token by token."""
    message = limit_text(message, "a message")
    params = GenerationParams.checked(
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
    )
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
