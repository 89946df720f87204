"""Vision tabs through gradio_client, checked against transformers pipelines on the same tiny
models and images (oracle tests); Show code, downscaling and bad files."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from pytest import approx

from studio.config import load_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from tests.helpers import run_snippet

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "examples" / "images"
CAT = IMAGES / "cat.jpg"  # 451×300


def rgb(path: Path) -> Image.Image:
    return Image.open(path).convert("RGB")


def pipe(task: str, model: str):
    from transformers import pipeline

    return pipeline(task, model=model)


def assert_same_scores(raw: list[dict], want: list[dict]) -> None:
    assert [item["label"] for item in raw] == [item["label"] for item in want]
    assert [item["score"] for item in raw] == approx([item["score"] for item in want], abs=1e-6)


@pytest.fixture(scope="module")
def big_cat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cat.jpg at 5× (2255×1500): larger than the app's 1024 px limit, so it is downscaled."""
    path = tmp_path_factory.mktemp("big") / "big_cat.jpg"
    image = rgb(CAT)
    image.resize((image.width * 5, image.height * 5), Image.Resampling.BICUBIC).save(path, quality=90)
    return path


# ------------------------------------------------------------------------------- oracles
def test_image_classification_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    label, raw = client.predict(model=tiny.vit, image=handle_file(str(CAT)), top_k=3, api_name="/image_classification")
    want = pipe("image-classification", tiny.vit)(rgb(CAT), top_k=3)
    assert len(raw) == 3
    assert_same_scores(raw, want)
    assert label["label"] == want[0]["label"]


def test_object_detection_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    drawn, table, raw = client.predict(
        model=tiny.detr, image=handle_file(str(CAT)), threshold=0.6, api_name="/object_detection"
    )
    want = pipe("object-detection", tiny.detr)(rgb(CAT), threshold=0.6)
    assert 0 < len(raw) < 8  # the threshold dropped some of the 8 queries
    assert_same_scores(raw, want)
    assert [item["box"] for item in raw] == [item["box"] for item in want]
    assert [row[0] for row in table["data"]] == [item["label"] for item in raw]
    assert [row[2:] for row in table["data"]] == [list(item["box"].values()) for item in raw]
    # The boxes are drawn on the uploaded image, one annotation per detection, labelled with the score.
    assert Image.open(drawn["image"]).size == (451, 300)
    assert [a["label"] for a in drawn["annotations"]] == [f"{i['label']} {i['score']:.2f}" for i in raw]
    first = np.asarray(Image.open(drawn["annotations"][0]["image"]))
    box = raw[0]["box"]
    assert first.shape[:2] == (300, 451)
    assert first[box["ymin"] + 1, box["xmin"] + 1, 3] > 0 and first[box["ymax"] + 2, box["xmax"] + 2, 3] == 0


@pytest.mark.parametrize(
    ("model_name", "subtask"),
    [
        ("segformer", "auto"),
        ("detr_panoptic", "panoptic"),
        ("detr_panoptic", "instance"),
        ("detr_panoptic", "semantic"),
    ],
)
def test_image_segmentation_matches_pipeline(client, tiny: SimpleNamespace, model_name: str, subtask: str) -> None:
    model = getattr(tiny, model_name)
    drawn, raw = client.predict(
        model=model, image=handle_file(str(CAT)), subtask=subtask, api_name="/image_segmentation"
    )
    kwargs = {} if subtask == "auto" else {"subtask": subtask}
    want = pipe("image-segmentation", model)(rgb(CAT), **kwargs)
    assert raw and [item["label"] for item in raw] == [item["label"] for item in want]
    if subtask in {"auto", "semantic"}:  # semantic segments have no score, in the pipeline too
        assert all(item["score"] is None for item in raw + want)
    else:
        assert [item["score"] for item in raw] == approx([item["score"] for item in want], abs=1e-6)
    assert len(drawn["annotations"]) == len(raw)
    assert Image.open(drawn["image"]).size == (451, 300)
    for annotation, segment in zip(drawn["annotations"], want):
        alpha = np.asarray(Image.open(annotation["image"]))[..., 3]
        assert alpha.shape == (300, 451)
        assert np.array_equal(alpha > 0, np.asarray(segment["mask"]) > 0)  # the pipeline's mask, drawn


