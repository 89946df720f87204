"""Dynamic batching for encoder tasks: concurrent requests on one model and the same settings
run as ONE forward pass (docs/ARCHITECTURE.md, "Serving many people").

Each request does its own work in its own thread: input checks, notices, reading the image
or audio, the pipeline's preprocess (tokenizing) and postprocess. Only the forward is
shared. A `Batcher` has no thread of its own: the first request to find no batch running
becomes the leader; it waits until the oldest waiting item is `window` seconds old, or
`max_size` items wait, or nothing came for QUIET (2 ms) and no other request for the model
is on its way (`Arrivals`), so a lone request waits 2 ms, not the window. It runs them as
one batch in its own thread, hands each caller its result and lets the next waiting caller
lead the next batch. Forwards on one model run one batch at a time (`Batchers.lock`), so
what arrives meanwhile goes as the next batch.

The batchers of a model live on its LoadedModel (`loaded.batchers`), keyed by the
request's settings (top_k, labels, template...): unloading the model drops them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)
# With Arrivals, a batch leaves once nothing came for this long and nobody is on the way:
# what a lone request pays, where Gradio hands concurrent events over about 1 ms apart.
QUIET = 0.002
Adapter = TypeVar("Adapter", bound=Callable[..., Any])


def batched(adapter: Adapter) -> Adapter:
    """Mark an adapter whose forward goes through a Batcher (the app gives its events a
    concurrency group where many may wait at once). Put it above or below @takes."""
    adapter.__dict__["batched"] = True  # a function attribute, read by Task.batched
    return adapter


@dataclass(eq=False)
class _Item:
    value: Any
    group: Hashable
    arrived: float = field(default_factory=time.monotonic)
    finished: bool = False
    result: Any = None
    error: BaseException | None = None


class Batcher:
    """Runs `function` (a list of values -> a list of results, same order) on the values of
    concurrent `run` calls, at most max_size at once; see the module docstring."""

    def __init__(
        self,
        function: Callable[[list[Any]], Sequence[Any]],
        window: float = 0.005,
        max_size: int = 16,
        lock: threading.Lock | None = None,
        arrivals: Arrivals | None = None,
    ) -> None:
        self.function = function
        self.arrivals = arrivals  # None: always wait the window for company
        self.window = window
        self.max_size = max(1, int(max_size))
        self.lock = lock or threading.Lock()  # held while a batch runs (shared by a model's batchers)
        self.batches = 0  # forwards run
        self.items = 0  # values they carried
        self.largest = 0
        self._cond = threading.Condition()
        self._pending: list[_Item] = []
        self._leading = False

    def run(self, values: Sequence[Any], groups: Sequence[Hashable] | None = None) -> list[Any]:
        """The results of `values`, run with whatever else is waiting. Only values of the same
        group share a batch. An error in a batch is retried value by value, so a failing value
        raises in its own caller only."""
        if self.arrivals is not None:
            self.arrivals.arrived()
        if self.max_size <= 1:  # batching off: the forward in the caller's thread, as before
            return [self._one(value) for value in values]
        groups = groups or [None] * len(values)
        items = [_Item(value, group) for value, group in zip(values, groups)]
        with self._cond:
            self._pending.extend(items)
            self._cond.notify_all()
            while not all(item.finished for item in items):
                if self._leading:
                    self._cond.wait()
                    continue
                self._leading = True
                try:
                    self._lead()
                finally:
                    self._leading = False
                    self._cond.notify_all()
        for item in items:
            if item.error is not None:
                raise item.error
        return [item.result for item in items]

    def _one(self, value: Any) -> Any:
        (result,) = self.function([value])
        return result

    def _lead(self) -> None:
        """Collect one batch and run it (called with the condition held; released while it runs)."""
        self._cond.release()
        try:
            self.lock.acquire()
        finally:
            self._cond.acquire()
        try:
            batch = self._collect()
            self._cond.release()
            try:
                self._process(batch)
            finally:
                self._cond.acquire()
        finally:
            self.lock.release()

    def _collect(self) -> list[_Item]:
        """Wait (condition held) until the batch is full, or the oldest item is window old, or
        (with Arrivals) nothing came for QUIET seconds and no other request is on its way;
        take the batch. A lone request waits QUIET, not the window."""
        while True:
            group = self._pending[0].group
            same = [item for item in self._pending if item.group == group]
            now = time.monotonic()
            left = self._pending[0].arrived + self.window - now
            quiet = min(self.arrivals.quiet, self.window) if self.arrivals is not None else self.window
            quiet_left = max(item.arrived for item in self._pending) + quiet - now
            settled = self.arrivals is not None and quiet_left <= 0 and not self.arrivals.coming()
            if len(same) >= self.max_size or left <= 0 or settled:
                batch = same[: self.max_size]
                self._pending = [item for item in self._pending if item not in batch]  # (by identity)
                return batch
            self._cond.wait(left if self.arrivals is None or self.arrivals.coming() else min(left, quiet_left))

    def _process(self, batch: list[_Item]) -> None:
        try:
            try:
                results = list(self.function([item.value for item in batch]))
                if len(results) != len(batch):
                    raise ValueError(f"a batch function returned {len(results)} results for {len(batch)} values")
                for item, result in zip(batch, results):
                    item.result, item.finished = result, True
            except Exception as exc:
                if len(batch) == 1:
                    raise
                log.warning("A batch of %d failed (%r); running its items one by one", len(batch), exc)
                for item in batch:  # one bad value must not fail the others: each on its own
                    try:
                        item.result = self._one(item.value)
                    except Exception as exc:
                        item.error = exc
                    item.finished = True
            self.batches += 1
            self.items += len(batch)
            self.largest = max(self.largest, len(batch))
        except BaseException as exc:
            for item in batch:
                if not item.finished:
                    item.error, item.finished = exc, True
            if not isinstance(exc, Exception):
                raise


class Arrivals:
    """How many requests are on their way to a model's batchers (in its adapter, reading their
    input, not yet submitted). A leader waits the window only while one is: a lone request
    runs at once, and the first of several does not leave without the others."""

    def __init__(self, quiet: float = QUIET) -> None:
        self.quiet = quiet  # seconds without a new item after which a batch leaves (nobody on the way)
        self._count = 0
        self._guard = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def on_the_way(self) -> Iterator[None]:
        """This thread's request is coming until it submits (Batcher.run) or the block ends."""
        with self._guard:
            self._count += 1
        self._local.coming = True
        try:
            yield
        finally:
            self.arrived()

    def arrived(self) -> None:
        if getattr(self._local, "coming", False):
            self._local.coming = False
            with self._guard:
                self._count -= 1

    def coming(self) -> bool:
        return self._count > 0


