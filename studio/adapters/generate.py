"""Generation tasks: text generation with every decoding strategy, and chat.

Both adapters are generators: they yield `Output(raw so far, visual=live figures)` while
`model.generate` runs in a worker thread, and the full raw output last. Closing them (Stop,
a closed browser tab) ends `generate` itself. Their decoding inputs are
`studio.params.GENERATION`, declared once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from studio.adapters.common import limit_text, max_tokens
from studio.errors import UserError, notify
from studio.generation.decoding import GenerationParams
from studio.generation.stream import stream_generation
from studio.results import Output
from studio.spec.messages import plain_history
from studio.spec.param import Param, takes
from studio.spec.shared import GENERATION

PROMPT = Param(
    "prompt",
    "text",
    help="The text for the model to continue.",
    label="Prompt",
    lines=4,
    placeholder="Text for the model to continue…",
    empty="Type a prompt first: the input is empty.",
)
MESSAGE = Param(
    "message",
    "text",
    help="The new message to the assistant.",
    label="Message",
    placeholder="Type a message and press Enter…",
    empty="Type a message first: the input is empty.",
)
HISTORY = Param(
    "history",
    "any",
    None,
    "The conversation so far: [{role, content}], user and assistant turns.",
    label="History",
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
# Chat gives one reply: it takes the generation group but what only several texts need (its
# API since the start, then stop), and starts with longer replies than text generation.
ONE_REPLY_LEFT_OUT = ("early_stopping", "length_penalty", "num_return_sequences")
CHAT_GENERATION = tuple(
    param.but(default=128) if param.name == "max_new_tokens" else param
    for param in GENERATION
    if param.name not in ONE_REPLY_LEFT_OUT
)


# A token covers at most this many characters (English BPE averages about 4): text further
# back than context x this is never tokenized, so a huge prompt or history costs nothing.
CHARS_PER_TOKEN_AT_MOST = 32


def context_length(loaded: Any) -> int:
    """The most tokens the model reads: its tokenizer's and (text) config's limits."""
    config: Any = getattr(loaded.model, "config", None)
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else None
    limits = [max_tokens(loaded), getattr(text_config, "max_position_embeddings", None)]
    return min(limit for limit in limits if isinstance(limit, int) and limit > 0)


def keep_recent(history: list[dict[str, Any]], message: str, budget: int) -> tuple[list[dict[str, Any]], str]:
    """The conversation cut to its last `budget` characters (the newest turns), with a notice."""
    size = len(message) + sum(len(turn["content"]) for turn in history)
    if size <= budget:
        return history, message
    what = "conversation" if history else "message"
    notify(f"The {what} is {size:,} characters long; only its last {budget:,} could be read by the model.")
    if len(message) >= budget:
        return [], message[-budget:]
    kept: list[dict[str, Any]] = []
    left = budget - len(message)
    for turn in reversed(history):
        if left <= 0:
            break
        kept.insert(0, {**turn, "content": turn["content"][-left:]})
        left -= len(kept[0]["content"])
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept, message


def _encode_prompt(loaded: Any, prompt: str) -> dict[str, Any]:
    """The tokenized prompt; a prompt longer than the model reads keeps its end, with a notice."""
    budget = context_length(loaded) * CHARS_PER_TOKEN_AT_MOST
    if len(prompt) > budget:  # more than the model reads, whatever the tokenizer
        notify(f"The prompt is {len(prompt):,} characters long; only its last {budget:,} could be read by the model.")
        prompt = prompt[-budget:]
    batch = loaded.tokenizer(prompt, return_tensors="pt")
    return _fit(loaded, dict(batch))


def _fit(loaded: Any, batch: dict[str, Any]) -> dict[str, Any]:
    limit = context_length(loaded)
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
    stop: str,
) -> Iterator[Output]:
    """The continuation of a prompt as [{generated_text, tokens}] (new text, token probabilities).

    Streamed where possible; the final update adds `tokens`: [{token, probability, top}], the
    probability of each generated token and its 5 likeliest alternatives."""
    prompt = limit_text(prompt)
    params = GenerationParams.from_inputs(locals())
    batch = _encode_prompt(loaded, prompt)
    yield from stream_generation(
        loaded.model, loaded.tokenizer, batch, params, shape=generated, token_probabilities=True
    )


def generated(texts: list[str], tokens: list[list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Text generation's raw output: [{generated_text}], with `tokens` when they are known
    ([{token, probability, top: [{token, probability}]}]: studio/generation/token_probabilities.py)."""
    if tokens is None:
        return [{"generated_text": text} for text in texts]
    return [{"generated_text": text, "tokens": items} for text, items in zip(texts, tokens)]


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
    stop: str,
) -> Iterator[Output]:
    """The assistant's reply (a string) to the message after the history, streamed token by token."""
    message = limit_text(message)
    entry = loaded.entry
    if getattr(entry, "end_of_turn", None):  # models.yaml's turn ends stop the reply (a base model's template)
        stop = "\n".join(text for text in (stop, *entry.end_of_turn) if text)
    params = GenerationParams.from_inputs(locals())
    tokenizer = loaded.tokenizer
    template = getattr(tokenizer, "chat_template", None) or getattr(entry, "chat_template", None)
    if not template:
        raise UserError(
            f"{loaded.entry.display_name} has no chat template; pick a chat (instruct) model, "
            "or use the Text generation tab for this one."
        )
    earlier, message = keep_recent(plain_history(history), message, context_length(loaded) * CHARS_PER_TOKEN_AT_MOST)
    messages = chat_messages(message, earlier, system_prompt)
    try:
        batch = tokenizer.apply_chat_template(
            messages, chat_template=template, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
    except Exception as exc:  # templates raise on roles they do not support (e.g. system)
        raise UserError(
            f"The chat template of {loaded.entry.display_name} refused this conversation ({exc}); "
            "try without a system prompt."
        ) from None
    batch = _fit(loaded, {name: batch[name] for name in ("input_ids", "attention_mask") if name in batch})
    ends = tuple(getattr(entry, "end_of_turn", None) or ())
    # The final update's visual (live figures) adds `token_probabilities`, the reply's, which
    # the page shades; the raw output (what the API and MCP return) stays the reply string alone.
    recorded: list[list[dict[str, Any]]] = []

    def shaped(texts: list[str], tokens: list[list[dict[str, Any]]] | None = None) -> str:
        if tokens is not None:  # the final update: the reply's token probabilities, for the page only
            recorded.append(reply_tokens(tokens[0], texts[0], ends))
        return reply(texts[0], ends)

    updates = stream_generation(loaded.model, tokenizer, batch, params, shape=shaped, token_probabilities=True)
    try:
        for update in updates:
            if recorded:  # the raw output stays the reply string; the tokens ride with the live figures
                update = Output(update.raw, visual={**(update.visual or {}), "token_probabilities": recorded.pop()})
            yield update
    finally:
        updates.close()  # Stop or a closed tab: ends generate() (a for loop does not close it as yield from did)


def reply(text: str, ends: tuple[str, ...]) -> str:
    """The reply without surrounding space, cut where the model starts the next turn (models.yaml's end_of_turn)."""
    for end in ends:
        text = text.split(end, 1)[0]
    return text.strip()


def reply_tokens(tokens: list[dict[str, Any]], text: str, ends: tuple[str, ...]) -> list[dict[str, Any]]:
    """The reply's token items: those before where the model started the next turn (as reply() cuts)."""
    cut = min((text.find(end) for end in ends if end in text), default=-1)
    if cut < 0:
        return tokens
    kept, length = [], 0
    for item in tokens:
        if length >= cut:
            break
        kept.append(item)
        length += len(item["token"])
    return kept
