"""The rows of a batch upload: a table (CSV, TSV, JSON, JSONL) or a zip of images, within the
app's upload caps (studio/training/limits.py), read by studio/uploads/tables.py's checks.

A zip's images are copied into a fresh temporary folder under names made here (never the
names inside the zip, which could point anywhere); the table shows each image by its name
in the zip.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.training import limits
from studio.uploads.tables import read_table

IMAGE_COLUMN = "image"  # a zip's one column: the image's name in the zip
COPY_CHUNK = 1 << 20


@dataclass
class Rows:
    """An upload's rows: values by column, and for a zip the extracted image of each row."""

    name: str  # the upload's file name (shown; its folder never is)
    columns: list[str]
    values: list[dict[str, Any]]
    images: list[Path] = field(default_factory=list)

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


def check_size(path: Path, rows: int | None = None) -> None:
    """A UserError when the upload passes the app's byte or row cap."""
    problem = limits.upload_problems(path.name, path.stat().st_size, rows=rows)
    if problem:
        raise UserError(problem)


def columns_of(dataset: Any) -> list[str]:
    """The upload's columns, from its head only (the page fills its column list with them)."""
    path = upload_path(dataset)
    check_size(path)
    if is_zip(path):
        return [IMAGE_COLUMN]
    return list(read_table(path, head=True).column_names)


def read_rows(dataset: Any) -> Rows:
    """Every row of the upload; a UserError for an empty, unreadable or too large file."""
    path = upload_path(dataset)
    check_size(path)
    if is_zip(path):
        return read_zip(path)
    table = read_table(path)
    check_size(path, rows=len(table))
    return Rows(path.name, list(table.column_names), table.to_list())


def image_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The zip's files, in the zip's order, without folders and the hidden files archivers add."""
    members = []
    for info in archive.infolist():
        parts = info.filename.replace("\\", "/").split("/")
        if info.is_dir() or "__MACOSX" in parts or parts[-1].startswith("."):
            continue
        members.append(info)
    return members


def read_zip(path: Path) -> Rows:
    """The zip's images, extracted within the byte cap, as rows of one column (their names)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UserError(f"{path.name} is not a readable zip file; zip the images again and upload it.") from None
    with archive:
        members = image_members(archive)
        if not members:
            raise UserError(f"{path.name} holds no files; zip some images (PNG, JPEG...) and upload it.")
        check_size(path, rows=len(members))
        folder = Path(tempfile.mkdtemp(prefix="studio-batch-images-"))
        budget = limits.max_upload_bytes()
        images = []
        for number, info in enumerate(members):
            target = folder / f"{number:06d}{safe_suffix(info.filename)}"
            try:
                budget -= copy_member(archive, info, target, budget)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError):
                target.write_bytes(b"")  # its row says it is not an image
            if budget < 0:
                raise UserError(
                    f"{path.name} unpacks to more than {limits.max_upload_bytes() / 2**20:g} MB, the most this app "
                    "takes; upload fewer or smaller images."
                )
            images.append(target)
    values = [{IMAGE_COLUMN: info.filename} for info in members]
    return Rows(path.name, [IMAGE_COLUMN], values, images)


def copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Copy one member; returns its bytes, stopping one chunk past the budget (a zip bomb
    is never unpacked whole, whatever sizes its headers claim)."""
    copied = 0
    with archive.open(info) as source, open(target, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            out.write(chunk)
            copied += len(chunk)
            if copied > budget:
                break
    return copied


def safe_suffix(name: str) -> str:
    """The file name's extension if it is a plain one (.png, .jpeg), else none."""
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""
