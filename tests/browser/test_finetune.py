"""The Fine-tune tab in Chromium: upload a CSV, train, watch the loss plot grow, reload, stop, see the run listed."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from studio.training.samples import SAMPLES
from tests.app_process import running_app
from tests.helpers import browser_page


@pytest.fixture(scope="module")
def own_url(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory):
    """An app of this module's own, with an empty runs folder: the Fine-tune tab re-attaches to the
    running run on load, and in the session app that may be another test's."""
    work = tmp_path_factory.mktemp("finetune-app")
    arguments = ["--models", str(models_yaml), "--runs-dir", str(work / "runs")]
    with running_app(arguments, work / "app.log") as (_, url):
        yield url


@pytest.fixture
def own_page(browser, own_url: str):
    with browser_page(browser, own_url) as page:
        yield page


def loss_path_length(page: Page) -> int:
    """Length of the drawn loss line's SVG path (grows as points are added)."""
    paths = page.locator(".loss-plot svg.marks .role-mark path").locator("visible=true")
    return max((len(paths.nth(i).get_attribute("d") or "") for i in range(paths.count())), default=0)


def open_finetune(page: Page) -> None:
    page.get_by_role("tab", name="Fine-tune", exact=True).click()


def reviews_file(folder: Path, rows: int) -> Path:
    """The bundled sentiment set's first rows as an upload of the user's own, with other column names."""
    with open(SAMPLES["sentiment"].train, encoding="utf-8") as source:
        kept = list(csv.DictReader(source))[:rows]
    upload = folder / "my-reviews.csv"
    with open(upload, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["review", "sentiment"])
        writer.writerows([row["text"], row["label"]] for row in kept)
    return upload


def test_upload_train_watch_stop_and_list(
    own_page: Page, tiny: SimpleNamespace, tmp_path: Path, artifacts: Path
) -> None:
    page = own_page
    upload = reviews_file(tmp_path, 400)
    with open(upload, encoding="utf-8") as source:
        rows = [{"text": row["review"], "label": row["sentiment"]} for row in csv.DictReader(source)]

    open_finetune(page)
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_disabled()  # nothing runs yet
    page.locator("input[type=file][accept*=jsonl]").set_input_files(str(upload))
    expect(page.get_by_label("Text column")).to_have_value("review")
    expect(page.get_by_label("Label column")).to_have_value("sentiment")
    labels_table = page.get_by_role("grid", name="Labels found")
    for label, count in Counter(row["label"] for row in rows).items():
        expect(labels_table.get_by_role("row").filter(has_text=label)).to_contain_text(str(count))
    base = page.get_by_label("Base model")
    base.fill(tiny.text_classifier)
    base.press("Enter")
    page.get_by_role("button", name="Hyperparameters").click()
    epochs = page.get_by_label("Epochs", exact=True)
    batch = page.get_by_label("Batch size (per process)", exact=True)
    expect(page.get_by_text("API: num_train_epochs")).to_be_visible()  # the readable label's hint
    # Show command until it has the typed hyperparameters: they reach the server before Train.
    # A keystroke typed while the accordion is still mounting can be lost, so type again if needed.
    command = page.locator(".cm-content").filter(has_text="studio.training.worker")
    deadline = time.monotonic() + 30
    while True:
        typed = ((epochs, "5"), (batch, "4"))
        for field, value in typed:
            field.fill(value)
            field.press("Tab")
        page.get_by_role("button", name="Show command").click()
        expect(command).to_contain_text('"text_column": "review"')
        shown = command.inner_text()
        kept = all(field.input_value() == value for field, value in typed)  # a remounted box shows its default
        if kept and re.search(r'"num_train_epochs": 5(\.0)?,', shown) and '"per_device_train_batch_size": 4,' in shown:
            break
        assert time.monotonic() < deadline, f"the typed epochs and batch size never reached the preview: {shown}"
        page.wait_for_timeout(250)
    run_box = page.locator(".run-id textarea, .run-id input").first
    # A page re-attaches to the session's last run (another test's); run ids begin with their start
    # time, so ours is the first one shown that is not older than the click.
    clicked = time.strftime("%Y%m%d-%H%M%S")
    page.get_by_role("button", name="Train", exact=True).click()
    deadline = time.monotonic() + 60
    while not (run_box.is_visible() and run_box.input_value() >= clicked):
        assert time.monotonic() < deadline, "no new run id after Train"
        page.wait_for_timeout(200)
    run_id = run_box.input_value()
    expect(page.locator(".block.train-status")).to_contain_text("running")
    expect(page.locator(".loss-plot svg.marks .role-mark path").first).to_be_attached()
    expect(page.locator(".loss-plot")).to_contain_text("train loss")  # the legend: the line is coloured and drawn
    first = loss_path_length(page)
    page.wait_for_function(
        "n => { const p = [...document.querySelectorAll('.loss-plot svg.marks .role-mark path')];"
        " return p.some(x => (x.getAttribute('d') || '').length > n); }",
        arg=first,
        timeout=120_000,
    )
    assert loss_path_length(page) > first
    expect(page.locator(".log-tail textarea")).to_have_value(re.compile(r"step \d+/425: loss"))
    page.screenshot(path=str(artifacts / "finetune-training.png"), full_page=True)

    page.reload()  # a reloaded page re-attaches to the running job
    open_finetune(page)
    expect(page.locator(".run-id textarea, .run-id input").first).to_have_value(run_id)
    expect(page.locator(".block.train-status")).to_contain_text("running")

    stop.click()
    expect(page.locator(".block.train-status")).to_contain_text("stopped", timeout=60_000)
    expect(stop).to_be_disabled()
    page.get_by_role("button", name="Refresh runs").click()
    listed = page.locator(".runs-table tr").filter(has_text=run_id)
    expect(listed).to_contain_text("stopped")
    expect(listed).to_contain_text("my-reviews.csv")
    page.screenshot(path=str(artifacts / "finetune-stopped.png"), full_page=True)


