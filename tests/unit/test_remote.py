"""Remote inference engines as model sources (source: openai), without a real engine: errors a
real engine cannot be made to give on demand (401, 404, 429, malformed chunks, a slow answer)
and its logprobs come from a stub server; entries are checked at start; the page disables what a
remote model cannot use. (Against a real engine through the app: tests/api/test_remote.py.)
"""

from __future__ import annotations

import http.server
import json
import math
import os
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from studio.config import ConfigError, parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.studio import Studio
from tests.fixtures.engine import KEY_VAR, SECRET, remote_entry, stub_server


# ------------------------------------------------------------ errors a real engine cannot give
@pytest.mark.parametrize(
    ("path", "timeout", "expected"),
    [
        ("s401", 10, "refused the key (401); check the environment variable STUDIO_TEST_REMOTE_KEY"),
        ("s404", 10, "has no model 'stub-model' for remote model tiny remote (404)"),
        ("s429", 10, "is rate-limiting requests (429)"),
        ("s500", 10, "answered 500 (refused by the stub)"),
        ("bad", 10, "sent a reply that is not OpenAI-compatible"),
        ("slow", 0.5, "did not answer within 0.5 s"),
    ],
)
def test_server_errors_are_one_sentence_naming_the_entry(path: str, timeout: float, expected: str) -> None:
    with stub_server() as base:
        entry = remote_entry(f"{base}/{path}/v1", "stub-model", api_key_env=KEY_VAR, timeout=timeout)
        studio = Studio(parse_config({"tasks": {"chat": {"models": [entry]}}}), ModelManager())
        os.environ[KEY_VAR] = SECRET
        try:
            with pytest.raises(UserError) as caught:
                studio.run("chat", "tiny-remote", {"message": "hello"})
        finally:
            del os.environ[KEY_VAR]
    message = str(caught.value)
    assert expected in message, message
    assert SECRET not in message and message.count(". ") == 0


def test_a_missing_key_says_which_variable_to_set() -> None:
    entry = remote_entry("http://127.0.0.1:9/v1", "m", api_key_env="STUDIO_TEST_UNSET_KEY")
    studio = Studio(parse_config({"tasks": {"chat": {"models": [entry]}}}), ModelManager())
    with pytest.raises(UserError, match="needs its key in the environment variable STUDIO_TEST_UNSET_KEY"):
        studio.run("chat", "tiny-remote", {"message": "hello"})


@pytest.mark.parametrize(
    ("entry", "task", "expected"),
    [
        ({"source": "openai", "model": "m"}, "chat", "source: openai needs 'base_url:'"),
        ({"source": "openai", "base_url": "localhost:8000"}, "chat", "source: openai needs 'base_url:'"),
        ({"source": "openai", "base_url": "http://u:p@h/v1"}, "chat", "base_url must not hold a login"),
        ({"source": "openai", "base_url": "http://h/v1", "api_key_env": "sk-live-123"}, "chat", "never the key"),
        ({"source": "openai", "base_url": "http://h/v1", "timeout": 0}, "chat", "greater than 0"),
        ({"source": "hub", "base_url": "http://h/v1"}, "chat", "'base_url:' only applies to source: openai"),
        ({"source": "openai", "base_url": "http://h/v1"}, "fill-mask", "source: openai serves only text-generation"),
    ],
)
def test_remote_entries_are_validated_at_start(entry: dict, task: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"tasks": {task: {"models": [{"id": "r", **entry}]}}})
    assert expected in str(caught.value)
    assert "sk-live-123" not in str(caught.value)


def test_the_page_disables_what_a_remote_model_cannot_use() -> None:
    import gradio as gr

    from components.app import build_app

    entry = remote_entry("http://127.0.0.1:9/v1", "m")
    studio = Studio(parse_config({"tasks": {"chat": {"models": [entry]}}}), ModelManager())
    demo = build_app(studio)
    sliders = {block.label: block for block in demo.blocks.values() if isinstance(block, gr.Slider)}
    assert sliders["Top-k"].interactive is False and sliders["Top-k"].value == 0  # top_k
    assert "OpenAI API has no such parameter" in sliders["No repeat n-gram"].info  # no_repeat_ngram_size
    assert sliders["Temperature"].interactive is not False