def test_depth_estimation_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    shown, raw = client.predict(model=tiny.dpt, image=handle_file(str(CAT)), api_name="/depth_estimation")
    depth = pipe("depth-estimation", tiny.dpt)(rgb(CAT))["predicted_depth"]
    assert raw == {
        "min": approx(float(depth.min()), rel=1e-5),
        "max": approx(float(depth.max()), rel=1e-5),
        "width": 451,
        "height": 300,
    }
    colours = np.asarray(Image.open(shown).convert("RGB")).astype(int)
    assert colours.shape == (300, 451, 3)
    assert (colours[..., 0] != colours[..., 2]).mean() > 0.5  # a colour map, not a grey image
    # Larger depth is brighter: the pixel of the largest value is brighter than that of the smallest.
    values = depth.squeeze().numpy()
    high, low = np.unravel_index(values.argmax(), values.shape), np.unravel_index(values.argmin(), values.shape)
    assert colours[high].sum() > colours[low].sum()


def test_zero_shot_image_classification_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    label, raw = client.predict(
        model=tiny.clip,
        image=handle_file(str(CAT)),
        candidate_labels="a cat, a dog,  , a car, a cat",
        hypothesis_template="A blurry photo of {}.",
        api_name="/zero_shot_image_classification",
    )
    want = pipe("zero-shot-image-classification", tiny.clip)(
        rgb(CAT), candidate_labels=["a cat", "a dog", "a car"], hypothesis_template="A blurry photo of {}."
    )
    assert_same_scores(raw, want)
    assert label["label"] == want[0]["label"]


# ----------------------------------------------------------------------------- Show code
SNIPPET_CASES = [
    ("image-classification", "vit", {"top_k": 3}),
    ("object-detection", "detr", {"threshold": 0.55}),
    ("image-segmentation", "segformer", {"subtask": "semantic"}),
    ("image-segmentation", "detr_panoptic", {"subtask": "panoptic", "threshold": 0.8}),
    ("depth-estimation", "dpt", {}),
    ("zero-shot-image-classification", "clip", {"candidate_labels": "a cat, a car", "hypothesis_template": "{}"}),
]


def assert_same_raw(got: object, raw: object) -> None:
    if isinstance(raw, dict):
        assert got == {
            key: approx(value, rel=1e-5) if isinstance(value, float) else value for key, value in raw.items()
        }
        return
    assert isinstance(got, list) and len(got) == len(raw)
    for mine, theirs in zip(got, raw):
        assert set(mine) == set(theirs)
        assert mine["label"] == theirs["label"] and mine.get("box") == theirs.get("box")
        assert mine["score"] == (None if theirs["score"] is None else approx(theirs["score"], abs=1e-6))


@pytest.mark.parametrize(("task", "model_name", "inputs"), SNIPPET_CASES)
def test_show_code_snippet_reproduces_the_app(
    client, tiny: SimpleNamespace, models_yaml: Path, task: str, model_name: str, inputs: dict
) -> None:
    model = getattr(tiny, model_name)
    code, result = run_snippet(models_yaml, task, model, {"image": str(CAT), **inputs})
    assert f"pipeline({task!r}" in code and str(CAT) in code
    raw = client.predict(model=model, image=handle_file(str(CAT)), **inputs, api_name=f"/{task.replace('-', '_')}")[-1]
    assert_same_raw(result, raw)


def test_show_code_for_a_downscaled_image_maps_boxes_back(
    client, tiny: SimpleNamespace, models_yaml: Path, big_cat: Path
) -> None:
    code, result = run_snippet(models_yaml, "object-detection", tiny.detr, {"image": str(big_cat), "threshold": 0.5})
    assert "scale = 1024 / max(width, height)" in code
    raw = client.predict(model=tiny.detr, image=handle_file(str(big_cat)), threshold=0.5, api_name="/object_detection")
    assert_same_raw(result, raw[-1])


