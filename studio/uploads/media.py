"""Reading uploaded images and audio: every odd file becomes a usable input or a UserError.

Shared by the vision, audio and multimodal adapters, so that each task treats a truncated
PNG, a CMYK JPEG, an animated GIF, a stereo 48 kHz FLAC or a 0-byte file the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.errors import UserError, notify

MAX_IMAGE_SIDE = int(os.environ.get("STUDIO_MAX_IMAGE_SIDE", "1024"))
MIN_IMAGE_SIDE = 8
# Beyond these an upload is refused before it is decoded: the pixels would take hundreds of
# MB, and the page's WebP previews stop at 16,383 pixels a side.
MAX_UPLOAD_SIDE = 16_000
MAX_UPLOAD_PIXELS = 80_000_000
MAX_AUDIO_SECONDS = float(os.environ.get("STUDIO_MAX_AUDIO_SECONDS", str(30 * 60)))
MIN_AUDIO_SECONDS = 0.1  # shorter than one analysis window of the audio models
IMAGE_FORMATS = "PNG, JPEG, WebP, GIF, BMP or TIFF"
AUDIO_FORMATS = "WAV, FLAC, OGG or MP3"


@dataclass
class ImageInput:
    """An RGB image ready for a model, and how to map coordinates back to the upload."""

    image: Any  # PIL.Image.Image
    original_size: tuple[int, int]
    scale: float = 1.0  # model-image pixels per original pixel

    def to_original(self, box: dict[str, float]) -> dict[str, int]:
        """A box on the (possibly downscaled) model image, in original-image pixels."""
        width, height = self.original_size
        factor = 1.0 / self.scale
        return {
            "xmin": max(0, min(width, round(box["xmin"] * factor))),
            "ymin": max(0, min(height, round(box["ymin"] * factor))),
            "xmax": max(0, min(width, round(box["xmax"] * factor))),
            "ymax": max(0, min(height, round(box["ymax"] * factor))),
        }


def _open_pil(source: Any) -> Any:
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return Image.fromarray(source)
    path = Path(str(source))
    if not path.is_file():
        raise UserError("Upload an image first.")
    if path.stat().st_size == 0:
        raise UserError(f"The uploaded file is empty; upload a {IMAGE_FORMATS} image.")
    try:
        image = Image.open(path)
        _check_size(*image.size)
        image.load()
    except UnidentifiedImageError:
        raise UserError(f"This file is not an image that can be read; upload a {IMAGE_FORMATS} file.") from None
    except (OSError, SyntaxError, ValueError):
        raise UserError("The image file is damaged or incomplete; upload it again or try another file.") from None
    except Image.DecompressionBombError:
        raise UserError("The image is too large to open safely; upload a smaller image.") from None
    return image


def _check_size(width: int, height: int) -> None:
    """A UserError for an image too big to decode (a decompression bomb) or to preview."""
    if max(width, height) > MAX_UPLOAD_SIDE or width * height > MAX_UPLOAD_PIXELS:
        raise UserError(
            f"The image is {width}×{height} pixels, more than this app opens; upload one at most "
            f"{MAX_UPLOAD_SIDE:,} pixels on a side and {MAX_UPLOAD_PIXELS // 1_000_000} megapixels in all."
        )


def _to_rgb(image: Any) -> Any:
    """RGB, saying what was converted (transparency flattened on white, 16-bit scaled)."""
    from PIL import Image

    mode = image.mode
    if mode == "RGB":
        return image
    if mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        scaled = np.zeros_like(array) if high == low else (array - low) / (high - low) * 255.0
        notify(f"The image was {mode} (high bit depth); it was scaled to 8 bits per channel.")
        return Image.fromarray(scaled.astype(np.uint8)).convert("RGB")
    if mode in {"RGBA", "LA", "PA"} or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notify("The image had transparency; it was placed on a white background.")
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "CMYK":
        notify("The image was CMYK; it was converted to RGB.")
    elif mode in {"L", "1"}:
        notify("The image was grayscale; it was converted to RGB.")
    return image.convert("RGB")


def load_image(source: Any, max_side: int | None = MAX_IMAGE_SIDE) -> ImageInput:
    """An uploaded image (path, PIL image or array) as RGB, first frame, at most max_side."""
    if source is None or (isinstance(source, str) and not source.strip()):
        raise UserError("Upload an image first.")
    image = _open_pil(source)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
        notify(f"The image is animated ({image.n_frames} frames); only the first frame was used.")
        image = image.copy()
    width, height = image.size
    if min(width, height) < MIN_IMAGE_SIDE:
        raise UserError(
            f"The image is only {width}×{height} pixels; upload one at least {MIN_IMAGE_SIDE} pixels on each side."
        )
    _check_size(width, height)
    scale = 1.0
    if max_side and max(width, height) > max_side:
        scale = max_side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if min(size) < MIN_IMAGE_SIDE:  # checked on the size the model would see
            raise UserError(
                f"The image is {width}×{height} pixels, too long and thin: scaled to at most {max_side} pixels it "
                f"would be {size[0]}×{size[1]}; upload one at least {MIN_IMAGE_SIDE} pixels on each side after that."
            )
    image = _to_rgb(image)
    if scale != 1.0:
        image = image.resize(size, resample=3)  # bicubic
        notify(
            f"The image was downscaled from {width}×{height} to {size[0]}×{size[1]} for the model; "
            "results are shown on the original."
        )
    return ImageInput(image=image, original_size=(width, height), scale=scale)


@dataclass
class AudioInput:
    """Mono float32 samples at the model's sampling rate."""

    samples: np.ndarray
    sampling_rate: int
    original_rate: int
    original_channels: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sampling_rate


