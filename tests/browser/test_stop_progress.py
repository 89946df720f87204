"""Honest progress and Stop: the GGUF conversion reports its stages in order, Stop is enabled
only while a generation runs, and after a Stop the page says how many tokens came."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect

from components.stopping import stopped_line
from studio.generation.stream import describe
from studio.models.gguf import STAGES, _Stages, counted_tensors
from tests.browser.test_page import open_task, visible


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


def stop_button(page: Page):
    return page.get_by_role("button", name="Stop", exact=True).locator("visible=true")


def test_stop_is_enabled_only_while_running_and_says_how_far(
    page: Page, tiny: SimpleNamespace, artifacts: Path
) -> None:
    open_task(page, "Generate", "Text generation")
    stop = stop_button(page)
    expect(stop).to_be_disabled()  # nothing runs yet
    page.screenshot(path=str(artifacts / "stop-idle.png"), full_page=True)
    page.get_by_label("Prompt").fill("the weather today is")
    page.get_by_role("radio", name=re.compile("Sampl")).check()
    tokens_box = page.get_by_role("spinbutton", name=re.compile("max.new.tokens", re.IGNORECASE)).locator(
        "visible=true"
    )
    tokens_box.fill("4000")
    tokens_box.press("Enter")
    page.get_by_role("button", name="Generate").click()
    expect(stop).to_be_enabled()
    figures = visible(page, ".block.live-figures")
    expect(figures).to_contain_text("tokens/s", timeout=60_000)
    page.wait_for_function("() => document.querySelector('.generated-text textarea').value.length > 40", timeout=60_000)
    stop.click()
    expect(figures).to_contain_text("Stopped after")
    expect(stop).to_be_disabled()
    shown = figures.inner_text()
    count = int(re.search(r"Stopped after (\d+) tokens?", shown).group(1))
    assert 0 < count < 4000
    page.wait_for_timeout(1500)  # the cancelled stream does not overwrite the line
    assert figures.inner_text() == shown
    expect(page.get_by_text("Could not run")).to_have_count(0)  # a Stop is not a failure
    page.screenshot(path=str(artifacts / "stop-stopped.png"), full_page=True)

    tokens_box.fill("8")
    tokens_box.press("Enter")
    page.get_by_role("button", name="Generate").click()
    expect(figures).to_contain_text("done", timeout=60_000)
    expect(stop).to_be_disabled()  # the run ended: nothing to stop
