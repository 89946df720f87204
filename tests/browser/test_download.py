"""Downloading a model in the page, from the fake Hub (conftest.download_app): the page shows the
progress, the model then runs, and a 404 and a gated (401) repository each give their sentence."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.fixtures.hub_server import GATED, MISSING, FakeHub


def test_download_in_the_page(
    browser: Browser, download_app: str, fake_hub: tuple[FakeHub, str], artifacts: Path
) -> None:
    hub, _ = fake_hub
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(download_app)
    page.get_by_role("tab", name="Text classification", exact=True).click()
    row = page.locator(".download-row").locator("visible=true")
    expect(row).to_contain_text("is not on this machine yet")
    hub.chunk_delay = 0.5  # ~1.5 s for the weights: the progress bar is seen
    try:
        row.get_by_role("button", name="Download").click()
        expect(row).to_contain_text(" of 5 files", timeout=20_000)
        page.screenshot(path=str(artifacts / "download-progress.png"))
        expect(row).to_be_hidden(timeout=60_000)
    finally:
        hub.chunk_delay = 0.0
    expect(page.get_by_text("it loads on the next run").first).to_be_visible()
    page.get_by_text("I loved every minute of this film").locator("visible=true").first.click()  # an example
    page.get_by_role("button", name="Classify").locator("visible=true").click()
    expect(page.locator(".raw-output").locator("visible=true")).to_contain_text('"score"')
    page.screenshot(path=str(artifacts / "download-then-run.png"))

    for repo, sentence in ((MISSING, "was not found on the Hugging Face Hub"), (GATED, "is gated: accept its licence")):
        page.get_by_label("Model", exact=True).locator("visible=true").click()
        page.get_by_role("option", name=repo).click()
        expect(row).to_contain_text("is not on this machine yet")
        row.get_by_role("button", name="Download").click()
        expect(row).to_contain_text(sentence)
    page.screenshot(path=str(artifacts / "download-gated.png"))
    page.context.close()
