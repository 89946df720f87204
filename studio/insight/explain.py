"""Attributions for text classification (captum integrated gradients)."""

from __future__ import annotations

from typing import Any


class ExplainActions:
    studio: Any  # studio.studio.Studio
