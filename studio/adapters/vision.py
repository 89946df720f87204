"""Vision tasks: image classification, object detection, segmentation, depth estimation and
zero-shot image classification, run through the transformers pipelines.

Every adapter reads the upload with `studio.uploads.media.load_image` (odd formats converted with
a notice, bad files refused in one sentence, images larger than `media.MAX_IMAGE_SIDE`
downscaled) and returns the raw output (docs/ARCHITECTURE.md, "Results"). Boxes, masks and
depth maps come back at the ORIGINAL image's size. What a tab draws (the original image
with boxes or masks, the coloured depth map) is the `visual` of a `studio.results.Output`:
plain PIL / numpy values, not part of the JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.adapters import common
from studio.errors import UserError, notify
from studio.results import Output
from studio.serving.batching import batched
from studio.serving.pipelines import run_pipeline
from studio.spec.param import Param, takes
from studio.spec.shared import IMAGE, TOP_K_LABELS
from studio.uploads import media

MAX_LABELS = common.MAX_LABELS
MASK_OPACITY = 0.6  # masks drawn at this opacity, so the photo shows through

# ---------------------------------------------------------------- the vision tasks' own inputs
SUBTASKS = ("auto", "panoptic", "instance", "semantic")
DEFAULT_IMAGE_TEMPLATE = "This is a photo of {}."

PHOTO = IMAGE.but(label="Image")


def _threshold(name: str, default: float, help: str, label: str) -> Param:
    """A threshold between 0 and 1."""
    return Param(name, "float", default, help, label=label, low=0.0, high=1.0, step=0.05)


THRESHOLD = _threshold("threshold", 0.5, "Hide detections scoring below this.", "Score threshold")
SUBTASK = Param(
    "subtask",
    "choice",
    "auto",
    "auto: panoptic if the model can, else instance, else semantic.",
    label="Segmentation kind",
    choices=SUBTASKS,
)
SEGMENT_THRESHOLDS = (
    _threshold("threshold", 0.9, "Panoptic / instance: keep masks above.", "Score threshold"),
    _threshold("mask_threshold", 0.5, "Panoptic / instance: mask pixel cut.", "Mask threshold"),
    _threshold(
        "overlap_mask_area_threshold", 0.5, "Panoptic / instance: drop small disconnected parts.", "Overlap threshold"
    ),
)
CANDIDATE_LABELS = Param(
    "candidate_labels",
    "text",
    help="Labels, separated by commas.",
    label="Candidate labels",
    placeholder="a cat, a dog, a car",
    empty="Type the candidate labels, separated by commas, in candidate_labels, e.g. a cat, a dog, a car.",
)
HYPOTHESIS_TEMPLATE = Param(
    "hypothesis_template",
    "text",
    DEFAULT_IMAGE_TEMPLATE,
    "Each label is put in place of {} before the model compares it with the image.",
    label="Hypothesis template",
)


def model_image(image: Any) -> media.ImageInput:
    """The upload as the model sees it: RGB, first frame, at most media.MAX_IMAGE_SIDE."""
    return media.load_image(image, max_side=media.MAX_IMAGE_SIDE)


def original_and_model_image(image: Any) -> tuple[Any, media.ImageInput]:
    """The upload at full size (RGB, for drawing on) and as the model sees it (decoded once)."""
    full = media.load_image(image, max_side=None)
    return full.image, media.load_image(full.image, max_side=media.MAX_IMAGE_SIDE)


# --------------------------------------------------------------------- image classification
@batched
@takes(PHOTO, TOP_K_LABELS)
def image_classification(loaded: Any, image: str, top_k: int) -> list[dict[str, Any]]:
    """The top_k labels and scores, as the image-classification pipeline returns them.

    Args:
        image: The picture to classify (a path or URL).
        top_k: How many labels to return, best first.
    """
    result = run_pipeline(loaded, model_image(image).image, top_k=top_k)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]


# ------------------------------------------------------------------------- object detection
@takes(PHOTO, THRESHOLD)
def object_detection(loaded: Any, image: str, threshold: float) -> Output:
    """Objects scoring above threshold, boxes in the original image's pixels (clipped to it).

    Args:
        image: The picture to search (a path or URL).
        threshold: The lowest score (0 to 1) a detection needs to be returned.
    """
    original, picture = original_and_model_image(image)
    found = loaded.pipeline(picture.image, threshold=threshold)
    raw: list[dict[str, Any]] = [
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
    return Output(raw, (original, boxes))


def box_label(item: dict[str, Any]) -> str:
    """The caption drawn with a box: label and score."""
    return f"{item['label']} {item['score']:.2f}"


# ----------------------------------------------------------------------- image segmentation
def supported_subtasks(loaded: Any) -> list[str]:
    """The segmentation kinds this model's image processor can post-process."""
    processor = getattr(loaded.pipeline, "image_processor", None)
    return [kind for kind in SUBTASKS[1:] if hasattr(processor, f"post_process_{kind}_segmentation")]


