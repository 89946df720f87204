"""Insight > Batch a file: a task over every row of a CSV (or a zip of images), into a CSV whose
results equal one-by-one runs of the task; Stop keeps what is done; bad files get a sentence."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytest import approx

from studio.config import load_config
from studio.errors import UserError
from studio.insight import Insight
from studio.models.manager import ModelManager
from studio.studio import Studio
from tests.helpers import assert_same, write_csv

ROOT = Path(__file__).resolve().parents[2]
with open(ROOT / "data" / "sentiment" / "test.csv", encoding="utf-8") as reviews:
    REVIEWS = [row["text"] for row in csv.DictReader(reviews)]


@pytest.fixture(scope="module")
def studio(models_yaml: Path) -> Studio:
    return Studio(load_config(models_yaml), ModelManager())


@pytest.fixture(scope="module")
def insight(studio: Studio) -> Insight:
    return Insight(studio)


def model_of(studio: Studio, task: str) -> str:
    return studio.entries(task)[0].id


def read_results(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_classification_rows_equal_one_by_one_runs_and_a_bad_row_fails_alone(
    studio: Studio, insight: Insight, tmp_path: Path
) -> None:
    texts = [*REVIEWS[:8], "", *REVIEWS[8:12]]  # an empty cell: its row gets the spec's sentence
    model = model_of(studio, "text-classification")
    path, summary = insight.batch("text-classification", model, write_csv(tmp_path / "reviews.csv", texts), "text")
    assert path.name.endswith(".csv") and not str(path).startswith(str(tmp_path))  # a fresh folder of ours
    assert summary["rows"] == summary["done"] == len(texts) and summary["failed"] == 1 and not summary["stopped"]
    rows = read_results(path)
    assert list(rows[0]) == ["text", "label", "score", "output", "error"]
    for text, row in zip(texts, rows):
        if not text:
            assert row["error"].startswith("Type some text") and not row["output"]
            continue
        want = studio.run("text-classification", model, {"text": text}).output
        assert row["error"] == "" and row["text"] == text
        assert_same(json.loads(row["output"]), want)
        assert row["label"] == want[0]["label"] and float(row["score"]) == approx(want[0]["score"], abs=1e-4)


def test_token_classification_with_settings_equals_one_by_one_runs(
    studio: Studio, insight: Insight, tmp_path: Path
) -> None:
    texts = ["John Zurichson went to Paris to work for Google.", *REVIEWS[:7]]
    model = model_of(studio, "token-classification")
    settings = '{"aggregation_strategy": "none"}'  # as the page's settings box sends it
    path, summary = insight.batch("token-classification", model, write_csv(tmp_path / "t.csv", texts), "text", settings)
    assert summary["failed"] == 0
    for text, row in zip(texts, read_results(path), strict=True):
        want = studio.run("token-classification", model, {"text": text, "aggregation_strategy": "none"}).output
        assert_same(json.loads(row["output"]), want)


def image_zip(path: Path, count: int) -> Path:
    from PIL import Image

    with zipfile.ZipFile(path, "w") as archive:
        for number in range(count):
            buffer = io.BytesIO()
            Image.new("RGB", (24 + 9 * number, 40 - 3 * number), (40 * number, 120, 200 - 30 * number)).save(
                buffer, "PNG"
            )
            archive.writestr(f"photos/{number}.png", buffer.getvalue())
        archive.writestr("readme.txt", "not an image")
        archive.writestr("__MACOSX/photos/._0.png", "resource fork")  # left out, as archivers' extras are
    return path


def test_a_zip_of_images_equals_one_by_one_runs(studio: Studio, insight: Insight, tmp_path: Path) -> None:
    model = model_of(studio, "image-classification")
    upload = image_zip(tmp_path / "photos.zip", 5)
    assert insight.batch_columns(str(upload)) == ["image"]
    path, summary = insight.batch("image-classification", model, str(upload), "image", {"top_k": 3})
    rows = read_results(path)
    assert [row["image"] for row in rows] == [*[f"photos/{n}.png" for n in range(5)], "readme.txt"]
    assert summary == {**summary, "rows": 6, "done": 6, "failed": 1}
    assert "not an image" in rows[-1]["error"]
    with zipfile.ZipFile(upload) as archive:
        for number, row in enumerate(rows[:5]):
            picture = tmp_path / f"{number}.png"
            picture.write_bytes(archive.read(f"photos/{number}.png"))
            want = studio.run("image-classification", model, {"image": str(picture), "top_k": 3}).output
            assert_same(json.loads(row["output"]), want)
            assert row["label"] == want[0]["label"]


def test_stop_and_the_time_cap_keep_the_rows_done(
    studio: Studio, insight: Insight, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = write_csv(tmp_path / "many.csv", REVIEWS[:60])
    model = model_of(studio, "text-classification")
    looks = iter(range(1000))
    path, summary = insight.batch("text-classification", model, upload, "text", should_stop=lambda: next(looks) >= 1)
    assert summary["stopped"] and summary["stopped_by"] == "stop"
    rows = read_results(path)
    assert 0 < summary["done"] == len(rows) < 60  # the rows in flight when Stop came, then no more
    assert [row["text"] for row in rows] == REVIEWS[: len(rows)] and all(row["output"] for row in rows)

    monkeypatch.setenv("STUDIO_MAX_BATCH_SECONDS", "0")
    path, summary = insight.batch("text-classification", model, upload, "text")
    assert summary["stopped_by"] == "time limit" and summary["done"] == len(read_results(path)) < 60


def refusal(insight: Insight, *args: Any) -> str:
    with pytest.raises(UserError) as caught:
        insight.batch(*args)
    message = str(caught.value)
    assert "\n" not in message and message.endswith(".") and "Traceback" not in message and "/tmp" not in message
    return message


def test_bad_files_columns_and_tasks_get_one_sentence(
    studio: Studio, insight: Insight, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = model_of(studio, "text-classification")
    upload = write_csv(tmp_path / "reviews.csv", REVIEWS[:12])
    message = refusal(insight, "text-classification", model, upload, "review")
    assert message == "reviews.csv has no column 'review'; pick one of its columns: id, text."
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert "empty.csv is empty" in refusal(insight, "text-classification", model, tmp_path / "empty.csv", "text")
    detector = model_of(studio, "object-detection")
    assert refusal(insight, "object-detection", detector, upload, "text").startswith(
        "Object detection cannot batch a file; pick one of these tasks: Text classification,"
    )
    assert refusal(insight, "text-classification", model, upload, "text", "[3]").startswith(
        "settings must be a JSON object"
    )
    assert refusal(insight, "text-classification", model, upload, "text", '{"top_k": 500}') == (
        "top_k must be a whole number between 1 and 100; got 500."
    )
    assert "foo is not a setting of Text classification" in refusal(
        insight, "text-classification", model, upload, "text", {"foo": 1}
    )
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_ROWS", "5")
    assert refusal(insight, "text-classification", model, upload, "text") == (
        "reviews.csv has 12 rows and this app takes at most 5; upload fewer rows."
    )


def test_the_batch_endpoint_returns_a_csv_equal_to_the_task_endpoint(
    client: Any, tiny: SimpleNamespace, tmp_path: Path
) -> None:
    from gradio_client import handle_file

    texts = REVIEWS[:4]
    upload = write_csv(tmp_path / "four.csv", texts)
    settings = '{"top_k": 1}'
    path, summary = client.predict(
        "text-classification", "tiny text-classifier", handle_file(str(upload)), "text", settings, api_name="/batch"
    )
    assert summary == {**summary, "rows": 4, "done": 4, "failed": 0, "stopped": False}
    for text, row in zip(texts, read_results(Path(path)), strict=True):
        _, raw = client.predict(model="tiny text-classifier", text=text, top_k=1, api_name="/text_classification")
        assert_same(json.loads(row["output"]), raw)
