"""The six text tabs in Chromium: fill the inputs, run, read what the page shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from playwright.sync_api import Page, expect


def open_task(page: Page, task_title: str) -> None:
    page.get_by_role("tab", name="Text", exact=True).click()
    page.get_by_role("tab", name=task_title, exact=True).click()


def visible(page: Page, selector: str):
    return page.locator(selector).locator("visible=true")


def field(page: Page, label: str):
    return page.get_by_label(label, exact=True).locator("visible=true")


def raw_output(page: Page, key: str) -> Any:
    """The Raw output JSON as shown, parsed, once it holds `key`."""
    block = visible(page, ".raw-output")
    expect(block).to_contain_text(f'"{key}"')
    return json.loads(block.inner_text().removeprefix("Raw output").replace("\n", ""))


def choose(page: Page, label: str, option: str) -> None:
    field(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()


def run(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).locator("visible=true").click()


def test_named_entities_are_highlighted(page: Page, artifacts: Path) -> None:
    open_task(page, "Named entities")
    field(page, "Text").fill("John Zurichson went to Paris to work for Google.")
    page.get_by_role("radio", name="first", exact=True).locator("visible=true").check()
    run(page, "Find entities")
    raw = raw_output(page, "entity_group")
    assert raw and "zurichson" in [item["word"] for item in raw]  # "first": whole words
    highlighted = visible(page, ".entities")
    for item in raw:
        expect(highlighted).to_contain_text(item["entity_group"])
    table = visible(page, ".entity-table")
    for item in raw:
        expect(table).to_contain_text(item["word"])
    page.screenshot(path=str(artifacts / "token-classification.png"), full_page=True)


def test_answer_is_highlighted_in_the_context(page: Page, artifacts: Path) -> None:
    open_task(page, "Question answering")
    field(page, "Question").fill("Where does John live?")
    context = "John lives in Paris and works for Google. Mary lives in London."
    field(page, "Context").fill(context)
    run(page, "Answer")
    raw = raw_output(page, "answer")
    best = raw[0]
    assert context[best["start"] : best["end"]] == best["answer"]
    shown = visible(page, ".answer-in-context")
    expect(shown).to_contain_text("answer")  # the category label of the marked span
    expect(shown).to_contain_text(best["answer"])
    expect(visible(page, ".answers table").first).to_contain_text(best["answer"])
    page.screenshot(path=str(artifacts / "question-answering.png"), full_page=True)


def test_summary_is_shown(page: Page, artifacts: Path) -> None:
    open_task(page, "Summarization")
    field(page, "Text").fill("The movie was great and the music was wonderful. The food was good but the bus was late.")
    run(page, "Summarize")
    raw = raw_output(page, "summary_text")
    expect(visible(page, ".summary textarea")).to_have_value(raw[0]["summary_text"])
    assert raw[0]["summary_text"].strip()
    page.screenshot(path=str(artifacts / "summarization.png"), full_page=True)


def test_translation_languages_follow_the_model(page: Page, artifacts: Path) -> None:
    open_task(page, "Translation")
    expect(field(page, "Source language")).to_be_visible()
    expect(page.get_by_label("Dropdown", exact=True).locator("visible=true")).to_have_count(0)  # no stray widgets
    choose(page, "Model", "tiny translator-mbart")
    # The dropdowns are filled from the mBART tokenizer: its defaults, then any of its codes.
    expect(field(page, "Source language")).to_have_value("en_XX")
    expect(field(page, "Target language")).to_have_value("de_DE")
    choose(page, "Target language", "fr_XX")
    field(page, "Text").fill("the weather is good today")
    run(page, "Translate")
    raw = raw_output(page, "translation_text")
    expect(visible(page, ".translation textarea")).to_have_value(raw[0]["translation_text"])
    page.get_by_role("button", name="Show code").locator("visible=true").click()
    code = visible(page, ".show-code")
    expect(code).to_contain_text("tgt_lang = 'fr_XX'")
    expect(code).to_contain_text("AutoModelForSeq2SeqLM")
    page.screenshot(path=str(artifacts / "translation.png"), full_page=True)
    # A T5 model offers its task-prefix languages instead.
    choose(page, "Model", "tiny translator-t5")
    expect(field(page, "Source language")).to_have_value("English")
    expect(field(page, "Target language")).to_have_value("German")


def test_fill_mask_shows_the_models_mask_token(page: Page, artifacts: Path) -> None:
    open_task(page, "Fill mask")
    text = field(page, "Text")
    expect(text).to_have_attribute("placeholder", re.compile(r"^Write \[MASK\] where the missing word goes"))
    text.fill("The movie was [MASK] and the music was wonderful.")
    run(page, "Fill the mask")
    raw = raw_output(page, "token_str")
    expect(visible(page, ".candidates [data-testid='label-output-value']")).to_have_text(raw[0]["token_str"])
    page.screenshot(path=str(artifacts / "fill-mask.png"), full_page=True)
    text.fill("No mask here.")
    run(page, "Fill the mask")
    expect(page.locator(".toast-body")).to_contain_text(
        "Put the mask token [MASK] where the missing word goes: the text has none."
    )
    page.screenshot(path=str(artifacts / "fill-mask-error.png"))


def test_zero_shot_scores_typed_labels(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Zero-shot classification")
    field(page, "Text").fill("The team won the match after a great second half.")
    field(page, "Candidate labels").fill("sport, politics, cinema")
    field(page, "Several can be true").check()
    run(page, "Classify")
    raw = raw_output(page, "labels")
    assert sorted(raw["labels"]) == ["cinema", "politics", "sport"]
    expect(visible(page, ".zero-shot-scores [data-testid='label-output-value']")).to_have_text(raw["labels"][0])
    page.screenshot(path=str(artifacts / "zero-shot-classification.png"), full_page=True)
