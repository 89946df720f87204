"""Honest progress and Stop, without a page: the line a Stop leaves reads the figures line, and the
GGUF conversion reports its stages and tensors in order (the page: tests/browser/test_stop_progress.py)."""

from __future__ import annotations

from components.generation_outputs import figures_line as describe
from components.stopping import stopped_line
from studio.models.gguf import STAGES, _Stages, counted_tensors


def test_stopped_line_reads_the_figures_line() -> None:
    running = {"tokens": 12, "tokens_per_second": 5.1, "time_to_first_token": 0.3, "seconds": 2.4}
    line = stopped_line(describe({**running, "engine": "continuous batching"}))
    assert line.startswith("**Stopped after 12 tokens**") and "5.1 tokens/s" in line
    assert "**Stopped after 1 token**" in stopped_line(describe({**running, "tokens": 1}))
    finished = describe({**running, "done": True, "engine": "generate"})
    assert stopped_line(finished) == finished  # Stop after the end changes nothing
    assert "after 5 steps" in stopped_line(describe({"progress": "beam search: step 5 of up to 50", "seconds": 2}))
    assert "before the first token" in stopped_line(describe({"progress": "reading the prompt (9 tokens)"}))
    assert "before the first token" in stopped_line("")


def test_gguf_conversion_reports_stages_and_tensors_in_order() -> None:
    from transformers import modeling_gguf_pytorch_utils as loader

    reports: list[tuple[float, str]] = []
    stage = _Stages(lambda fraction, message: reports.append((fraction, message)))
    stage("tokenizer", "Reading the tokenizer…")
    stage("map", "Matching…")
    with counted_tensors(stage.tensor):
        assert [name for name in loader.tqdm(["a", "b", "c"], desc="x")] == ["a", "b", "c"]
    stage("save", "Saving…")
    assert loader.tqdm is not None and loader.tqdm.__name__ != "counting"  # put back
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == STAGES["save"]
    messages = [message for _, message in reports]
    assert "Dequantizing GGUF tensor 1 of 3…" in messages
    assert any(message.startswith("Dequantized 3 tensors") for message in messages)
    assert set(stage.seconds) == {"join", "tokenizer", "map", "dequantize", "build"}
