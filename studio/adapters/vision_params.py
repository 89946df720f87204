"""The vision tasks' own inputs (studio/adapters/vision.py runs them): thresholds, the
segmentation kind, and zero-shot labels with their template."""

from __future__ import annotations

from studio.spec.param import Param
from studio.spec.shared import IMAGE

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
