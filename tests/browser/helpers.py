"""Helpers the browser tests share: open a tab, find what is visible, read the outputs."""

from __future__ import annotations

import json

from playwright.sync_api import Locator, Page, expect


def open_task(page: Page, modality: str, task_title: str) -> None:
    """Click the modality's tab, then the task's sub-tab."""
    page.get_by_role("tab", name=modality, exact=True).click()
    page.get_by_role("tab", name=task_title, exact=True).click()


def visible(page: Page, selector: str) -> Locator:
    """The elements matching selector that are shown (each task tab has its own copy of a block)."""
    return page.locator(selector).locator("visible=true")


def raw_output(page: Page) -> list[dict[str, object]]:
    """The Raw output JSON as shown, parsed (waits until it holds a result)."""
    block = visible(page, ".raw-output")
    expect(block).to_contain_text('"score"')
    return json.loads(block.inner_text().removeprefix("Raw output").replace("\n", ""))


def choose_model(page: Page, label: str) -> None:
    """Pick a model by its label in the visible Model dropdown."""
    dropdown = page.get_by_label("Model", exact=True).locator("visible=true")
    dropdown.click()
    page.get_by_role("option", name=label).click()


def generated_text(page: Page) -> str:
    """The text the visible Generated text box holds now."""
    return visible(page, ".generated-text textarea").input_value()


def start_long_sampling(page: Page) -> None:
    """Text generation set to sample up to 4000 tokens (press Generate to start)."""
    open_task(page, "Generate", "Text generation")
    page.get_by_label("Prompt").fill("the weather today is")
    page.get_by_label("Sampling").check()
    max_tokens = page.get_by_label("number input for Max new tokens")
    max_tokens.fill("4000")
    max_tokens.press("Enter")
