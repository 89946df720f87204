"""Downloading a model from the Hub, against a local HTTP server that serves a tiny fixture
repository the way the Hub does (tests/fixtures/hub_server.py), reached through HF_ENDPOINT.

These tests call studio/models/downloading.py directly, and drive an app started with
HF_ENDPOINT on that server and an empty cache (conftest.download_app; the page:
tests/browser/test_download.py).
"""

from __future__ import annotations

import errno
import time
from pathlib import Path

import pytest

from studio.config import ModelEntry
from studio.errors import UserError
from studio.models.downloading import download, explain_download_error
from studio.models.hub import hub_reachable
from studio.policy.access import Access
from tests.app_process import free_port
from tests.fixtures.hub_server import GATED, MISSING, REPO, RUN_FETCHES, FakeHub


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run with HF_HUB_OFFLINE=1 (conftest); these talk to a local server instead."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


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
