"""Fine-tuning without the UI and without a process: data checks, metrics, settings refused before a run
(the worker and the JobManager running it: tests/api/test_training.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from studio.errors import UserError
from studio.training import dataset
from studio.training.jobs import JobManager
from studio.training.metrics import classification_metrics, entity_spans, token_metrics
from studio.training.samples import SAMPLES
from studio.training.tokens import align_labels
from studio.uploads.tables import read_table
from tests.helpers import tiny_run

SENTIMENT = SAMPLES["sentiment"]


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- data


def test_labels_are_discovered_with_counts(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reviews.csv", "review,sentiment\ngood,pos\nbad,neg\nfine,pos\n")
    summary = dataset.summarize(path, "text-classification")
    assert (summary.text_column, summary.label_column) == ("review", "sentiment")
    assert summary.label_counts == {"pos": 2, "neg": 1}
    tsv = write_csv(tmp_path / "reviews.tsv", "text\tlabel\nok, really\tpos\nno\tneg\n")
    assert dataset.summarize(tsv, "text-classification").label_counts == {"pos": 1, "neg": 1}
    ner = dataset.summarize(SAMPLES["ner"].train, "token-classification")
    assert ner.label_counts["B-PER"] == 107 and set(ner.label_counts) == {
        "O",
        "B-PER",
        "I-PER",
        "B-LOC",
        "I-LOC",
        "B-ORG",
        "I-ORG",
    }


def test_validation_lists_every_problem_in_one_message(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", 'text,label\n"",pos\nnice,pos\n"  ",\n')
    table = read_table(path)
    with pytest.raises(UserError) as error:
        dataset.validate(table, "text-classification", "text", "label", "bad.csv")
    message = str(error.value)
    assert "2 rows with an empty 'text' (row 1, 3)" in message
    assert "1 row with an empty 'label' (row 3)" in message
    assert "only one label ('pos')" in message
    with pytest.raises(UserError, match=r"column 'sentence' is missing \(the file has: text, label\)"):
        dataset.validate(table, "text-classification", "sentence", "label")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("text,label\ncafé crème,pos\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8 text"):
        read_table(latin)
    with pytest.raises(UserError, match="upload a .csv, .tsv, .json or .jsonl"):
        read_table(write_csv(tmp_path / "data.txt", "x"))


def test_ner_labels_go_to_the_first_sub_word(tiny: SimpleNamespace) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny.ner_tagger)
    words = ["Zyxwvutsrq", "visited", "Paris"]
    encoded = tokenizer(words, is_split_into_words=True)
    word_ids = encoded.word_ids()
    assert word_ids.count(0) > 1, "the made-up name must split into several sub-words for this test"
    labels = align_labels(word_ids, [1, 0, 3])
    firsts = [i for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)]
    assert [labels[i] for i in firsts] == [1, 0, 3]
    assert all(labels[i] == -100 for i in range(len(labels)) if i not in firsts)


def test_metrics_match_sklearn_and_exact_spans() -> None:
    from sklearn.metrics import f1_score

    logits = np.array([[2.0, 0.1], [0.2, 1.0], [3.0, 0.0], [0.0, 1.0]])
    labels = np.array([0, 1, 1, 1])
    got = classification_metrics(logits, labels)
    assert got["accuracy"] == 0.75
    assert got["f1"] == pytest.approx(f1_score(labels, [0, 1, 0, 1], average="macro"))
    assert entity_spans(["B-PER", "I-PER", "O", "B-LOC", "I-ORG"]) == {("PER", 0, 2), ("LOC", 3, 4), ("ORG", 4, 5)}
    id2label = {0: "O", 1: "B-PER", 2: "I-PER"}
    gold = np.array([[-100, 1, 2, 0, 1, -100]])
    guess = np.eye(3)[[0, 1, 2, 0, 0, 0]][None]  # the second person is missed
    scores = token_metrics(guess, gold, id2label)
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5 and scores["accuracy"] == 0.75


# ---------------------------------------------------------------------- settings


def test_bad_settings_are_refused_before_anything_starts(jobs: JobManager, tiny: SimpleNamespace) -> None:
    with pytest.raises(UserError, match="Upload a data file"):
        jobs.build_config(task="text-classification", model=tiny.text_classifier).as_json()
    with pytest.raises(UserError, match="is for token-classification"):
        jobs.build_config(task="text-classification", model=tiny.text_classifier, sample="ner").as_json()
    with pytest.raises(UserError, match="fp16 needs a CUDA GPU"):
        tiny_run(jobs, tiny, precision="fp16")
    with pytest.raises(UserError, match="needs internet access"):
        tiny_run(jobs, tiny, push_to_hub=True)
    with pytest.raises(UserError, match="learning_rate must be between"):
        tiny_run(jobs, tiny, learning_rate=5)
    with pytest.raises(UserError, match="not offered"):
        tiny_run(jobs, tiny, model="/etc")
    assert jobs.run_ids() == []
