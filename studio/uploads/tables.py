"""Reading a data file with `datasets`, within bounds.

A request reads at most the first QUICK_BYTES of an upload (its header, columns and first
rows: enough to answer a missing column, an empty or binary file at once); the worker reads
the whole file, in its first seconds, where the upload caps (caps.py) are checked. The
datasets cache of a request is a temporary folder removed at once; the worker's is in the
run folder, removed with it.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from pathlib import Path
from typing import Any

from studio.errors import UserError

FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json"}
QUICK_BYTES = 1_000_000  # a request reads no more of an upload than this
CHUNK = 1 << 20
# An absolute path in a library's message (the datasets cache, site-packages): shown as …/name.
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])(?:~/|/)(?:[^\s/'\"]+/)+")


def scrub_paths(text: str) -> str:
    """A message without absolute server paths (the folder names before the last are cut)."""
    return ABSOLUTE_PATH.sub("…/", text)


def is_large(path: str | Path) -> bool:
    """Whether a request reads only the head of this file."""
    try:
        return Path(path).stat().st_size > QUICK_BYTES
    except OSError:
        return False


def check_encoding(path: Path, limit: int | None = None) -> None:
    """A UserError when the file (or its first `limit` bytes) is empty, binary or not UTF-8 text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, content = 0, False
    try:
        with open(path, "rb") as file:
            while limit is None or offset < limit:
                chunk = file.read(CHUNK if limit is None else min(CHUNK, limit - offset))
                if not chunk:
                    break
                if b"\x00" in chunk:
                    raise UserError(
                        f"{path.name} looks like a binary file, not text; upload a CSV, TSV, JSON or JSONL text file."
                    )
                try:
                    decoder.decode(chunk, final=False)
                except UnicodeDecodeError as exc:
                    raise UserError(
                        f"{path.name} is not UTF-8 text (unreadable byte at position {offset + exc.start}); "
                        "save it as UTF-8 and upload it again."
                    ) from None
                content = content or bool(chunk.strip())
                offset += len(chunk)
    except OSError:
        raise UserError(f"{path.name} could not be read; upload it again.") from None
    if not content:
        raise UserError(f"{path.name} is empty; upload a file with a header row and some data.")


def _head_copy(path: Path, folder: Path) -> Path:
    """The file's first QUICK_BYTES, cut at the last full line, as a file of the same name."""
    with open(path, "rb") as file:
        head = file.read(QUICK_BYTES)
    cut = head.rfind(b"\n")
    target = folder / path.name
    target.write_bytes(head[: cut + 1] if cut > 0 else head)
    return target


def read_table(path: str | Path, cache_dir: str | Path | None = None, head: bool = False) -> Any:
    """The file as a `datasets.Dataset` (CSV, TSV, JSON list or JSON lines).

    head=True reads only the first QUICK_BYTES (a request's look); cache_dir None keeps the
    table in memory and removes the datasets cache at once (the worker passes its run's)."""
    import datasets

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{path.name}: upload a .csv, .tsv, .json or .jsonl file (got {suffix or 'no extension'}).")
    partial = head and is_large(path)
    check_encoding(path, QUICK_BYTES if partial else None)
    kwargs: dict[str, Any] = {"delimiter": "\t"} if suffix == ".tsv" else {}
    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory(prefix="studio-data-") as scratch:
        source = _head_copy(path, Path(scratch)) if partial else path
        cache = Path(cache_dir) if cache_dir else Path(scratch) / "cache"
        try:
            table = datasets.load_dataset(
                FORMATS[suffix],
                data_files=str(source),
                split="train",
                cache_dir=str(cache),
                keep_in_memory=cache_dir is None,
                **kwargs,
            )
        except Exception as exc:
            if partial and suffix == ".json":
                raise UserError(
                    f"{path.name} is a large JSON list; save it as JSON lines (.jsonl) or CSV, "
                    "which can be checked without reading it all."
                ) from None
            reason = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "unreadable"
            reason = scrub_paths(reason.replace(str(source), path.name))
            raise UserError(
                f"{path.name} could not be read as {suffix[1:].upper()} ({reason}); check its format."
            ) from None
    if len(table) == 0 or not table.column_names:
        raise UserError(f"{path.name} has no rows; upload a file with a header row and some data.")
    return table


def column_problems(columns: list[str], text_column: str, label_column: str) -> list[str]:
    """What is wrong with a mapping of two columns (a header check: cheap for any file size);
    fine-tuning and Insight's evaluation both refuse a file with it."""
    missing = [name for name in (text_column, label_column) if not name or name not in columns]
    if missing:
        names = ", ".join(repr(name or "") for name in missing)
        return [f"column {names} is missing (the file has: {', '.join(columns)})"]
    if text_column == label_column:
        return ["the text and label columns are the same column; pick two different ones"]
    return []
