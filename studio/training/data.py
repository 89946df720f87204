"""Training data: read CSV/TSV/JSON/JSONL or a bundled sample with `datasets`, map columns,
discover labels with their counts, validate with one clear message, and tokenize (with NER
labels aligned to sub-words)."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.training import instructions, limits
from studio.training.kinds import hook
from studio.training.samples import DATA_DIR, SAMPLES, Sample
from studio.uploads.tables import FORMATS, check_encoding, is_large, read_table

__all__ = ["DATA_DIR", "FORMATS", "SAMPLES", "Sample", "check_encoding", "read_table"]


@dataclass
class DataSummary:
    """What a data file holds: its columns, a guess at the mapping, and the labels with counts."""

    rows: int
    columns: list[str]
    text_column: str | None
    label_column: str | None
    label_counts: dict[str, int] = field(default_factory=dict)


def sample(name: str) -> Sample:
    if name not in SAMPLES:
        raise UserError(f"There is no bundled dataset {name!r}; pick one of {', '.join(SAMPLES)}.")
    return SAMPLES[name]


def guess_columns(columns: list[str], task: str) -> tuple[str | None, str | None]:
    """The likely text and label columns, by name."""
    if task == instructions.TEXT_GENERATION:
        return instructions.guess_columns(columns)
    if (own := hook(task, "guess_columns")) is not None:  # summaries, translations, QA, images
        return own(columns)
    lowered = {column.lower(): column for column in columns}
    text_names = ["tokens", "words", "text", "sentence"] if task == "token-classification" else []
    text_names += ["text", "sentence", "content", "review", "review_text", "document", "tokens", "words"]
    label_names = ["ner_tags", "tags", "labels", "label"] if task == "token-classification" else []
    label_names += ["label", "labels", "sentiment", "category", "class", "target", "ner_tags", "tags"]
    text = next((lowered[name] for name in text_names if name in lowered), None)
    label = next((lowered[name] for name in label_names if name in lowered and lowered[name] != text), None)
    if text is None:
        text = next((c for c in columns if c != label), None)
    if label is None:
        label = next((c for c in columns if c != text), None)
    return text, label


def as_tokens(value: Any) -> list[str]:
    """A token-classification text cell: a list of words, or a string split on spaces."""
    if isinstance(value, list):
        return [str(token) for token in value]
    return str(value or "").split()


def as_tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(tag) for tag in value]
    return str(value or "").split()


def label_counts(table: Any, task: str, label_column: str) -> dict[str, int]:
    """Every label with how often it occurs (per row, or per token for NER), most common first."""
    counts: Counter[str] = Counter()
    labelled = task != instructions.TEXT_GENERATION and hook(task, "LABELLED", True)  # else no labels to count
    for value in table[label_column] if labelled else ():
        if task == "token-classification":
            counts.update(as_tags(value))
        elif value is not None and str(value).strip():
            counts[str(value).strip()] += 1
    return dict(counts.most_common())


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
        return self.source["name"]

    def summary(self) -> DataSummary:
        counts = label_counts(self.table, self.task, self.label_column) if self.label_column else {}
        columns = list(self.table.column_names)
        return DataSummary(len(self.table), columns, self.text_column, self.label_column, counts)


def choose(dataset: str | Path | None, sample_name: str | None, task: str) -> Chosen | None:
    """The one place an upload and a sample are told apart: the upload wins; None when neither is given."""
    if dataset:
        own = hook(task, "read_upload")  # data that is not one table file (a zip of images)
        table = own(dataset) if own else read_table(dataset, head=True)
        text, label = guess_columns(table.column_names, task)
        source = {"train_file": str(dataset), "name": Path(dataset).name}
        return Chosen(table, task, source, text, label, partial=own is None and is_large(dataset))
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
    return choose(path, None, task).summary()  # type: ignore[union-attr]


def column_problems(columns: list[str], text_column: str, label_column: str) -> list[str]:
    """What is wrong with the column mapping (a header check: cheap for any file size)."""
    missing = [name for name in (text_column, label_column) if not name or name not in columns]
    if missing:
        names = ", ".join(repr(name or "") for name in missing)
        return [f"column {names} is missing (the file has: {', '.join(columns)})"]
    if text_column == label_column:
        return ["the text and label columns are the same column; pick two different ones"]
    return []


def problems(table: Any, task: str, text_column: str, label_column: str) -> list[str]:
    """Everything wrong with the data for this task and mapping (empty when it can train)."""
    if task == instructions.TEXT_GENERATION:
        return instructions.problems(table, text_column, label_column)
    if (own := hook(task, "problems")) is not None:
        return own(table, text_column, label_column)
    found = column_problems(list(table.column_names), text_column, label_column)
    if found:
        return found
    empty_text, empty_label, mismatched = [], [], []
    for row, (text, label) in enumerate(zip(table[text_column], table[label_column]), start=1):
        if task == "token-classification":
            tokens, tags = as_tokens(text), as_tags(label)
            if not tokens:
                empty_text.append(row)
            elif len(tokens) != len(tags):
                mismatched.append(row)
        else:
            if text is None or not str(text).strip():
                empty_text.append(row)
            if label is None or not str(label).strip():
                empty_label.append(row)
    for rows, what in (
        (empty_text, f"an empty {text_column!r}"),
        (empty_label, f"an empty {label_column!r}"),
        (mismatched, "a different number of tokens and tags"),
    ):
        if rows:
            shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
            found.append(f"{len(rows)} row{'s' if len(rows) > 1 else ''} with {what} (row {shown})")
    counts = label_counts(table, task, label_column)
    formulas = [name for name in counts if looks_like_formula(name)]
    if formulas:
        found.append(
            f"{len(formulas)} label{'s' if len(formulas) > 1 else ''} starting with = + - or @ ({formulas[0][:40]!r}), "
            "which spreadsheets run as formulas: rename them"
        )
    if len(counts) < 2:
        only = f" ({next(iter(counts))!r})" if counts else ""
        found.append(f"only one label{only}: a classifier needs at least two")
    return found


def looks_like_formula(value: str) -> bool:
    """A cell a spreadsheet would run (=, @, or + - not starting a number): refused as a label."""
    if value[:1] in ("=", "@"):
        return True
    if value[:1] in ("+", "-"):
        try:
            float(value)
        except ValueError:
            return True
    return False


def validate(
    table: Any, task: str, text_column: str, label_column: str, name: str = "The data", header_only: bool = False
) -> None:
    """A UserError listing every problem at once, or nothing (header_only: the columns only)."""
    if header_only:
        check = instructions.column_problems if task == instructions.TEXT_GENERATION else column_problems
        found = check(list(table.column_names), text_column, label_column)
    else:
        found = problems(table, task, text_column, label_column)
    if found:
        raise UserError(f"{name} cannot be used for training: {'; '.join(found)}.")


def ordered_labels(counts: dict[str, int], task: str) -> list[str]:
    """Label names in id order: sorted, with "O" first for NER."""
    names = sorted(counts)
    if task == "token-classification" and "O" in names:
        names.remove("O")
        names.insert(0, "O")
    return names


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
    problem = limits.upload_problems(name, path.stat().st_size)  # before reading a byte
    table = None if problem else hook(task, "read_whole", read_table)(path, cache_dir)
    problem = problem or limits.upload_problems(name, 0, rows=len(table))
    counts = {} if problem or label_column not in table.column_names else label_counts(table, task, label_column)
    problem = problem or limits.upload_problems(name, 0, labels=len(counts))
    if problem:
        raise UserError(problem)
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
