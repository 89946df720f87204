"""Fine-tuning without the UI: data checks, metrics, and the worker process (stop, kill -9, resume, torchrun)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import psutil
import pytest

from studio.config import parse_config
from studio.errors import UserError
from studio.training import data as training_data
from studio.training import launcher
from studio.training.jobs import JobManager
from studio.training.metrics import classification_metrics, entity_spans, token_metrics
from studio.training.store import last_checkpoint
from studio.training.tokens import align_labels
from tests.conftest import ROOT
from tests.fixtures.factory import fixtures_config

SENTIMENT = training_data.SAMPLES["sentiment"]


@pytest.fixture
def jobs(tiny: SimpleNamespace, tmp_path: Path):
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), grace_seconds=5)
    yield manager
    manager.close(stop_running=True)


def tiny_run(jobs: JobManager, tiny: SimpleNamespace, **overrides) -> dict:
    """A short text-classification config on the tiny BERT and the bundled sentiment set."""
    arguments = {
        "task": "text-classification",
        "model": tiny.text_classifier,
        "sample": "sentiment",
        "num_train_epochs": 1,
        "per_device_train_batch_size": 8,
        "max_length": 32,
        "max_train_samples": 32,
        "logging_steps": 1,
    }
    return jobs.build_config(**{**arguments, **overrides})


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (psutil.Error, ProcessLookupError):
            pass
    return members


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} within {timeout} s")


# ----------------------------------------------------------------------------- data


def test_labels_are_discovered_with_counts(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "reviews.csv", "review,sentiment\ngood,pos\nbad,neg\nfine,pos\n")
    summary = training_data.summarize(path, "text-classification")
    assert (summary.text_column, summary.label_column) == ("review", "sentiment")
    assert summary.label_counts == {"pos": 2, "neg": 1}
    tsv = write_csv(tmp_path / "reviews.tsv", "text\tlabel\nok, really\tpos\nno\tneg\n")
    assert training_data.summarize(tsv, "text-classification").label_counts == {"pos": 1, "neg": 1}
    ner = training_data.summarize(training_data.SAMPLES["ner"].train, "token-classification")
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
    table = training_data.read_table(path)
    with pytest.raises(UserError) as error:
        training_data.validate(table, "text-classification", "text", "label", "bad.csv")
    message = str(error.value)
    assert "2 rows with an empty 'text' (row 1, 3)" in message
    assert "1 row with an empty 'label' (row 3)" in message
    assert "only one label ('pos')" in message
    with pytest.raises(UserError, match=r"column 'sentence' is missing \(the file has: text, label\)"):
        training_data.validate(table, "text-classification", "sentence", "label")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("text,label\ncafé crème,pos\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8 text"):
        training_data.read_table(latin)
    with pytest.raises(UserError, match="upload a .csv, .tsv, .json or .jsonl"):
        training_data.read_table(write_csv(tmp_path / "data.txt", "x"))


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


# ---------------------------------------------------------------------- processes


def test_worker_finishes_and_writes_metrics_with_nobody_reading(jobs: JobManager, tiny: SimpleNamespace) -> None:
    """The worker alone (no app, no JobManager watching): files only, and it finishes."""
    config = {"run_id": "standalone", **tiny_run(jobs, tiny, max_train_samples=24)}
    run_dir = jobs.runs_dir / "standalone"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(config))
    with open(run_dir / "train.log", "wb") as log:
        worker = subprocess.run(
            [sys.executable, "-m", "studio.training.worker", str(run_dir)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=240,
        )
    assert worker.returncode == 0, (run_dir / "train.log").read_text()[-2000:]
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert records[0]["event"] == "train_begin" and records[0]["max_steps"] == 3
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3]
    assert any("eval_accuracy" in r for r in records)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["outcome"] == "completed" and 0 <= result["final_metrics"]["accuracy"] <= 1
    saved = json.loads((run_dir / "model" / "config.json").read_text())
    assert saved["id2label"] == {"0": "negative", "1": "positive"}


def test_stop_ends_the_group_then_resume_continues_from_the_checkpoint(jobs: JobManager, tiny: SimpleNamespace) -> None:
    run_id = jobs.start(tiny_run(jobs, tiny, num_train_epochs=2, max_train_samples=96, per_device_train_batch_size=4))
    running = wait_until(lambda: jobs.status(run_id)["step"] >= 3 and jobs.status(run_id), 180, "no training step")
    max_steps = running["max_steps"]
    assert max_steps == 48
    pgid = json.loads((jobs.runs_dir / run_id / "status.json").read_text())["pgid"]
    assert group_members(pgid), "the worker's process group should be alive while training"
    stopped_at = time.monotonic()
    assert jobs.stop(run_id)["status"] == "stopping"
    wait_until(lambda: not group_members(pgid), 15, "processes of the group still alive")
    assert time.monotonic() - stopped_at < 15
    status = jobs.wait(run_id, timeout=30)
    assert status["status"] == "stopped"
    checkpoint = last_checkpoint(jobs.runs_dir / run_id)
    assert checkpoint is not None, "Stop should leave a checkpoint"
    checkpoint_step = json.loads((checkpoint / "trainer_state.json").read_text())["global_step"]
    assert 3 <= checkpoint_step < max_steps
    assert jobs.runs()[0]["resumable"]

    jobs.resume(run_id)
    final = jobs.wait(run_id, timeout=240)
    assert final["status"] == "completed", final["log_tail"]
    records = jobs.metrics(run_id)
    resumed_at = next(i for i, r in enumerate(records) if r.get("event") == "resume")
    assert records[resumed_at]["step"] == checkpoint_step
    steps_after = [r["step"] for r in records[resumed_at:] if "loss" in r]
    assert steps_after[0] == checkpoint_step + 1, "training restarted instead of resuming"
    assert steps_after[-1] == max_steps
    # The model id is runs/<run_id> (no server path, issue 11); its folder holds the model.
    assert final["model_id"] == f"runs/{run_id}" and (jobs.runs_dir / run_id / "model" / "config.json").is_file()


def test_kill_9_marks_the_run_failed_and_the_next_run_starts(jobs: JobManager, tiny: SimpleNamespace) -> None:
    first = jobs.start(tiny_run(jobs, tiny, num_train_epochs=20, max_train_samples=64))
    second = jobs.start(tiny_run(jobs, tiny, max_train_samples=16))
    assert jobs.status(second)["status"] == "queued" and jobs.status(second)["queue_position"] == 1
    wait_until(lambda: jobs.status(first)["step"] >= 1, 180, "no training step")
    pid = json.loads((jobs.runs_dir / first / "status.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    failed = jobs.wait(first, timeout=30)
    assert failed["status"] == "failed"
    assert "killed by SIGKILL" in failed["error"]
    assert "step 1/" in failed["log_tail"], "the log tail should show what the worker printed"
    done = jobs.wait(second, timeout=240)
    assert done["status"] == "completed", done["log_tail"]


def test_two_cpu_processes_each_train_on_half_the_data(jobs: JobManager, tiny: SimpleNamespace) -> None:
    config = jobs.build_config(
        task="token-classification",
        model=tiny.ner_tagger,
        sample="ner",
        num_train_epochs=1,
        per_device_train_batch_size=8,
        max_train_samples=160,
        num_processes=2,
    )
    assert config["launcher"] == "torchrun"
    assert "torch.distributed.run" in launcher.command(config, "/runs/x")
    run_id = jobs.start(config)
    status = jobs.wait(run_id, timeout=300)
    assert status["status"] == "completed", status["log_tail"]
    assert status["max_steps"] == 10  # 160 rows / (8 per process x 2 processes)
    ranks = [json.loads(p.read_text()) for p in sorted((jobs.runs_dir / run_id / "ranks").glob("rank-*.json"))]
    assert [(r["rank"], r["world_size"], r["samples"]) for r in ranks] == [(0, 2, 80), (1, 2, 80)]
    assert "f1" in status["final_metrics"]


def test_bad_settings_are_refused_before_anything_starts(jobs: JobManager, tiny: SimpleNamespace) -> None:
    with pytest.raises(UserError, match="Upload a data file"):
        jobs.build_config(task="text-classification", model=tiny.text_classifier)
    with pytest.raises(UserError, match="is for token-classification"):
        jobs.build_config(task="text-classification", model=tiny.text_classifier, sample="ner")
    with pytest.raises(UserError, match="fp16 needs a CUDA GPU"):
        tiny_run(jobs, tiny, precision="fp16")
    with pytest.raises(UserError, match="needs internet access"):
        tiny_run(jobs, tiny, push_to_hub=True)
    with pytest.raises(UserError, match="learning_rate must be between"):
        tiny_run(jobs, tiny, learning_rate=5)
    with pytest.raises(UserError, match="not offered"):
        tiny_run(jobs, tiny, model="/etc")
    assert jobs.run_ids() == []