# ------------------------------------------------- stop strings and token probabilities (logprobs)
STUB_TOKENS = [  # (text, logprob, top logprobs) the logprobs stub streams for a completion
    (" Tokyo", -0.105, {" Tokyo": -0.105, " Kyoto": -2.5, " Osaka": -3.75}),
    (".", -0.693, {",": -1.2, ".": -0.693}),
]


class _LogprobStub(http.server.BaseHTTPRequestHandler):
    """An OpenAI completions endpoint that answers with logprobs (/plain/v1: without them)."""

    requests: ClassVar[list[dict]] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        type(self).requests.append(body)
        offer = not self.path.startswith("/plain/")

        def choice(text: str, logprob: float, top: dict, pieces: list) -> dict:
            found = {"tokens": [t for t, *_ in pieces], "token_logprobs": [lp for _, lp, _ in pieces]}
            found.update(top_logprobs=[t for *_, t in pieces], text_offset=[0] * len(pieces))
            return {"index": 0, "text": text, "finish_reason": None, "logprobs": found if offer else None}

        def completion(choices: list) -> dict:
            return {"id": "c1", "object": "text_completion", "created": 0, "model": body["model"], "choices": choices}

        if body.get("stream"):
            chunks = [completion([choice(t, lp, top, [(t, lp, top)])]) for t, lp, top in STUB_TOKENS]
            data = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
            self._send(data.encode(), "text/event-stream")
        else:
            text = "".join(t for t, *_ in STUB_TOKENS)
            self._send(json.dumps(completion([choice(text, 0, {}, STUB_TOKENS)])).encode(), "application/json")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def logprob_stub() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LogprobStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _LogprobStub.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def stub_studio(base_url: str) -> Studio:
    entry = remote_entry(base_url, "stub-model")
    return Studio(parse_config({"tasks": {"text-generation": {"models": [entry]}}}), ModelManager())


def test_remote_tokens_are_the_servers_logprobs_exponentiated(logprob_stub: str) -> None:
    studio = stub_studio(f"{logprob_stub}/v1")
    inputs = {"prompt": "The capital of Japan is", "max_new_tokens": 8, "stop": "END\n\n###"}
    *_, last = studio.stream("text-generation", "tiny-remote", inputs)
    [item] = last.output
    assert item["generated_text"] == " Tokyo."
    assert [token["token"] for token in item["tokens"]] == [" Tokyo", "."]
    for token, (_, logprob, top) in zip(item["tokens"], STUB_TOKENS):
        assert token["probability"] == pytest.approx(math.exp(logprob), rel=1e-5)
        best = sorted(top.items(), key=lambda pair: -pair[1])
        assert [alternative["token"] for alternative in token["top"]] == [name for name, _ in best]
        assert [a["probability"] for a in token["top"]] == pytest.approx([math.exp(v) for _, v in best], rel=1e-5)
    sent = _LogprobStub.requests[-1]
    assert sent["logprobs"] == 5 and sent["stop"] == ["END", "###"] and sent["max_tokens"] == 8
    # Show code makes the same request (not streamed) and computes the same raw output
    code = studio.code("text-generation", "tiny-remote", inputs, studio.settings({}))
    namespace: dict = {}
    exec(compile(code, "<show code>", "exec"), namespace)
    assert namespace["result"] == last.output
    assert _LogprobStub.requests[-1]["stop"] == ["END", "###"] and _LogprobStub.requests[-1]["logprobs"] == 5


def test_a_server_without_logprobs_gives_no_tokens_and_says_so(logprob_stub: str) -> None:
    studio = stub_studio(f"{logprob_stub}/plain/v1")
    results = list(studio.stream("text-generation", "tiny-remote", {"prompt": "The capital of Japan is"}))
    assert results[-1].output == [{"generated_text": " Tokyo."}]
    notices = [notice for result in results for notice in result.notices]
    assert any("sent no token probabilities (logprobs)" in notice for notice in notices), notices


def test_more_than_four_stop_strings_are_refused_for_a_remote_model(logprob_stub: str) -> None:
    studio = stub_studio(f"{logprob_stub}/v1")
    with pytest.raises(UserError) as caught:
        studio.run("text-generation", "tiny-remote", {"prompt": "hi", "stop": "a\nb\nc\nd\ne"})
    assert "takes at most 4 stop texts (the OpenAI API's limit); got 5" in str(caught.value)
    assert _LogprobStub.requests == []  # refused before any request
