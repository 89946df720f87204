"""Turning raw results into Gradio component values (shared by the tabs)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def as_label(result: list[dict[str, Any]]) -> dict[str, float]:
    """[{label, score}] as gr.Label's {label: confidence}."""
    return {str(item["label"]): float(item["score"]) for item in result}


def ranked_table(result: list[dict[str, Any]]) -> pd.DataFrame:
    """[{sentence, score}] as a table, best first, scores rounded for reading."""
    frame = pd.DataFrame(result, columns=["sentence", "score"])
    frame["score"] = frame["score"].round(4)
    return frame