def test_train_shows_its_own_run_not_the_one_the_page_reattached_to(
    own_page: Page, own_url: str, tiny: SimpleNamespace, tmp_path: Path
) -> None:
    """A page opened while another run trains follows that run; Train must then show (and Stop
    must stop) the new run, not the other one still streaming into the same boxes."""
    from gradio_client import Client

    page = own_page
    client = Client(own_url, verbose=False)
    other = client.predict(
        task="text-classification",
        model=tiny.text_classifier,
        sample="sentiment",
        num_train_epochs=20,
        api_name="/train_start",
    )[-1]["run_id"]
    try:
        page.reload()
        open_finetune(page)
        run_box = page.locator(".run-id textarea, .run-id input").first
        expect(run_box).to_have_value(other)  # re-attached to the running one
        page.locator("input[type=file][accept*=jsonl]").set_input_files(str(reviews_file(tmp_path, 40)))
        expect(page.get_by_label("Text column")).to_have_value("review")
        base = page.get_by_label("Base model")
        base.fill(tiny.text_classifier)
        base.press("Enter")
        page.get_by_role("button", name="Train", exact=True).click()
        expect(run_box).to_have_value(re.compile(rf"^(?!{other}$)\d{{8}}-\d{{6}}-"), timeout=60_000)  # a new run id
        ours = run_box.input_value()
        for _ in range(15):  # the other run keeps logging: its stream must not take the boxes back
            page.wait_for_timeout(200)
            assert run_box.input_value() == ours
        expect(page.locator(".block.train-status")).to_contain_text(ours)
        page.get_by_role("button", name="Stop", exact=True).click()
        expect(page.locator(".block.train-status")).to_contain_text("stopped", timeout=60_000)
        statuses = {run["run_id"]: run["status"] for run in client.predict(api_name="/train_runs")[-1]}
        assert statuses[ours] == "stopped" and statuses[other] == "running"  # Stop stopped ours only
    finally:
        client.predict(other, api_name="/train_stop")
