"""Show code snippets for the vision tasks: the pipeline call on the chosen image.

Each snippet opens the image as the app does (RGB; transparency on white; downscaled to
the app's size limit, with boxes mapped back) so that its `result` equals the raw output.
The inputs arrive checked against the adapter's spec, defaults filled in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.adapters.vision import DEFAULT_IMAGE_TEMPLATE
from studio.codegen import file_reference, load_arguments, model_reference
from studio.config import ModelEntry
from studio.models.settings import ModelSettings
from studio.uploads import media

PLACEHOLDER = "my_image.jpg"


def _image_facts(path: str | None) -> tuple[tuple[int, int] | None, bool]:
    """(size, has transparency) of the image, read from its header; (None, False) if unreadable."""
    if not path or not Path(str(path)).is_file():
        return None, False
    try:
        from PIL import Image

        with Image.open(str(path)) as image:
            transparent = image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info)
            return image.size, transparent
    except Exception:
        return None, False


def image_lines(path: str | None) -> tuple[list[str], bool]:
    """Lines that leave the model's input in `image` (and the upload's size in width, height).

    Returns the lines and whether the image is downscaled (then `factor` maps back).
    """
    size, transparent = _image_facts(path)
    shown = repr(file_reference(str(path))) if size else repr(PLACEHOLDER)
    lines = [] if size else [f"# Put the path of your image in place of {PLACEHOLDER!r}."]
    if transparent:
        lines += [
            f"upload = Image.open({shown}).convert('RGBA')",
            "# Transparency is flattened on white, as the app does.",
            "image = Image.alpha_composite(Image.new('RGBA', upload.size, 'white'), upload).convert('RGB')",
        ]
    else:
        lines.append(f"image = Image.open({shown}).convert('RGB')")
    lines.append("width, height = image.size")
    limit = media.MAX_IMAGE_SIDE
    scaled = bool(size and limit and max(size) > limit)
    if scaled:
        lines += [
            f"# The app downscales images larger than {limit} px before inference; results map back.",
            f"scale = {limit} / max(width, height)",
            "image = image.resize((round(width * scale), round(height * scale)), Image.Resampling.BICUBIC)",
            "factor = 1.0 / scale",
        ]
    return lines, scaled


def _snippet(
    pipeline_task: str,
    entry: ModelEntry,
    settings: ModelSettings,
    image: str | None,
    name: str,
    call: str,
    after: list[str] | None = None,
) -> str:
    setup, model = model_reference(entry)
    imports = "from transformers import pipeline"
    if settings.quantization != "none":
        imports = "from transformers import BitsAndBytesConfig, pipeline"
    load = load_arguments(entry, settings, for_pipeline=True)
    opened, _ = image_lines(image)
    lines = [
        "from PIL import Image",
        imports,
        "",
        *setup,
        f"{name} = pipeline({', '.join([repr(pipeline_task), f'model={model}', *load])})",
        *opened,
        f"result = {name}({call})",
        *(after or []),
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def image_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    call = f"image, top_k={inputs['top_k']}"
    return _snippet("image-classification", entry, settings, inputs.get("image"), "classifier", call)


def object_detection(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    _, scaled = image_lines(inputs.get("image"))
    mapped = "round(v * factor)" if scaled else "round(v)"
    return _snippet(
        "object-detection",
        entry,
        settings,
        inputs.get("image"),
        "detector",
        f"image, threshold={inputs['threshold']!r}",
        after=[
            "# Boxes in the uploaded image's pixels, clipped to it.",
            "limits = {'xmin': width, 'ymin': height, 'xmax': width, 'ymax': height}",
            "result = [",
            "    {'label': r['label'], 'score': r['score'],",
            f"     'box': {{k: max(0, min(limits[k], {mapped})) for k, v in r['box'].items()}}}}",
            "    for r in result",
            "]",
        ],
    )


def image_segmentation(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    subtask = inputs["subtask"]
    arguments = ["image"]
    if subtask != "auto":
        arguments.append(f"subtask={subtask!r}")
    if subtask != "semantic":
        for key in ("threshold", "mask_threshold", "overlap_mask_area_threshold"):
            arguments.append(f"{key}={inputs[key]!r}")
    return _snippet(
        "image-segmentation",
        entry,
        settings,
        inputs.get("image"),
        "segmenter",
        ", ".join(arguments),
        after=[
            "# Each segment also has a 'mask' (a PIL image); masks = [s['mask'] for s in result]",
            "result = [{'label': s['label'], 'score': s['score']} for s in result]",
        ],
    )


def depth_estimation(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    return _snippet(
        "depth-estimation",
        entry,
        settings,
        inputs.get("image"),
        "estimator",
        "image",
        after=[
            "depth = result['predicted_depth']  # a tensor; result['depth'] is a grey PIL image of it",
            "result = {'min': float(depth.min()), 'max': float(depth.max()), 'width': width, 'height': height}",
        ],
    )


def zero_shot_image_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    raw_labels = str(inputs.get("candidate_labels") or "").split(",")
    labels = [label for label in dict.fromkeys(part.strip() for part in raw_labels) if label]
    template = inputs["hypothesis_template"].strip() or DEFAULT_IMAGE_TEMPLATE
    return _snippet(
        "zero-shot-image-classification",
        entry,
        settings,
        inputs.get("image"),
        "classifier",
        f"image, candidate_labels={labels!r}, hypothesis_template={template!r}",
    )