@takes(PHOTO, SUBTASK, *SEGMENT_THRESHOLDS)
def image_segmentation(
    loaded: Any,
    image: str,
    subtask: str,
    threshold: float,
    mask_threshold: float,
    overlap_mask_area_threshold: float,
) -> Output:
    """Segments as [{label, score}] (score is None for semantic segments, as in the pipeline).

    The masks, at the original image's size, are the visual.

    Args:
        image: The picture to segment (a path or URL).
        subtask: auto (panoptic, else instance, else semantic), panoptic, instance or semantic.
        threshold: Panoptic / instance: the lowest score (0 to 1) a segment needs.
        mask_threshold: Panoptic / instance: the probability (0 to 1) above which a pixel is in a mask.
        overlap_mask_area_threshold: Panoptic / instance: drop small disconnected parts (0 to 1).
    """
    supported = supported_subtasks(loaded)
    if subtask != "auto" and subtask not in supported:
        raise UserError(
            f"{loaded.entry.display_name} does not do {subtask} segmentation; set subtask to auto or "
            f"{' or '.join(supported)}."
        )
    resolved = supported[0] if subtask == "auto" and supported else subtask
    original, picture = original_and_model_image(image)
    kwargs: dict[str, Any] = {"subtask": None if subtask == "auto" else subtask}
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
    return Output(raw, (original, masks))


def mask_at(mask: Any, size: tuple[int, int]) -> np.ndarray:
    """A pipeline mask (PIL "L", 0/255) at the given (width, height), as opacities for drawing."""
    from PIL import Image

    if mask.size != tuple(size):
        mask = mask.resize(tuple(size), resample=Image.Resampling.NEAREST)
    return (np.asarray(mask, dtype=np.float32) / 255.0) * MASK_OPACITY


def segment_label(item: dict[str, Any]) -> str:
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


@takes(PHOTO)
def depth_estimation(loaded: Any, image: str) -> Output:
    """{min, max} of the predicted depth and {width, height} of the depth map shown.

    The map is resized to the original image's size (bilinear) when the image was
    downscaled for the model; min and max are the model's own values. The visual is the
    map as a colour image (bright = larger values: nearer for relative-depth models).

    Args:
        image: The picture to estimate depth for (a path or URL).
    """
    from PIL import Image

    picture = model_image(image)
    pipe = loaded.pipeline  # run step by step: numpy cannot take a bfloat16 depth map
    outputs = pipe.forward(pipe.preprocess(picture.image))
    outputs["predicted_depth"] = outputs["predicted_depth"].float()
    predicted = pipe.postprocess(outputs)["predicted_depth"]
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
    return Output(raw, colorize(depth))


# ------------------------------------------------------------ zero-shot image classification
def parse_image_labels(candidate_labels: str | None) -> list[str]:
    """Comma-separated labels, stripped, empty ones and repeats dropped (at most MAX_LABELS,
    with a notice); a UserError if none."""
    return common.parse_labels(candidate_labels, "a cat, a dog, a car", blank_is_empty=True)


def text_limit(loaded: Any) -> int:
    """The most tokens the model's text encoder reads (CLIP: 77)."""
    config = getattr(loaded.model, "config", None)
    text_config = getattr(config, "text_config", None) or config
    limits = [
        getattr(text_config, "max_position_embeddings", None),
        getattr(loaded.tokenizer, "model_max_length", None),
    ]
    usable = [int(limit) for limit in limits if isinstance(limit, int) and 0 < limit < 1_000_000]
    return min(usable) if usable else 77


def fit_label(tokenizer: Any, template: str, label: str, limit: int) -> str:
    """The label, cut so that the template with it is at most `limit` tokens."""
    for _ in range(12):
        count = len(tokenizer(template.format(label))["input_ids"])
        if count <= limit or len(label) <= 1:
            return label
        label = label[: max(1, min(len(label) - 1, int(len(label) * limit / count)))].strip() or label[:1]
    return label


@batched
@takes(PHOTO, CANDIDATE_LABELS, HYPOTHESIS_TEMPLATE)
def zero_shot_image_classification(
    loaded: Any, image: str, candidate_labels: str, hypothesis_template: str
) -> list[dict[str, Any]]:
    """Scores for labels the model never trained on (CLIP-style), best first.

    Args:
        image: The picture to classify (a path or URL).
        candidate_labels: The labels to score, separated by commas.
        hypothesis_template: The sentence each label is put in, at {}; empty: "This is a photo of {}."
    """
    labels = parse_image_labels(candidate_labels)
    template = common.label_template(hypothesis_template, DEFAULT_IMAGE_TEMPLATE)
    limit = text_limit(loaded)
    fitted = list(dict.fromkeys(fit_label(loaded.tokenizer, template, label, limit) for label in labels))
    if fitted != labels:
        notify(f"The model reads at most {limit} tokens per label; longer candidate_labels were cut to fit.")
    picture = model_image(image)
    # (the pipeline drops tokenizer_kwargs, so the labels are cut here rather than truncated there)
    result = run_pipeline(loaded, picture.image, candidate_labels=fitted, hypothesis_template=template)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]
