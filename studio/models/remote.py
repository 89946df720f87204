"""Remote inference engines as model sources: a `source: openai` entry in models.yaml.

An OpenAI-compatible server (vLLM, TGI, llama.cpp's server, `transformers serve`, a Hugging
Face Inference Endpoint) runs the model; the app holds a connection, not weights. Studio
routes a remote entry's request to `studio/adapters/remote.py`, whose functions take the
local adapters' specs, so the API, the page and Show code stay the same.

We use the `openai` client: every engine above speaks its protocol, it streams chat and
completions (Stop closes the HTTP stream, and the server cancels the request), it has the
audio transcription call, and its exceptions name the HTTP status (401/404/429) we explain.
The key is read from the environment variable that `api_key_env` names, when connecting; it
is never in models.yaml, a log, the page or Show code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from studio.config import ModelEntry
from studio.errors import UserError, notify
from studio.generation.decoding import stop_strings
from studio.models.settings import ModelSettings

REMOTE_DEVICE = "remote"
DEFAULT_TIMEOUT = 60.0
NO_KEY = "EMPTY"  # what OpenAI-compatible servers without authentication accept
MAX_STOP = 4  # the OpenAI API takes at most 4 stop texts
LOGPROBS = {  # token probabilities, with the top 5 alternatives (studio/generation/token_probabilities.py)
    "completions": {"logprobs": 5},
    "chat": {"logprobs": True, "top_logprobs": 5},
}

# Generation parameters the OpenAI API has no field for: the value that means "off", which the
# page sets (and disables) for a remote entry; any other value gets a notice, never silence.
UNSUPPORTED_OFF: dict[str, Any] = {
    "top_k": 0,
    "min_p": 0.0,
    "repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "num_beams": None,  # beam search: refused with a sentence
    "early_stopping": None,
    "length_penalty": None,
}
BEAM_ONLY = ("num_beams", "early_stopping", "length_penalty")


def server_name(entry: ModelEntry) -> str:
    """scheme://host:port of the entry's server (no path, no login): what messages and panels show."""
    parts = urlsplit(entry.base_url or "")
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def model_name(entry: ModelEntry) -> str:
    """The server's name for the model: `model:`, else the entry's id."""
    return entry.model or entry.id


def timeout_of(entry: ModelEntry) -> float:
    return entry.timeout or DEFAULT_TIMEOUT


@dataclass
class RemoteConnection:
    """What a remote entry "loads": an openai client for its server (no weights)."""

    entry: ModelEntry
    client: Any

    @property
    def model(self) -> str:
        return model_name(self.entry)


def api_key(entry: ModelEntry) -> str:
    """The key from the environment variable api_key_env names; a UserError when it is unset."""
    if not entry.api_key_env:
        return NO_KEY
    key = os.environ.get(entry.api_key_env, "").strip()
    if not key:
        raise UserError(
            f"Remote model {entry.display_name} needs its key in the environment variable "
            f"{entry.api_key_env}; set it before starting the app."
        )
    return key


def connect(entry: ModelEntry) -> RemoteConnection:
    """An openai client for the entry: one attempt per call (the person gets a sentence at once,
    not after retries), the entry's timeout, and the key given explicitly (never OPENAI_API_KEY)."""
    try:
        from openai import OpenAI
    except ImportError:
        raise UserError(
            f"Remote model {entry.display_name} needs the openai package; install it with pip install openai."
        ) from None
    client = OpenAI(
        base_url=entry.base_url,
        api_key=api_key(entry),
        timeout=timeout_of(entry),
        max_retries=0,
    )
    return RemoteConnection(entry, client)


# ------------------------------------------------------------------------------- errors
def explain(entry: ModelEntry, exc: BaseException) -> UserError:
    """One sentence for a failed remote call: which entry, what happened, what to check."""
    import openai

    name, server = entry.display_name, server_name(entry)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APITimeoutError):
        return UserError(
            f"Remote model {name} did not answer within {timeout_of(entry):g} s; check the load of its "
            f"server at {server}, or raise timeout in models.yaml."
        )
    if isinstance(exc, openai.APIConnectionError):
        return UserError(
            f"Remote model {name} cannot be reached at {server}; check that its server is running "
            "and base_url in models.yaml."
        )
    if status in (401, 403):
        where = f"the environment variable {entry.api_key_env}" if entry.api_key_env else "api_key_env in models.yaml"
        return UserError(f"The server of remote model {name} refused the key ({status}); check {where}.")
    if status == 404:
        return UserError(
            f"The server at {server} has no model {model_name(entry)!r} for remote model {name} (404); "
            "check model and base_url in models.yaml."
        )
    if status == 429:
        return UserError(
            f"The server of remote model {name} is rate-limiting requests (429); wait a moment and try "
            "again, or check the limits of its key."
        )
    if isinstance(exc, openai.APIStatusError):
        detail = _detail(exc)
        return UserError(
            f"The server of remote model {name} answered {status}{detail}; check the request's parameters "
            "and the server's log."
        )
    if isinstance(exc, openai.APIError):  # an error reported inside the stream
        return UserError(
            f"The server of remote model {name} reported an error while answering{_detail(exc)}; "
            "check the server's log."
        )
    return malformed(entry)


def malformed(entry: ModelEntry) -> UserError:
    return UserError(
        f"Remote model {entry.display_name} sent a reply that is not OpenAI-compatible; check that "
        f"base_url ({server_name(entry)}) points at the server's /v1 address."
    )


