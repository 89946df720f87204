"""Click through the real page in Chromium and read what it shows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect

from tests.browser.helpers import choose_model, open_task, raw_output, visible


def test_text_classification_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Text", "Text classification")
    page.get_by_label("Text", exact=True).fill("The soup was cold and the waiter rude.")
    page.get_by_role("button", name="Classify").click()
    shown_label = visible(page, "[data-testid='label-output-value']")
    expect(shown_label).not_to_be_empty()
    raw = raw_output(page)
    assert shown_label.inner_text().strip() == raw[0]["label"]
    assert {item["label"] for item in raw} == {"NEGATIVE", "POSITIVE"}
    page.get_by_role("button", name="Show code").locator("visible=true").click()
    code = visible(page, ".show-code")
    expect(code).to_contain_text("pipeline('text-classification'")
    expect(code).to_contain_text("The soup was cold")
    page.screenshot(path=str(artifacts / "text-classification.png"), full_page=True)


def test_empty_text_shows_an_error_toast(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Text", "Text classification")
    page.get_by_role("button", name="Classify").click()
    toast = page.locator(".toast-body")
    expect(toast).to_contain_text("Type some text first: the input is empty.")
    page.screenshot(path=str(artifacts / "text-classification-error.png"))


def test_sentence_similarity_in_the_browser(page: Page, artifacts: Path) -> None:
    open_task(page, "Text", "Sentence similarity")
    choose_model(page, "all-MiniLM-L6-v2 (packaged) · offline")
    page.get_by_label("Source sentence").fill("A man is eating food.")
    page.get_by_label("Sentences to compare").fill("The stock market crashed.\nA man is eating a piece of bread.")
    page.get_by_role("button", name="Compare").click()
    raw = raw_output(page)
    assert raw[0]["sentence"] == "A man is eating a piece of bread."
    table = visible(page, "table").first
    expect(table).to_contain_text("A man is eating a piece of bread.")
    rows = table.locator("tbody tr")
    expect(rows.first).to_contain_text("A man is eating a piece of bread.")
    bars = visible(page, ".vega-embed svg.marks .role-mark path")  # the bar plot is drawn
    expect(bars).to_have_count(2)
    page.screenshot(path=str(artifacts / "sentence-similarity.png"), full_page=True)


def test_example_fills_the_inputs(page: Page) -> None:
    open_task(page, "Text", "Sentence similarity")
    page.get_by_text("How do I reset my password?").locator("visible=true").first.click()
    expect(page.get_by_label("Source sentence")).to_have_value("How do I reset my password?")
