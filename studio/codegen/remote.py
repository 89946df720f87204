"""Show code for a `source: openai` entry: the `openai` client call the app makes.

The request fields come from studio.models.remote.generation_arguments, the same mapping the
remote adapters use. The key is read from the environment variable the entry names; it
is never written into the snippet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.adapters.generate import chat_messages
from studio.config import ModelEntry
from studio.models.remote import NO_KEY, generation_arguments, model_name, timeout_of
from studio.models.settings import ModelSettings
from studio.spec.messages import plain_history


def _client(entry: ModelEntry) -> list[str]:
    key = f"os.environ[{entry.api_key_env!r}]" if entry.api_key_env else repr(NO_KEY)
    imports = ["import os", ""] if entry.api_key_env else []
    return [
        *imports,
        "from openai import OpenAI",
        "",
        f"client = OpenAI(base_url={entry.base_url!r}, api_key={key}, timeout={timeout_of(entry)!r})",
    ]


def _create(call: str, entry: ModelEntry, fields: dict[str, Any]) -> list[str]:
    lines = [f"response = client.{call}(", f"    model={model_name(entry)!r},"]
    lines += [f"    {name}={value!r}," for name, value in fields.items()]
    return [*lines, ")"]


def _file_name(value: Any, default: str) -> str:
    """The upload's own file name (a server path is never shown)."""
    return Path(str(value)).name if isinstance(value, (str, Path)) and str(value).strip() else default


def text_generation(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    fields = {"prompt": str(inputs.get("prompt") or "").strip(), **generation_arguments(entry, inputs, "completions")}
    lines = [
        "import math",
        "",
        *_client(entry),
        *_create("completions.create", entry, fields),
        "",
        "",
        "def probability(logprob):  # 6 significant digits",
        '    return float(f"{math.exp(logprob):.6g}")',
        "",
        "",
        "result = []",
        "for choice in response.choices:",
        '    item = {"generated_text": choice.text}',
        "    found = choice.logprobs",
        "    if found and found.tokens:  # token probabilities, where the server offers them",
        "        tops = found.top_logprobs or [{}] * len(found.tokens)",
        '        item["tokens"] = [',
        "            {",
        '                "token": token,',
        '                "probability": probability(logprob),',
        "                # the alternatives, likeliest first",
        '                "top": [',
        '                    {"token": t, "probability": probability(p)}',
        "                    for t, p in sorted(top.items(), key=lambda pair: -pair[1])",
        "                ],",
        "            }",
        "            for token, logprob, top in zip(found.tokens, found.token_logprobs, tops)",
        "        ]",
        "    result.append(item)",
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def chat(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    message = str(inputs.get("message") or "").strip()
    messages = chat_messages(message, inputs.get("history") or [], inputs.get("system_prompt"))
    fields = {"messages": messages, **generation_arguments(entry, inputs)}
    lines = [
        *_client(entry),
        *_create("chat.completions.create", entry, fields),
        "result = response.choices[0].message.content.strip()",
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def image_text_to_text(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    name = _file_name(inputs.get("image"), "image.png")
    messages: list[dict[str, Any]] = [
        {"role": m["role"], "content": [{"type": "text", "text": m["content"]}]}
        for m in plain_history(inputs.get("history"))
    ]
    messages.append({"role": "user", "content": [{"type": "text", "text": str(inputs.get("text") or "").strip()}]})
    first_user = next(m for m in messages if m["role"] == "user")
    first_user["content"].insert(0, {"type": "image_url", "image_url": {"url": "IMAGE"}})
    fields = {"messages": messages, **generation_arguments(entry, {"max_new_tokens": inputs["max_new_tokens"]})}
    call = _create("chat.completions.create", entry, fields)
    call = [line.replace("'IMAGE'", "image") for line in call]
    lines = [
        "import base64",
        "import mimetypes",
        *_client(entry),
        "",
        f"with open({name!r}, 'rb') as file:  # the picture",
        f"    mime = mimetypes.guess_type({name!r})[0] or 'image/png'",
        '    image = f"data:{mime};base64," + base64.b64encode(file.read()).decode()',
        *call,
        'result = [{"generated_text": response.choices[0].message.content}]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def automatic_speech_recognition(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    name = _file_name(inputs.get("audio"), "speech.wav")
    mode = inputs.get("return_timestamps", "none")
    translate = inputs.get("task") == "translate"
    fields: dict[str, Any] = {"response_format": "json" if mode == "none" else "verbose_json"}
    if mode != "none":
        fields["timestamp_granularities"] = ["word" if mode == "word" else "segment"]
    language = str(inputs.get("language") or "auto").strip().lower()
    if language != "auto" and not translate:
        fields["language"] = language
    call = _create(f"audio.{'translations' if translate else 'transcriptions'}.create", entry, fields)
    call.insert(2, "    file=audio,")
    lines = [
        *_client(entry),
        "",
        f"with open({name!r}, 'rb') as audio:  # the recording",
        *[f"    {line}" for line in call],
        'result = {"text": response.text.strip()}',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


REMOTE_SNIPPETS = {
    "text-generation": text_generation,
    "chat": chat,
    "image-text-to-text": image_text_to_text,
    "automatic-speech-recognition": automatic_speech_recognition,
}
