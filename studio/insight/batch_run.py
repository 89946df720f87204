"""Running a batch's work units (a row, or a chunk of rows) from a small thread pool, so the
app's batching layer (studio/serving/batching.py) sees a full batch per forward: `workers` units are
in flight at once. Stop and the time cap end it early; what finished is kept, in row order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from studio.errors import UserError

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
PROGRESS_EVERY = 0.25  # seconds between progress reports
POLL = 0.1  # seconds between looks at Stop while units run
UNEXPECTED = "This row failed because of an unexpected error; the details are in the server log."


@dataclass
class Outcome:
    """One row's result: the raw output, or the sentence saying why it failed."""

    output: Any = None
    error: str = ""


@dataclass
class Ran:
    """What a run got through: the outcomes of the first `done` rows, and why it ended early."""

    outcomes: list[Outcome]
    stopped: bool
    reason: str  # "" (every row ran), "stop" or "time limit"

    @property
    def done(self) -> int:
        return len(self.outcomes)


def guarded(work: Callable[..., Any], *args: Any) -> Outcome:
    """work(*args)'s output, or its UserError's sentence (a bug is logged and said generically)."""
    try:
        return Outcome(work(*args))
    except UserError as exc:
        return Outcome(error=str(exc))
    except Exception:
        log.exception("a batch row failed")
        return Outcome(error=UNEXPECTED)


def run_units(
    units: Sequence[Sequence[int]],
    work: Callable[[Sequence[int]], list[Outcome]],
    workers: int,
    rows: int,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    seconds: float | None = None,
) -> Ran:
    """Run work(unit) for each unit (row indices, in row order), `workers` at once.

    Units are submitted in order and the ones started always finish, so what is done when a
    Stop (or the time cap) comes is a prefix of the rows: the CSV keeps it."""
    deadline = None if seconds is None else time.monotonic() + seconds
    results: dict[int, list[Outcome]] = {}
    running: dict[Future[list[Outcome]], int] = {}
    next_unit, reason = 0, ""
    reported, finished_rows = 0.0, 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="studio-batch") as pool:
        while next_unit < len(units) or running:
            if not reason and should_stop is not None and should_stop():
                reason = "stop"
            if not reason and deadline is not None and time.monotonic() > deadline:
                reason = "time limit"
            while not reason and next_unit < len(units) and len(running) < max(1, workers):
                running[pool.submit(work, units[next_unit])] = next_unit
                next_unit += 1
            if not running:
                break
            finished, _ = wait(running, timeout=POLL, return_when=FIRST_COMPLETED)
            for future in finished:
                index = running.pop(future)
                results[index] = future.result()
                finished_rows += len(units[index])
            if progress is not None and time.monotonic() - reported > PROGRESS_EVERY:
                reported = time.monotonic()
                progress(finished_rows / max(1, rows), f"{finished_rows:,} of {rows:,} rows")
    outcomes = [outcome for index in range(len(results)) for outcome in results[index]]
    return Ran(outcomes, bool(reason), reason)
