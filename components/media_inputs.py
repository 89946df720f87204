"""Image and audio inputs that hand the adapter a file path, with clear errors.

gr.Image decodes the upload itself before the handler runs; a damaged file would fail
there with Gradio's generic error. These inputs pass the path through untouched so that
studio.media.load_image / load_audio decide, with one-sentence messages.
"""

from __future__ import annotations

from typing import Any

import gradio as gr


class ImageFile(gr.Image):
    """gr.Image(type="filepath") that does not decode the upload (studio.media does)."""

    # Rendered by the frontend's Image component: without this the page looks for an
    # unknown "imagefile" component and draws nothing.
    is_template = True

    def preprocess(self, payload: Any) -> str | None:
        if payload is None:
            return None
        if getattr(payload, "path", None):
            return str(payload.path)
        try:
            return super().preprocess(payload)
        except Exception:
            raise gr.Error(
                "This file is not an image that can be read; upload a PNG, JPEG, WebP, GIF, BMP or TIFF file.",
                print_exception=False,
            ) from None


def image_input(label: str = "Image", **kwargs: Any) -> ImageFile:
    """Upload, webcam or clipboard; the handler gets a file path."""
    kwargs.pop("info", None)  # gr.Image has no help line (the spec's help is in the API docs)
    kwargs.setdefault("sources", ["upload", "webcam", "clipboard"])
    return ImageFile(label=label, type="filepath", **kwargs)


def audio_input(label: str = "Audio", **kwargs: Any) -> gr.Audio:
    """Microphone or upload; the handler gets the file path as uploaded (no ffmpeg conversion)."""
    kwargs.pop("info", None)  # gr.Audio has no help line (the spec's help is in the API docs)
    kwargs.setdefault("sources", ["upload", "microphone"])
    return gr.Audio(label=label, type="filepath", format=None, **kwargs)
