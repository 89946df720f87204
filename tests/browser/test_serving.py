"""Many visitors at once, in Chromium: a request that waits sees its place in the queue, and a
cheap task never waits behind a long generation (each task has its own concurrency group).

The app runs with --generation-streams 1, so a second generation must queue, on a tiny LM
given a long context (4096 positions) so that one generation outlasts the checks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from bench.rest import Api
from tests.app_process import running_app
from tests.browser.helpers import generated_text, start_long_sampling


def long_context_lm(source: str, folder: Path) -> Path:
    """A copy of the tiny causal LM that reads and writes 4096 tokens."""
    shutil.copytree(source, folder)
    for name, key in (("config.json", "max_position_embeddings"), ("tokenizer_config.json", "model_max_length")):
        values = json.loads((folder / name).read_text(encoding="utf-8"))
        values[key] = 4096
        (folder / name).write_text(json.dumps(values), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def one_stream_app(tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("serving")
    lm = long_context_lm(tiny.causal_lm, work / "long-lm")
    tasks = {
        "text-generation": {"models": [{"id": str(lm), "label": "long tiny LM", "source": "local"}]},
        "fill-mask": {"models": [{"id": tiny.fill_mask_bert, "label": "tiny fill-mask", "source": "local"}]},
    }
    models = work / "models.yaml"
    models.write_text(yaml.safe_dump({"tasks": tasks}), encoding="utf-8")
    arguments = ["--models", str(models), "--runs-dir", str(work / "runs"), "--generation-streams", "1"]
    with running_app(arguments, work / "app.log") as (_, url):
        yield url


def open_generation(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    start_long_sampling(page)
    return page


def test_a_waiting_generation_sees_its_place_and_fill_mask_does_not_wait(
    browser: Browser, one_stream_app: str, artifacts: Path
) -> None:
    first = open_generation(browser, one_stream_app)
    second = open_generation(browser, one_stream_app)
    first.get_by_role("button", name="Generate").click()
    first.wait_for_function("() => document.querySelector('.generated-text textarea').value.length > 20")

    # The second visitor's generation waits for the only stream, and the page says where it stands.
    second.get_by_role("button", name="Generate").click()
    expect(second.get_by_text("queue: 1/1").first).to_be_visible()
    second.screenshot(path=str(artifacts / "queue-position.png"), full_page=True)

    # Meanwhile a fill-mask request is answered (its own group), and the first generation is
    # still running when the answer comes: its text goes on growing.
    api = Api(one_stream_app)
    with httpx.Client(timeout=120) as client:
        _, data = api.timed(client, "fill_mask", {"model": "tiny fill-mask", "text": "the [MASK] is nice"})
    assert data[-1] and all("token_str" in item for item in data[-1])
    shown = len(generated_text(first))
    first.wait_for_function(f"() => document.querySelector('.generated-text textarea').value.length > {shown + 20}")
    first.get_by_role("button", name="Stop").locator("visible=true").click()

    # The stream is free: the waiting generation starts and streams.
    second.wait_for_function("() => document.querySelector('.generated-text textarea').value.length > 20")
    expect(second.get_by_text("queue: 1/1")).to_have_count(0)
    second.get_by_role("button", name="Stop").locator("visible=true").click()
    for page in (first, second):
        page.context.close()
