"""Vision tasks: image classification, object detection, segmentation, depth estimation and
zero-shot image classification, run through the transformers pipelines.

Every adapter reads the upload with `studio.media.load_image` (odd formats converted with
a notice, bad files refused in one sentence, images larger than `media.MAX_IMAGE_SIDE`
downscaled) and returns the raw output of DESIGN.md. Boxes, masks and depth maps come back
at the ORIGINAL image's size. What a tab draws (the original image with boxes or masks, the
coloured depth map) rides along on the raw output as its `visual` attribute: plain PIL /
numpy values, not part of the JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio import media
from studio.adapters.common import positive_int
from studio.errors import UserError, notify

SUBTASKS = ("auto", "panoptic", "instance", "semantic")
DEFAULT_IMAGE_TEMPLATE = "This is a photo of {}."
MAX_LABELS = 100
MASK_OPACITY = 0.6  # masks drawn at this opacity, so the photo shows through


class RawList(list):
    """A raw output list (the JSON) that also carries what the tab draws, as `.visual`."""

    visual: Any = None


class RawDict(dict):
    """A raw output dict (the JSON) that also carries what the tab draws, as `.visual`."""

    visual: Any = None


def with_visual(raw: list | dict, visual: Any) -> RawList | RawDict:
    """The raw output with a visual attached; it still compares and serialises as plain JSON."""
    shown = RawList(raw) if isinstance(raw, list) else RawDict(raw)
    shown.visual = visual
    return shown


def visual_of(raw: Any) -> Any:
    """What a raw output carries for the tab to draw (None when nothing)."""
    return getattr(raw, "visual", None)


def _fraction(value: Any, name: str) -> float:
    """A number between 0 and 1 (thresholds), or a UserError saying so."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number between 0 and 1.") from None
    if not 0.0 <= number <= 1.0:
        raise UserError(f"{name} must be between 0 and 1; got {number:g}.")
    return number


def model_image(image: Any) -> media.ImageInput:
    """The upload as the model sees it: RGB, first frame, at most media.MAX_IMAGE_SIDE."""
    return media.load_image(image, max_side=media.MAX_IMAGE_SIDE)


def original_and_model_image(image: Any) -> tuple[Any, media.ImageInput]:
    """The upload at full size (RGB, for drawing on) and as the model sees it (decoded once)."""
    full = media.load_image(image, max_side=None)
    return full.image, media.load_image(full.image, max_side=media.MAX_IMAGE_SIDE)


# --------------------------------------------------------------------- image classification
def image_classification(loaded: Any, image: str, top_k: int = 5) -> list[dict]:
    """The top_k labels and scores, as the image-classification pipeline returns them."""
    top_k = positive_int(top_k, "top_k", 1, 1_000)
    picture = model_image(image)
    result = loaded.pipeline(picture.image, top_k=top_k)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]


# ------------------------------------------------------------------------- object detection
def object_detection(loaded: Any, image: str, threshold: float = 0.5) -> list[dict]:
    """Objects scoring above threshold, boxes in the original image's pixels (clipped to it)."""
    threshold = _fraction(threshold, "threshold")
    original, picture = original_and_model_image(image)
    found = loaded.pipeline(picture.image, threshold=threshold)
    raw = [
        {
            "label": str(item["label"]),
            "score": float(item["score"]),
            "box": picture.to_original({key: float(value) for key, value in item["box"].items()}),
        }
        for item in found
    ]
    if not raw:
        notify(f"Nothing was detected with a score above {threshold:g}; lower the threshold to see weaker detections.")
    boxes = [
        ((item["box"]["xmin"], item["box"]["ymin"], item["box"]["xmax"], item["box"]["ymax"]), box_label(item))
        for item in raw
    ]
    return with_visual(raw, (original, boxes))


def box_label(item: dict) -> str:
    """The caption drawn with a box: label and score."""
    return f"{item['label']} {item['score']:.2f}"


# ----------------------------------------------------------------------- image segmentation
def supported_subtasks(loaded: Any) -> list[str]:
    """The segmentation kinds this model's image processor can post-process."""
    processor = getattr(loaded.pipeline, "image_processor", None)
    return [kind for kind in SUBTASKS[1:] if hasattr(processor, f"post_process_{kind}_segmentation")]


def image_segmentation(
    loaded: Any,
    image: str,
    subtask: str = "auto",
    threshold: float = 0.9,
    mask_threshold: float = 0.5,
    overlap_mask_area_threshold: float = 0.5,
) -> list[dict]:
    """Segments as [{label, score}] (score is None for semantic segments, as in the pipeline).

    subtask "auto" lets the pipeline choose (panoptic, else instance, else semantic);
    threshold, mask_threshold and overlap_mask_area_threshold apply to panoptic and
    instance segmentation only. The masks, at the original image's size, are the visual.
    """
    kind = str(subtask or "auto").strip().lower()
    if kind not in SUBTASKS:
        raise UserError(f"subtask must be one of {', '.join(SUBTASKS)}; got {subtask!r}.")
    threshold = _fraction(threshold, "threshold")
    mask_threshold = _fraction(mask_threshold, "mask_threshold")
    overlap_mask_area_threshold = _fraction(overlap_mask_area_threshold, "overlap_mask_area_threshold")
    supported = supported_subtasks(loaded)
    if kind != "auto" and kind not in supported:
        raise UserError(
            f"{loaded.entry.display_name} does not do {kind} segmentation; set subtask to auto or "
            f"{' or '.join(supported)}."
        )
    resolved = supported[0] if kind == "auto" and supported else kind
    original, picture = original_and_model_image(image)
    kwargs: dict[str, Any] = {"subtask": None if kind == "auto" else kind}
    if resolved != "semantic":
        kwargs.update(
            threshold=threshold, mask_threshold=mask_threshold, overlap_mask_area_threshold=overlap_mask_area_threshold
        )
    segments = loaded.pipeline(picture.image, **kwargs)
    raw = [
        {"label": str(segment["label"]), "score": None if segment["score"] is None else float(segment["score"])}
        for segment in segments
    ]
    if not raw:
        notify(f"No segment scored above the threshold {threshold:g}; lower the threshold to see weaker segments.")
    masks = [(mask_at(segment["mask"], original.size), segment_label(item)) for segment, item in zip(segments, raw)]
    return with_visual(raw, (original, masks))


