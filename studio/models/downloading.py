"""Downloading a Hub model into the Hugging Face cache, with progress in bytes and files.

`download` asks the Hub for the file list first (a dry run), refuses when the disk is too
small, then fetches the files in a worker thread while the caller reports the bytes on disk
and the files done. Every failure is one sentence (gated, not found, disk full, no network).
Studio.download reaches it (studio/studio.py); the page's row is components/download.py.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from compat.huggingface_hub import hub_cache, repo_cache_folder
from studio.config import ModelEntry
from studio.errors import UserError, shorten
from studio.models.hub import back_online, endpoint
from studio.results import ProgressCallback

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # how often download progress is reported


def human_bytes(count: float) -> str:
    """1234567 -> "1.2 MB" (decimal units, as the Hub shows sizes)."""
    if count < 1000:
        return f"{count:.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        count /= 1000
        if count < 1000 or unit == "GB":
            break
    return f"{count:.1f} {unit}"


def free_bytes(folder: Path) -> int:
    """Free space on the disk that holds folder (or its nearest existing parent)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def explain_download_error(entry: ModelEntry, exc: BaseException, endpoint_url: str | None = None) -> UserError:
    """One sentence for a failed download."""
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    name = entry.id
    while exc.__cause__ is not None and type(exc).__name__ == "DryRunError":  # the listing's own error
        exc = exc.__cause__
    if isinstance(exc, GatedRepoError):  # before RepositoryNotFoundError: it is one
        return UserError(
            f"Model {name} is gated: accept its licence on its Hub page ({endpoint_url or endpoint()}/{name}), "
            "then set HF_TOKEN to a token of that account and restart the app."
        )
    if isinstance(exc, RepositoryNotFoundError):
        return UserError(
            f"Model {name} was not found on the Hugging Face Hub (or it is private: set HF_TOKEN); "
            "check its id in models.yaml."
        )
    if isinstance(exc, RevisionNotFoundError):
        return UserError(f"Revision {entry.revision} of {name} was not found on the Hub; check the sha in models.yaml.")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return UserError(
            f"The disk is full: {name} could not be saved to {cache_root()}; free some space (or set HF_HOME "
            "to a folder on a bigger disk) and press Download again."
        )
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (OfflineModeIsEnabled, LocalEntryNotFoundError, ConnectionError, TimeoutError)) or any(
        marker in text for marker in ("ConnectError", "ConnectTimeout", "ReadTimeout", "Timeout")
    ):
        return UserError(
            f"The download of {name} stopped: the Hugging Face Hub cannot be reached; check the network and "
            "press Download again."
        )
    return UserError(f"The download of {name} failed: {shorten(text, 200)}")


def cache_root(cache_dir: str | Path | None = None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    return hub_cache()


def _bytes_under(folder: Path) -> int:
    total = 0
    if folder.is_dir():
        for path in folder.iterdir():
            with contextlib.suppress(OSError):  # a file finished and renamed meanwhile
                total += path.stat().st_size
    return total


class _Quiet:
    """A tqdm stand-in that shows nothing (huggingface_hub's bars would fill the app's log)."""

    def __init__(self, iterable: Any = None, *args: Any, **kwargs: Any) -> None:
        self.iterable, self.total, self.n = iterable, kwargs.get("total"), 0

    def __iter__(self) -> Any:
        return iter(self.iterable or ())

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:  # update, refresh, close, set_description...
        return lambda *args, **kwargs: None


def download(
    entry: ModelEntry,
    progress: ProgressCallback | None = None,
    endpoint_url: str | None = None,
    cache_dir: str | Path | None = None,
) -> str:
    """Download a Hub entry's files into the cache, reporting bytes and files; the sentence
    that says what was done. A UserError when it cannot (see explain_download_error)."""
    if entry.source != "hub":
        raise UserError(f"{entry.display_name} is not a Hugging Face Hub model; there is nothing to download.")
    back_online()
    from huggingface_hub import snapshot_download

    report = progress or (lambda fraction, message: None)
    options: dict[str, Any] = {
        "revision": entry.revision,
        "endpoint": endpoint_url,
        "cache_dir": cache_dir,
        "tqdm_class": _Quiet,  # progress goes to the page, not to the log
    }
    report(0.0, f"Asking the Hub for the files of {entry.id}…")
    try:
        plan = snapshot_download(entry.id, dry_run=True, **options)
    except Exception as exc:
        raise explain_download_error(entry, exc, endpoint_url) from exc
    todo = [item for item in plan if item.will_download]
    total = sum(item.file_size or 0 for item in todo)
    if not todo:
        return f"{entry.display_name} is downloaded already; it loads on the next run."
    root = cache_root(cache_dir)
    if total > free_bytes(root):
        raise UserError(
            f"Not enough disk space for {entry.id}: it needs {human_bytes(total)} and {root} has "
            f"{human_bytes(free_bytes(root))} free; free some space (or set HF_HOME to a bigger disk)."
        )
    blobs = root / repo_cache_folder(entry.id) / "blobs"
    before = _bytes_under(blobs)
    outcome: list[BaseException | str] = []

    def fetch() -> None:
        try:
            outcome.append(snapshot_download(entry.id, **options))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    started = time.perf_counter()
    worker = threading.Thread(target=fetch, name=f"download-{entry.id}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL_SECONDS)
        done = min(max(_bytes_under(blobs) - before, 0), total)
        files = sum(os.path.exists(item.local_path) for item in todo)
        report(
            done / total if total else 0.0,
            f"Downloading {entry.id}: {human_bytes(done)} of {human_bytes(total)} · {files} of {len(todo)} files",
        )
    if isinstance(outcome[0], BaseException):
        raise explain_download_error(entry, outcome[0], endpoint_url) from outcome[0]
    seconds = time.perf_counter() - started
    report(1.0, f"Downloaded {entry.id}: {human_bytes(total)} · {len(todo)} of {len(todo)} files")
    log.info("Downloaded %s (%s, %d files) in %.1f s", entry.id, human_bytes(total), len(todo), seconds)
    return (
        f"Downloaded {entry.display_name} ({human_bytes(total)}, {len(todo)} files) in {seconds:.1f} s; "
        "it loads on the next run."
    )
