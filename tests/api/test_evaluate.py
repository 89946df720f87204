"""Insight > Evaluate on a file: /evaluate's figures equal scikit-learn's and seqeval's on a
direct transformers pipeline's predictions for the same file (a model fine-tuned in the test,
the tiny NER tagger), unknown labels are reported, and the page shows figures and the plot."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from studio.training.samples import SAMPLES

SENTIMENT = SAMPLES["sentiment"].test
NER = SAMPLES["ner"].test


def same_numbers(ours: dict, theirs: dict) -> bool:
    """Nested reports equal, their numbers to float precision (pytest.approx is one level deep)."""
    assert set(ours) == set(theirs), (sorted(ours), sorted(theirs))
    for key, value in theirs.items():
        if isinstance(value, dict):
            same_numbers(ours[key], value)
        else:
            assert ours[key] == pytest.approx(float(value)), key
    return True


def evaluate(client, task: str, model: str, path: Path, text: str = "", label: str = "") -> dict:
    outputs = client.predict(task, model, handle_file(str(path)), text, label, api_name="/evaluate")
    return outputs[-1]


def run_ended(client, run_id: str) -> dict:
    """/train_status followed to the run's end; its last status."""
    status = None
    for outputs in client.submit(run_id=run_id, api_name="/train_status"):
        status = outputs[-1]
    return status


