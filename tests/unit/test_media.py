"""Odd uploads become a usable input with a notice, or a one-sentence UserError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from studio.errors import UserError, collect_notices
from studio.uploads.media import load_audio, load_image


def saved(image: Image.Image, path: Path, **kwargs) -> Path:
    image.save(path, **kwargs)
    return path


@pytest.mark.parametrize(
    ("make", "notice"),
    [
        (lambda p: saved(Image.new("RGBA", (32, 32), (255, 0, 0, 128)), p / "a.png"), "transparency"),
        (lambda p: saved(Image.new("L", (32, 32), 90), p / "g.png"), "grayscale"),
        (lambda p: saved(Image.new("CMYK", (32, 32), (0, 50, 100, 0)), p / "c.jpg"), "CMYK"),
        (
            lambda p: saved(Image.fromarray(np.arange(1024, dtype=np.uint16).reshape(32, 32) * 60), p / "d.png"),
            "high bit depth",
        ),
        (
            lambda p: saved(
                Image.new("RGB", (32, 32), "red"),
                p / "anim.gif",
                save_all=True,
                append_images=[Image.new("RGB", (32, 32), "blue")],
            ),
            "animated (2 frames)",
        ),
    ],
)
def test_unusual_images_are_converted_with_a_notice(tmp_path: Path, make, notice: str) -> None:
    with collect_notices() as notices:
        loaded = load_image(str(make(tmp_path)))
    assert loaded.image.mode == "RGB" and loaded.image.size == (32, 32)
    assert any(notice in n for n in notices), notices


def test_large_image_is_downscaled_and_boxes_map_back(tmp_path: Path) -> None:
    path = saved(Image.new("RGB", (4000, 2000), "white"), tmp_path / "big.png")
    with collect_notices() as notices:
        loaded = load_image(str(path), max_side=1000)
    assert loaded.image.size == (1000, 500)
    assert "downscaled from 4000×2000 to 1000×500" in notices[0]
    assert loaded.to_original({"xmin": 10, "ymin": 20, "xmax": 500, "ymax": 499}) == {
        "xmin": 40,
        "ymin": 80,
        "xmax": 2000,
        "ymax": 1996,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The uploaded file is empty"),
        (b"this is plain text, not a picture\n", "This file is not an image that can be read"),
        ("truncated", "damaged or incomplete"),
        ("tiny", "only 1×1 pixels"),
    ],
)
def test_bad_images_are_user_errors(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "upload.png"
    if content == "truncated":
        saved(Image.effect_noise((64, 64), 50).convert("RGB"), path)
        path.write_bytes(path.read_bytes()[:200])
    elif content == "tiny":
        saved(Image.new("RGB", (1, 1)), path)
    else:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_image(str(path))


def test_stereo_48k_audio_is_mixed_and_resampled(tmp_path: Path) -> None:
    seconds, rate = 1.0, 48_000
    t = np.arange(int(seconds * rate)) / rate
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    path = tmp_path / "stereo.flac"
    soundfile.write(path, stereo, rate)
    with collect_notices() as notices:
        audio = load_audio(str(path), 16_000)
    assert audio.sampling_rate == 16_000 and audio.samples.ndim == 1
    assert abs(audio.seconds - 1.0) < 0.01
    assert audio.original_channels == 2 and "mixed down to mono" in notices[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "The uploaded audio file is empty"), (b"not audio at all", "This file is not audio that can be read")],
)
def test_bad_audio_is_a_user_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_audio(str(path), 16_000)
