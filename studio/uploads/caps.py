"""The caps on an uploaded file, the same for fine-tuning and Insight: its bytes (packed and
unpacked), its rows, its distinct labels, and a zip's files.

Each cap is a constant that an environment variable of the same name overrides
(STUDIO_MAX_UPLOAD_MB=20 python app.py). A request checks the caps it can check cheaply (the
file's size); fine-tuning's worker checks the rest in its first seconds, and the run then fails
with the cap's sentence in its status.
"""

from __future__ import annotations

import os

from studio.errors import UserError


def setting(name: str, default: int) -> int:
    """The environment's value for a cap, or its default (a wrong value keeps the default)."""
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


def max_upload_rows() -> int:
    return setting("STUDIO_MAX_UPLOAD_ROWS", 500_000)


def max_upload_bytes() -> int:
    return setting("STUDIO_MAX_UPLOAD_MB", 100) * 2**20


def max_labels() -> int:
    return setting("STUDIO_MAX_LABELS", 1_000)


def max_zip_files() -> int:
    """How many files a zip of audio files and their transcripts may hold (each is unpacked)."""
    return setting("STUDIO_MAX_ZIP_FILES", 5_000)


def upload_problems(name: str, size: int, rows: int | None = None, labels: int | None = None) -> str | None:
    """The first cap an upload passes, as a sentence; None when it fits."""
    if size > max_upload_bytes():
        return (
            f"{name} is {size / 2**20:.0f} MB and this app takes at most {max_upload_bytes() / 2**20:g} MB; "
            "upload a smaller file."
        )
    if rows is not None and rows > max_upload_rows():
        return f"{name} has {rows:,} rows and this app takes at most {max_upload_rows():,}; upload fewer rows."
    if labels is not None and labels > max_labels():
        return (
            f"{name} has {labels:,} distinct labels and this app takes at most {max_labels():,}; "
            "check the label column, or merge rare labels."
        )
    return None


def check_upload(name: str, size: int, rows: int | None = None, labels: int | None = None) -> None:
    """A UserError with upload_problems' sentence when the upload passes a cap (a request's check)."""
    problem = upload_problems(name, size, rows=rows, labels=labels)
    if problem:
        raise UserError(problem)
