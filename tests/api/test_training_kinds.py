"""Fine-tuning the other kinds: a seq2seq model that learns to copy words, an extractive QA model
that learns the word after a cue (also past its first window), and an image classifier that
tells red from blue; each served by its own tab's adapter (Studio.run on the new entry) and
checked against a direct transformers call on the saved model."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.config import parse_config
from studio.models.manager import ModelManager
from studio.studio import Studio
from studio.training.jobs import JobManager
from studio.training.supervisor import TERMINAL
from tests.fixtures.factory import fixtures_config
from tests.fixtures.training_data import COPIED, QUESTION, colour_zip, qa_context, squad_rows, write_jsonl


@pytest.fixture(scope="module")
def runs(tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The three runs, queued at once (one trains at a time), and a Studio that serves their models."""
    folder = tmp_path_factory.mktemp("kinds")
    jobs = JobManager(folder / "runs", parse_config(fixtures_config(tiny.folders)), grace_seconds=5)
    common = {"warmup_ratio": 0.0, "save_each_epoch": False}
    copy = write_jsonl(folder / "copy.jsonl", [{"source": word, "target": word} for word in COPIED])
    seq2seq = jobs.build_config(
        task="summarization",
        model=tiny.summarizer_bart,
        dataset=copy,
        num_train_epochs=24,
        per_device_train_batch_size=4,
        learning_rate=0.02,
        max_length=8,
        eval_each_epoch=False,  # evaluated (generating) once, at the end
        **common,
    ).as_json()
    squad = write_jsonl(folder / "squad.jsonl", squad_rows(48))
    qa = jobs.build_config(
        task="question-answering",
        model=tiny.qa_bert,
        dataset=squad,
        num_train_epochs=8,
        per_device_train_batch_size=8,
        learning_rate=0.01,
        eval_each_epoch=False,
        **common,
    ).as_json()
    images = jobs.build_config(
        task="image-classification",
        model=tiny.vit,
        dataset=str(colour_zip(folder / "colours.zip")),
        num_train_epochs=4,
        per_device_train_batch_size=8,
        learning_rate=0.005,
        **common,
    ).as_json()
    ids = {task: jobs.start(config) for task, config in (("seq2seq", seq2seq), ("qa", qa), ("images", images))}
    studio = Studio(jobs.catalogue.config, ModelManager(), extra_entries=jobs.model_entries, jobs=jobs)
    yield SimpleNamespace(jobs=jobs, ids=ids, studio=studio)
    jobs.close(stop_running=True)


def finished(runs: SimpleNamespace, kind: str, timeout: float = 400) -> dict:
    """The run's final status (it must have completed) and where its model was saved."""
    deadline = time.monotonic() + timeout
    while (status := runs.jobs.status(runs.ids[kind]))["status"] not in TERMINAL:
        assert time.monotonic() < deadline, f"{kind} run still {status['status']} after {timeout} s"
        time.sleep(0.2)
    assert status["status"] == "completed", status["log_tail"]
    status["folder"] = runs.jobs.run_dir(status["run_id"]) / "model"
    return status


def test_a_seq2seq_model_learns_to_copy_and_the_summarization_tab_serves_it(runs: SimpleNamespace) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    status = finished(runs, "seq2seq")
    assert status["final_metrics"]["exact_match"] == 1.0
    log = (status["folder"].parent / "train.log").read_text()
    assert "sample after epoch 1: 'apple' -> " in log and "sample after epoch 24: 'apple' -> 'apple'" in log
    model_id = status["model_id"]
    assert model_id in [entry.id for entry in runs.studio.entries("summarization")]
    assert model_id not in [entry.id for entry in runs.studio.entries("translation")]
    tokenizer = AutoTokenizer.from_pretrained(status["folder"])
    model = AutoModelForSeq2SeqLM.from_pretrained(status["folder"])
    for word in COPIED[:3]:
        greedy = model.generate(**tokenizer(word, return_tensors="pt"), max_new_tokens=8, do_sample=False)
        assert tokenizer.decode(greedy[0], skip_special_tokens=True) == word
        served = runs.studio.run("summarization", model_id, {"text": word, "num_beams": 1}).output
        assert served == [{"summary_text": word}]


def test_a_qa_model_learns_the_word_after_the_cue_also_past_the_first_window(runs: SimpleNamespace) -> None:
    from transformers import AutoTokenizer

    status = finished(runs, "qa")
    tokenizer = AutoTokenizer.from_pretrained(status["folder"])
    rng = random.Random(7)  # contexts the model never saw
    short = qa_context(rng, 30, "green", at=12)
    long = qa_context(rng, 200, "yellow", at=180)
    assert len(tokenizer(QUESTION, long)["input_ids"]) > 2 * tokenizer.model_max_length - 64  # several windows
    for context, colour in ((short, "green"), (long, "yellow")):
        answers = runs.studio.run("question-answering", status["model_id"], {"question": QUESTION, "context": context})
        best = answers.output[0]
        assert best["answer"] == colour, answers.output
        assert context[best["start"] : best["end"]] == colour


def test_an_image_classifier_learns_red_from_blue_from_a_zip_of_folders(runs: SimpleNamespace, tmp_path: Path) -> None:
    from PIL import Image

    status = finished(runs, "images")
    assert status["final_metrics"]["accuracy"] == 1.0
    saved = json.loads((status["folder"] / "config.json").read_text())
    assert saved["id2label"] == {"0": "blue", "1": "red"}
    for name, rgb in (("red", (200, 30, 40)), ("blue", (30, 40, 200))):
        picture = tmp_path / f"{name}.png"
        Image.new("RGB", (48, 48), rgb).save(picture)
        scores = runs.studio.run("image-classification", status["model_id"], {"image": str(picture)}).output
        assert scores[0]["label"] == name, scores
