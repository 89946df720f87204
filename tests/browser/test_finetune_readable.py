"""A readable Fine-tune tab in Chromium, and model lists that refresh.

A run from a masked-LM base (whose new classification head transformers reports as MISSING)
on a small upload, with the default hyperparameters (two epochs, so two eval points):
- before the run, no empty box: plot, log, run id, progress, runs table, command, labels;
- the log has no escape codes, says the load report in one line, and follows its end;
- train and eval loss are both drawn;
- the run appears in Text classification's model list, tagged "· offline", while that tab is
  open (it was selected before the run ended), and again after a reload.

Its own app and runs folder, so the page starts without runs whatever ran before (in the Fine-tune
app of tests/browser/test_finetune.py, a run left by one test changes what the next page shows).
(The log cleaning itself: tests/unit/test_training_loadreport.py.)
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from studio.training.samples import SAMPLES
from tests.app_process import running_app
from tests.helpers import browser_page

RUN_BOXES = (".loss-plot", ".log-tail", ".run-id", ".runs-table", ".train-progress")


@pytest.fixture
def page_of_fresh_app(browser, models_yaml: Path, tmp_path: Path) -> Iterator[Page]:
    arguments = ["--models", str(models_yaml), "--runs-dir", str(tmp_path / "runs")]
    with running_app(arguments, tmp_path / "app.log") as (_, url), browser_page(browser, url) as page:
        yield page


def small_upload(path: Path, rows: int = 120) -> Path:
    with open(SAMPLES["sentiment"].train, encoding="utf-8") as source:
        taken = list(csv.DictReader(source))[:rows]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["review", "sentiment"])
        writer.writerows([row["text"], row["label"]] for row in taken)
    return path


def open_tab(page: Page, *names: str) -> None:
    for name in names:
        page.get_by_role("tab", name=name, exact=True).click()


def model_options(page: Page) -> list[str]:
    """The visible model dropdown's option texts (opened, read, closed)."""
    picker = page.locator(".model-picker input").locator("visible=true").first
    page.get_by_role("heading", name="Transformers Studio").click()  # nothing focused: a click opens the list
    picker.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    texts = options.all_inner_texts()
    page.get_by_role("heading", name="Transformers Studio").click()
    return texts


def wait_for_option(page: Page, pattern: re.Pattern[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        found = [text for text in model_options(page) if pattern.search(text)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no option like {pattern.pattern} within {timeout} s"
        page.wait_for_timeout(1000)


def test_readable_log_both_losses_boxes_with_content_and_lists_that_refresh(
    page_of_fresh_app: Page, tiny: SimpleNamespace, tmp_path: Path, artifacts: Path
) -> None:
    page = page_of_fresh_app
    open_tab(page, "Fine-tune")
    expect(page.locator(".block.train-status")).to_contain_text("No run yet.")
    for box in RUN_BOXES:
        expect(page.locator(box).locator("visible=true")).to_have_count(0)
    expect(page.get_by_text("The run as a command and config.json")).to_have_count(0)
    expect(page.get_by_role("grid", name="Labels found")).to_have_count(0)
    page.screenshot(path=str(artifacts / "finetune-readable-before.png"), full_page=True)

    page.locator("input[type=file][accept*=jsonl]").set_input_files(str(small_upload(tmp_path / "reviews.csv")))
    expect(page.get_by_role("grid", name="Labels found")).to_be_visible()
    base = page.locator(".base-model input")
    base.fill(tiny.fill_mask_bert)  # a masked-LM: its classification head is new
    base.press("Enter")
    page.get_by_role("button", name="Show command").click()
    expect(page.locator(".cm-content").filter(has_text="studio.training.worker")).to_contain_text("fill-mask-bert")
    page.get_by_role("button", name="Train", exact=True).click()
    run_box = page.locator(".run-id textarea, .run-id input").first
    expect(run_box).not_to_have_value("")
    run_id = run_box.input_value()

    # The task's tab is open (selected, so refreshed, before the run ends) while the run ends.
    open_tab(page, "Text", "Text classification")
    fine_tuned = re.compile(rf"Fine-tuned .*{run_id} · offline")
    assert "Fine-tuned" not in " ".join(model_options(page)), "the run cannot be listed before it ends"
    wait_for_option(page, fine_tuned, timeout=240)

    open_tab(page, "Fine-tune")
    expect(page.locator(".block.train-status")).to_contain_text("completed")
    log = page.locator(".log-tail textarea")
    expect(log).to_have_value(re.compile(r"loading the base model: the new head for your 2 labels \(.*classifier"))
    shown = log.input_value()
    assert "\x1b" not in shown and "[1m" not in shown, "escape codes in the log"
    assert "| MISSING" not in shown and "LOAD REPORT" not in shown, "transformers' table is said in one line"
    page.wait_for_function(
        "() => { const t = document.querySelector('.log-tail textarea');"
        " return t && t.scrollHeight > t.clientHeight && t.scrollTop + t.clientHeight >= t.scrollHeight - 4; }"
    )  # the log follows its end
    plot = page.locator(".loss-plot")
    expect(plot).to_contain_text("train loss")
    expect(plot).to_contain_text("eval loss")
    lines = plot.locator("svg.marks .mark-line path")  # one path per series; a line has an L(ine-to)
    drawn = [d for d in (lines.nth(i).get_attribute("d") or "" for i in range(lines.count())) if "L" in d]
    assert len(drawn) == 2, f"train and eval loss should both be drawn as lines: {drawn}"
    expect(page.locator(".runs-table tr").filter(has_text=run_id)).to_contain_text("completed")
    page.screenshot(path=str(artifacts / "finetune-readable-done.png"), full_page=True)

    page.reload()
    open_tab(page, "Text", "Text classification")
    assert any(fine_tuned.search(text) for text in model_options(page)), "listed, as offline, after a reload"
