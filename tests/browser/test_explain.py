"""Explain a classification in Chromium: the tokens highlighted by their attribution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEXT = "the movie was great and the music was wonderful"  # the tab's first example


def test_explain_page_highlights_the_tokens(page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Insight", exact=True).click()
    page.get_by_role("tab", name="Explain a classification", exact=True).click()
    page.locator("[data-testid='dataset-cell-0-0']").locator("visible=true").first.click()
    expect(page.locator(".explain-text textarea").locator("visible=true")).to_have_value(TEXT)
    page.get_by_role("button", name="Explain", exact=True).locator("visible=true").click()
    tokens = page.locator(".explain-tokens .token").locator("visible=true")
    expect(tokens.first).to_be_visible()
    raw_block = page.locator(".raw-output").locator("visible=true")
    expect(raw_block).to_contain_text('"delta"')
    raw = json.loads(raw_block.inner_text().removeprefix("Raw output").replace("\n", ""))
    words = [row for row in raw["tokens"] if row["start"] is not None]
    expect(tokens).to_have_count(len(words))
    expect(page.locator(".explain-tokens").locator("visible=true")).to_contain_text(TEXT)
    towards = page.locator(".explain-tokens .token.towards").locator("visible=true")
    expect(towards).to_have_count(sum(row["attribution"] >= 0 for row in words))
    expect(page.locator(".explain-summary").locator("visible=true").first).to_contain_text("convergence delta")
    page.screenshot(path=str(artifacts / "insight-explain.png"), full_page=True)
