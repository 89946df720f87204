"""Fine-tune a causal LM with LoRA in Chromium: Text generation (instructions), the bundled
instructions, a few steps on the tiny LM, the loss plot; then chat with the result in Chat."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect


def test_lora_on_the_bundled_instructions_then_chat_with_the_result(
    page: Page, tiny: SimpleNamespace, artifacts: Path
) -> None:
    page.get_by_role("tab", name="Fine-tune", exact=True).click()
    lora = page.get_by_label("LoRA: train small adapter matrices, not every weight")
    expect(lora).to_have_count(0)  # shown for text generation only
    page.get_by_role("radio", name="Text generation (instructions)").check()
    expect(lora).to_be_visible()
    sample = page.get_by_label("Bundled sample", exact=True)
    sample.click()
    page.get_by_role("option", name=re.compile(r"^instructions: ")).click()
    expect(page.get_by_label("Text column")).to_have_value("prompt")
    expect(page.get_by_label("Label column")).to_have_value("response")
    base = page.get_by_label("Base model")
    base.fill(tiny.causal_lm)
    base.press("Enter")
    lora.check()
    expect(page.get_by_label("Also save a merged model (loads like any model)")).to_be_checked()
    page.get_by_role("button", name="Train", exact=True).click()

    run_box = page.locator(".run-id textarea, .run-id input").first
    expect(run_box).not_to_have_value("")
    run_id = run_box.input_value()
    expect(page.locator(".block.train-status")).to_contain_text("completed", timeout=240_000)
    expect(page.locator(".block.train-status")).to_contain_text("Text generation and Chat tabs")
    expect(page.locator(".loss-plot")).to_contain_text("train loss")
    expect(page.locator(".loss-plot svg.marks .role-mark path").first).to_be_attached()
    expect(page.locator(".log-tail textarea")).to_have_value(re.compile(r"LoRA r=8, alpha=16 on q_proj"))
    page.screenshot(path=str(artifacts / "finetune-lora-training.png"), full_page=True)

    page.get_by_role("tab", name="Generate", exact=True).click()
    page.get_by_role("tab", name="Chat", exact=True).click()
    picker = page.get_by_label("Model", exact=True).locator("visible=true")
    picker.click()
    page.get_by_role("option", name=re.compile(rf"Fine-tuned tiny causal-lm · {run_id}")).click()
    page.get_by_label("System prompt", exact=True).locator("visible=true").fill("")  # trained without one
    message = page.get_by_role("textbox", name="Message")
    message.fill("What is Transformers Studio?")
    message.press("Enter")
    bubbles = page.locator(".block.chatbot .message-row").locator("visible=true")
    expect(bubbles).to_have_count(2, timeout=120_000)
    expect(bubbles.first).to_contain_text("What is Transformers Studio?")
    expect(page.locator(".block.live-figures").locator("visible=true")).to_contain_text("done", timeout=120_000)
    assert bubbles.last.inner_text().strip(), "the fine-tuned model should reply"
    page.screenshot(path=str(artifacts / "finetune-lora-chat.png"), full_page=True)
