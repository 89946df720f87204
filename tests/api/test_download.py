"""Downloading a model from the Hub, against a local HTTP server that serves a tiny fixture
repository the way the Hub does (tests/fixtures/hub_server.py), reached through HF_ENDPOINT.

Unit tests call studio/models/downloading.py directly; the browser test starts the app with
HF_ENDPOINT on that server and an empty cache: the page shows the progress, the model then
runs, and a 404 and a gated (401) repository each give their sentence.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from playwright.sync_api import Browser, expect

from studio.access import Access
from studio.config import ModelEntry
from studio.errors import UserError
from studio.models.downloading import download, explain_download_error
from studio.models.hub import hub_reachable
from tests.app_process import free_port, running_app
from tests.fixtures.hub_server import FakeHub, serving

REPO, MISSING, GATED = "studio-test/tiny-text-classifier", "studio-test/missing", "studio-test/gated"
RUN_FETCHES = "studio-test/fetched-by-a-run"  # never downloaded with the button: a Run fetches it


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run with HF_HUB_OFFLINE=1 (conftest); these talk to a local server instead."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture(scope="module")
def fake_hub(tiny: SimpleNamespace) -> Iterator[tuple[FakeHub, str]]:
    folder = Path(tiny.text_classifier)
    hub = FakeHub({REPO: folder, GATED: folder, RUN_FETCHES: folder}, gated={GATED})
    with serving(hub) as url:
        yield hub, url


def test_download_reports_bytes_and_files(online: None, fake_hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    hub, url = fake_hub
    hub.chunk_delay = 0.05
    reports: list[tuple[float, str]] = []
    try:
        done = download(ModelEntry(id=REPO), lambda f, m: reports.append((f, m)), url, tmp_path)
    finally:
        hub.chunk_delay = 0.0
    assert done.startswith(f"Downloaded {REPO} (") and "5 files" in done
    assert any(" of 5 files" in message and "KB of " in message for _, message in reports), reports
    assert reports[-1] == (1.0, f"Downloaded {REPO}: 159.0 KB · 5 of 5 files") or reports[-1][0] == 1.0
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions)
    snapshot = next((tmp_path / "models--studio-test--tiny-text-classifier" / "snapshots").iterdir())
    assert (snapshot / "config.json").is_file() and (snapshot / "model.safetensors").is_file()
    again = download(ModelEntry(id=REPO), None, url, tmp_path)
    assert again.endswith("is downloaded already; it loads on the next run.")


def test_not_found_and_gated_give_their_sentence(online: None, fake_hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    _, url = fake_hub
    with pytest.raises(UserError, match=f"Model {MISSING} was not found on the Hugging Face Hub"):
        download(ModelEntry(id=MISSING), None, url, tmp_path)
    with pytest.raises(UserError, match=f"Model {GATED} is gated: accept its licence on its Hub page"):
        download(ModelEntry(id=GATED), None, url, tmp_path)


def test_too_little_disk_space(
    online: None, fake_hub: tuple[FakeHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = fake_hub
    monkeypatch.setattr("studio.models.downloading.free_bytes", lambda folder: 1000)
    with pytest.raises(UserError, match=r"Not enough disk space for .*: it needs 159\.0 KB and .* has 1\.0 KB free"):
        download(ModelEntry(id=REPO), None, url, tmp_path)
    full = explain_download_error(ModelEntry(id=REPO), OSError(errno.ENOSPC, "No space left on device"))
    assert str(full).startswith(f"The disk is full: {REPO} could not be saved to ")


def test_unreachable_hub_is_known_at_once() -> None:
    started = time.perf_counter()
    assert not hub_reachable(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert time.perf_counter() - started < 1


def test_download_is_for_the_admin_in_public_mode(models_yaml: Path) -> None:
    from studio.config import load_config
    from studio.models.manager import ModelManager
    from studio.studio import Studio

    access = Access(public=True, admin_token="secret")
    studio = Studio(load_config(models_yaml), ModelManager(), public=True, access=access)
    visitor = access.actor("a-session")
    with pytest.raises(UserError, match="Downloading models needs the admin credential on this public app"):
        studio.download("text-classification", studio.default_model("text-classification"), None, visitor)


# ------------------------------------------------------------------------------- in the page
@pytest.fixture(scope="module")
def download_app(fake_hub: tuple[FakeHub, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _, url = fake_hub
    work = tmp_path_factory.mktemp("download-app")
    listed = [{"id": repo, "label": repo} for repo in (REPO, MISSING, GATED, RUN_FETCHES)]
    models = {"tasks": {"text-classification": {"models": listed}}}
    (work / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_ENDPOINT=url, HF_HOME=str(work / "hf-home"))
    arguments = ["--models", str(work / "models.yaml"), "--runs-dir", str(work / "runs")]
    with running_app(arguments, work / "app.log", env=env) as (_, app_url):
        yield app_url
    log = (work / "app.log").read_text(encoding="utf-8")
    assert "Retrying" not in log


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


def test_a_run_on_a_model_not_downloaded_shows_the_download_progress(
    download_app: str, fake_hub: tuple[FakeHub, str]
) -> None:
    """With the Hub online, Run on a listed model not on the machine downloads it first, with the
    same bytes-and-files progress as the Download button, then answers."""
    from gradio_client import Client

    hub, _ = fake_hub
    client = Client(download_app, verbose=False)
    hub.chunk_delay = 0.3
    try:
        job = client.submit(RUN_FETCHES, "A fine day.", 2, api_name="/text_classification")
        seen: set[str] = set()
        while not job.done():
            for unit in job.status().progress_data or []:
                seen.add(str(unit.desc))
            time.sleep(0.05)
        result = job.result()
    finally:
        hub.chunk_delay = 0.0
    assert any(" of 5 files" in desc and "KB of " in desc for desc in seen), seen
    raw = result[-1] if isinstance(result, (list, tuple)) else result
    assert len(raw) == 2 and all(0 <= item["score"] <= 1 for item in raw), raw  # top_k=2 labels, scored
