"""Shared test fixtures: tiny models, the app launched once per session, a browser."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.app_process import ROOT, free_port, running_app, stop, wait_for_http  # noqa: F401 (re-exported)

ARTIFACTS = ROOT / "tests" / "artifacts"
KINDS = ("unit", "api", "browser")  # tests/<kind>/: no app; the running app; Chromium on the page


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked by its folder, so `-m unit` (or `tests/unit`) picks a kind."""
    for item in items:
        kind = Path(str(item.path)).parent.name
        if kind in KINDS:
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny(tiny_root: Path) -> SimpleNamespace:
    """Every tiny fixture model, by name with _ (tiny.text_classifier is its folder as str)."""
    from tests.fixtures.factory import build_fixtures

    folders = build_fixtures(tiny_root)
    namespace = SimpleNamespace(**{name.replace("-", "_"): str(path) for name, path in folders.items()})
    namespace.folders = folders
    return namespace


@pytest.fixture(scope="session")
def models_yaml(tiny: SimpleNamespace, tiny_root: Path) -> Path:
    from tests.fixtures.factory import write_models_yaml

    return write_models_yaml(tiny.folders, tiny_root / "models.yaml")


@pytest.fixture(scope="session")
def app_url(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app started as a user starts it (python app.py), once per session."""
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    runs = tmp_path_factory.mktemp("runs")
    try:
        with running_app(["--models", str(models_yaml), "--runs-dir", str(runs)], log_path) as (_, url):
            yield url
    finally:
        print(f"app log: {log_path}")


@pytest.fixture(scope="session")
def client(app_url: str):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by playwright; skipped locally without it, required in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a first model load (torch import) can take a while on 2 busy cores

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url: str):
    from tests.helpers import browser_page

    with browser_page(browser, app_url) as page:
        yield page
