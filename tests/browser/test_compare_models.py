"""Compare models in Chromium: both models' answers side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_the_page_shows_both_models_side_by_side(page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Insight", exact=True).click()
    page.get_by_role("tab", name="Two models side by side", exact=True).click()
    task = page.get_by_label("Task", exact=True).locator("visible=true")
    expect(task).not_to_have_value("Translation (Text)")  # it opens on a task that does not generate
    task.click()
    page.get_by_role("option", name="Translation (Text)", exact=True).click()  # refreshes the models and inputs
    expect(page.get_by_label("Model A", exact=True).locator("visible=true")).to_have_value("tiny translator-marian")
    expect(page.get_by_label("Model B", exact=True).locator("visible=true")).to_have_value("tiny translator-t5")
    editor = page.locator(".compare-inputs .cm-content").locator("visible=true")
    expect(editor).to_contain_text("The weather is lovely today")  # the Translation tab's first example
    editor.fill(json.dumps({"text": "The weather is lovely today.", "max_new_tokens": 6}))
    page.get_by_role("button", name="Compare", exact=True).click()
    for side, model in (("a", "tiny translator-marian"), ("b", "tiny translator-t5")):
        head = page.locator(f".prose.compare-{side}-head").locator("visible=true")
        expect(head).to_contain_text(f"Model {side.upper()} · {model}")
        expect(head).to_contain_text("ran in")
        expect(page.locator(f".compare-{side}-text textarea").locator("visible=true")).not_to_have_value("")
    page.screenshot(path=str(artifacts / "insight-compare.png"), full_page=True)