def mask_at(mask: Any, size: tuple[int, int]) -> np.ndarray:
    """A pipeline mask (PIL "L", 0/255) at the given (width, height), as opacities for drawing."""
    from PIL import Image

    if mask.size != tuple(size):
        mask = mask.resize(tuple(size), resample=Image.Resampling.NEAREST)
    return (np.asarray(mask, dtype=np.float32) / 255.0) * MASK_OPACITY


def segment_label(item: dict) -> str:
    """The legend entry of a segment: its label, and its score where the model gives one."""
    return item["label"] if item["score"] is None else f"{item['label']} {item['score']:.2f}"


# ------------------------------------------------------------------------- depth estimation
# Anchors of the "inferno" colormap (dark = small values, bright yellow = large values).
INFERNO = np.array(
    [
        [0, 0, 4],
        [27, 12, 65],
        [74, 12, 107],
        [120, 28, 109],
        [165, 44, 96],
        [207, 68, 70],
        [237, 105, 37],
        [251, 155, 6],
        [252, 255, 164],
    ],
    dtype=np.float64,
)


def colorize(depth: np.ndarray) -> np.ndarray:
    """A depth map (H×W floats) as an H×W×3 uint8 colour image: small values dark, large bright."""
    values = np.asarray(depth, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = np.zeros_like(values) if high <= low else (values - low) / (high - low)
    stops = np.linspace(0.0, 1.0, len(INFERNO))
    channels = [np.interp(scaled, stops, INFERNO[:, channel]) for channel in range(3)]
    return np.clip(np.rint(np.stack(channels, axis=-1)), 0, 255).astype(np.uint8)


def depth_estimation(loaded: Any, image: str) -> dict:
    """{min, max} of the predicted depth and {width, height} of the depth map shown.

    The map is resized to the original image's size (bilinear) when the image was
    downscaled for the model; min and max are the model's own values. The visual is the
    map as a colour image (bright = larger values: nearer for relative-depth models).
    """
    from PIL import Image

    picture = model_image(image)
    output = loaded.pipeline(picture.image)
    predicted = output["predicted_depth"]
    depth = np.asarray(predicted.detach().float().cpu().numpy(), dtype=np.float32).squeeze()
    if depth.ndim != 2:
        raise ValueError(f"expected a 2-D depth map, got shape {depth.shape}")
    width, height = picture.original_size
    if (depth.shape[1], depth.shape[0]) != (width, height):
        depth = np.asarray(
            Image.fromarray(depth).resize((width, height), resample=Image.Resampling.BILINEAR),
            dtype=np.float32,
        )
    raw = {
        "min": float(predicted.min()),
        "max": float(predicted.max()),
        "width": int(depth.shape[1]),
        "height": int(depth.shape[0]),
    }
    return with_visual(raw, colorize(depth))


# ------------------------------------------------------------ zero-shot image classification
def parse_image_labels(candidate_labels: str | None) -> list[str]:
    """Comma-separated labels, stripped, empty ones and repeats dropped; a UserError if none."""
    labels = [
        label for label in dict.fromkeys(part.strip() for part in str(candidate_labels or "").split(",")) if label
    ]
    if not labels:
        raise UserError("Type the candidate labels, separated by commas, e.g. a cat, a dog, a car.")
    if len(labels) > MAX_LABELS:
        raise UserError(f"There are {len(labels)} labels; use at most {MAX_LABELS}.")
    return labels


def zero_shot_image_classification(
    loaded: Any, image: str, candidate_labels: str, hypothesis_template: str = DEFAULT_IMAGE_TEMPLATE
) -> list[dict]:
    """Scores for labels the model never trained on (CLIP-style), best first."""
    labels = parse_image_labels(candidate_labels)
    template = str(hypothesis_template or "").strip() or DEFAULT_IMAGE_TEMPLATE
    if template.count("{}") != 1:
        raise UserError(
            "The hypothesis template must contain {} exactly once, where the label goes, e.g. 'This is a photo of {}.'"
        )
    try:
        template.format("label")
    except (IndexError, KeyError, ValueError):
        raise UserError(
            "The hypothesis template may hold no braces other than {}, where the label goes, e.g. 'A photo of {}.'"
        ) from None
    picture = model_image(image)
    result = loaded.pipeline(picture.image, candidate_labels=labels, hypothesis_template=template)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]
