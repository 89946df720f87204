"""Run a task over every row of a file, into a CSV.

Every row runs exactly as the task's tab runs it (`Studio.run`: the spec's checks, the
adapter, its notices), from a thread pool as wide as the task's concurrency limit (twice
that for a batched task, so the next batch forms while one runs): the batching layer
(studio/serving/batching.py) runs up to `max_batch_size` rows per forward, and text generation's
continuous batching serves several rows at once. Feature extraction writes each
row's sentence vector, embedded through the same batcher as the tab's requests, a chunk of
rows per forward. A bad row gets its sentence in the `error` column and the rest go on.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.adapters.common import limit_text
from studio.adapters.text import embed_requests
from studio.errors import UserError
from studio.insight.batch_rows import UploadRows, columns_of, read_rows
from studio.insight.batch_run import Outcome, Progress, Ran, guarded, run_units
from studio.insight.batch_tasks import BATCH_TASKS, EMBEDDING_TASK, flat_columns, flat_values, stored_output
from studio.serving.batching import run_batched
from studio.uploads.caps import setting

if TYPE_CHECKING:  # Studio imports Insight, so its type is named for the checker only
    from studio.studio import Studio

EMBEDDING_TITLE = "Sentence vectors (feature extraction)"  # its tab ranks sentences; a batch writes vectors
PLACEHOLDER = "placeholder"  # stands for a row's own value when the settings are checked once
BATCHES_IN_FLIGHT = 2  # a batched task's rows in flight: this many of the model's batches


def max_batch_seconds() -> int:
    """The longest one batch runs (STUDIO_MAX_BATCH_SECONDS); it then stops with the rows done."""
    return setting("STUDIO_MAX_BATCH_SECONDS", 600)


def parse_settings(text: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings box's JSON object (blank: none); a UserError for anything else."""
    if text is None or isinstance(text, Mapping):
        return dict(text or {})
    if not str(text).strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"settings is not valid JSON ({exc.msg} at line {exc.lineno}); fix it or clear it.") from None
    if not isinstance(value, dict):
        raise UserError('settings must be a JSON object by parameter name, e.g. {"top_k": 3}.')
    return value


