"""Helpers shared by the test modules."""

from __future__ import annotations

import asyncio
import csv
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import psutil
from pytest import approx

from studio.config import load_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from studio.training.jobs import JobManager
from studio.training.samples import SAMPLES


def run_snippet(models_yaml: Path, task: str, model: str, inputs: dict[str, Any]) -> tuple[str, Any]:
    """The tab's "Show code" snippet for these inputs, and the `result` it computes when run.

    The snippet is the runnable variant, with the real folders and files (the page names them
    by placeholders and file names: tests/api/test_path_leaks.py)."""
    studio = Studio(load_config(models_yaml), ModelManager())
    code = studio.code(task, model, inputs, ModelSettings(), reveal_paths=True)
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<show code {task}>", "exec"), namespace)
    return code, namespace["result"]


Result = TypeVar("Result")

ADMIN_TOKEN = "admin-secret-for-tests-1234"  # STUDIO_ADMIN_TOKEN of the public app (conftest.public_app)
PUBLIC_LIMITS = {"max_new_tokens": 4000, "num_beams": 3, "num_return_sequences": 2, "prompt_chars": 2000}


def run_async(make: Callable[[], Awaitable[Result]]) -> Result:
    """asyncio.run in a thread of its own: the browser tests keep playwright's event loop
    running in the main thread for the whole session, where asyncio.run would refuse."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


@contextmanager
def browser_page(browser: Any, url: str) -> Iterator[Any]:
    """A page of its own (a new browser context, as a new visitor) on url; closed afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    try:
        yield page
    finally:
        context.close()


def assert_same(got: Any, want: Any) -> None:
    """Equal, floats within 1e-4 (a batched forward pads); labels, words and order exact."""
    if isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            assert_same(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for item, expected in zip(got, want):
            assert_same(item, expected)
    elif isinstance(want, float):
        assert got == approx(want, abs=1e-4)
    else:
        assert got == want


def wait_until(condition: Callable[[], Result], timeout: float, what: str) -> Result:
    """condition()'s first truthy value, polled every 0.1 s; TimeoutError naming `what` after timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} within {timeout} s")


def group_members(pgid: int) -> list[psutil.Process]:
    """The live (not zombie) processes of a process group: a training worker and its children."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (psutil.Error, ProcessLookupError):
            pass
    return members


def tiny_run(jobs: JobManager, tiny: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    """A short text-classification config on the tiny BERT and the bundled sentiment set."""
    arguments = {
        "task": "text-classification",
        "model": tiny.text_classifier,
        "sample": "sentiment",
        "num_train_epochs": 1,
        "per_device_train_batch_size": 8,
        "max_length": 32,
        "max_train_samples": 32,
        "logging_steps": 1,
    }
    return jobs.build_config(**{**arguments, **overrides}).as_json()


def train_status(client: Any, run_id: str, until: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """Follow /train_status until `until(status)` holds or the run ends; returns the last status."""
    job = client.submit(run_id=run_id, api_name="/train_status")
    status: dict[str, Any] = {}
    for outputs in job:
        status = outputs[-1]
        if until(status):
            job.cancel()
            break
    return status


def sentiment_csv(path: Path, rows: int, label: Callable[[int], str] | None = None) -> Path:
    """rows rows of the bundled sentiment set, cycled (label(i) replaces the label when given)."""
    with open(SAMPLES["sentiment"].train, encoding="utf-8") as source:
        bundled = list(csv.DictReader(source))
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for i in range(rows):
            row = bundled[i % len(bundled)]
            writer.writerow([row["text"], row["label"] if label is None else label(i)])
    return path


def upload_run(jobs: JobManager, tiny: SimpleNamespace, path: Path, **overrides: Any) -> dict[str, Any]:
    """tiny_run on an uploaded file instead of the bundled sample."""
    arguments = {"model": tiny.text_classifier, "dataset": str(path), "sample": None, **overrides}
    return tiny_run(jobs, tiny, **arguments)


def write_csv(path: Path, texts: list[str]) -> Path:
    """A CSV of texts with an id column: the shape a batch file has."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "text"])
        writer.writerows([[number, text] for number, text in enumerate(texts)])
    return path
