"""Remote inference engines as model sources (source: openai), against a real engine:
`transformers serve --continuous-batching` on the tiny chat Llama, offline.

The app is started as a user starts it, with a models.yaml whose chat and text-generation
entry is the engine; greedy output through the app equals the engine's answer to a direct
`openai` client call with the same settings. (Errors a real engine cannot be made to give on
demand come from a stub server: tests/unit/test_remote.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from gradio_client import Client
from gradio_client.exceptions import AppError

from studio.config import parse_config
from studio.models.manager import ModelManager
from studio.studio import Studio
from tests.app_process import ROOT, free_port, running_app, stop, wait_for_http
from tests.fixtures.engine import KEY_VAR, SECRET, remote_entry
from tests.fixtures.zoo import build

SYSTEM = "be brief"


def wait_until(condition: Callable[[], object], timeout: float = 90, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout} s")


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
