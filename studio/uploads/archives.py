"""Uploaded zips, listed and unpacked safely: the one place a zip is read (fine-tuning's class
folders of images, Insight's zip of images to batch, Insight's zip of audio files and transcripts).

A zip is refused, with one sentence, when the file itself passes the upload byte cap, when any
entry names a path outside its folder (an absolute path, a drive or ".."), when it holds more files
than its caller's cap, or when its files unpack to more than the upload byte cap (their listed
sizes, which zipfile never reads past). Only then are members unpacked, each to a path under a
folder the caller made (a fresh temporary folder, or a run's cache), never to a path the zip
chose unchecked; and the bytes written are counted against the same cap.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from studio.errors import UserError, shorten
from studio.uploads.caps import check_upload, max_upload_bytes

COPY_CHUNK = 1 << 20
HIDDEN_PREFIXES = (".", "__MACOSX")  # hidden files and folders, and the extras macOS adds to zips
# What reading one member can raise on a damaged or unsupported zip (CRC, compression, encryption).
UNREADABLE_MEMBER = (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error)


def _posix(name: str) -> PurePosixPath:
    return PurePosixPath(name.replace("\\", "/"))


def is_outside(name: str) -> bool:
    """Whether a zip entry's name (or a table cell naming one) points outside its folder: an
    absolute path, a Windows drive or a ".." step."""
    path = _posix(name)
    return path.is_absolute() or ".." in path.parts or (bool(path.parts) and ":" in path.parts[0])


def inside_path(name: str) -> PurePosixPath | None:
    """The name as a relative path inside its folder; None when it points outside or is empty."""
    path = _posix(name)
    return None if is_outside(name) or not path.parts else path


def is_hidden(name: str) -> bool:
    """Hidden files and folders and macOS's extras (__MACOSX/, ._name): never part of an upload."""
    return any(part.startswith(HIDDEN_PREFIXES) for part in _posix(name).parts)


@contextmanager
def open_zip(path: Path, remedy: str) -> Iterator[zipfile.ZipFile]:
    """The uploaded zip, opened once its own size is within the upload byte cap; a UserError
    ("<name> is not a zip archive; <remedy>") for a file zipfile cannot open."""
    check_upload(path.name, path.stat().st_size)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UserError(f"{path.name} is not a zip archive; {remedy}") from None
    with archive:
        yield archive


def checked_files(archive: zipfile.ZipFile, name: str, max_files: int, fewer: str) -> list[zipfile.ZipInfo]:
    """The zip's files worth unpacking (no folders, nothing hidden), in the zip's order, once the
    whole zip passes the checks; a UserError naming what to fix ("...; <fewer>." for a cap)."""
    files = [info for info in archive.infolist() if not info.is_dir()]
    if len(files) > max_files:
        raise UserError(f"{name} holds {len(files):,} files and this app takes at most {max_files:,}; {fewer}.")
    unsafe = next((info.filename for info in archive.infolist() if is_outside(info.filename)), None)
    if unsafe is not None:
        raise UserError(
            f"{name} names a file outside its own folder (it holds {shorten(unsafe, 60)!r}, a path outside "
            "the zip); zip the files or folders themselves, with relative paths, and upload that."
        )
    unpacked = sum(info.file_size for info in files)
    if unpacked > max_upload_bytes():
        raise UserError(
            f"{name} unpacks to {unpacked / 2**20:.0f} MB and this app takes at most "
            f"{max_upload_bytes() / 2**20:g} MB; {fewer}."
        )
    return [info for info in files if inside_path(info.filename) is not None and not is_hidden(info.filename)]


def extract(
    archive: zipfile.ZipFile, name: str, placed: Sequence[tuple[zipfile.ZipInfo, str]], folder: Path
) -> list[Path]:
    """Each (member, relative path) unpacked to folder/<relative path>; the paths written, in order.

    The relative paths are the caller's (its own names, or a member's name once checked_files
    passed it) and must stay inside folder. A member that cannot be read is left as an empty file,
    which its reader refuses with its own sentence; past the upload byte cap in all, a UserError."""
    budget = max_upload_bytes()
    written = []
    for info, relative in placed:
        path = _posix(relative)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ValueError(f"{relative!r} is not a relative path inside the folder")
        target = folder.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            budget -= _copy(archive, info, target, budget)
        except UNREADABLE_MEMBER:
            target.write_bytes(b"")
        if budget < 0:
            raise UserError(
                f"{name} unpacks to more than {max_upload_bytes() / 2**20:g} MB, the most this app takes; "
                "upload fewer or smaller files."
            )
        written.append(target)
    return written


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Copy one member; its bytes, stopping one chunk past the budget (zipfile itself stops at the
    member's listed size, so headers that understate a zip bomb unpack no further)."""
    copied = 0
    with archive.open(info) as source, open(target, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            out.write(chunk)
            copied += len(chunk)
            if copied > budget:
                break
    return copied
