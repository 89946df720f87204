"""Evaluate in Chromium: the bundled sample evaluated on the page."""

from __future__ import annotations

from pathlib import Path


def test_page_evaluates_the_bundled_sample(page, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Insight", exact=True).click()
    page.get_by_role("tab", name="Evaluate on a file", exact=True).click()
    page.get_by_role("button", name="Example: bundled sentiment test set").click()
    expect(page.get_by_label("Text column", exact=True)).to_have_value("text")
    expect(page.get_by_label("Label column", exact=True)).to_have_value("label")
    page.get_by_role("button", name="Evaluate", exact=True).click()
    figures = page.locator(".evaluate-figures").first
    expect(figures).to_contain_text("Accuracy")
    expect(figures).to_contain_text("192 rows of sentiment-test.csv")
    expect(page.locator(".evaluate-matrix img").first).to_be_visible()
    expect(page.locator(".evaluate-per-label").first).to_contain_text("macro avg")
    expect(page.locator(".evaluate-mistakes").first).to_contain_text("predicted")
    page.screenshot(path=str(artifacts / "insight-evaluate.png"), full_page=True)
