"""The Generate tabs in Chromium: pick sampling, move the temperature slider, watch the text
grow, press Stop; chat with the tiny chat model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect

from tests.browser.helpers import generated_text, open_task, start_long_sampling, visible


def test_sampling_streams_and_stop_ends_it(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Generate", "Text generation")
    page.get_by_label("Prompt").fill("the weather today is")
    temperature = page.get_by_role("slider", name="range slider for Temperature")
    expect(temperature).to_be_hidden()  # sampling parameters appear only for sampling
    page.get_by_label("Sampling").check()
    expect(temperature).to_be_visible()
    temperature.fill("1.3")
    expect(page.get_by_label("number input for Temperature")).to_have_value("1.3")
    expect(page.get_by_role("slider", name="range slider for Beams")).to_be_hidden()
    max_tokens = page.get_by_label("number input for Max new tokens")
    max_tokens.fill("4000")
    max_tokens.press("Enter")
    page.get_by_role("button", name="Generate").click()

    # The text grows while generate() runs: wait for some text, then for more of it.
    page.wait_for_function("() => document.querySelector('.generated-text textarea').value.length > 20", timeout=60_000)
    first = len(generated_text(page))
    page.wait_for_function(
        f"() => document.querySelector('.generated-text textarea').value.length > {first + 40}", timeout=30_000
    )
    expect(visible(page, ".block.live-figures")).to_contain_text("tokens/s")
    page.get_by_role("button", name="Stop").locator("visible=true").click()
    # Stopped: the text stops changing within a moment, far short of 4000 tokens.
    figures = visible(page, ".block.live-figures")
    shown, stable = "", False
    for _ in range(10):
        before = (generated_text(page), figures.inner_text())
        page.wait_for_timeout(400)  # a window in which a running generation would add text
        if (generated_text(page), figures.inner_text()) == before:
            shown, stable = before[1], True
            break
    assert stable, "the text kept growing after Stop"
    tokens = int(re.search(r"(\d+) tokens", shown).group(1))
    assert 0 < tokens < 4000
    page.screenshot(path=str(artifacts / "text-generation-stopped.png"), full_page=True)

    # A new run works after Stop, and its raw output is shown.
    page.get_by_label("Greedy").check()
    max_tokens.fill("12")
    max_tokens.press("Enter")
    page.get_by_role("button", name="Generate").click()
    raw = visible(page, ".raw-output")
    expect(raw).to_contain_text('"generated_text"', timeout=60_000)
    expect(figures).to_contain_text("done")
    shown = re.sub(r"(Object|Array)\(\d+\)", "", raw.inner_text())  # collapsed nodes (each token's details)
    value = json.loads(shown.removeprefix("Raw output").replace("\n", ""), strict=False)
    assert value[0]["generated_text"] == generated_text(page)


def test_chat_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Generate", "Chat")
    message = page.get_by_role("textbox", name="Message")
    message.fill("hello, how are you")
    message.press("Enter")
    bubbles = visible(page, ".block.chatbot .message-row")
    expect(bubbles).to_have_count(2, timeout=60_000)
    expect(bubbles.first).to_contain_text("hello, how are you")
    expect(visible(page, ".block.live-figures")).to_contain_text("done", timeout=60_000)
    expect(message).to_have_value("")
    message.fill("and tomorrow?")
    page.get_by_role("button", name="Send").click()
    expect(bubbles).to_have_count(4, timeout=60_000)
    page.screenshot(path=str(artifacts / "chat.png"), full_page=True)


def test_closing_the_tab_ends_generation(page: Page, client, tiny: SimpleNamespace) -> None:
    import time

    start_long_sampling(page)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_function("() => document.querySelector('.generated-text textarea').value.length > 20", timeout=60_000)
    page.close()  # the person closes the tab mid-generation
    started = time.monotonic()
    # generate() runs one at a time: were the abandoned one (4000 tokens) still running, this would wait for it.
    raw = client.predict(
        model=tiny.causal_lm, prompt="hello", strategy="greedy", max_new_tokens=4, api_name="/text_generation"
    )[-1]
    assert raw[0]["generated_text"]
    assert time.monotonic() - started < 15
