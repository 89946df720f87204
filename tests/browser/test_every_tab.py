"""Every task tab in Chromium: a screenshot before and after running its first example
(tests/artifacts/every-tab/), and the run gives a result or a sentence, never a bare "Error"."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from studio.tasks.table import TASKS
from studio.tasks.task import MODALITY_TITLES


def tabs_of(page: Page) -> list[tuple[str, str]]:
    """(modality title, task title) of every task sub-tab the page shows, in page order."""
    found = []
    for task in TASKS.values():
        modality = MODALITY_TITLES[task.modality]
        page.get_by_role("tab", name=modality, exact=True).click()
        if page.get_by_role("tab", name=task.title, exact=True).count():
            found.append((modality, task.title))
    return found


def test_every_tab_runs_its_first_example(page: Page, artifacts: Path) -> None:
    folder = artifacts / "every-tab"
    folder.mkdir(exist_ok=True)
    tabs = tabs_of(page)
    assert len(tabs) >= 15, tabs
    for modality, task in tabs:
        page.get_by_role("tab", name=modality, exact=True).click()
        page.get_by_role("tab", name=task, exact=True).click()
        slug = f"{modality}-{task}".lower().replace(" ", "-")
        page.screenshot(path=str(folder / f"{slug}-before.png"), full_page=True)
        # The first example: a table cell (several inputs) or a button (one input).
        example = page.locator("[data-testid='dataset-cell-0-0'], div.gallery").locator("visible=true").first
        example.click()
        page.locator(".run-button").locator("visible=true").first.click()
        assert finished(page), f"{modality} > {task}: no result and no sentence after its first example"
        stop = page.locator(".stop-button").locator("visible=true")
        if stop.count():  # a streaming tab: its Stop is enabled only while the reply streams
            expect(stop.first).to_be_disabled(timeout=180_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(folder / f"{slug}-after.png"), full_page=True)


def finished(page: Page, seconds: float = 180) -> bool:
    """Whether the run ended with a raw output or a sentence in the error box (never a bare Error)."""
    raw = page.locator(".raw-output").locator("visible=true").first
    error = page.locator(".run-error").locator("visible=true")
    for _ in range(int(seconds * 2)):
        if error.count() and error.first.inner_text().strip():
            return True
        text = raw.inner_text().removeprefix("Raw output").strip()
        if text and text not in {"null", "Error"} and "processing" not in text:
            return True
        stop = page.locator(".stop-button").locator("visible=true")
        if stop.count():  # a streaming tab: its Stop is enabled only while the reply streams
            expect(stop.first).to_be_disabled(timeout=180_000)
        page.wait_for_timeout(500)
    return False
