"""Audio tabs through gradio_client, checked against transformers pipelines on the same tiny
models and samples (oracle tests), their Show code snippets, and odd audio uploads."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from pytest import approx

from tests.helpers import run_snippet

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT / "examples" / "audio" / "quick_brown_fox.wav"
TONE = ROOT / "examples" / "audio" / "tone_440hz.wav"


@cache
def pipe(task: str, model: str):
    from transformers import pipeline

    return pipeline(task, model=model)


def samples(path: Path, rate: int = 16_000) -> dict:
    """The file as the pipelines take it: mono float32 at the model's rate (librosa, no ffmpeg)."""
    import librosa

    audio, _ = librosa.load(str(path), sr=rate, mono=True)
    return {"raw": audio, "sampling_rate": rate}


def as_json(value):
    """Tuples to lists and numpy floats to floats, as the app's JSON output holds them."""
    return json.loads(json.dumps(value, default=float))


def same_transcript(raw: dict, want: dict) -> None:
    assert raw["text"] == want["text"]
    assert ("chunks" in raw) == ("chunks" in want)
    if "chunks" in want:
        assert [c["text"] for c in raw["chunks"]] == [c["text"] for c in want["chunks"]]
        got_times = [t for c in raw["chunks"] for t in c["timestamp"]]
        want_times = [t for c in want["chunks"] for t in c["timestamp"]]
        assert [t is None for t in got_times] == [t is None for t in want_times]
        assert [t for t in got_times if t is not None] == approx([t for t in want_times if t is not None], abs=1e-6)


# ------------------------------------------------------------------ speech recognition
@pytest.mark.parametrize(
    ("model_name", "options", "pipeline_kwargs"),
    [
        ("wav2vec2_ctc", {"return_timestamps": "none"}, {}),
        ("wav2vec2_ctc", {"return_timestamps": "word"}, {"return_timestamps": "word"}),
        ("whisper", {"return_timestamps": "none"}, {}),
        ("whisper", {"return_timestamps": "segment"}, {"return_timestamps": True}),
        ("whisper", {"return_timestamps": "word"}, {"return_timestamps": "word"}),
        (
            "whisper",
            {"return_timestamps": "none", "language": "German", "task": "translate"},
            {"generate_kwargs": {"language": "de", "task": "translate"}},
        ),
    ],
)
def test_speech_recognition_matches_pipeline(
    client, tiny: SimpleNamespace, model_name: str, options: dict, pipeline_kwargs: dict
) -> None:
    model = getattr(tiny, model_name)
    transcript, table, raw = client.predict(
        model=model, audio=handle_file(str(SPEECH)), **options, api_name="/automatic_speech_recognition"
    )
    want = as_json(pipe("automatic-speech-recognition", model)(samples(SPEECH), **pipeline_kwargs))
    same_transcript(raw, want)
    assert transcript == want["text"] and want["text"].strip()
    assert [row[2] for row in table["data"]] == [c["text"] for c in want.get("chunks", [])]


