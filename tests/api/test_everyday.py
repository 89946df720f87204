"""Everyday use through the API: an empty input is refused before the model loads, and the loaded
models come back as plain data (the page: tests/browser/test_everyday.py)."""

from __future__ import annotations

import time

import pytest


def test_an_empty_input_is_refused_before_the_model_loads(client, tiny) -> None:
    from gradio_client.exceptions import AppError

    def loaded_tasks() -> set[str]:
        table, _ = client.predict(api_name="/loaded_models")
        return {row[1] for row in table["data"]}

    before = loaded_tasks()
    started = time.monotonic()
    with pytest.raises(AppError, match="Type some text to summarize first: the input is empty."):
        client.predict(model=tiny.summarizer_bart, text="   ", api_name="/summarization")
    assert time.monotonic() - started < 3
    assert "summarization" not in loaded_tasks() - before


def test_loaded_models_returns_plain_data(client) -> None:
    table, selected = client.predict(api_name="/loaded_models")
    assert set(table) >= {"headers", "data"}
    assert selected is None or isinstance(selected, str)
