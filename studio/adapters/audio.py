"""Audio tasks: speech recognition, audio classification and text to speech.

Uploads and recordings are read by studio.uploads.media.load_audio (wav, flac, ogg, mp3 without
ffmpeg; stereo mixed down; resampled to the model's rate) and handed to the pipelines as
{"raw": samples, "sampling_rate": rate}, so the pipelines never need ffmpeg or torchaudio.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compat.transformers import whisper_language_codes
from studio.adapters.common import limit_text
from studio.errors import UserError, notify, shorten
from studio.results import Output
from studio.serving.batching import batched
from studio.serving.pipelines import run_pipeline
from studio.spec.param import Param, takes
from studio.spec.shared import AUDIO, TEXT, TOP_K_LABELS
from studio.uploads.media import load_audio

# Speech longer than one window is transcribed in windows that overlap by STRIDE_SECONDS
# on each side (the pipeline's chunk_length_s / stride_length_s); Whisper reads 30 s.
CHUNK_SECONDS = 30.0
STRIDE_SECONDS = 5.0
TIMESTAMP_MODES = ("none", "segment", "word")
WHISPER_TASKS = ("transcribe", "translate")
AUTO_LANGUAGE = "auto"
# Offered in the language dropdown; any code or English name Whisper knows is accepted.
LANGUAGES = (AUTO_LANGUAGE, "en", "de", "fr", "es", "it", "pt", "nl", "ja", "zh")
# Audio classifiers see one clip at once (memory grows with the square of its length).
MAX_CLASSIFY_SECONDS = 60.0
MAX_SPEECH_CHARS = 2_000


def sampling_rate_of(loaded: Any) -> int:
    """The rate the model's feature extractor expects."""
    extractor = getattr(loaded.pipeline, "feature_extractor", None)
    rate = getattr(extractor, "sampling_rate", None)
    return int(rate) if rate else 16_000


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


# ----------------------------------------------------------------- speech recognition
def whisper_languages(generation_config: Any) -> list[str]:
    """Language codes a multilingual Whisper knows (from generation_config.lang_to_id)."""
    lang_to_id = getattr(generation_config, "lang_to_id", None) or {}
    return [token.strip("<|>") for token in lang_to_id]


def whisper_language(value: str, known: list[str], name: str) -> str:
    """A language code ("de") from a code or an English name ("german"); a UserError if unknown."""
    text = value.strip().lower().strip("<|>")
    code = whisper_language_codes().get(text, text)
    if code not in known:
        shown = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
        given = repr(shorten(value))
        raise UserError(f"{given} is not a language {name} knows; pick auto or one of {shown}.")
    return code


def recognition_arguments(loaded: Any, seconds: float, mode: str, language: str, task: str) -> dict[str, Any]:
    """The pipeline call's keyword arguments for these (checked) choices; UserError if impossible."""
    pipe, name = loaded.pipeline, loaded.entry.display_name
    language = language.strip() or AUTO_LANGUAGE
    kwargs: dict[str, Any] = {}
    if pipe.type == "seq2seq_whisper":
        if mode != "none":
            kwargs["return_timestamps"] = True if mode == "segment" else "word"
        generation_config = pipe.model.generation_config
        generate: dict[str, Any] = {}
        if getattr(generation_config, "is_multilingual", False):
            if language.lower() != AUTO_LANGUAGE:
                generate["language"] = whisper_language(language, whisper_languages(generation_config), name)
            if generate or task != "transcribe":
                generate["task"] = task
        elif language.lower() != AUTO_LANGUAGE or task != "transcribe":
            raise UserError(f"{name} is English-only; set language to auto and task to transcribe.")
        if generate:
            kwargs["generate_kwargs"] = generate
    else:
        if mode == "segment":
            if pipe.type.startswith("ctc"):
                raise UserError(f"{name} gives word timestamps, not segments; set return_timestamps to word or none.")
            raise UserError(f"{name} cannot give timestamps; set return_timestamps to none.")
        if mode == "word":
            if not pipe.type.startswith("ctc"):
                raise UserError(f"{name} cannot give timestamps; set return_timestamps to none.")
            kwargs["return_timestamps"] = "word"
        if language.lower() != AUTO_LANGUAGE or task != "transcribe":
            notify("language and task apply to Whisper models only; they were ignored.")
    if seconds > CHUNK_SECONDS:
        kwargs.update(chunk_length_s=CHUNK_SECONDS, stride_length_s=STRIDE_SECONDS)
        if pipe.type.startswith("seq2seq"):
            kwargs["ignore_warning"] = True
    return kwargs


