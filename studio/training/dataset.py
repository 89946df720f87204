"""A run's data, the way its kind reads it: an upload or a bundled sample told apart, the
columns guessed, the labels counted, every problem said in one sentence (a request's look), and
the whole file read, capped, validated and split (the worker's).

The kind decides (kinds/table.py): how its columns are guessed and its table checked, whether
its label column holds labels to count, and whether its upload is a table file at all (a zip of
images is not). A task no kind trains reads as a text classifier's table.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.training.data import count_labels, sample
from studio.training.kinds.base import Kind
from studio.training.kinds.table import KINDS
from studio.uploads.caps import check_upload
from studio.uploads.tables import is_large, read_table

DEFAULT_KIND = KINDS["text-classification"]


def kind_of(task: str) -> Kind:
    return KINDS.get(task, DEFAULT_KIND)


@dataclass
class DataSummary:
    """What a data file holds: its columns, a guess at the mapping, and the labels with counts."""

    rows: int
    columns: list[str]
    text_column: str | None
    label_column: str | None
    label_counts: dict[str, int] = field(default_factory=dict)


def label_counts(table: Any, task: str, label_column: str) -> dict[str, int]:
    """Every label with how often it occurs, most common first (none for a kind without labels)."""
    return count_labels(table, task, label_column) if kind_of(task).labelled else {}


@dataclass(frozen=True)
class Chosen:
    """The data a run would train on, read: an upload, or else a bundled sample."""

    table: Any
    task: str  # an upload's: the one asked for; a sample's: its own
    source: dict[str, Any]  # config.json's "data" section
    text_column: str | None  # the guessed (upload) or known (sample) mapping
    label_column: str | None
    partial: bool = False  # a large upload: the table is its head; the worker checks the whole file

    @property
    def name(self) -> str:
        return str(self.source["name"])

    def summary(self) -> DataSummary:
        counts = label_counts(self.table, self.task, self.label_column) if self.label_column else {}
        columns = list(self.table.column_names)
        return DataSummary(len(self.table), columns, self.text_column, self.label_column, counts)


def choose(dataset: str | Path | None, sample_name: str | None, task: str) -> Chosen | None:
    """The one place an upload and a sample are told apart: the upload wins; None when neither is given."""
    if dataset:
        kind = kind_of(task)
        table = kind.read_upload(Path(dataset)) if kind.read_upload else read_table(dataset, head=True)
        text, label = kind.guess_columns(list(table.column_names))
        source = {"train_file": str(dataset), "name": Path(dataset).name}
        return Chosen(table, task, source, text, label, partial=kind.read_upload is None and is_large(dataset))
    if sample_name:
        bundled = sample(sample_name)
        source = {"sample": sample_name, "name": f"bundled {sample_name} set"}
        return Chosen(read_table(bundled.train), bundled.task, source, bundled.text_column, bundled.label_column)
    return None


def training_data(dataset: str | Path | None, sample_name: str | None, task: str) -> Chosen:
    """The data for a run of this task; a UserError when there is none or the sample is another task's."""
    chosen = choose(dataset, sample_name, task)
    if chosen is None:
        raise UserError("Upload a data file (CSV, TSV, JSON or JSONL) or pick a bundled sample first.")
    if chosen.task != task:
        raise UserError(f"The bundled {sample_name!r} set is for {chosen.task}; pick it with that task.")
    return chosen


def recount(dataset: str | Path | None, sample_name: str | None, task: str, label_column: str) -> dict[str, int]:
    """Label counts for another label column (empty when there is no data or no such column)."""
    chosen = choose(dataset, sample_name, task) if label_column else None
    if chosen is None or label_column not in chosen.table.column_names:
        return {}
    return label_counts(chosen.table, task, label_column)


def summarize(path: str | Path, task: str) -> DataSummary:
    """Columns, the guessed mapping and label counts of an uploaded file (for the UI)."""
    chosen = choose(path, None, task)
    if chosen is None:
        raise UserError("Upload a data file (CSV, TSV, JSON or JSONL) first.")
    return chosen.summary()


def validate(
    table: Any, task: str, text_column: str, label_column: str, name: str = "The data", header_only: bool = False
) -> None:
    """A UserError listing every problem at once, or nothing (header_only: the columns only)."""
    kind = kind_of(task)
    if header_only:
        found = kind.header_problems(list(table.column_names), text_column, label_column)
    else:
        found = kind.problems(table, text_column, label_column)
    if found:
        raise UserError(f"{name} cannot be used for training: {'; '.join(found)}.")


def load_for_run(
    data: dict[str, Any], task: str, text_column: str, label_column: str, seed: int, cache_dir: Path
) -> tuple[Any, Any, dict[str, int]]:
    """(train, eval, label counts) for a run's data section, read whole in the worker: a bundled
    sample, or the upload in the run dir, checked against the upload caps and validated.

    A single uploaded file is split 85/15 (seeded) so each epoch can be evaluated.
    """
    if data.get("sample"):
        chosen = sample(data["sample"])
        train, test = read_table(chosen.train, cache_dir), read_table(chosen.test, cache_dir)
        return train, test, label_counts(train, task, label_column)
    path = Path(data["train_file"])
    name = data.get("name") or path.name
    kind = kind_of(task)
    check_upload(name, path.stat().st_size)  # before reading a byte
    table = (kind.read_whole or read_table)(path, cache_dir)
    check_upload(name, 0, rows=len(table))
    counts = label_counts(table, task, label_column) if label_column in table.column_names else {}
    check_upload(name, 0, labels=len(counts))
    validate(table, task, text_column, label_column, name)
    if len(table) < 10:
        return table, table, counts
    split = table.train_test_split(test_size=0.15, seed=seed)
    return split["train"], split["test"], counts


def save_upload(source: str | Path, run_dir: Path) -> Path:
    """Copy an uploaded file into the run dir so the run never depends on a temp file."""
    source = Path(source)
    target_dir = run_dir / "data"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"train{source.suffix.lower()}"
    shutil.copyfile(source, target)  # streamed: a large upload is never read into memory
    return target