@pytest.fixture(scope="module")
def fine_tuned(client, tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The tiny classifier fine-tuned on the bundled sentiment set for a few steps through
    /train_start: (its model id, as the task offers it; its folder, for the direct pipeline)."""
    began = time.monotonic()
    run_id = client.predict(
        task="text-classification",
        model=tiny.text_classifier,
        sample="sentiment",
        num_train_epochs=0.1,  # 84 rows: 6 steps
        per_device_train_batch_size=16,
        learning_rate=1e-3,
        max_length=32,
        eval_each_epoch=False,
        save_each_epoch=False,
        api_name="/train_start",
    )[-1]["run_id"]
    final = run_ended(client, run_id)
    assert final["status"] == "completed", final["log_tail"]
    print(f"fine-tuning for the evaluation: {time.monotonic() - began:.1f} s")
    model_id = next(run["model_id"] for run in client.predict(api_name="/train_runs")[-1] if run["run_id"] == run_id)
    (folder,) = tmp_path_factory.getbasetemp().glob(f"runs[0-9]*/{run_id}/model")  # the app's --runs-dir
    return model_id, folder


def test_text_classification_equals_sklearn_on_a_direct_pipeline(client, fine_tuned: tuple[str, Path]) -> None:
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score
    from transformers import pipeline

    model_id, folder = fine_tuned
    result = evaluate(client, "text-classification", model_id, SENTIMENT, "text", "label")
    with open(SENTIMENT, encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    texts, expected = [row["text"] for row in rows], [row["label"] for row in rows]
    direct = pipeline("text-classification", model=str(folder))
    predicted = [scores[0]["label"] for scores in direct(texts, top_k=1, truncation=True, batch_size=8)]
    assert set(predicted) <= {"negative", "positive"}  # the run's labels, as the file spells them

    assert result["model"] == model_id and result["rows"] == len(rows) == 192
    assert result["accuracy"] == pytest.approx(accuracy_score(expected, predicted))
    assert result["macro_f1"] == pytest.approx(f1_score(expected, predicted, average="macro", zero_division=0))
    report = classification_report(expected, predicted, output_dict=True, zero_division=0)
    assert same_numbers(result["per_label"], report)
    labels = result["confusion_matrix"]["labels"]
    assert labels == ["negative", "positive"]
    assert result["confusion_matrix"]["matrix"] == confusion_matrix(expected, predicted, labels=labels).tolist()
    wrong = [(n, t, e, p) for n, (t, e, p) in enumerate(zip(texts, expected, predicted), start=1) if e != p]
    assert result["mistake_count"] == len(wrong)
    assert [(m["row"], m["text"], m["expected"], m["predicted"]) for m in result["mistakes"]] == wrong[:50]
    assert result["unknown_labels"] == [] and result["labels_read_as"] == {}


def first_subtoken_tags(direct, words: list[str]) -> list[str]:
    """Word tags from a direct pipeline's per-token output: the tag of each word's first
    sub-token, found by the tokenizer's word ids (not by character offsets, as the app does)."""
    tokens = direct(words, is_split_into_words=True, aggregation_strategy="none", ignore_labels=[])[0]
    word_ids = direct.tokenizer(words, is_split_into_words=True, truncation=True).word_ids()
    tag_at = {token["index"]: token["entity"] for token in tokens}
    tags = ["O"] * len(words)
    for index, word in reversed(list(enumerate(word_ids))):
        if word is not None:
            tags[word] = tag_at[index]
    return tags


def test_token_classification_equals_seqeval_on_a_direct_pipeline(client, tiny: SimpleNamespace) -> None:
    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
    from transformers import pipeline

    result = evaluate(client, "token-classification", tiny.ner_tagger, NER)  # columns guessed
    with open(NER, encoding="utf-8") as file:
        rows = [json.loads(line) for line in file if line.strip()]
    direct = pipeline("token-classification", model=tiny.ner_tagger)
    expected = [row["ner_tags"] for row in rows]
    predicted = [first_subtoken_tags(direct, row["tokens"]) for row in rows]

    assert result["rows"] == len(rows) == 50 and result["skipped_rows"] == 0
    assert result["accuracy"] == pytest.approx(accuracy_score(expected, predicted))
    assert result["precision"] == pytest.approx(precision_score(expected, predicted))
    assert result["recall"] == pytest.approx(recall_score(expected, predicted))
    assert result["f1"] == pytest.approx(f1_score(expected, predicted))
    report = classification_report(expected, predicted, output_dict=True, zero_division=0)
    assert same_numbers(result["per_label"], report)
    assert set(result["per_label"]) >= {"PER", "LOC", "ORG", "micro avg", "macro avg"}
    assert result["macro_f1"] == pytest.approx(report["macro avg"]["f1-score"])
    assert result["confusion_matrix"]["labels"][0] == "O"
    assert sum(map(sum, result["confusion_matrix"]["matrix"])) == sum(map(len, expected))
    first = next(row for row, (want, got) in enumerate(zip(expected, predicted), start=1) if want != got)
    assert result["mistakes"][0]["row"] == first
    assert result["mistakes"][0]["predicted"] == " ".join(predicted[first - 1])


def test_unknown_labels_are_reported_and_counted_as_mistakes(client, tiny: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "three-labels.tsv"
    path.write_text(
        "review\tsentiment\nLovely food.\tPOSITIVE\nCold soup.\tnegative\nIt was a restaurant.\tneutral\n\tpositive\n",
        encoding="utf-8",
    )
    result = evaluate(client, "text-classification", tiny.text_classifier, path)  # columns guessed
    assert result["dataset"] == "three-labels.tsv"  # the file's name, never its server path
    assert result["rows"] == 3 and result["skipped_rows"] == 1  # the row without a text
    assert result["unknown_labels"] == ["neutral"] and result["unknown_label_rows"] == 1
    assert result["unknown_labels_are"] == "counted as mistakes"
    assert result["labels_read_as"] == {"negative": "NEGATIVE"}  # read in the model's spelling
    assert result["confusion_matrix"]["labels"] == ["NEGATIVE", "POSITIVE", "neutral"]
    assert result["confusion_matrix"]["matrix"][2] != [0, 0, 0]  # the neutral row was scored
    assert {"row": 3, "text": "It was a restaurant."} | {"expected": "neutral"} in [
        {key: mistake[key] for key in ("row", "text", "expected")} for mistake in result["mistakes"]
    ]
    assert result["accuracy"] <= 2 / 3

    with pytest.raises(AppError, match=r"three-labels.tsv cannot be evaluated: column 'stars' is missing"):
        evaluate(client, "text-classification", tiny.text_classifier, path, "review", "stars")
    with pytest.raises(AppError, match="is not offered for text-classification"):
        evaluate(client, "text-classification", tiny.ner_tagger, path)
