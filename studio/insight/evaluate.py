"""Evaluate a model on a labelled file (scikit-learn, seqeval, jiwer)."""

from __future__ import annotations

from typing import Any


class EvaluateActions:
    studio: Any  # studio.studio.Studio
