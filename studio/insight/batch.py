"""Run a task over every row of a file, into a CSV."""

from __future__ import annotations

from typing import Any


class BatchActions:
    studio: Any  # studio.studio.Studio