def _detail(exc: BaseException) -> str:
    """The server's own message, short and on one line (it never holds the key: we never send it back)."""
    body = getattr(exc, "body", None)
    message = (body.get("message") or body.get("error") or body.get("detail")) if isinstance(body, dict) else None
    message = message if isinstance(message, str) else getattr(exc, "message", "")
    message = " ".join(str(message or "").split())
    if not message:
        return ""
    return f" ({message[:160]}{'…' if len(message) > 160 else ''})"


@contextmanager
def explained(entry: ModelEntry) -> Iterator[None]:
    """Turn the openai client's exceptions (and malformed replies) into one UserError sentence."""
    import openai

    try:
        yield
    except UserError:
        raise
    except openai.OpenAIError as exc:
        raise explain(entry, exc) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:  # JSON or shape
        raise malformed(entry) from exc


# ------------------------------------------------------------------------ parameters
def generation_arguments(entry: ModelEntry, inputs: Mapping[str, Any], logprobs: str = "") -> dict[str, Any]:
    """The OpenAI request fields for checked generation inputs; notices for what the API lacks.

    temperature, top_p, max_new_tokens -> max_tokens, seed, stop (one text per line, at most 4)
    and num_return_sequences -> n map; greedy is temperature 0; beam search is refused.
    `logprobs` ("completions" or "chat", that endpoint's spelling) asks for token probabilities.
    """
    strategy = inputs.get("strategy", "greedy")
    if strategy == "beam":
        raise UserError(
            f"Beam search is not available for remote model {entry.display_name}: the OpenAI API has no "
            "beams; pick greedy or sampling."
        )
    arguments: dict[str, Any] = {"max_tokens": inputs["max_new_tokens"]}
    if strategy == "greedy":
        arguments["temperature"] = 0.0
    else:
        arguments.update(temperature=inputs["temperature"], top_p=inputs["top_p"])
    if "seed" in inputs:
        arguments["seed"] = inputs["seed"]
    if inputs.get("num_return_sequences", 1) > 1:
        arguments["n"] = inputs["num_return_sequences"]
    stop = stop_strings(inputs.get("stop") or "")
    if len(stop) > MAX_STOP:
        raise UserError(
            f"Remote model {entry.display_name} takes at most {MAX_STOP} stop texts (the OpenAI API's limit); "
            f"got {len(stop)}: keep {MAX_STOP} lines or fewer."
        )
    if stop:
        arguments["stop"] = list(stop)
    arguments.update(LOGPROBS.get(logprobs, {}))
    ignored = [f"{name} ({inputs[name]!r})" for name in _unsent(inputs, strategy)]
    if ignored:
        notify(
            f"Remote model {entry.display_name}: {', '.join(ignored)} not sent, the OpenAI API has no such parameter."
        )
    return arguments


def without_logprobs(exc: BaseException, arguments: Mapping[str, Any]) -> dict[str, Any] | None:
    """The request again without token probabilities, when it asked for them and the server refused
    it with 400 or 422 (how servers that offer no logprobs answer); None for any other failure."""
    if "logprobs" not in arguments or getattr(exc, "status_code", None) not in (400, 422):
        return None
    return {name: value for name, value in arguments.items() if name not in ("logprobs", "top_logprobs")}


def _unsent(inputs: Mapping[str, Any], strategy: str) -> list[str]:
    """The inputs set to something the OpenAI API cannot express (top_k and min_p: when sampling)."""
    unsent = []
    for name, off in UNSUPPORTED_OFF.items():
        if name not in inputs or name in BEAM_ONLY:
            continue
        if name in ("top_k", "min_p") and strategy != "sample":
            continue
        if inputs[name] != off:
            unsent.append(name)
    return unsent


def unsupported_inputs(names: list[str]) -> dict[str, Any]:
    """The task inputs a remote entry cannot use, with their "off" value (None: none to set)."""
    return {name: UNSUPPORTED_OFF[name] for name in names if name in UNSUPPORTED_OFF}


class Figures:
    """Live figures for a remote stream, with the keys local generation uses (studio.generation)."""

    def __init__(self, strategy: str, seed: int, max_new_tokens: int, server: str) -> None:
        self.base = {"strategy": strategy, "seed": seed, "max_new_tokens": max_new_tokens, "server": server}
        self.started = time.perf_counter()
        self.first: float | None = None
        self.tokens = 0

    def piece(self) -> None:
        """A streamed piece arrived (about one token)."""
        if self.first is None:
            self.first = time.perf_counter()
        self.tokens += 1

    def __call__(self, done: bool = False, tokens: int | None = None) -> dict[str, Any]:
        if tokens is not None:
            self.tokens = tokens
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        return {
            **self.base,
            "tokens": self.tokens,
            "tokens_per_second": round(self.tokens / elapsed, 2) if self.tokens else 0.0,
            "time_to_first_token": round(self.first - self.started, 3) if self.first else None,
            "seconds": round(elapsed, 3),
            "done": done,
            "stopped": False,
        }


def remote_device(entry: ModelEntry) -> str:
    """What the Loaded models panel shows in place of a device: a connection, not memory."""
    return f"remote connection to {server_name(entry)}"


def remote_settings(entry: ModelEntry, settings: Any) -> Any:
    """The model-settings row does not apply to a server's model: a notice when it was changed."""
    if settings != ModelSettings():
        notify(
            f"dtype, quantization and device do not apply to remote model {entry.display_name}; its server sets them."
        )
    return ModelSettings()
