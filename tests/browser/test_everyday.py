"""Everyday use in Chromium: errors stay in the tab, no input box shows "Error", readable labels
(empty inputs refused before any model loads, /loaded_models as plain data: tests/api/test_everyday.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import open_task, visible

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_error_stays_in_the_output_area_until_the_next_run(page: Page, artifacts: Path) -> None:
    open_task(page, "Text", "Text classification")
    page.get_by_role("button", name="Classify").click()
    error = visible(page, ".run-error").first
    expect(error).to_contain_text("Type some text first: the input is empty.")
    page.wait_for_timeout(11_000)  # the toast is gone by now; the sentence is not
    expect(error).to_contain_text("Type some text first: the input is empty.")
    expect(visible(page, ".raw-output")).not_to_contain_text("Error")
    page.screenshot(path=str(artifacts / "everyday-error-stays.png"), full_page=True)
    page.get_by_label("Text", exact=True).locator("visible=true").fill("What a lovely day.")
    page.get_by_role("button", name="Classify").click()
    expect(visible(page, ".raw-output")).to_contain_text('"label"')
    expect(visible(page, ".run-error")).to_have_count(0)


def test_the_chat_message_box_never_shows_error(page: Page, artifacts: Path) -> None:
    open_task(page, "Generate", "Chat")
    page.get_by_role("button", name="Send").click()  # an empty message
    expect(visible(page, ".run-error").first).to_contain_text("Type a message first: the input is empty.")
    message = page.get_by_role("textbox", name="Message")
    box = page.locator("div.block", has=message).last
    expect(box).not_to_contain_text("Error")
    page.screenshot(path=str(artifacts / "everyday-chat-error.png"), full_page=True)


def test_labels_are_readable_with_the_api_name_as_the_hint(page: Page) -> None:
    open_task(page, "Text", "Question answering")
    expect(page.get_by_text("Longest answer", exact=True).locator("visible=true")).to_have_count(1)
    expect(page.get_by_text("Allow no answer", exact=True).locator("visible=true")).to_have_count(1)
    expect(page.get_by_text("API: max_answer_len").locator("visible=true")).to_have_count(1)
    expect(page.get_by_text("API: handle_impossible_answer").locator("visible=true")).to_have_count(1)
    expect(page.get_by_text("Models listed in models.yaml")).to_have_count(0)
