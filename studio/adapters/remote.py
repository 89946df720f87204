"""The tasks a `source: openai` entry runs on its server (studio/models/remote.py): text generation,
chat, image chat and speech recognition.

Each function takes the local adapter's spec (`same_inputs_as`), so the API, the page, the
checks and the docs are those of the local task; Studio routes a remote entry's request here
(`remote_adapter`). Generation streams token by token; closing the generator (Stop, a closed
tab) closes the HTTP stream, and the server cancels the request.
"""

from __future__ import annotations

import base64
import functools
import inspect
import io
import math
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from studio.adapters import audio, generate, multimodal
from studio.adapters.common import limit_text
from studio.errors import UserError, notify
from studio.generation.token_probabilities import rounded
from studio.models.remote import Figures, explained, generation_arguments, server_name, without_logprobs
from studio.results import STREAM_EVERY, Output
from studio.spec.messages import plain_history
from studio.spec.param import Spec, checked_adapter
from studio.uploads.media import load_audio, load_image


def same_inputs_as(local: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a remote adapter the local adapter's spec, signature and docstring (the same API)."""
    spec = getattr(local, "spec", None)  # set by @takes (studio/spec/param.py), with the signature
    if not isinstance(spec, Spec):
        raise TypeError(f"{local.__qualname__} is not declared with @takes, so it has no spec")
    signature = inspect.signature(local)  # @takes's own (its __signature__)

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        return checked_adapter(function, spec, signature, local.__doc__ or "")

    return decorate


def _stream(
    loaded: Any,
    inputs: dict[str, Any],
    create: Callable[..., Any],
    piece: Callable[[Any], str],
    shape: Callable[..., Any],
    logprobs: str = "",
) -> Generator[Output, None, None]:
    """Run one streamed request; yield Output(shape(texts by choice), figures), the final one last.

    With `logprobs` ("completions" or "chat"), token probabilities are asked for, and the final
    raw output is shape(texts, tokens) when the server sent them for every text (else a notice)."""
    entry, connection = loaded.entry, loaded.model
    arguments = generation_arguments(entry, inputs, logprobs)
    figures = Figures(
        inputs.get("strategy", "greedy"), inputs.get("seed", 0), inputs["max_new_tokens"], server_name(entry)
    )
    with explained(entry):
        stream, asked = _open(create, connection.model, arguments)
    if logprobs == "completions" and not asked:  # chat: the page shades no tokens, the raw output is the same
        notify(f"The server of remote model {entry.display_name} refused token probabilities (logprobs).")
    logprobs = logprobs if asked else ""
    texts: dict[int, str] = {}
    tokens: dict[int, list[dict[str, Any]]] = {}
    used: int | None = None
    try:
        shown_at = 0.0
        with explained(entry):
            for chunk in stream:
                if getattr(chunk, "usage", None) is not None:
                    used = int(chunk.usage.completion_tokens)
                for choice in chunk.choices or []:
                    text = piece(choice)
                    if not isinstance(text, str):
                        raise TypeError("a chunk without text")
                    texts[choice.index or 0] = texts.get(choice.index or 0, "") + text
                    if logprobs and getattr(choice, "logprobs", None) is not None:
                        tokens.setdefault(choice.index or 0, []).extend(token_items(choice.logprobs))
                    if text:
                        figures.piece()
                if texts and time.perf_counter() - shown_at >= STREAM_EVERY:
                    shown_at = time.perf_counter()
                    yield Output(shape([texts[i] for i in sorted(texts)]), visual=figures())
        if arguments.get("n", 1) > len(texts):
            notify(f"The server of remote model {entry.display_name} returned {len(texts)} of {arguments['n']} texts.")
        final = [texts[i] for i in sorted(texts)] or [""]
        raw = shape(final)
        if logprobs and texts and all(tokens.get(i) for i in texts):
            raw = shape(final, [tokens[i] for i in sorted(texts)])
        elif logprobs == "completions":
            notify(f"The server of remote model {entry.display_name} sent no token probabilities (logprobs).")
        yield Output(raw, visual=figures(done=True, tokens=used))
    finally:
        stream.close()  # Stop: the HTTP stream closes, so the server cancels the request


def _open(create: Callable[..., Any], model: str, arguments: dict[str, Any]) -> tuple[Any, bool]:
    """(the response stream, whether it was asked for token probabilities): a server that refuses
    logprobs is asked again without them, so it still answers."""
    import openai

    def send(fields: dict[str, Any]) -> Any:
        return create(model=model, stream=True, stream_options={"include_usage": True}, **fields)

    try:
        return send(arguments), "logprobs" in arguments
    except openai.APIStatusError as exc:
        plain = without_logprobs(exc, arguments)
        if plain is None:
            raise
        return send(plain), False


def token_items(logprobs: Any) -> list[dict[str, Any]]:
    """A chunk's token probabilities as [{token, probability, top}] (probability = exp(logprob)),
    from the completions spelling (tokens, token_logprobs, top_logprobs) or the chat one (content)."""
    if getattr(logprobs, "content", None) is not None:  # chat
        return [
            item(entry.token, entry.logprob, [(top.token, top.logprob) for top in entry.top_logprobs or []])
            for entry in logprobs.content
        ]
    tokens, chances = getattr(logprobs, "tokens", None) or [], getattr(logprobs, "token_logprobs", None) or []
    tops = getattr(logprobs, "top_logprobs", None) or [None] * len(tokens)  # chat: {"content": null} gives none
    return [item(token, chance, list((top or {}).items())) for token, chance, top in zip(tokens, chances, tops)]


def item(token: str, logprob: float | None, top: list[tuple[str, float]]) -> dict[str, Any]:
    def probability(value: float | None) -> float:
        return rounded(math.exp(value)) if value is not None else 0.0

    best = sorted(top, key=lambda pair: -pair[1])
    return {
        "token": str(token),
        "probability": probability(logprob),
        "top": [{"token": str(name), "probability": probability(value)} for name, value in best],
    }


@same_inputs_as(generate.text_generation)
def text_generation(loaded: Any, **inputs: Any) -> Iterator[Output]:
    prompt = limit_text(inputs["prompt"])
    yield from _stream(
        loaded,
        inputs,
        functools.partial(loaded.model.client.completions.create, prompt=prompt),
        lambda choice: choice.text or "",
        generate.generated,
        logprobs="completions",
    )


@same_inputs_as(generate.chat)
def chat(loaded: Any, **inputs: Any) -> Iterator[Output]:
    message = limit_text(inputs["message"])
    messages = generate.chat_messages(message, inputs["history"], inputs["system_prompt"])
    # As local chat: the final update's visual adds `token_probabilities` (the reply's, which the
    # page shades); the raw output stays the reply string.
    recorded: list[list[dict[str, Any]]] = []

    def shaped(texts: list[str], tokens: list[list[dict[str, Any]]] | None = None) -> str:
        if tokens is not None:
            recorded.append(tokens[0])
        return texts[0].strip()

    create = functools.partial(loaded.model.client.chat.completions.create, messages=messages)
    updates = _stream(loaded, inputs, create, lambda choice: choice.delta.content or "", shaped, logprobs="chat")
    try:
        for update in updates:
            if recorded:
                update = Output(update.raw, visual={**(update.visual or {}), "token_probabilities": recorded.pop()})
            yield update
    finally:
        updates.close()  # Stop: closes the HTTP stream


def data_url(picture: Any) -> str:
    """A PIL image as a PNG data URL, the way the OpenAI API takes an image inline."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image_chat_messages(picture: Any, history: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The conversation as OpenAI content parts: the image goes with the first user message."""
    messages = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in history]
    messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
    first_user = next(m for m in messages if m["role"] == "user")
    first_user["content"].insert(0, {"type": "image_url", "image_url": {"url": data_url(picture)}})
    return messages


