"""Evaluate speech recognition on a zip of audio files and their transcripts: each file is
transcribed through the app's speech-recognition path (`Studio.run`, as the tab runs it) and
scored with jiwer: word and character error rates, and the rows whose transcript differs.

The zip holds the audio files and one table (CSV, TSV, JSON or JSONL) with a file column (each
file's path in the zip, from the table's folder or the zip's root) and a text column (what is
said). It is checked and extracted by studio/uploads/archives.py into a fresh temporary folder,
removed afterwards: no absolute paths or "..", at most `max_zip_files()` files and the upload byte
cap in all (studio/uploads/caps.py).
Texts are compared after NORMALIZATION (case and punctuation do not count as errors).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from studio.errors import UserError
from studio.results import ProgressCallback
from studio.uploads.archives import checked_files, extract, inside_path, open_zip
from studio.uploads.caps import check_upload, max_zip_files
from studio.uploads.tables import FORMATS, column_problems, read_table

SPEECH_TASK = "automatic-speech-recognition"
FILE_COLUMNS = ("file_name", "file", "filename", "audio", "path")
TEXT_COLUMNS = ("text", "transcript", "transcription", "sentence", "label")
NORMALIZATION = "lower case, punctuation removed, spaces collapsed"
MISTAKES_SHOWN = 50
SAMPLE_CLIPS = {  # examples/audio (examples/README.md): what each clip says
    "quick_brown_fox.wav": "The quick brown fox jumps over the lazy dog.",
    "welcome.wav": "Hello, and welcome to Transformers Studio.",
    "question.wav": "What is the weather like in Paris today?",
    "review.wav": "I really enjoyed this film, the music was wonderful.",
}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "audio"
SAMPLE_COPY: list[Path] = []
NOT_A_ZIP = "upload a .zip of audio files with a CSV or JSONL of transcripts."
FEWER = "upload fewer or shorter audio files"


@dataclass(frozen=True)
class SpeechRows:
    """The zip's usable rows: each audio file with its reference transcript."""

    name: str
    files: list[Path]
    texts: list[str]
    numbers: list[int]  # each row's number in the table (1 = the first data row)
    skipped: int  # rows without a file name or a transcript


def normalized(text: str) -> str:
    """The text as compared: NORMALIZATION, by jiwer's own transforms."""
    import jiwer

    steps = [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]  # type: ignore[no-untyped-call]  # jiwer's RemovePunctuation() is unannotated
    return str(jiwer.Compose(steps)(str(text or "")))


def checked_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The zip's files, after the caps and path checks (a UserError naming what to fix)."""
    return checked_files(archive, name, max_zip_files(), FEWER)


