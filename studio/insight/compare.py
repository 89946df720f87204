"""Two models of one task on one input, side by side."""

from __future__ import annotations

from typing import Any


class CompareActions:
    studio: Any  # studio.studio.Studio