class Batchers:
    """A model's batchers, by settings key: its window, maximum batch size, forward lock and arrivals."""

    def __init__(self, window_ms: float = 5.0, max_size: int = 16) -> None:
        self.window = max(0.0, float(window_ms)) / 1000
        self.max_size = max(1, int(max_size))
        self.lock = threading.Lock()
        self._batchers: dict[Hashable, Batcher] = {}
        self._guard = threading.Lock()
        self.arrivals = Arrivals()

    def get(self, key: Hashable, function: Callable[[list[Any]], Sequence[Any]]) -> Batcher:
        """The batcher for key, made with `function` on first use."""
        with self._guard:
            if key not in self._batchers:
                self._batchers[key] = Batcher(function, self.window, self.max_size, self.lock, self.arrivals)
            return self._batchers[key]

    def all(self) -> dict[Hashable, Batcher]:
        with self._guard:
            return dict(self._batchers)


def batchers_of(loaded: Any) -> Batchers | None:
    """The model's batchers, or None for a model that has none (a test double, a remote model)."""
    batchers = getattr(loaded, "batchers", None)
    return batchers if isinstance(batchers, Batchers) else None


def arriving(loaded: Any) -> AbstractContextManager[None]:
    """Around a request's run on a batched model: others' batches wait for it (Studio.stream)."""
    batchers = batchers_of(loaded)
    return batchers.arrivals.on_the_way() if batchers is not None and batchers.max_size > 1 else nullcontext()


def run_batched(
    loaded: Any, key: Hashable, function: Callable[[list[Any]], Sequence[Any]], values: list[Any]
) -> list[Any]:
    """function(values), its forward shared with concurrent requests of the same key."""
    batchers = batchers_of(loaded)
    if batchers is None or batchers.max_size <= 1:  # batching off: as before, one call
        return list(function(values))
    return batchers.get(key, function).run(values)