def test_show_code_without_an_image_says_where_it_goes(models_yaml: Path, tiny: SimpleNamespace) -> None:
    studio = Studio(load_config(models_yaml), ModelManager())
    code = studio.code("depth-estimation", tiny.dpt, {"image": None}, ModelSettings())
    assert "Put the path of your image in place of 'my_image.jpg'" in code
    compile(code, "<show code>", "exec")


# ----------------------------------------------------------------------------- downscaling
def test_large_image_boxes_come_back_in_original_coordinates(client, tiny: SimpleNamespace, big_cat: Path) -> None:
    from studio.uploads.media import load_image

    drawn, _table, raw = client.predict(
        model=tiny.detr, image=handle_file(str(big_cat)), threshold=0.5, api_name="/object_detection"
    )
    # Oracle: the pipeline on the image downscaled to 1024 px, boxes multiplied back by 2255/1024.
    small = load_image(str(big_cat), max_side=1024)
    assert small.image.size == (1024, 681)
    want = pipe("object-detection", tiny.detr)(small.image, threshold=0.5)
    factor = 2255 / 1024
    assert_same_scores(raw, want)
    for mine, theirs in zip(raw, want):
        for key, value in theirs["box"].items():
            assert abs(mine["box"][key] - value * factor) <= 1.0
    assert max(item["box"]["xmax"] for item in raw) > 1024  # beyond the downscaled image: original pixels
    # The same boxes, about 5× those found on the 451×300 original (the model sees the same picture).
    on_small = client.predict(model=tiny.detr, image=handle_file(str(CAT)), threshold=0.5, api_name="/object_detection")
    centres = sorted((item["box"]["xmin"] + item["box"]["xmax"]) / 2 for item in raw)
    small_centres = sorted((item["box"]["xmin"] + item["box"]["xmax"]) / 2 for item in on_small[-1])
    assert centres[len(centres) // 2] == approx(5 * small_centres[len(small_centres) // 2], abs=25)
    assert Image.open(drawn["image"]).size == (2255, 1500)


def test_large_image_masks_and_depth_come_back_at_original_size(client, tiny: SimpleNamespace, big_cat: Path) -> None:
    drawn, raw = client.predict(
        model=tiny.detr_panoptic, image=handle_file(str(big_cat)), subtask="panoptic", api_name="/image_segmentation"
    )
    assert raw and Image.open(drawn["image"]).size == (2255, 1500)
    assert Image.open(drawn["annotations"][0]["image"]).size == (2255, 1500)
    shown, depth = client.predict(model=tiny.dpt, image=handle_file(str(big_cat)), api_name="/depth_estimation")
    assert (depth["width"], depth["height"]) == (2255, 1500)
    assert Image.open(shown).size == (2255, 1500)


def test_max_image_side_is_configurable(tiny: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """STUDIO_MAX_IMAGE_SIDE (media.MAX_IMAGE_SIDE) is read on every call."""
    from studio.adapters.vision import object_detection
    from studio.config import ModelEntry
    from studio.errors import collect_notices
    from studio.uploads import media

    loaded = ModelManager().get(ModelEntry(id=tiny.detr, source="local"), "object-detection")
    monkeypatch.setattr(media, "MAX_IMAGE_SIDE", 200)
    with collect_notices() as notices:
        output = object_detection(loaded, str(CAT), threshold=0.5)
    raw = output.raw
    assert notices == [
        "The image was downscaled from 451×300 to 200×133 for the model; results are shown on the original."
    ]
    want = pipe("object-detection", tiny.detr)(rgb(CAT).resize((200, 133), Image.Resampling.BICUBIC), threshold=0.5)
    assert len(raw) == len(want) > 0
    for mine, theirs in zip(raw, want):
        assert abs(mine["box"]["xmax"] - min(451, theirs["box"]["xmax"] * 451 / 200)) <= 1.0
    original, boxes = output.visual
    assert original.size == (451, 300) and len(boxes) == len(raw)


# --------------------------------------------------------------------------- odd and bad input
def unusual_images(folder: Path) -> dict[str, Path]:
    base = rgb(CAT).resize((64, 48))
    files = {
        "rgba.png": base.convert("RGBA"),
        "grey.png": base.convert("L"),
        "cmyk.jpg": base.convert("CMYK"),
        "deep.png": Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257),
    }
    paths = {}
    for name, image in files.items():
        image.save(folder / name)
        paths[name] = folder / name
    frames = [base, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    paths["anim.gif"] = folder / "anim.gif"
    return paths


def test_unusual_images_are_converted_and_answered(client, tiny: SimpleNamespace, tmp_path: Path) -> None:
    for name, path in unusual_images(tmp_path).items():
        raw = client.predict(model=tiny.vit, image=handle_file(str(path)), top_k=2, api_name="/image_classification")[
            -1
        ]
        assert len(raw) == 2, name
        drawn, _table, raw = client.predict(
            model=tiny.detr, image=handle_file(str(path)), threshold=0.6, api_name="/object_detection"
        )
        assert Image.open(drawn["image"]).size == (64, 48), name


def bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "empty.png").write_bytes(b"")
    Image.new("RGB", (1, 1), "red").save(folder / "tiny.png")
    buffer = folder / "whole.png"
    rgb(CAT).save(buffer)
    (folder / "truncated.png").write_bytes(buffer.read_bytes()[: buffer.stat().st_size // 2])
    return {
        "text": (folder / "text.png", "This file is not an image that can be read; upload a PNG, JPEG"),
        "empty": (folder / "empty.png", "The uploaded file is empty; upload a PNG, JPEG"),
        "1x1": (folder / "tiny.png", "The image is only 1×1 pixels; upload one at least 8 pixels on each side."),
        "truncated": (folder / "truncated.png", "The image file is damaged or incomplete; upload it again"),
    }


ENDPOINTS = {
    "/image_classification": ("vit", {"top_k": 2}),
    "/object_detection": ("detr", {"threshold": 0.5}),
    "/image_segmentation": ("segformer", {}),
    "/depth_estimation": ("dpt", {}),
    "/zero_shot_image_classification": ("clip", {"candidate_labels": "a, b"}),
}


@pytest.mark.parametrize("api_name", list(ENDPOINTS))
def test_bad_files_are_one_sentence_errors(client, tiny: SimpleNamespace, tmp_path: Path, api_name: str) -> None:
    model_name, inputs = ENDPOINTS[api_name]
    model = getattr(tiny, model_name)
    for kind, (path, message) in bad_files(tmp_path).items():
        with pytest.raises(AppError) as caught:
            client.predict(model=model, image=handle_file(str(path)), **inputs, api_name=api_name)
        text = str(caught.value)
        assert text.startswith(message), (kind, text)
        assert text.count(". ") == 0 and "Traceback" not in text, (kind, text)
    # The server keeps serving.
    raw = client.predict(model=model, image=handle_file(str(CAT)), **inputs, api_name=api_name)[-1]
    assert raw


@pytest.mark.parametrize(
    ("api_name", "model_name", "inputs", "message"),
    [
        ("/image_segmentation", "segformer", {"subtask": "panoptic"}, "does not do panoptic segmentation"),
        ("/zero_shot_image_classification", "clip", {"candidate_labels": " , ,"}, "Type the candidate labels"),
        (
            "/zero_shot_image_classification",
            "clip",
            {"candidate_labels": "a, b", "hypothesis_template": "no slot"},
            "The hypothesis template must contain {} exactly once",
        ),
        ("/image_classification", "vit", {"top_k": 2, "image": None}, "Upload an image first."),
    ],
)
def test_bad_parameters_are_clear_errors(
    client, tiny: SimpleNamespace, api_name: str, model_name: str, inputs: dict, message: str
) -> None:
    arguments = {"image": handle_file(str(CAT)), **inputs}
    with pytest.raises(AppError) as caught:
        client.predict(model=getattr(tiny, model_name), **arguments, api_name=api_name)
    assert message in str(caught.value)
