"""A first run as a new user has it: an empty model cache and runs folder, no HF_HUB_OFFLINE,
on this offline machine (the Hub cannot be reached).

The app probes the Hub once at start and runs offline for the session: the page opens, the
first click on the opening tab's first example gives a result, and a model that is not
downloaded is refused in under 3 s (no retries) with a sentence that points to Download.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app_process import ROOT, running_app

NOT_DOWNLOADED = "is not downloaded and the app is offline"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("first-run")
    env = {k: v for k, v in os.environ.items() if k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"}}
    env["HF_HOME"] = str(work / "hf-home")  # an empty model cache
    log = work / "app.log"
    arguments = ["--models", str(ROOT / "models.yaml"), "--runs-dir", str(work / "runs")]
    with running_app(arguments, log, env=env) as (_, url):
        yield url, log


def visible(page: Page, selector: str):
    return page.locator(selector).locator("visible=true")


def test_start_up_says_once_that_it_runs_offline(first_run: tuple[str, Path]) -> None:
    deadline = time.monotonic() + 30  # the hint is printed once launch() returns, just after the page serves
    while "python app.py --share" not in (text := first_run[1].read_text(encoding="utf-8")):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert text.count("cannot be reached") == 1, text
    assert "running offline for this session" in text
    assert "share=True" not in text and "python app.py --share" in text


def test_first_click_on_the_opening_tabs_first_example(
    browser: Browser, first_run: tuple[str, Path], artifacts: Path
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(120_000)  # the first run imports torch on 2 busy cores
    page.goto(first_run[0])
    page.screenshot(path=str(artifacts / "first-run-opened.png"))
    visible(page, ".run-button").first.wait_for()
    # The opening tab's first example; clicked again until it fills the inputs (a click that lands
    # before the page has wired its events does nothing, and Run would then refuse empty inputs).
    for _ in range(20):
        visible(page, "tbody tr").first.click()
        if visible(page, "textarea").first.input_value():
            break
        page.wait_for_timeout(500)
    visible(page, ".run-button").first.click()
    expect(visible(page, ".raw-output").first).to_contain_text('"')  # a JSON result (an error leaves it empty)
    page.screenshot(path=str(artifacts / "first-run-first-click.png"))
    page.context.close()


def test_a_not_downloaded_pick_answers_at_once(browser: Browser, first_run: tuple[str, Path], artifacts: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    url, log = first_run
    client = Client(url, verbose=False)
    client.predict(
        model="all-MiniLM-L6-v2", source="a", sentences="b", api_name="/feature_extraction"
    )  # torch imported
    started = time.perf_counter()
    with pytest.raises(AppError, match=NOT_DOWNLOADED):
        client.predict(
            model="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            text="A first click.",
            api_name="/text_classification",
        )
    assert time.perf_counter() - started < 3

    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(url)
    page.get_by_role("tab", name="Text", exact=True).click()
    page.get_by_role("tab", name="Text classification", exact=True).click()
    visible(page, ".model-picker input").click()
    page.get_by_role("option", name=re.compile("not downloaded")).first.click()
    expect(visible(page, ".download-row")).to_contain_text("The Hub did not answer when the app started")
    visible(page, "tbody tr").first.click()
    started = time.perf_counter()
    visible(page, ".run-button").click()
    expect(page.get_by_text(NOT_DOWNLOADED).first).to_be_visible(timeout=3_000)
    assert time.perf_counter() - started < 3
    page.screenshot(path=str(artifacts / "first-run-not-downloaded.png"))
    page.context.close()
    assert "Retrying" not in log.read_text(encoding="utf-8")
