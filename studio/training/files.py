"""Reading and writing a run folder's JSON files: the worker, the kinds and the app share these,
and a reader never sees half a file (writes go through a temporary file and a rename)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def read_json(path: Path, default: Any = None) -> Any:
    """The file's value, or default when it is missing or not JSON (yet)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def write_json(path: Path, value: Any) -> None:
    """Write atomically (a temporary file, then a rename), so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(value, indent=1, default=str), encoding="utf-8")
    os.replace(temporary, path)


def append_line(path: Path, record: dict[str, Any]) -> None:
    """One JSON line more (metrics.jsonl, trials.jsonl), flushed so a reader sees it at once."""
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
        file.flush()