@takes(
    AUDIO.but(label="Speech"),
    Param(
        "return_timestamps",
        "choice",
        "none",
        "segment: Whisper only; word: Whisper and CTC models (wav2vec2)",
        label="Timestamps",
        choices=TIMESTAMP_MODES,
        widget="radio",
    ),
    Param(
        "language",
        "text",
        AUTO_LANGUAGE,
        "Whisper only; auto detects it",
        label="Language",
        choices=LANGUAGES,
        widget="dropdown",
    ),
    Param(
        "task",
        "choice",
        "transcribe",
        "Whisper: translate to English",
        label="Whisper task",
        choices=WHISPER_TASKS,
        widget="radio",
    ),
)
def automatic_speech_recognition(
    loaded: Any, audio: Any, return_timestamps: str, language: str, task: str
) -> dict[str, Any]:
    """A transcript, {text, chunks?}, as the speech-recognition pipeline returns it; long audio in strided windows.

    Args:
        audio: The recording: an upload, a URL or a path (wav, flac, ogg, mp3).
        return_timestamps: none, segment (Whisper) or word (Whisper and CTC models such as wav2vec2).
        language: Whisper only: a language code or English name; auto detects it.
        task: Whisper only: transcribe, or translate to English.
    """
    rate = sampling_rate_of(loaded)
    speech = load_audio(audio, rate)
    kwargs = recognition_arguments(loaded, speech.seconds, return_timestamps, language, task)
    result = loaded.pipeline({"raw": speech.samples, "sampling_rate": rate}, **kwargs)
    output: dict[str, Any] = {"text": str(result["text"])}
    if "return_timestamps" in kwargs:
        output["chunks"] = [
            {"text": str(chunk["text"]), "timestamp": [_seconds(t) for t in chunk["timestamp"]]}
            for chunk in result.get("chunks", [])
        ]
    return output


# --------------------------------------------------------------- audio classification
@batched
@takes(AUDIO.but(label="Audio"), TOP_K_LABELS)
def audio_classification(loaded: Any, audio: Any, top_k: int) -> list[dict[str, Any]]:
    """Scores for the top_k labels, as the audio-classification pipeline returns them.

    Args:
        audio: The clip: an upload, a URL or a path (wav, flac, ogg, mp3); the first minute is classified.
        top_k: How many labels to return, best first.
    """
    rate = sampling_rate_of(loaded)
    clip = load_audio(audio, rate)
    samples = clip.samples
    if clip.seconds > MAX_CLASSIFY_SECONDS:
        notify(f"The audio is {clip.seconds:.0f} s long; only the first {MAX_CLASSIFY_SECONDS:.0f} s were classified.")
        samples = samples[: int(MAX_CLASSIFY_SECONDS * rate)]
    result = run_pipeline(loaded, {"raw": samples, "sampling_rate": rate}, top_k=top_k)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]


# ----------------------------------------------------------------------- text to speech
def _check_pronounceable(loaded: Any, text: str) -> None:
    """A UserError when the model's tokenizer keeps nothing of the text; a notice for skipped characters."""
    tokenizer = loaded.tokenizer
    if tokenizer is None or not callable(tokenizer):
        return
    ids = tokenizer(text)["input_ids"]
    pad = getattr(tokenizer, "pad_token_id", None)
    if not [i for i in ids if i != pad]:
        raise UserError(
            f"{loaded.entry.display_name} cannot pronounce any character of this text; "
            "type text in the model's language and alphabet."
        )
    if hasattr(tokenizer, "normalize_text") and getattr(tokenizer, "normalize", False):  # VITS / MMS-TTS
        vocab = tokenizer.get_vocab()
        skipped = sorted({c for c in tokenizer.normalize_text(text) if c not in vocab and not c.isspace()})
        if skipped:
            shown = " ".join(skipped[:12]) + (" …" if len(skipped) > 12 else "")
            notify(f"The model cannot pronounce these characters, so they were skipped: {shown}")


@takes(TEXT.but(help="What the voice should say.", empty="Type some text to speak first: the input is empty."))
def text_to_audio(loaded: Any, text: str) -> Output:
    """Speech for the text from the text-to-audio pipeline: {sampling_rate, num_samples}.

    The samples themselves (mono float32) are the Output's visual, for the audio player.

    Args:
        text: What the voice should say (the first 2,000 characters).
    """
    text = limit_text(text)
    if len(text) > MAX_SPEECH_CHARS:
        notify(f"The text is {len(text):,} characters long; only the first {MAX_SPEECH_CHARS:,} were spoken.")
        text = text[:MAX_SPEECH_CHARS]
    _check_pronounceable(loaded, text)
    result = loaded.pipeline(text)
    waveform = np.asarray(result["audio"], dtype=np.float32)
    if waveform.ndim > 1:  # (1, samples) or (channels, samples)
        waveform = waveform.reshape(-1) if 1 in waveform.shape else waveform.mean(axis=0)
    raw = {"sampling_rate": int(result["sampling_rate"]), "num_samples": int(waveform.shape[-1])}
    return Output(raw, visual=waveform)
