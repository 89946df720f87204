"""The Audio and Multimodal tabs in Chromium: upload, run, read what the page shows."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import Page, expect

from tests.browser.helpers import choose_model, open_task, visible

ROOT = Path(__file__).resolve().parents[2]
AUDIO = ROOT / "examples" / "audio"
IMAGES = ROOT / "examples" / "images"


def raw_output(page: Page, key: str):
    """The Raw output JSON as shown, parsed, once it holds `key`."""
    block = visible(page, ".raw-output")
    expect(block).to_contain_text(f'"{key}"')
    # strict=False: a tiny random model's text may hold control characters.
    return json.loads(block.inner_text().removeprefix("Raw output").replace("\n", ""), strict=False)


def upload(page: Page, css_class: str, path: Path) -> None:
    """Upload a file into the media input with this class, and wait until it is shown."""
    page.locator(f".{css_class} input[type=file]").set_input_files(str(path))
    expect(page.locator(f".{css_class} [data-testid='download-link'], .{css_class} img").first).to_be_attached()


def test_speech_recognition_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Audio", "Speech recognition")
    choose_model(page, "tiny whisper")
    upload(page, "asr-audio", AUDIO / "quick_brown_fox.wav")
    page.get_by_label("segment", exact=True).locator("visible=true").check()
    page.get_by_role("button", name="Transcribe").click()
    block = visible(page, ".raw-output")
    expect(block).to_contain_text('"chunks"')
    # The JSON viewer folds the [start, end] pairs ("Array(2)"), so read the text and count them.
    shown = block.inner_text()
    transcript = page.get_by_label("Transcript", exact=True).input_value()
    assert transcript.strip() and json.dumps(transcript, ensure_ascii=False) in shown.replace("\n", "")
    table = page.locator(".asr-timestamps")
    expect(table.locator("[role=row]")).to_have_count(1 + shown.count("Array(2)"))  # header + a row per segment
    assert shown.count("Array(2)") >= 1
    expect(table).to_contain_text(transcript.split()[0])
    page.get_by_role("button", name="Show code").locator("visible=true").click()
    expect(visible(page, ".show-code")).to_contain_text("return_timestamps=True")
    page.screenshot(path=str(artifacts / "speech-recognition.png"), full_page=True)


def test_bad_audio_upload_shows_an_error_toast(
    page: Page, tiny: SimpleNamespace, artifacts: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("meeting notes, not audio\n" * 40)
    open_task(page, "Audio", "Speech recognition")
    page.locator(".asr-audio input[type=file]").set_input_files(str(fake))
    page.get_by_role("button", name="Transcribe").click()
    expect(page.locator(".toast-body")).to_contain_text("This file is not audio that can be read")
    page.screenshot(path=str(artifacts / "speech-recognition-error.png"))


def test_audio_classification_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Audio", "Audio classification")
    upload(page, "audio-classification-audio", AUDIO / "tone_440hz.wav")
    page.get_by_role("button", name="Classify").click()
    raw = raw_output(page, "score")
    assert {item["label"] for item in raw} == {"speech", "music", "noise"}
    shown = visible(page, "[data-testid='label-output-value']")
    expect(shown).to_have_text(raw[0]["label"])
    page.screenshot(path=str(artifacts / "audio-classification.png"), full_page=True)


def test_text_to_speech_plays_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Audio", "Text to speech")
    page.get_by_label("Text", exact=True).locator("visible=true").fill("hello and welcome")
    page.get_by_role("button", name="Speak").click()
    raw = raw_output(page, "num_samples")
    assert raw["sampling_rate"] == 16_000 and raw["num_samples"] > 0
    player = page.locator(".tts-audio")
    expect(player.locator("[data-testid='waveform-Speech']")).to_be_visible()
    seconds = raw["num_samples"] / raw["sampling_rate"]
    expect(player.locator("#duration")).to_have_text(f"0:{round(seconds):02d}")
    wav = page.request.get(player.locator("[data-testid='download-link']").get_attribute("href")).body()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"  # a playable file, served by the app
    page.screenshot(path=str(artifacts / "text-to-speech.png"), full_page=True)


def test_captioning_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Multimodal", "Image captioning")
    upload(page, "caption-image", IMAGES / "cat.jpg")
    page.get_by_placeholder("Optional start of the caption").fill("a photo of")
    page.get_by_role("button", name="Caption").click()
    raw = raw_output(page, "generated_text")
    assert raw[0]["generated_text"].startswith("a photo of")
    expect(page.get_by_label("Caption", exact=True)).to_have_value(raw[0]["generated_text"])
    page.screenshot(path=str(artifacts / "image-captioning.png"), full_page=True)


def test_visual_question_answering_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Multimodal", "Visual question answering")
    upload(page, "vqa-image", IMAGES / "shapes.png")
    page.get_by_label("Question", exact=True).fill("How many circles are there?")
    page.get_by_role("button", name="Answer").click()
    raw = raw_output(page, "answer")
    assert len(raw) == 3
    expect(visible(page, "[data-testid='label-output-value']")).to_have_text(raw[0]["answer"])
    page.screenshot(path=str(artifacts / "visual-question-answering.png"), full_page=True)


def test_image_chat_in_the_browser(page: Page, tiny: SimpleNamespace, artifacts: Path) -> None:
    open_task(page, "Multimodal", "Image chat")
    upload(page, "chat-image", IMAGES / "astronaut.jpg")
    page.get_by_label("number input for Max new tokens").locator("visible=true").fill("32")
    message = page.get_by_label("Message", exact=True)
    message.fill("What is this person wearing?")
    message.press("Enter")
    raw = raw_output(page, "generated_text")
    chat = page.locator(".image-chat")
    assert raw[0]["generated_text"].strip()
    expect(chat).to_contain_text("What is this person wearing?")
    expect(chat.locator("[data-testid='bot']")).to_have_count(1)  # the reply (Markdown-rendered)
    expect(message).to_have_value("")
    expect(visible(page, ".live-figures").first).to_contain_text("done")  # the first reply has ended
    message.fill("And the background?")
    page.get_by_role("button", name="Send").click()
    expect(chat).to_contain_text("And the background?")
    expect(chat.locator("[data-testid='bot']")).to_have_count(2)
    page.screenshot(path=str(artifacts / "image-chat.png"), full_page=True)