def test_two_minute_audio_is_transcribed_in_strided_chunks(client, tiny: SimpleNamespace, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(120 * 16_000) / 16_000
    wave = 0.3 * np.sin(2 * np.pi * (200 + 50 * np.sin(t / 3)) * t) + 0.05 * rng.standard_normal(t.shape)
    path = tmp_path / "two_minutes.flac"
    soundfile.write(path, wave.astype(np.float32), 16_000)
    raw = client.predict(
        model=tiny.wav2vec2_ctc,
        audio=handle_file(str(path)),
        return_timestamps="word",
        api_name="/automatic_speech_recognition",
    )[-1]
    chunked = pipe("automatic-speech-recognition", tiny.wav2vec2_ctc)(
        samples(path), return_timestamps="word", chunk_length_s=30, stride_length_s=5
    )
    same_transcript(raw, as_json(chunked))
    assert raw["chunks"][-1]["timestamp"][1] > 110  # the words reach the end of the two minutes


@pytest.mark.parametrize(
    ("model_name", "options", "message"),
    [
        ("wav2vec2_ctc", {"return_timestamps": "segment"}, "gives word timestamps, not segments"),
        ("whisper", {"language": "klingon"}, "'klingon' is not a language tiny whisper knows; pick auto or one of"),
        # A wrong choice names the parameter and its choices (never Python's "<class 'str'>").
        ("whisper", {"task": "summarize"}, "task must be one of transcribe, translate; got 'summarize'."),
    ],
)
def test_impossible_recognition_options_are_clear_errors(
    client, tiny: SimpleNamespace, model_name: str, options: dict, message: str
) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(
            model=getattr(tiny, model_name),
            audio=handle_file(str(SPEECH)),
            **options,
            api_name="/automatic_speech_recognition",
        )
    assert message in str(caught.value)


# ---------------------------------------------------------------- audio classification
def test_audio_classification_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    label, raw = client.predict(
        model=tiny.audio_classifier, audio=handle_file(str(TONE)), top_k=2, api_name="/audio_classification"
    )
    want = pipe("audio-classification", tiny.audio_classifier)(samples(TONE), top_k=2)
    assert [item["label"] for item in raw] == [item["label"] for item in want]
    assert [item["score"] for item in raw] == approx([item["score"] for item in want], abs=1e-6)
    assert label["label"] == want[0]["label"]


# ---------------------------------------------------------------------- text to speech
def test_text_to_audio_matches_pipeline_and_is_playable(client, tiny: SimpleNamespace) -> None:
    text = "hello and welcome"
    audio_file, raw = client.predict(model=tiny.vits, text=text, api_name="/text_to_audio")
    want = pipe("text-to-audio", tiny.vits)(text)
    waveform = np.asarray(want["audio"]).reshape(-1)
    assert raw == {"sampling_rate": want["sampling_rate"], "num_samples": waveform.size}
    played, rate = soundfile.read(audio_file, dtype="float32")  # the wav the audio player gets
    assert rate == want["sampling_rate"] and played.shape == waveform.shape
    assert np.abs(played - np.clip(waveform, -1, 1)).max() < 2e-4  # 16-bit quantisation only


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type some text to speak first: the input is empty."),
        ("日本語です", "tiny vits cannot pronounce any character of this text"),
    ],
)
def test_text_to_audio_bad_text_is_a_clear_error(client, tiny: SimpleNamespace, text: str, message: str) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(model=tiny.vits, text=text, api_name="/text_to_audio")
    assert message in str(caught.value)


