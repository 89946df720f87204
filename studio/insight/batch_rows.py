"""The rows of a batch upload: a table (CSV, TSV, JSON, JSONL) or a zip of images, within the
app's upload caps (studio/uploads/caps.py), read by studio/uploads/tables.py's checks.

A zip's images are unpacked by studio/uploads/archives.py into a fresh temporary folder under
names made here (never the names inside the zip), removed when the batch ends; the table shows
each image by its name in the zip.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.uploads.archives import checked_files, extract, open_zip
from studio.uploads.caps import check_upload, max_upload_rows
from studio.uploads.tables import read_table

IMAGE_COLUMN = "image"  # a zip's one column: the image's name in the zip
NOT_A_ZIP = "zip the images again and upload it."


@dataclass
class UploadRows:
    """A batch upload's rows: values by column, and for a zip the extracted image of each row
    (in `folder`, a temporary folder removed by `remove_images`)."""

    name: str  # the upload's file name (shown; its folder never is)
    columns: list[str]
    values: list[dict[str, Any]]
    images: list[Path] = field(default_factory=list)
    folder: Path | None = None

    def remove_images(self) -> None:
        """The zip's extracted images are gone (the batch that read them has ended)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __len__(self) -> int:
        return len(self.values)


def upload_path(dataset: Any) -> Path:
    """The uploaded file's path (a Gradio file value or a plain path); a UserError when none."""
    if isinstance(dataset, dict):
        dataset = dataset.get("path")
    if not dataset:
        raise UserError("Upload a file first: a CSV, TSV, JSON or JSONL table, or a zip of images.")
    path = Path(str(dataset))
    if not path.is_file():
        raise UserError("The uploaded file is gone (uploads are kept an hour); upload it again.")
    return path


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def columns_of(dataset: Any) -> list[str]:
    """The upload's columns, from its head only (the page fills its column list with them)."""
    path = upload_path(dataset)
    check_upload(path.name, path.stat().st_size)
    if is_zip(path):
        return [IMAGE_COLUMN]
    return list(read_table(path, head=True).column_names)


def read_rows(dataset: Any) -> UploadRows:
    """Every row of the upload; a UserError for an empty, unreadable or too large file."""
    path = upload_path(dataset)
    check_upload(path.name, path.stat().st_size)
    if is_zip(path):
        return read_zip(path)
    table = read_table(path)
    check_upload(path.name, path.stat().st_size, rows=len(table))
    return UploadRows(path.name, list(table.column_names), table.to_list())


def read_zip(path: Path) -> UploadRows:
    """The zip's files, unpacked into a fresh temporary folder, as rows of one column (their
    names in the zip); a file that is not an image gets its sentence in its row."""
    with open_zip(path, NOT_A_ZIP) as archive:
        members = checked_files(archive, path.name, max_upload_rows(), "upload fewer or smaller images")
        if not members:
            raise UserError(f"{path.name} holds no files; zip some images (PNG, JPEG...) and upload it.")
        folder = Path(tempfile.mkdtemp(prefix="studio-batch-images-"))
        placed = [(info, f"{number:06d}{safe_suffix(info.filename)}") for number, info in enumerate(members)]
        try:
            images = extract(archive, path.name, placed, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    values = [{IMAGE_COLUMN: info.filename} for info in members]
    return UploadRows(path.name, [IMAGE_COLUMN], values, images, folder)


def safe_suffix(name: str) -> str:
    """The file name's extension if it is a plain one (.png, .jpeg), else none."""
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""
