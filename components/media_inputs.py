"""Image and audio inputs that hand the adapter a file path, with clear errors.

gr.Image decodes the upload itself before the handler runs; a damaged file would fail
there with Gradio's generic error. These inputs pass the path through untouched so that
studio.uploads.media.load_image / load_audio decide, with one-sentence messages.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from compat.gradio import is_upload_or_url

REFUSED_PATH = (
    "{name} must be a file uploaded to this app (POST it to /gradio_api/upload first) or a URL; "
    "a path on the server is refused."
)


def uploaded_path(path: str, name: str) -> str:
    """The path of an upload (or a URL); a path elsewhere on the server is refused, as Gradio
    refuses it when the request marks it as a file (a bare {"path": ...} is not checked there)."""
    if is_upload_or_url(path):
        return path
    raise gr.Error(REFUSED_PATH.format(name=name), print_exception=False)


class ImageFile(gr.Image):
    """gr.Image(type="filepath") that does not decode the upload (studio.uploads.media does)."""

    # Rendered by the frontend's Image component: without this the page looks for an
    # unknown "imagefile" component and draws nothing.
    is_template = True

    def preprocess(self, payload: Any) -> str | None:
        if payload is None:
            return None
        if getattr(payload, "path", None):
            return uploaded_path(str(payload.path), "image")
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


class AudioFile(gr.Audio):
    """gr.Audio(type="filepath") that takes only uploads (or URLs), like ImageFile."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload is not None and getattr(payload, "path", None):
            uploaded_path(str(payload.path), "audio")
        return super().preprocess(payload)


def audio_input(label: str = "Audio", **kwargs: Any) -> gr.Audio:
    """Microphone or upload; the handler gets the file path as uploaded (no ffmpeg conversion)."""
    kwargs.pop("info", None)  # gr.Audio has no help line (the spec's help is in the API docs)
    kwargs.setdefault("sources", ["upload", "microphone"])
    return AudioFile(label=label, type="filepath", format=None, **kwargs)
