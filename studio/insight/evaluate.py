"""Evaluate a model on a labelled file: predictions through the task's pipeline, in batches,
scored by scikit-learn (text classification) or seqeval (token classification, the CoNLL way);
speech recognition (a zip of audio files and transcripts, jiwer's WER) is evaluate_speech.py.

    insight.evaluate("text-classification", "runs/2025...", "test.csv", "text", "label")

The file is an upload (CSV, TSV, JSON or JSONL) or a bundled sample's test split; its bytes and
rows are capped as uploads for fine-tuning are (studio/uploads/caps.py), and a request stops
predicting after `max_evaluate_seconds()`, scoring the rows done by then.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import UserError
from studio.insight.evaluate_metrics import classification_scores, tagging_scores
from studio.insight.evaluate_predict import BATCH_ROWS, predict_labels, predict_tags
from studio.insight.evaluate_speech import SPEECH_TASK, evaluate_speech, speech_columns, speech_sample
from studio.results import ProgressCallback
from studio.training.data import as_tags, as_tokens, guess_columns, sample
from studio.training.samples import SAMPLES
from studio.uploads.caps import check_upload, setting
from studio.uploads.tables import column_problems, read_table

if TYPE_CHECKING:  # Studio imports Insight, so its type is named for the checker only
    from studio.studio import Studio

EVALUATED_TASKS = ("text-classification", "token-classification", SPEECH_TASK)
SPEECH_SAMPLE = "speech"  # the example clips, zipped with their transcripts
SAMPLE_COPIES: dict[str, Path] = {}


def max_evaluate_seconds() -> int:
    """How long one evaluation may predict (STUDIO_MAX_EVALUATE_SECONDS overrides it)."""
    return setting("STUDIO_MAX_EVALUATE_SECONDS", 900)


@dataclass(frozen=True)
class LabelledRows:
    """The file's usable rows: texts (or word lists) with their labels (or tag lists)."""

    name: str
    texts: list[Any]
    labels: list[Any]
    numbers: list[int]  # each row's number in the file (1 = the first data row)
    skipped: int  # rows without a text or label, or with as many tags as words not


def check_task(task: str) -> None:
    if task not in EVALUATED_TASKS:
        raise UserError(f"Evaluation on a file works for {', '.join(EVALUATED_TASKS)}; pick one of them.")


def source_file(task: str, dataset: str | Path | None) -> tuple[Path, str]:
    """The file to read and the name results call it: an upload, or a bundled sample's test split."""
    if dataset is None or not str(dataset).strip():
        raise UserError("Upload a labelled file (CSV, TSV or JSONL) or pick a bundled sample first.")
    if str(dataset) in SAMPLES:
        bundled = sample(str(dataset))
        if bundled.task != task:
            raise UserError(f"The bundled {bundled.name!r} set is for {bundled.task}; pick it with that task.")
        return bundled.test, f"bundled {bundled.name} test set"
    path = Path(dataset)
    if not path.is_file():
        raise UserError(f"{path.name} was not found; upload the file again.")
    return path, path.name


def read_rows(task: str, dataset: str | Path | None, text_column: str | None, label_column: str | None) -> LabelledRows:
    """The labelled rows, within the upload caps; a UserError naming what to fix."""
    path, name = source_file(task, dataset)
    check_upload(name, path.stat().st_size)  # before reading a byte
    table = read_table(path)
    check_upload(name, 0, rows=len(table))
    columns = list(table.column_names)
    guessed_text, guessed_label = guess_columns(columns, task)
    text_column, label_column = text_column or guessed_text or "", label_column or guessed_label or ""
    found = column_problems(columns, text_column, label_column)
    if found:
        raise UserError(f"{name} cannot be evaluated: {found[0]}.")
    texts, labels, numbers, skipped = [], [], [], 0
    for number, (text, label) in enumerate(zip(table[text_column], table[label_column]), start=1):
        if task == "token-classification":
            words, tags = as_tokens(text), as_tags(label)
            usable = bool(words) and len(words) == len(tags)
            text, label = words, tags
        else:
            text, label = str(text or "").strip(), str("" if label is None else label).strip()
            usable = bool(text) and bool(label)
        if usable:
            texts.append(text)
            labels.append(label)
            numbers.append(number)
        else:
            skipped += 1
    if not texts:
        raise UserError(f"{name} has no row with both a {text_column!r} and a {label_column!r} to evaluate on.")
    return LabelledRows(name, texts, labels, numbers, skipped)


class EvaluateActions:
    studio: Studio  # every action reaches models through the app's Studio

    def evaluate_columns(self, task: str, dataset: str | Path | None) -> dict[str, Any]:
        """The file's columns and the guessed text and label columns (reads only its head)."""
        check_task(task)
        if task == SPEECH_TASK:  # a zip: its table's file and text columns
            return speech_columns(dataset)
        path, _ = source_file(task, dataset)
        columns = list(read_table(path, head=True).column_names)
        text, label = guess_columns(columns, task)
        return {"columns": columns, "text_column": text, "label_column": label}

    def evaluate_sample(self, name: str) -> tuple[str, str]:
        """(a copy of the bundled sample's test file in a fresh temporary folder, its task): what
        the page's file box shows when a bundled sample is picked."""
        if name == SPEECH_SAMPLE:
            return speech_sample(), SPEECH_TASK
        bundled = sample(name)
        copy = SAMPLE_COPIES.get(name)
        if copy is None or not copy.is_file():  # one copy per sample and process, not one per click
            copy = Path(tempfile.mkdtemp(prefix="studio-evaluate-")) / f"{bundled.name}-test{bundled.test.suffix}"
            shutil.copyfile(bundled.test, copy)
            SAMPLE_COPIES[name] = copy
        return str(copy), bundled.task

    def evaluate(
        self,
        task: str,
        model: str,
        dataset: str | Path | None,
        text_column: str | None,
        label_column: str | None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Scores of the model on the labelled file (plain data: the API's raw output)."""
        check_task(task)
        entry = self.studio.entry(task, model)
        if entry.source == "openai":
            raise UserError(f"{entry.display_name} runs on a remote server; evaluate a model that runs here.")
        if task == SPEECH_TASK:  # text_column: the audio files' column; label_column: the transcripts'
            return evaluate_speech(
                self.studio, entry, dataset, text_column, label_column, max_evaluate_seconds(), progress
            )
        rows = read_rows(task, dataset, text_column, label_column)
        loaded = self.studio.manager.get(entry, self.studio.task(task), None, progress)
        predict = predict_tags if task == "token-classification" else predict_labels
        total, deadline = len(rows.texts), time.monotonic() + max_evaluate_seconds()
        predictions: list[Any] = []
        for start in range(0, total, BATCH_ROWS):
            if time.monotonic() > deadline:
                break
            predictions += predict(loaded, rows.texts[start : start + BATCH_ROWS])
            if progress is not None:
                progress(len(predictions) / total, f"row {len(predictions)} of {total}")
        done = len(predictions)
        model_labels = [str(label) for _, label in sorted(loaded.model.config.id2label.items())]
        score = tagging_scores if task == "token-classification" else classification_scores
        result = score(rows.texts[:done], rows.labels[:done], predictions, model_labels, rows.numbers[:done])
        stopped = None
        if done < total:
            stopped = f"the time limit of {max_evaluate_seconds()} s was reached after {done:,} of {total:,} rows"
        return {
            "task": task,
            "model": entry.public_id,
            "dataset": rows.name,
            "rows": done,
            "skipped_rows": rows.skipped,
            "stopped_early": stopped,
            **result,
        }
