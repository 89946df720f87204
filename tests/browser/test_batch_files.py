"""Batch over a file in Chromium: upload a file of inputs, run, download the results."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tests.app_process import ROOT
from tests.helpers import write_csv

with open(ROOT / "data" / "sentiment" / "test.csv", encoding="utf-8") as reviews:
    REVIEWS = [row["text"] for row in csv.DictReader(reviews)]


def test_batch_a_file_in_the_browser(page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Insight", exact=True).click()
    page.get_by_role("tab", name="Batch a file", exact=True).click()
    upload = write_csv(tmp_path / "reviews.csv", REVIEWS[:10])
    page.locator(".batch-file input[type=file]").set_input_files(str(upload))
    expect(page.locator(".batch-column input")).to_have_value("text")  # the column list came from the file
    page.get_by_role("button", name="Run on every row", exact=True).click()
    expect(page.locator(".batch-result")).to_contain_text("text_classification_results")
    expect(page.locator(".batch-summary")).to_contain_text('"done": 10')
    expect(page.locator(".batch-preview")).to_contain_text(REVIEWS[0][:20])
    page.screenshot(path=str(artifacts / "insight-batch.png"), full_page=True)
