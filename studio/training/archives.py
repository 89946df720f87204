"""A zip of class folders (one folder of images per class), read within the upload caps.

A request lists the zip (its central directory only: names and sizes, no image is read); the
worker extracts it into its run's cache, each image to a path this module makes
(<class>/<n>.<ext>), never to a name from the zip, and then loads it with the `datasets`
"imagefolder" loader. The zip's checks (paths inside its folder, files and unpacked bytes within
the upload caps) and the unpacking are studio/uploads/archives.py's.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from studio.errors import UserError
from studio.uploads.archives import checked_files, extract, open_zip
from studio.uploads.caps import max_upload_rows

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
IMAGE_COLUMN, LABEL_COLUMN = "image", "label"
NOT_A_ZIP = "upload a .zip with one folder of images per class."


def class_images(archive: zipfile.ZipFile, name: str) -> list[tuple[zipfile.ZipInfo, str]]:
    """Each image in the zip with its class (the folder it is in); a UserError for an unsafe or oversized zip."""
    images = []
    for info in checked_files(archive, name, max_upload_rows(), "upload fewer or smaller images"):
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if len(parts) >= 2 and parts[-1].lower().endswith(IMAGE_SUFFIXES):
            images.append((info, parts[-2]))
    if not images:
        raise UserError(
            f"{name} holds no images in class folders; zip one folder per class (e.g. cat/, dog/) "
            f"with {', '.join(IMAGE_SUFFIXES)} images in each."
        )
    return images


def listing(path: str | Path) -> Any:
    """The zip's images and classes as a table (image: the name in the zip, label: its folder), for a request."""
    from datasets import Dataset

    path = Path(path)
    if path.suffix.lower() != ".zip":
        raise UserError(f"{path.name}: image classification takes a .zip with one folder of images per class.")
    with open_zip(path, NOT_A_ZIP) as archive:
        images = class_images(archive, path.name)
    return Dataset.from_dict(
        {IMAGE_COLUMN: [info.filename for info, _ in images], LABEL_COLUMN: [label for _, label in images]}
    )


def extract_classes(path: Path, folder: Path) -> Path:
    """Every image into folder/<class>/<n><ext>, a fresh folder; returns folder."""
    shutil.rmtree(folder, ignore_errors=True)
    with open_zip(path, NOT_A_ZIP) as archive:
        images = class_images(archive, path.name)
        placed = [
            (info, f"{label}/{index}{PurePosixPath(info.filename).suffix.lower()}")
            for index, (info, label) in enumerate(images)
        ]
        extract(archive, path.name, placed, folder)
    return folder


def unreadable(folder: Path) -> list[str]:
    """The extracted images Pillow cannot read, by class and number."""
    from PIL import Image

    bad = []
    for image in sorted(folder.glob("*/*")):
        try:
            with Image.open(image) as opened:
                opened.verify()
        except Exception:  # any decoding error: the file is not an image Pillow reads
            bad.append(f"{image.parent.name}/{image.name}")
    return bad


def load(path: str | Path, cache_dir: str | Path) -> Any:
    """The whole zip as a `datasets` table (image: the decoded image, label: the class name), in the worker."""
    import datasets

    path, cache = Path(path), Path(cache_dir)
    folder = extract_classes(path, cache / "images")
    bad = unreadable(folder)
    if bad:
        shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise UserError(f"{path.name} holds {len(bad)} file(s) that are not readable images ({shown}); remove them.")
    datasets.disable_progress_bars()
    table = datasets.load_dataset("imagefolder", data_dir=str(folder), split="train", cache_dir=str(cache))
    if LABEL_COLUMN not in table.column_names:  # one class folder: imagefolder gives no labels
        return table.add_column(LABEL_COLUMN, [folder_names(folder)[0]] * len(table))
    names = table.features[LABEL_COLUMN].names
    labels = [names[index] for index in table[LABEL_COLUMN]]
    return table.remove_columns(LABEL_COLUMN).add_column(LABEL_COLUMN, labels)


def folder_names(folder: Path) -> list[str]:
    return sorted(child.name for child in folder.iterdir() if child.is_dir())