def table_member(members: list[zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    """The zip's one table of file names and transcripts."""
    tables = [info for info in members if PurePosixPath(info.filename).suffix.lower() in FORMATS]
    if len(tables) != 1:
        found = f"{len(tables)} tables ({', '.join(info.filename for info in tables[:5])})" if tables else "no table"
        raise UserError(
            f"{name} holds {found}; put one CSV, TSV or JSONL with a file column and a text column beside the audio."
        )
    return tables[0]


@contextmanager
def opened(dataset: str | Path | None) -> Iterator[tuple[zipfile.ZipFile, str]]:
    """The uploaded zip, opened, and its name (never its server path)."""
    if dataset is None or not str(dataset).strip():
        raise UserError("Upload a zip of audio files with a CSV or JSONL of their transcripts first.")
    path = Path(dataset)
    if not path.is_file():
        raise UserError(f"{path.name} was not found; upload the file again.")
    with open_zip(path, NOT_A_ZIP) as archive:
        yield archive, path.name


def guess(columns: list[str]) -> tuple[str | None, str | None]:
    """The likely file and text columns, by name."""
    lowered = {column.lower(): column for column in columns}
    file = next((lowered[name] for name in FILE_COLUMNS if name in lowered), None)
    text = next((lowered[name] for name in TEXT_COLUMNS if name in lowered and lowered[name] != file), None)
    return file, text


def speech_columns(dataset: str | Path | None) -> dict[str, Any]:
    """The zip's table's columns and the guessed file and text columns (reads only the table's head)."""
    with opened(dataset) as (archive, name), tempfile.TemporaryDirectory(prefix="studio-evaluate-") as scratch:
        table = table_member(checked_members(archive, name), name)
        [table_path] = extract(archive, name, [(table, table.filename)], Path(scratch))
        columns = list(read_table(table_path, head=True).column_names)
    file, text = guess(columns)
    return {"columns": columns, "text_column": file, "label_column": text}


def audio_file(folder: Path, table: Path, cell: str) -> Path | None:
    """The audio file a table cell names: from the table's folder, else from the zip's root."""
    relative = inside_path(cell.strip())
    if relative is None:
        return None
    for base in (table.parent, folder):
        path = base.joinpath(*relative.parts)
        if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
            return path
    return None


def read_speech_rows(
    dataset: str | Path | None, folder: Path, file_column: str | None, text_column: str | None
) -> SpeechRows:
    """The zip extracted into folder and its usable rows; a UserError naming what to fix."""
    with opened(dataset) as (archive, name):
        members = checked_members(archive, name)
        table_info = table_member(members, name)
        written = extract(archive, name, [(info, info.filename) for info in members], folder)
    table_path = written[members.index(table_info)]
    table = read_table(table_path)
    check_upload(name, 0, rows=len(table))
    columns = list(table.column_names)
    guessed_file, guessed_text = guess(columns)
    file_column, text_column = file_column or guessed_file or "", text_column or guessed_text or ""
    found = column_problems(columns, file_column, text_column)
    if found:
        raise UserError(f"{name} cannot be evaluated: {found[0]}.")
    files, texts, numbers, skipped = [], [], [], 0
    for number, (cell, text) in enumerate(zip(table[file_column], table[text_column]), start=1):
        cell, text = str(cell or "").strip(), str(text or "").strip()
        if not cell or not normalized(text):
            skipped += 1
            continue
        path = audio_file(folder, table_path, cell)
        if path is None:
            raise UserError(
                f"Row {number} of {table_info.filename} names {cell!r}, which is not in {name}; "
                "add the file or fix the file column."
            )
        files.append(path)
        texts.append(text)
        numbers.append(number)
    if not files:
        raise UserError(f"{name} has no row with both a {file_column!r} and a {text_column!r} to evaluate on.")
    return SpeechRows(name, files, texts, numbers, skipped)


def speech_scores(rows: SpeechRows, folder: Path, predicted: list[str]) -> dict[str, Any]:
    """WER and CER (jiwer) of the transcripts done, and the rows whose transcript differs."""
    import jiwer

    done = len(predicted)
    expected = [normalized(text) for text in rows.texts[:done]]
    heard = [normalized(text) for text in predicted]
    words, characters = jiwer.process_words(expected, heard), jiwer.process_characters(expected, heard)
    mistakes = [
        {
            "row": number,
            "file": path.relative_to(folder).as_posix(),
            "expected": text,
            "predicted": said,
            "wer": float(jiwer.wer(want, got)),
        }
        for number, path, text, said, want, got in zip(rows.numbers, rows.files, rows.texts, predicted, expected, heard)
        if want != got
    ]
    return {
        "wer": float(words.wer),
        "cer": float(characters.cer),
        "substitutions": words.substitutions,
        "deletions": words.deletions,
        "insertions": words.insertions,
        "reference_words": words.hits + words.substitutions + words.deletions,
        "text_normalization": NORMALIZATION,
        "mistakes": mistakes[:MISTAKES_SHOWN],
        "mistake_count": len(mistakes),
    }


def evaluate_speech(
    studio: Any,
    entry: Any,
    dataset: str | Path | None,
    file_column: str | None,
    text_column: str | None,
    seconds: float,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Each file transcribed as the Speech recognition tab does, until `seconds` have passed; the scores."""
    folder = Path(tempfile.mkdtemp(prefix="studio-evaluate-"))
    try:
        rows = read_speech_rows(dataset, folder, file_column, text_column)
        studio.manager.get(entry, studio.task(SPEECH_TASK), None, progress)  # the load, with its progress
        total, deadline = len(rows.files), time.monotonic() + seconds
        predicted: list[str] = []
        for path, number in zip(rows.files, rows.numbers):
            if time.monotonic() > deadline:
                break
            try:
                result = studio.run(SPEECH_TASK, entry.id, {"audio": str(path)})
            except UserError as exc:
                raise UserError(f"{path.name} (row {number}): {exc}") from None
            predicted.append(str(result.output["text"]))
            if progress is not None:
                progress(len(predicted) / total, f"file {len(predicted)} of {total}")
        scores = speech_scores(rows, folder, predicted)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    done = len(predicted)
    stopped = (
        None if done == total else f"the time limit of {seconds:g} s was reached after {done:,} of {total:,} files"
    )
    return {
        "task": SPEECH_TASK,
        "model": entry.public_id,
        "dataset": rows.name,
        "rows": done,
        "skipped_rows": rows.skipped,
        "stopped_early": stopped,
        **scores,
    }


def speech_sample() -> str:
    """A zip of the example clips and their transcripts (one per process): the page's example."""
    if SAMPLE_COPY and SAMPLE_COPY[0].is_file():
        return str(SAMPLE_COPY[0])
    path = Path(tempfile.mkdtemp(prefix="studio-evaluate-")) / "speech-clips.zip"
    with zipfile.ZipFile(path, "w") as archive:
        lines = ["file_name,text", *(f'{name},"{text}"' for name, text in SAMPLE_CLIPS.items())]
        archive.writestr("metadata.csv", "\n".join(lines) + "\n")
        for name in SAMPLE_CLIPS:
            archive.write(EXAMPLES / name, name)
    SAMPLE_COPY[:] = [path]
    return str(path)