# ------------------------------------------------------------------------- Show code
@pytest.mark.parametrize(
    ("task", "model_name", "inputs"),
    [
        ("automatic-speech-recognition", "wav2vec2_ctc", {"return_timestamps": "word"}),
        (
            "automatic-speech-recognition",
            "whisper",
            {"return_timestamps": "segment", "language": "fr", "task": "transcribe"},
        ),
        ("audio-classification", "audio_classifier", {"top_k": 3}),
        ("text-to-audio", "vits", {"text": "good morning"}),
    ],
)
def test_show_code_snippet_reproduces_the_app(
    client,
    tiny: SimpleNamespace,
    models_yaml: Path,
    task: str,
    model_name: str,
    inputs: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the text-to-audio snippet writes speech.wav
    model = getattr(tiny, model_name)
    if task != "text-to-audio":
        inputs = {"audio": str(SPEECH), **inputs}
    _, snippet_result = run_snippet(models_yaml, task, model, inputs)
    sent = {key: handle_file(value) if key == "audio" else value for key, value in inputs.items()}
    raw = client.predict(model=model, **sent, api_name=f"/{task.replace('-', '_')}")[-1]
    result = as_json(snippet_result)
    if task == "automatic-speech-recognition":
        same_transcript(raw, result)
    elif task == "audio-classification":
        assert [item["label"] for item in raw] == [item["label"] for item in result]
        assert [item["score"] for item in raw] == approx([item["score"] for item in result], abs=1e-5)
    else:
        assert raw == result
        assert soundfile.info(tmp_path / "speech.wav").frames == raw["num_samples"]


# --------------------------------------------------------------------- odd uploads
def speech_16k() -> np.ndarray:
    audio, _ = soundfile.read(SPEECH, dtype="float32")
    return audio


def write(path: Path, audio: np.ndarray, rate: int, **kwargs) -> Path:
    soundfile.write(path, audio, rate, **kwargs)
    return path


@pytest.mark.parametrize(
    ("name", "make", "lossless"),
    [
        ("speech.wav", lambda p: write(p, speech_16k(), 16_000, subtype="PCM_16"), True),
        ("speech.flac", lambda p: write(p, speech_16k(), 16_000), True),
        ("speech.ogg", lambda p: write(p, speech_16k(), 16_000, format="OGG", subtype="VORBIS"), False),
        ("speech.mp3", lambda p: write(p, speech_16k(), 16_000, format="MP3"), False),
        ("stereo.wav", lambda p: write(p, np.stack([speech_16k()] * 2, axis=1), 16_000, subtype="FLOAT"), True),
        ("low_8k.wav", lambda p: write(p, speech_16k()[::2], 8_000), False),
        ("high_48k.flac", lambda p: write(p, np.repeat(speech_16k(), 3), 48_000), False),
    ],
)
def test_audio_formats_rates_and_channels_are_transcribed(
    client, tiny: SimpleNamespace, tmp_path: Path, name: str, make, lossless: bool
) -> None:
    path = make(tmp_path / name)
    raw = client.predict(
        model=tiny.wav2vec2_ctc, audio=handle_file(str(path)), api_name="/automatic_speech_recognition"
    )[-1]
    asr = pipe("automatic-speech-recognition", tiny.wav2vec2_ctc)
    if lossless:  # the same samples as the 16 kHz mono original, so the same transcript
        assert raw["text"] == asr({"raw": speech_16k(), "sampling_rate": 16_000})["text"]
    else:  # decoded and resampled as librosa does it
        assert raw["text"] == asr(samples(path))["text"]
    assert raw["text"].strip()


def test_silent_audio_gives_a_result(client, tiny: SimpleNamespace, tmp_path: Path) -> None:
    path = write(tmp_path / "silence.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    raw = client.predict(
        model=tiny.audio_classifier, audio=handle_file(str(path)), top_k=3, api_name="/audio_classification"
    )[-1]
    assert sorted(item["label"] for item in raw) == ["music", "noise", "speech"]
    assert sum(item["score"] for item in raw) == approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.wav", b"", "The uploaded audio file is empty; upload a WAV, FLAC, OGG or MP3 file."),
        ("notes.wav", b"these are meeting notes, not audio\n" * 20, "This file is not audio that can be read"),
    ],
)
@pytest.mark.parametrize("api_name", ["/automatic_speech_recognition", "/audio_classification"])
def test_bad_audio_files_are_one_sentence_errors(
    client, tiny: SimpleNamespace, tmp_path: Path, name: str, content: bytes, message: str, api_name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    model = tiny.wav2vec2_ctc if api_name == "/automatic_speech_recognition" else tiny.audio_classifier
    with pytest.raises(AppError) as caught:
        client.predict(model=model, audio=handle_file(str(path)), api_name=api_name)
    assert message in str(caught.value)
    assert str(caught.value).count(". ") == 0 and "Traceback" not in str(caught.value)
    # ...and the server keeps serving.
    raw = client.predict(model=model, audio=handle_file(str(SPEECH)), api_name=api_name)[-1]
    assert raw


def test_missing_audio_is_a_clear_error(client, tiny: SimpleNamespace) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(model=tiny.whisper, audio=None, api_name="/automatic_speech_recognition")
    assert "Upload or record some audio first." in str(caught.value)
