"""Show code snippets for the audio tasks: the pipeline call, audio read with librosa (no ffmpeg)."""

from __future__ import annotations

from typing import Any

from studio.adapters.audio import AUTO_LANGUAGE, CHUNK_SECONDS, STRIDE_SECONDS
from studio.codegen import file_reference, load_arguments, model_reference
from studio.codegen.multimodal import config_model_type
from studio.config import ModelEntry
from studio.models.settings import ModelSettings

PLACEHOLDER_AUDIO = "speech.wav"


def _audio_path(inputs: dict[str, Any]) -> str:
    return str(inputs.get("audio") or "").strip() or PLACEHOLDER_AUDIO


def _audio_seconds(path: str) -> float:
    """The file's duration, or 0 when it cannot be read (the snippet then skips chunking)."""
    import soundfile

    try:
        return float(soundfile.info(path).duration)
    except Exception:
        return 0.0


def _is_whisper(entry: ModelEntry) -> bool:
    """Whether the entry is a Whisper model (by id, or its config.json)."""
    return "whisper" in entry.id.lower() or config_model_type(entry) == "whisper"


def _pipeline_lines(pipeline_task: str, entry: ModelEntry, settings: ModelSettings, name: str) -> list[str]:
    setup, model = model_reference(entry)
    imports = "from transformers import pipeline"
    if settings.quantization != "none":
        imports = "from transformers import BitsAndBytesConfig, pipeline"
    arguments = ", ".join([repr(pipeline_task), f"model={model}", *load_arguments(entry, settings, for_pipeline=True)])
    return [imports, "", *setup, f"{name} = pipeline({arguments})"]


def _read_audio_lines(path: str, name: str) -> list[str]:
    return [
        "# librosa reads wav, flac, ogg and mp3, mixes stereo down and resamples to the model's rate",
        f"audio, rate = librosa.load({file_reference(path)!r}, sr={name}.feature_extractor.sampling_rate, mono=True)",
    ]


def automatic_speech_recognition(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    path = _audio_path(inputs)
    mode = inputs["return_timestamps"]
    language = inputs["language"].strip() or AUTO_LANGUAGE
    task = inputs["task"]
    arguments = ['{"raw": audio, "sampling_rate": rate}']
    if mode == "segment":
        arguments.append("return_timestamps=True")
    elif mode == "word":
        arguments.append("return_timestamps='word'")
    generate = {}
    if language.lower() != AUTO_LANGUAGE:
        generate["language"] = language
    if task != "transcribe" or generate:
        generate["task"] = task
    whisper_note: list[str] = []
    if generate and _is_whisper(entry):
        arguments.append(f"generate_kwargs={generate!r}")
        whisper_note = ["# Whisper: language and task go to generate()"]
    if _audio_seconds(path) > CHUNK_SECONDS:
        arguments += [f"chunk_length_s={CHUNK_SECONDS:g}", f"stride_length_s={STRIDE_SECONDS:g}"]
    lines = [
        "import librosa",
        *_pipeline_lines("automatic-speech-recognition", entry, settings, "asr"),
        *_read_audio_lines(path, "asr"),
        *whisper_note,
        f"result = asr({', '.join(arguments)})",
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def audio_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    path = _audio_path(inputs)
    top_k = inputs["top_k"]
    lines = [
        "import librosa",
        *_pipeline_lines("audio-classification", entry, settings, "classifier"),
        *_read_audio_lines(path, "classifier"),
        f'result = classifier({{"raw": audio, "sampling_rate": rate}}, top_k={top_k})',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def text_to_audio(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    text = inputs["text"].strip()
    lines = [
        "import soundfile",
        *_pipeline_lines("text-to-audio", entry, settings, "tts"),
        f"speech = tts({text!r})",
        'waveform = speech["audio"].squeeze()',
        'soundfile.write("speech.wav", waveform, speech["sampling_rate"])',
        'result = {"sampling_rate": speech["sampling_rate"], "num_samples": waveform.shape[-1]}',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"