def load_audio(source: Any, sampling_rate: int, max_seconds: float = MAX_AUDIO_SECONDS) -> AudioInput:
    """An uploaded or recorded audio file as mono float32 at sampling_rate (no ffmpeg needed).

    `source` is a file path, or a (rate, samples) tuple as gr.Audio(type="numpy") gives.
    """
    if source is None or (isinstance(source, str) and not source.strip()):
        raise UserError("Upload or record some audio first.")
    if isinstance(source, tuple):
        rate, data = source
        data, seconds = np.asarray(data), None
    else:
        data, rate, seconds = _read_audio_file(Path(str(source)), max_seconds)
    if data.dtype.kind in "iu":
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    data = data.astype(np.float32)
    channels = 1 if data.ndim == 1 else min(data.shape)
    if data.ndim == 2:
        # soundfile gives (frames, channels); gradio numpy audio too.
        data = data.mean(axis=1) if data.shape[1] == channels else data.mean(axis=0)
        notify(f"The audio had {channels} channels; they were mixed down to mono.")
    if data.size == 0:
        raise UserError(f"The audio holds no samples; record again or upload a {AUDIO_FORMATS} file with sound.")
    if data.size < MIN_AUDIO_SECONDS * rate:
        raise UserError(
            f"The audio is only {data.size:,} sample{'s' if data.size != 1 else ''} ({data.size / rate:.3f} s) long; "
            f"record or upload at least "
            f"{MIN_AUDIO_SECONDS:g} seconds."
        )
    seconds = data.size / rate if seconds is None else seconds
    if seconds > max_seconds:
        notify(f"The audio is {_duration(seconds)} long; only the first {_duration(max_seconds)} were used.")
        data = data[: int(max_seconds * rate)]
    if rate != sampling_rate:
        import librosa

        data = librosa.resample(data, orig_sr=rate, target_sr=sampling_rate)
    if not np.any(np.abs(data) > 1e-4):
        notify("The audio is silent (or almost): the result may be empty.")
    return AudioInput(np.ascontiguousarray(data, dtype=np.float32), sampling_rate, int(rate), channels)


def _duration(seconds: float) -> str:
    return f"{seconds:g} seconds" if seconds < 120 else f"{seconds / 60:.1f} minutes"


def _read_audio_file(path: Path, max_seconds: float) -> tuple[np.ndarray, int, float]:
    """At most max_seconds of samples (a long file is never read whole), the rate, and how
    many seconds the whole file lasts."""
    import soundfile

    if not path.is_file():
        raise UserError("Upload or record some audio first.")
    if path.stat().st_size == 0:
        raise UserError(f"The uploaded audio file is empty; upload a {AUDIO_FORMATS} file.")
    try:
        with soundfile.SoundFile(str(path)) as audio:
            rate = int(audio.samplerate)
            wanted = int(max_seconds * rate)
            data = audio.read(wanted if audio.frames > wanted else -1, dtype="float32", always_2d=False)
            seconds = max(audio.frames, len(data)) / rate
        return np.asarray(data), rate, seconds
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    try:
        import librosa

        data, native_rate = librosa.load(str(path), sr=None, mono=False, duration=max_seconds)
        seconds = np.shape(data)[-1] / native_rate
        if seconds >= max_seconds:  # cut: how long was the whole file?
            seconds = float(librosa.get_duration(path=str(path)))
    except Exception:
        raise UserError(f"This file is not audio that can be read; upload a {AUDIO_FORMATS} file.") from None
    data = np.asarray(data)
    return (data.T if data.ndim == 2 else data), int(native_rate), seconds
