"""Remote inference engines as model sources (source: openai), against a real engine:
`transformers serve --continuous-batching` on the tiny chat Llama, offline.

The app is started as a user starts it, with a models.yaml whose chat and text-generation
entry is the engine; greedy output through the app equals the engine's answer to a direct
`openai` client call with the same settings. Errors a real engine cannot be made to give on
demand (401, 404, 429, malformed chunks, a slow answer) come from a stub server.
"""

from __future__ import annotations

import http.server
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
import yaml
from gradio_client import Client
from gradio_client.exceptions import AppError

from studio.config import ConfigError, parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.studio import Studio
from tests.app_process import ROOT, free_port, running_app, stop, wait_for_http
from tests.fixtures.engine import stub_server
from tests.fixtures.zoo import build

KEY_VAR = "STUDIO_TEST_REMOTE_KEY"
SECRET = "sk-studio-test-3f9a1c7e"  # what the key variable holds: it must never be shown
SYSTEM = "be brief"


def wait_until(condition: Callable[[], object], timeout: float = 90, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout} s")


def remote_entry(base_url: str, model: str, **extra: object) -> dict:
    entry = {"id": "tiny-remote", "label": "tiny remote", "source": "openai", "base_url": base_url, "model": model}
    return {**entry, **extra}


@pytest.fixture(scope="module")
def engine(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """`transformers serve --continuous-batching` on the tiny chat model, offline, warmed up."""
    from openai import OpenAI

    folder = build("chat-lm", tiny_root)
    port = free_port()
    cache = tmp_path_factory.mktemp("hf-cache")  # transformers serve needs an existing HF_HUB_CACHE
    log_path = tmp_path_factory.mktemp("engine") / "engine.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tests.fixtures.engine", "serve", "--continuous-batching"]
    command += ["--host", "127.0.0.1", "--port", str(port), str(folder)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", process)
        url = f"http://127.0.0.1:{port}/v1"
        direct = OpenAI(base_url=url, api_key="EMPTY", timeout=120, max_retries=0)
        # The first request starts the continuous-batching manager (tens of seconds on a CPU).
        direct.chat.completions.create(model=str(folder), messages=[{"role": "user", "content": "hi"}], max_tokens=1)
        yield SimpleNamespace(url=url, model=str(folder), process=process, log=log_path, direct=direct)
    finally:
        stop(process)
        print(f"engine log: {log_path}")


@pytest.fixture(scope="module")
def remote(engine: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The app (python app.py) with the engine as a chat and text-generation entry; its key in the env."""
    folder = tmp_path_factory.mktemp("remote-app")
    entry = remote_entry(engine.url, engine.model, api_key_env=KEY_VAR, timeout=60)
    models = folder / "models.yaml"
    models.write_text(yaml.safe_dump({"tasks": {"chat": {"models": [entry]}, "text-generation": {"models": [entry]}}}))
    log_path = folder / "app.log"
    arguments = ["--models", str(models), "--runs-dir", str(folder)]
    try:
        with running_app(arguments, log_path, {**os.environ, KEY_VAR: SECRET}) as (_, url):
            yield SimpleNamespace(url=url, client=Client(url, verbose=False), log=log_path, models=models)
    finally:
        print(f"remote app log: {log_path}")


# ---------------------------------------------------------------- through the running app
def test_greedy_chat_equals_a_direct_openai_call(remote: SimpleNamespace, engine: SimpleNamespace) -> None:
    *_, raw = remote.client.predict(
        model="tiny-remote",
        message="what is the weather",
        history=[],
        system_prompt=SYSTEM,
        strategy="greedy",
        max_new_tokens=20,
        seed=0,
        api_name="/chat",
    )
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "what is the weather"}]
    want = engine.direct.chat.completions.create(
        model=engine.model, messages=messages, temperature=0, max_tokens=20, seed=0
    )
    assert raw == want.choices[0].message.content.strip()
    assert raw


def test_greedy_text_generation_equals_a_direct_openai_call(remote: SimpleNamespace, engine: SimpleNamespace) -> None:
    job = remote.client.submit(
        model="tiny-remote", prompt="The capital of Japan is", max_new_tokens=24, api_name="/text_generation"
    )
    raw = job.result(timeout=120)[-1]
    want = engine.direct.completions.create(
        model=engine.model, prompt="The capital of Japan is", temperature=0, max_tokens=24, seed=0
    )
    assert raw == [{"generated_text": want.choices[0].text}]
    partials = [output[-1] for output in job.outputs() if output[-1]]
    assert len(partials) >= 2, "the reply streams: several updates before the last"


def test_the_model_list_and_loaded_models_show_a_remote_connection(remote: SimpleNamespace) -> None:
    studio = Studio(parse_config(yaml.safe_load(remote.models.read_text())), ModelManager())
    assert studio.model_choices("chat") == [("tiny remote · remote", "tiny-remote")]
    table, _selected = remote.client.predict(api_name="/loaded_models")
    rows = [dict(zip(table["headers"], row)) for row in table["data"]]
    remote_rows = [row for row in rows if row["model"] == "tiny-remote"]
    assert remote_rows, rows
    for row in remote_rows:
        assert row["device"].startswith("remote connection to http://127.0.0.1:")
        assert row["size_mb"] == 0


def test_the_key_is_never_in_the_page_the_log_or_show_code(remote: SimpleNamespace, engine: SimpleNamespace) -> None:
    import httpx

    studio = Studio(parse_config(yaml.safe_load(remote.models.read_text())), ModelManager())
    inputs = {"message": "what is the weather", "history": [], "system_prompt": SYSTEM, "max_new_tokens": 20}
    code = studio.code("chat", "tiny-remote", inputs, studio.settings({}))
    assert "from openai import OpenAI" in code and f"os.environ[{KEY_VAR!r}]" in code
    for text in (code, httpx.get(remote.url).text, httpx.get(remote.url + "config").text, remote.log.read_text()):
        assert SECRET not in text
    # Show code runs as printed, with the key in the environment, and gives the app's answer.
    namespace: dict = {}
    os.environ[KEY_VAR] = SECRET
    try:
        exec(compile(code, "<show code>", "exec"), namespace)
    finally:
        del os.environ[KEY_VAR]
    *_, raw = remote.client.predict(model="tiny-remote", api_name="/chat", **inputs)
    assert namespace["result"] == raw


def test_parameters_the_api_lacks_are_refused_or_noticed(remote: SimpleNamespace, engine: SimpleNamespace) -> None:
    with pytest.raises(AppError) as caught:
        remote.client.predict(model="tiny-remote", prompt="hi", strategy="beam", api_name="/text_generation")
    assert "Beam search is not available for remote model tiny remote" in str(caught.value)
    studio = Studio(parse_config(yaml.safe_load(remote.models.read_text())), ModelManager())
    off = studio.unsupported_inputs("text-generation", "tiny-remote")
    assert off["top_k"] == 0 and off["no_repeat_ngram_size"] == 0 and "num_beams" in off
    os.environ[KEY_VAR] = SECRET
    try:
        first = next(studio.stream("chat", "tiny-remote", {"message": "hi", "no_repeat_ngram_size": 3}))
    finally:
        del os.environ[KEY_VAR]
    assert any("no_repeat_ngram_size (3) not sent" in notice for notice in first.notices), first.notices


def test_stop_ends_the_request_on_the_server(remote: SimpleNamespace, engine: SimpleNamespace) -> None:
    cancelled = lambda: engine.log.read_text().count("cancelled request")  # noqa: E731
    before = cancelled()
    job = remote.client.submit(
        model="tiny-remote", prompt="Once upon a time", max_new_tokens=4096, api_name="/text_generation"
    )
    wait_until(lambda: any(output[-1] for output in job.outputs()), what="the first streamed text")
    job.cancel()
    wait_until(lambda: cancelled() > before, what="the engine cancelling the request")


def test_a_killed_server_gives_a_sentence(remote: SimpleNamespace, engine: SimpleNamespace) -> None:
    stop(engine.process)
    with pytest.raises(AppError) as caught:
        remote.client.predict(model="tiny-remote", message="hello", api_name="/chat")
    message = str(caught.value)
    assert "Remote model tiny remote cannot be reached at http://127.0.0.1:" in message
    assert "check that its server is running" in message
    assert "Traceback" not in message and "Error:" not in message


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
