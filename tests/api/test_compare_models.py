"""Insight > Two models side by side: each side equals the task's own run for that model.

The fixture zoo holds one text classifier and one causal LM; a second of each is built here
from the same builder with another seed, and listed beside the first in a models.yaml of
this module's own Studio. The API test uses the session app, whose models.yaml has three
translators; the browser test clicks the real page.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from components.insight.compare import heading, readable_labels
from studio.config import load_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.studio import Studio

TEXT = "I love this film, the music was wonderful."
NOT_DOWNLOADED = "nobody/not-downloaded-classifier"


def second_model(name: str, root: Path) -> Path:
    """The zoo's `name` built again with seed 1: same shapes and vocabulary, other weights."""
    from tests.fixtures.zoo import MARKER, ZOO
    from tests.fixtures.zoo.common import seed_everything

    folder = root / f"{name}-seed1"
    if not (folder / MARKER).exists():
        folder.mkdir(parents=True, exist_ok=True)
        seed_everything(1)
        ZOO[name].builder(folder)
        (folder / MARKER).write_text(name + "\n")
    return folder


@pytest.fixture(scope="module")
def pair(tiny: SimpleNamespace, tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two tiny classifiers and two tiny LMs (+ one classifier not on this machine) in one Studio."""
    classifier_b = second_model("text-classifier", tiny_root)
    lm_b = second_model("causal-lm", tiny_root)
    local = {"source": "local"}
    config = {
        "tasks": {
            "text-classification": {
                "models": [
                    {"id": tiny.text_classifier, "label": "classifier A", **local},
                    {"id": str(classifier_b), "label": "classifier B", **local},
                    {"id": NOT_DOWNLOADED, "label": "not downloaded"},
                ]
            },
            "text-generation": {
                "models": [
                    {"id": tiny.causal_lm, "label": "lm A", **local},
                    {"id": str(lm_b), "label": "lm B", **local},
                ]
            },
        }
    }
    path = tmp_path_factory.mktemp("compare") / "models.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    studio = Studio(load_config(path), ModelManager())
    return SimpleNamespace(studio=studio, insight=studio_insight(studio), classifier_b=str(classifier_b))


def studio_insight(studio: Studio) -> Any:
    from studio.insight import Insight

    return Insight(studio)


def test_each_side_equals_the_task_run_and_transformers(pair: SimpleNamespace, tiny: SimpleNamespace) -> None:
    from transformers import pipeline

    steps: list[tuple[float, str]] = []
    inputs = {"text": TEXT, "top_k": 2}
    answer = pair.insight.compare_models(
        "text-classification", "classifier A", "classifier B", inputs, lambda f, m: steps.append((f, m))
    )
    assert answer["task"] == "text-classification" and answer["inputs"] == inputs
    for side, label, folder in (("a", "classifier A", tiny.text_classifier), ("b", "classifier B", pair.classifier_b)):
        shown = answer[side]
        assert shown["model"] == label and "error" not in shown
        assert shown["output"] == pair.studio.run("text-classification", label, inputs).output
        direct = pipeline("text-classification", model=folder, top_k=2)([TEXT])[0]
        assert [item["label"] for item in shown["output"]] == [item["label"] for item in direct]
        assert [item["score"] for item in shown["output"]] == pytest.approx(
            [item["score"] for item in direct], abs=1e-5
        )
        assert shown["load_seconds"] > 0 and shown["run_seconds"] >= 0  # a fresh Studio: both models loaded here
        assert readable_labels(shown["output"]) == {item["label"]: item["score"] for item in shown["output"]}
    assert answer["a"]["output"] != answer["b"]["output"]  # two seeds, two answers: the sides are not one model
    fractions = [fraction for fraction, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] >= 0
    assert any(m.startswith("Model A: Loading") for _, m in steps) and any(m.startswith("Model B") for _, m in steps)

    again = pair.insight.compare_models("text-classification", "classifier B", "classifier A", inputs)
    assert again["a"]["output"] == answer["b"]["output"] and again["b"]["output"] == answer["a"]["output"]
    assert again["a"]["load_seconds"] == 0 == again["b"]["load_seconds"]  # in memory: no load this time
    assert again["a"]["run_seconds"] >= 0 and again["b"]["run_seconds"] >= 0


def test_a_streaming_task_compares_its_last_update(pair: SimpleNamespace) -> None:
    inputs = {"prompt": "The weather today", "max_new_tokens": 5}
    answer = pair.insight.compare_models("text-generation", "lm A", "lm B", inputs)
    for side, model in (("a", "lm A"), ("b", "lm B")):
        assert answer[side]["output"] == pair.studio.run("text-generation", model, inputs).output
    texts = [answer[side]["output"][0]["generated_text"] for side in "ab"]
    assert texts[0] != texts[1]


def test_one_side_failing_still_shows_the_other(pair: SimpleNamespace) -> None:
    answer = pair.insight.compare_models("text-classification", NOT_DOWNLOADED, "classifier A", {"text": TEXT})
    failed, ran = answer["a"], answer["b"]
    assert failed["output"] is None and failed["error"].endswith(".") and "download" in failed["error"].lower()
    assert failed["load_seconds"] >= 0 and failed["run_seconds"] >= 0
    assert "error" not in ran
    assert heading("a", failed) == f"### Model A · not downloaded\n\n**Could not run:** {failed['error']}"
    assert ran["output"] == pair.studio.run("text-classification", "classifier A", {"text": TEXT}).output


def test_mistakes_get_a_sentence_before_anything_loads(pair: SimpleNamespace, tiny: SimpleNamespace) -> None:
    insight, manager = pair.insight, pair.studio.manager
    loads = manager.load_count
    task, a, b = "text-classification", "classifier A", "classifier B"
    cases = [
        ((task, a, "someone/else", {"text": TEXT}), "Model 'someone/else' is not offered"),
        ((task, a, tiny.text_classifier, {"text": TEXT}), "Model A and model B are both classifier A"),
        ((task, a, b, {"text": "  "}), "Type some text"),
        ((task, a, b, {"txt": TEXT}), "txt is not an input here"),
        ((task, a, b, {"text": TEXT, "top_k": 0}), "top_k must be"),
        (("no-such-task", a, b, {"text": TEXT}), "Unknown task"),
    ]
    for arguments, start in cases:
        with pytest.raises(UserError) as caught:
            insight.compare_models(*arguments)
        assert str(caught.value).startswith(start) and str(caught.value).endswith("."), str(caught.value)
    assert manager.load_count == loads
    assert insight.compare_inputs('{"text": "hi", "top_k": 1}') == {"text": "hi", "top_k": 1}
    assert insight.compare_inputs("") == {}
    for text, start in (('{"text": ', "inputs is not valid JSON"), ('["hi"]', "inputs must be a JSON object")):
        with pytest.raises(UserError, match=start):
            insight.compare_inputs(text)


def test_the_endpoint_equals_each_models_own_endpoint(client: Any, tiny: SimpleNamespace, tiny_root: Path) -> None:
    """The session app lists three translators; the answer names no server folder."""
    inputs = {"text": "the weather is good today", "max_new_tokens": 6}
    models = ("tiny translator-marian", "tiny translator-t5")
    *shown, answer = client.predict(
        task="translation", model_a=models[0], model_b=models[1], inputs=json.dumps(inputs), api_name="/compare_models"
    )
    assert answer["inputs"] == {"text": inputs["text"], "src_lang": "", "tgt_lang": "", "max_new_tokens": 6}
    for side, model in zip("ab", models):
        own = client.predict(model=model, **inputs, api_name="/translation")[-1]
        assert answer[side]["output"] == own and answer[side]["model"] == model
        assert answer[side]["load_seconds"] >= 0 and answer[side]["run_seconds"] >= 0
    assert shown[1]["value"] == answer["a"]["output"][0]["translation_text"]  # model A's text box
    assert str(tiny_root) not in json.dumps([shown, answer])
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="a path on the server is refused"):
        client.predict(
            task="image-segmentation",
            model_a="tiny segformer",
            model_b="tiny detr-panoptic",
            inputs=json.dumps({"image": str(Path(tiny.vit) / "config.json")}),
            api_name="/compare_models",
        )
