"""Helpers shared by the test modules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pytest import approx

from studio.config import load_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio


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