@same_inputs_as(multimodal.image_text_to_text)
def image_text_to_text(loaded: Any, **inputs: Any) -> Iterator[Output]:
    picture = load_image(inputs["image"]).image
    text = limit_text(inputs["text"])
    messages = image_chat_messages(picture, plain_history(inputs["history"]), text)
    yield from _stream(
        loaded,
        {"strategy": "greedy", "max_new_tokens": inputs["max_new_tokens"]},
        functools.partial(loaded.model.client.chat.completions.create, messages=messages),
        lambda choice: choice.delta.content or "",
        lambda texts: [{"generated_text": texts[0]}],
    )


@same_inputs_as(audio.automatic_speech_recognition)
def automatic_speech_recognition(loaded: Any, **inputs: Any) -> dict[str, Any]:
    import soundfile

    entry, connection = loaded.entry, loaded.model
    speech = load_audio(inputs["audio"], 16_000)
    wav = io.BytesIO()
    soundfile.write(wav, speech.samples, 16_000, format="WAV")
    mode = inputs["return_timestamps"]
    arguments: dict[str, Any] = {
        "model": connection.model,
        "file": ("speech.wav", wav.getvalue(), "audio/wav"),
        "response_format": "json" if mode == "none" else "verbose_json",
    }
    if mode != "none":
        arguments["timestamp_granularities"] = ["word" if mode == "word" else "segment"]
    language = str(inputs["language"]).strip().lower()
    translate = inputs["task"] == "translate"
    if language != audio.AUTO_LANGUAGE and not translate:
        arguments["language"] = language
    endpoint = connection.client.audio.translations if translate else connection.client.audio.transcriptions
    try:
        with explained(entry):
            result = endpoint.create(**arguments)
            output: dict[str, Any] = {"text": str(result.text).strip()}
            if mode != "none":
                parts = (getattr(result, "words", None) if mode == "word" else getattr(result, "segments", None)) or []
                output["chunks"] = [
                    {"text": str(getattr(p, "word", None) or p.text), "timestamp": [float(p.start), float(p.end)]}
                    for p in parts
                ]
    except UserError as exc:
        if "(404)" in str(exc):
            raise UserError(
                f"The server of remote model {entry.display_name} does not offer speech recognition "
                f"({'/v1/audio/translations' if translate else '/v1/audio/transcriptions'} answered 404); "
                "check its model and base_url in models.yaml."
            ) from None
        raise
    return output


REMOTE_ADAPTERS: dict[str, Callable[..., Any]] = {
    "text-generation": text_generation,
    "chat": chat,
    "image-text-to-text": image_text_to_text,
    "automatic-speech-recognition": automatic_speech_recognition,
}


def remote_adapter(task_id: str, name: str) -> Callable[..., Any]:
    """The remote adapter of a task; a UserError when a remote entry cannot run it."""
    if task_id not in REMOTE_ADAPTERS:
        raise UserError(f"Remote model {name} cannot run {task_id}; remote entries serve {', '.join(REMOTE_ADAPTERS)}.")
    return REMOTE_ADAPTERS[task_id]
