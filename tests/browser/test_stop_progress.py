"""Honest progress and Stop: the GGUF conversion reports its stages in order, Stop is enabled
only while a generation runs, and after a Stop the page says how many tokens came."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect

from tests.browser.helpers import open_task, visible


def stop_button(page: Page):
    return page.get_by_role("button", name="Stop", exact=True).locator("visible=true")


def test_stop_is_enabled_only_while_running_and_says_how_far(
    page: Page, tiny: SimpleNamespace, artifacts: Path
) -> None:
    open_task(page, "Generate", "Text generation")
    stop = stop_button(page)
    expect(stop).to_be_disabled()  # nothing runs yet
    page.screenshot(path=str(artifacts / "stop-idle.png"), full_page=True)
    page.get_by_label("Prompt").fill("the weather today is")
    page.get_by_role("radio", name=re.compile("Sampl")).check()
    tokens_box = page.get_by_role("spinbutton", name=re.compile("max.new.tokens", re.IGNORECASE)).locator(
        "visible=true"
    )
    tokens_box.fill("4000")
    tokens_box.press("Enter")
    page.get_by_role("button", name="Generate").click()
    expect(stop).to_be_enabled()
    figures = visible(page, ".block.live-figures")
    expect(figures).to_contain_text("tokens/s", timeout=60_000)
    page.wait_for_function("() => document.querySelector('.generated-text textarea').value.length > 40", timeout=60_000)
    stop.click()
    expect(figures).to_contain_text("Stopped after")
    expect(stop).to_be_disabled()
    shown = figures.inner_text()
    count = int(re.search(r"Stopped after (\d+) tokens?", shown).group(1))
    assert 0 < count < 4000
    page.wait_for_timeout(1500)  # the cancelled stream does not overwrite the line
    assert figures.inner_text() == shown
    expect(page.get_by_text("Could not run")).to_have_count(0)  # a Stop is not a failure
    page.screenshot(path=str(artifacts / "stop-stopped.png"), full_page=True)

    tokens_box.fill("8")
    tokens_box.press("Enter")
    page.get_by_role("button", name="Generate").click()
    expect(figures).to_contain_text("done", timeout=60_000)
    expect(stop).to_be_disabled()  # the run ended: nothing to stop
