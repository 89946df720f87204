"""The Vision tabs in Chromium: upload a photo, run, and see the drawn result."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from PIL import Image
from playwright.sync_api import Page, expect

IMAGES = Path(__file__).resolve().parents[2] / "examples" / "images"


def visible(page: Page, selector: str):
    return page.locator(selector).locator("visible=true")


def open_vision_task(page: Page, task_title: str) -> None:
    page.get_by_role("tab", name="Vision", exact=True).click()
    page.get_by_role("tab", name=task_title, exact=True).click()


def upload(page: Page, path: Path) -> None:
    """Put a file in the visible tab's image input, as a person dropping it there would."""
    box = visible(page, ".image-upload")
    box.locator("input[type=file]").set_input_files(str(path))
    expect(box.locator("img")).to_be_visible()


def raw_output(page: Page, marker: str) -> object:
    block = visible(page, ".raw-output")
    expect(block).to_contain_text(marker)
    return json.loads(block.inner_text().removeprefix("Raw output").replace("\n", ""))


def test_image_classification_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path, tmp_path) -> None:
    open_vision_task(page, "Image classification")
    transparent = tmp_path / "cat.png"
    Image.open(IMAGES / "cat.jpg").convert("RGBA").save(transparent)
    upload(page, transparent)
    page.get_by_role("button", name="Classify").locator("visible=true").click()
    shown = visible(page, "[data-testid='label-output-value']")
    expect(shown).not_to_be_empty()
    raw = raw_output(page, '"score"')
    assert shown.inner_text().strip() == raw[0]["label"]
    expect(page.locator(".toast-body")).to_contain_text("transparency")  # the conversion notice
    page.get_by_role("button", name="Show code").locator("visible=true").click()
    expect(visible(page, ".show-code")).to_contain_text("pipeline('image-classification'")
    page.screenshot(path=str(artifacts / "image-classification.png"), full_page=True)


def test_object_detection_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_vision_task(page, "Object detection")
    upload(page, IMAGES / "cat.jpg")
    page.get_by_role("button", name="Detect").click()
    raw = raw_output(page, '"box"')
    drawn = visible(page, ".detections")
    expect(drawn.locator("img.mask")).to_have_count(len(raw))
    expect(drawn.locator(".legend-item").first).to_have_text(f"{raw[0]['label']} {raw[0]['score']:.2f}")
    table = visible(page, ".detections-table")
    first = raw[0]["box"]
    expect(table).to_contain_text(raw[0]["label"])
    for value in (first["xmin"], first["ymin"], first["xmax"], first["ymax"]):
        expect(table).to_contain_text(str(value))
    page.screenshot(path=str(artifacts / "object-detection.png"), full_page=True)


def test_image_segmentation_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_vision_task(page, "Segmentation")
    upload(page, IMAGES / "cat.jpg")
    page.get_by_role("button", name="Segment").click()
    raw = raw_output(page, '"label"')
    drawn = visible(page, ".segments")
    expect(drawn.locator("img.mask")).to_have_count(len(raw))
    expect(drawn.locator(".legend-item")).to_have_text([item["label"] for item in raw])
    page.screenshot(path=str(artifacts / "image-segmentation.png"), full_page=True)


def test_depth_estimation_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_vision_task(page, "Depth estimation")
    upload(page, IMAGES / "coffee.jpg")
    page.get_by_role("button", name="Estimate depth").click()
    raw = raw_output(page, '"min"')
    assert (raw["width"], raw["height"]) == (600, 400)
    depth = visible(page, ".depth-map img")
    expect(depth).to_be_visible()
    assert depth.evaluate("img => img.complete && img.naturalWidth") == 600
    page.screenshot(path=str(artifacts / "depth-estimation.png"), full_page=True)


def test_zero_shot_image_classification_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_vision_task(page, "Zero-shot image classification")
    upload(page, IMAGES / "rocket.jpg")
    page.get_by_label("Candidate labels").fill("a rocket launch, a cup of coffee, a cat")
    page.get_by_role("button", name="Classify").locator("visible=true").click()
    raw = raw_output(page, '"score"')
    assert {item["label"] for item in raw} == {"a rocket launch", "a cup of coffee", "a cat"}
    expect(visible(page, "[data-testid='label-output-value']")).to_have_text(raw[0]["label"])
    page.screenshot(path=str(artifacts / "zero-shot-image-classification.png"), full_page=True)


def test_an_example_runs_in_the_browser(page: Page, tiny: SimpleNamespace) -> None:
    open_vision_task(page, "Object detection")
    visible(page, "[data-testid='dataset-cell-0-0']").click()  # the first example: cat.jpg
    expect(visible(page, ".image-upload").locator("img")).to_be_visible()
    page.get_by_role("button", name="Detect").click()
    raw_output(page, '"box"')