class BatchActions:
    studio: Studio  # every action reaches models through the app's Studio

    # ------------------------------------------------------------------ what the page offers
    def batch_tasks(self) -> list[tuple[str, str]]:
        """(title, task id) of the tasks a file can be batched with that have models here."""
        return [
            (EMBEDDING_TITLE if task_id == EMBEDDING_TASK else self.studio.task(task_id).title, task_id)
            for task_id in BATCH_TASKS
            if task_id in self.studio.tasks and self.studio.entries(task_id)
        ]

    def batch_columns(self, dataset: Any) -> list[str]:
        """The upload's columns (a zip of images: "image"), from its head."""
        return columns_of(dataset)

    def batch_settings(self, task_id: str) -> dict[str, Any]:
        """The settings a task's batch takes, at the spec's defaults ("" for a required text)."""
        task = self.batch_task(task_id)
        if task_id == EMBEDDING_TASK:
            return {}
        return {param.name: "" if param.required else param.default for param in task.spec.params[1:]}

    def batch_settings_of(self, text: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """The settings box's JSON as a dict (a UserError for bad JSON)."""
        return parse_settings(text)

    def batch_task(self, task_id: str) -> Any:
        task = self.studio.task(task_id)
        if task_id not in BATCH_TASKS:
            names = ", ".join(self.studio.task(name).title for name in BATCH_TASKS if name in self.studio.tasks)
            raise UserError(f"{task.title} cannot batch a file; pick one of these tasks: {names}.")
        return task

    # ------------------------------------------------------------------ the batch
    def batch(
        self,
        task: str,
        model: str,
        dataset: Any,
        column: str,
        settings: dict[str, Any] | str | None = None,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[Path, dict[str, Any]]:
        """Run `task` with `model` on every row's `column`; (the CSV, a summary of the run).

        The CSV holds the row's inputs, the result's flat columns, `output` (the raw output as
        JSON) and `error`. Stop (should_stop) or the time cap keep the rows done so far."""
        started = time.perf_counter()
        task_row = self.batch_task(task)
        entry = self.studio.entry(task, model)
        settings = parse_settings(settings)
        rows = read_rows(dataset)
        try:
            if not column or column not in rows.columns:
                shown = ", ".join(rows.columns)
                raise UserError(f"{rows.name} has no column {str(column)[:80]!r}; pick one of its columns: {shown}.")
            from_columns = self._row_inputs(task_row, rows, column, settings)
            loaded = self.studio.manager.get(entry, task_row, self.studio.settings({}), progress)  # loaded once, here
            if progress is not None:
                progress(0.0, f"0 of {len(rows):,} rows")
            if task == EMBEDDING_TASK:
                units, work, workers = self._embedding_work(loaded, rows, column)
            else:
                units, work, workers = self._row_work(task, model, rows, column, from_columns, settings)
            running = time.perf_counter()
            ran = run_units(units, work, workers, len(rows), progress, should_stop, max_batch_seconds())
        finally:
            rows.remove_images()  # a zip's images: every row that reads one has run
        rate = ran.done / max(time.perf_counter() - running, 1e-9)
        path = write_csv(task, rows, [column, *from_columns], ran.outcomes)
        return path, summary(len(rows), ran, time.perf_counter() - started, rate)

    def _row_inputs(self, task: Any, rows: UploadRows, column: str, settings: dict[str, Any]) -> list[str]:
        """The other inputs read from the file's columns; the settings checked once (a bad
        setting is one sentence for the batch, not one per row)."""
        if task.id == EMBEDDING_TASK:
            if settings:
                raise UserError("Feature extraction takes no settings here (it writes each row's vector); clear them.")
            return []
        params = task.spec.params
        unknown = [name for name in settings if name not in task.spec or name == params[0].name]
        if unknown:
            names = ", ".join(param.name for param in params[1:]) or "none"
            raise UserError(f"{unknown[0]} is not a setting of {task.title}; its settings are: {names}.")
        from_columns = []
        for param in params[1:]:
            given = settings.get(param.name)
            if param.required and (given is None or given == "") and param.name in rows.columns:
                from_columns.append(param.name)
            elif param.required and (given is None or given == ""):
                raise UserError(
                    f"{task.title} needs {param.name}: give it in settings, e.g. "
                    f'{{"{param.name}": "..."}}, or add a column named {param.name} to the file.'
                )
        placeholders = {name: PLACEHOLDER for name in [params[0].name, *from_columns]}
        checked = task.spec.checked({**settings, **placeholders})
        task.spec.precheck(checked)
        return from_columns

    def _row_work(
        self,
        task: str,
        model: str,
        rows: UploadRows,
        column: str,
        from_columns: list[str],
        settings: dict[str, Any],
    ) -> tuple[list[list[int]], Callable[[Sequence[int]], list[Outcome]], int]:
        """One unit per row, each run through Studio.run as the tab runs it."""
        main = self.studio.spec(task).params[0].name
        settings = {key: value for key, value in settings.items() if key not in from_columns}

        def inputs(index: int) -> dict[str, Any]:
            value = rows.images[index] if rows.images else rows.values[index][column]
            values = {main: cell_text(value) if not rows.images else str(value), **settings}
            values.update({name: cell_text(rows.values[index][name]) for name in from_columns})
            return values

        def output(values: dict[str, Any]) -> Any:
            return self.studio.run(task, model, values).output

        def work(unit: Sequence[int]) -> list[Outcome]:
            return [guarded(output, inputs(index)) for index in unit]

        workers = self.studio.concurrency_limit(task)
        if self.studio.task(task).batched:  # a batch forms while the one before it runs
            workers *= BATCHES_IN_FLIGHT
        return [[index] for index in range(len(rows))], work, workers

    def _embedding_work(
        self, loaded: Any, rows: UploadRows, column: str
    ) -> tuple[list[list[int]], Callable[[Sequence[int]], list[Outcome]], int]:
        """Chunks of max_batch_size rows, each embedded as one batch of the tab's batcher."""
        size = max(1, self.studio.manager.max_batch_size)

        def work(unit: Sequence[int]) -> list[Outcome]:
            texts = [guarded(limit_text, cell_text(rows.values[index][column])) for index in unit]
            good = [outcome.output for outcome in texts if not outcome.error]
            requests = [[text] for text in good]
            vectors = iter(run_batched(loaded, "embed", lambda batch: embed_requests(loaded, batch), requests))
            return [outcome if outcome.error else Outcome(next(vectors)[0].tolist()) for outcome in texts]

        units = [list(range(at, min(at + size, len(rows)))) for at in range(0, len(rows), size)]
        return units, work, 2  # one chunk tokenizes while the other runs


def cell_text(value: Any) -> str | None:
    """A table cell as a text input (numbers as written; an empty cell is left empty)."""
    return None if value is None else value if isinstance(value, str) else str(value)


def write_csv(task: str, rows: UploadRows, inputs: list[str], outcomes: list[Outcome]) -> Path:
    """The results as a CSV in a fresh temporary folder: inputs, flat columns, output, error."""
    flat = flat_columns(task)
    names = [*inputs, *flat, "embedding" if task == EMBEDDING_TASK else "output", "error"]
    path = Path(tempfile.mkdtemp(prefix="studio-batch-")) / f"{task.replace('-', '_')}_results.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(names)
        for values, outcome in zip(rows.values, outcomes):
            cells = [values.get(name) for name in inputs]
            if outcome.error:
                cells += [None] * (len(flat) + 1) + [outcome.error]
            else:
                shown = flat_values(task, outcome.output)
                raw = json.dumps(stored_output(task, outcome.output), ensure_ascii=False)
                cells += [shown.get(name) for name in flat] + [raw, ""]
            writer.writerow(cells)
    return path


def summary(rows: int, ran: Ran, seconds: float, rate: float) -> dict[str, Any]:
    """rows in the file, done (with a result or an error cell), failed, seconds in all (the
    model load too), rows_per_second while the rows ran, stopped (and by what)."""
    return {
        "rows": rows,
        "done": ran.done,
        "failed": sum(1 for outcome in ran.outcomes if outcome.error),
        "seconds": round(seconds, 2),
        "rows_per_second": round(rate, 1),
        "stopped": ran.stopped,
        **({"stopped_by": ran.reason} if ran.stopped else {}),
    }
