"""Shared test fixtures: tiny models, one Chromium, and one app per configuration for the session
(the app as a user starts it; the public app as a Space starts it; the app on a fake Hub). A
module that starts an app of its own says why."""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from studio.config import parse_config
from studio.training.jobs import JobManager
from tests.app_process import ROOT, running_app
from tests.fixtures.factory import fixtures_config
from tests.fixtures.hub_server import GATED, MISSING, REPO, RUN_FETCHES, FakeHub, serving
from tests.helpers import ADMIN_TOKEN, PUBLIC_LIMITS

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


@pytest.fixture
def jobs(tiny: SimpleNamespace, tmp_path: Path) -> Iterator[JobManager]:
    """A JobManager of the test's own (its runs folder in tmp_path) over the tiny models; stops its runs after."""
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), grace_seconds=5)
    yield manager
    manager.close(stop_running=True)


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
def public_app(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """One app started as a Space starts it (SPACE_ID and STUDIO_ADMIN_TOKEN set), for every
    public-mode test: public limits lowered in its models.yaml (public_limits) and by a flag
    (--public-limit wins), one waiting training run at most. Its runs folder starts empty; the
    admin token must never reach its log."""
    folder = tmp_path_factory.mktemp("public-app")
    config = yaml.safe_load(models_yaml.read_text(encoding="utf-8"))
    # num_beams: models.yaml says 5, the flag says 3 (a flag wins).
    config["public_limits"] = {**PUBLIC_LIMITS, "num_beams": 5, "history_chars": 3000, "running_per_visitor": 2}
    models = folder / "models.yaml"
    models.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    runs = folder / "runs"
    arguments = ["--models", str(models), "--runs-dir", str(runs)]
    arguments += ["--public-limit", f"num_beams={PUBLIC_LIMITS['num_beams']}"]
    env = {**os.environ, "SPACE_ID": "user/space", "STUDIO_ADMIN_TOKEN": ADMIN_TOKEN, "STUDIO_MAX_QUEUED_RUNS": "1"}
    log_path = folder / "app.log"
    try:
        with running_app(arguments, log_path, env) as (_, url):
            yield SimpleNamespace(url=url, runs=runs, log=log_path)
    finally:
        print(f"public app log: {log_path}")
        assert ADMIN_TOKEN not in log_path.read_text(), "the admin token must never be logged"


@pytest.fixture(scope="session")
def fake_hub(tiny: SimpleNamespace) -> Iterator[tuple[FakeHub, str]]:
    """A local server that serves the tiny classifier as three Hub repositories (one gated)."""
    folder = Path(tiny.text_classifier)
    hub = FakeHub({REPO: folder, GATED: folder, RUN_FETCHES: folder}, gated={GATED})
    with serving(hub) as url:
        yield hub, url


@pytest.fixture(scope="session")
def download_app(fake_hub: tuple[FakeHub, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app of its own: HF_ENDPOINT on the fake Hub, the Hub online and an empty model cache,
    listing repositories that are not on this machine."""
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
