"""Fine-tuning faults and limits without the UI: Hub push only with a token given for it, SIGTERM
in the data and evaluation phases, upload caps checked in the worker, header checks in the
request, formula-like labels, bounded status streams, runs/<id> model ids and deleting a run."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.config import parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.studio import Studio
from studio.training import data as training_data
from studio.training import worker
from studio.training.config import TrainingConfig
from studio.training.jobs import JobManager
from tests.conftest import ROOT
from tests.fixtures.factory import fixtures_config
from tests.unit.test_training import group_members, tiny_run, wait_until

SENTIMENT_ROWS = list(csv.DictReader(training_data.SAMPLES["sentiment"].train.read_text(encoding="utf-8").splitlines()))


@pytest.fixture
def jobs(tiny: SimpleNamespace, tmp_path: Path):
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), grace_seconds=5)
    yield manager
    manager.close(stop_running=True)


def sentiment_csv(path: Path, rows: int, label=None) -> Path:
    """rows rows of the bundled sentiment set, cycled (label(i) replaces the label when given)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for i in range(rows):
            row = SENTIMENT_ROWS[i % len(SENTIMENT_ROWS)]
            writer.writerow([row["text"], row["label"] if label is None else label(i)])
    return path


def upload_run(jobs: JobManager, tiny: SimpleNamespace, path: Path, **overrides) -> dict:
    arguments = {"model": tiny.text_classifier, "dataset": str(path), "sample": None, **overrides}
    return tiny_run(jobs, tiny, **arguments)


def log_of(jobs: JobManager, run_id: str) -> str:
    return (jobs.runs_dir / run_id / "train.log").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ Hub push
def test_push_needs_a_token_given_for_it_and_never_uses_the_stored_login(
    jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "hf-home"
    home.mkdir()
    (home / "token").write_text("hf_fake_stored_login_token")  # a stored `hf auth login`
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_TOKEN", "hf_fake_environment_token")
    config = TrainingConfig.of({**tiny_run(jobs, tiny), "push_to_hub": True, "hub_model_id": "someone/model"})

    # The request: refused with a sentence before a run folder exists.
    with pytest.raises(UserError, match="Pushing to the Hub needs a Hub token for this push"):
        jobs.start(config)
    assert jobs.run_ids() == []

    # The worker, started without a token (whatever HF_HOME and HF_TOKEN hold): it refuses in its
    # first seconds, before reading the data, so nothing can be sent.
    run_dir = jobs.runs_dir / "no-token"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"run_id": "no-token", **config.as_json()}))
    with open(run_dir / "train.log", "wb") as log:
        ended = subprocess.run(
            [sys.executable, "-m", "studio.training.worker", str(run_dir)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    result = json.loads((run_dir / "result.json").read_text())
    assert ended.returncode == 3 and result["outcome"] == "failed"
    assert "needs a Hub token given for this run" in result["error"]
    assert "reading the data" not in (run_dir / "train.log").read_text()

    # The upload itself: with no token it never creates an HfApi nor reads the stored token.
    import huggingface_hub

    def forbidden(*args, **kwargs):
        raise AssertionError("the stored login or an HfApi was used without a token given for this push")

    monkeypatch.setattr(huggingface_hub, "HfApi", forbidden)
    monkeypatch.setattr(huggingface_hub, "get_token", forbidden)
    pushed = worker.push_to_hub(tmp_path, config, None)
    assert pushed["error"].startswith("Not pushed to the Hub: no Hub token was given for this run")


# ------------------------------------------------------------------------------ SIGTERM
@pytest.mark.parametrize(
    ("phase", "marker"), [("data", "reading the data"), ("evaluation", "evaluating on")], ids=["data", "evaluation"]
)
def test_stop_ends_the_worker_at_once_outside_the_training_steps(
    jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path, phase: str, marker: str
) -> None:
    """SIGTERM while the data is read or the model is evaluated ends the worker itself (no SIGKILL)."""
    path = sentiment_csv(tmp_path / "many.csv", 30_000)  # 4,500 rows to evaluate
    run_id = jobs.start(upload_run(jobs, tiny, path, max_train_samples=8))
    wait_until(lambda: marker in log_of(jobs, run_id), 300, f"the worker never reached the {phase} phase")
    pgid = json.loads((jobs.runs_dir / run_id / "status.json").read_text())["pgid"]
    assert jobs.stop(run_id)["status"] in ("stopping", "stopped")
    status = jobs.wait(run_id, timeout=60)
    wait_until(lambda: not group_members(pgid), 15, "processes of the worker's group still alive")
    assert status["status"] == "stopped"
    log = log_of(jobs, run_id)
    assert "received SIGTERM outside the training steps: exiting" in log
    assert "SIGKILL" not in log, "the worker ignored SIGTERM until the grace period ran out"
    assert not (jobs.runs_dir / run_id / "cache").exists(), "the run's datasets cache should go when it ends"


# ------------------------------------------------------------------------------ uploads
def test_upload_caps_are_checked_in_the_worker_and_fail_the_run_with_a_sentence(
    jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_MAX_UPLOAD_ROWS", "50")
    monkeypatch.setenv("STUDIO_MAX_LABELS", "3")
    rows = sentiment_csv(tmp_path / "rows.csv", 60)
    labels = sentiment_csv(tmp_path / "labels.csv", 40, label=lambda i: f"class{i % 4}")
    first = jobs.start(upload_run(jobs, tiny, rows))  # the request does not count rows: the worker does
    second = jobs.start(upload_run(jobs, tiny, labels))
    failed = jobs.wait(first, timeout=240)
    assert failed["status"] == "failed"
    assert failed["error"] == "rows.csv has 60 rows and this app takes at most 50; upload fewer rows."
    failed = jobs.wait(second, timeout=240)
    assert failed["error"] == (
        "labels.csv has 4 distinct labels and this app takes at most 3; check the label column, or merge rare labels."
    )


def test_a_large_upload_gets_header_checks_in_the_request_and_labels_from_the_worker(
    jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path
) -> None:
    big = sentiment_csv(tmp_path / "big.csv", 30_000)
    assert big.stat().st_size > 2_000_000
    config = upload_run(jobs, tiny, big)
    assert config["labels"] == [], "a large upload's labels are found by the worker, not the request"
    with pytest.raises(UserError, match=r"column 'review' is missing \(the file has: text, label\)"):
        upload_run(jobs, tiny, big, text_column="review")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"text,label\n" + bytes(range(256)) * 10_000)
    with pytest.raises(UserError, match="binary.csv looks like a binary file, not text"):
        upload_run(jobs, tiny, binary)
    empty = tmp_path / "empty.csv"
    empty.write_text("  \n")
    with pytest.raises(UserError, match="empty.csv is empty"):
        upload_run(jobs, tiny, empty)
    assert jobs.run_ids() == []


def test_formula_like_labels_are_refused_in_a_sentence(jobs: JobManager, tiny: SimpleNamespace, tmp_path: Path) -> None:
    names = ['=HYPERLINK("http://x")', "ok"]
    path = sentiment_csv(tmp_path / "formula.csv", 20, label=lambda i: names[i % 2])
    with pytest.raises(UserError, match=r"1 label starting with = \+ - or @ .*which spreadsheets run as formulas"):
        upload_run(jobs, tiny, path)
    numbers = sentiment_csv(tmp_path / "numbers.csv", 20, label=lambda i: ["-1", "+1"][i % 2])
    assert sorted(upload_run(jobs, tiny, numbers)["labels"]) == ["-1", "1"]  # a number is a fine label


# ------------------------------------------------------------------------- status streams
def test_status_streams_are_bounded(tiny: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MAX_STATUS_STREAMS", "1")
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), supervise=False)
    folder = manager.runs_dir / "20250101-000000-text-0000"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"task": "text-classification"}))
    (folder / "status.json").write_text(json.dumps({"status": "queued"}))
    first = manager.status_stream(folder.name, poll_seconds=0.01)
    assert next(first)["status"] == "queued"
    with pytest.raises(UserError, match="1 status streams are open on this app already; press Refresh runs"):
        next(manager.status_stream(folder.name))
    first.close()
    assert next(manager.status_stream(folder.name))["status"] == "queued"


def test_a_page_follows_one_run_and_an_api_client_any_number(tiny: SimpleNamespace, tmp_path: Path) -> None:
    """A page's newer stream, or its Train (leave), ends its older stream; other followers and
    follower-less (API) streams go on."""
    manager = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), supervise=False)
    for name in ("20250101-000000-text-0000", "20250101-000001-text-0001"):
        folder = manager.runs_dir / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"task": "text-classification"}))
        (folder / "status.json").write_text(json.dumps({"status": "queued"}))
    one, two = manager.run_ids()[:2]
    old = manager.status_stream(one, poll_seconds=0.01, follower="page-a")
    other_page = manager.status_stream(one, poll_seconds=0.01, follower="page-b")
    api = manager.status_stream(one, poll_seconds=0.01)
    assert next(old)["run_id"] == next(other_page)["run_id"] == next(api)["run_id"] == one

    def end_later(stream) -> threading.Thread:  # the new stream waits until the old one has ended
        thread = threading.Thread(target=lambda: list(stream), daemon=True)
        thread.start()
        return thread

    ending = end_later(old)
    new = manager.status_stream(two, poll_seconds=0.01, follower="page-a")
    assert next(new)["run_id"] == two
    ending.join(timeout=5)
    assert not ending.is_alive(), "the page's older stream ended"
    ending = end_later(new)
    manager.leave("page-a")  # Train on that page
    ending.join(timeout=5)
    assert not ending.is_alive(), "leave() ended the page's stream"
    (manager.runs_dir / one / "status.json").write_text(json.dumps({"status": "stopped"}))
    assert next(other_page)["status"] == next(api)["status"] == "stopped"  # the others go on to the end


# ---------------------------------------------------------------- runs/<id>, and deleting
def test_a_fine_tuned_model_is_runs_id_everywhere_and_deleting_removes_it(
    jobs: JobManager, tiny: SimpleNamespace
) -> None:
    preview = jobs.preview(task="text-classification", model=tiny.text_classifier, sample="sentiment")
    assert str(ROOT) not in preview and str(jobs.runs_dir) not in preview and "runs/<run-id>" in preview
    run_id = jobs.start(tiny_run(jobs, tiny, max_train_samples=16))
    with pytest.raises(UserError, match="stop it first, then delete it"):
        jobs.delete(run_id)
    done = jobs.wait(run_id, timeout=240)
    assert done["status"] == "completed", done["log_tail"]
    assert done["model_id"] == f"runs/{run_id}"
    assert next(run for run in jobs.runs() if run["run_id"] == run_id)["model_id"] == f"runs/{run_id}"
    assert str(jobs.runs_dir) not in done["log_tail"]
    assert not (jobs.runs_dir / run_id / "cache").exists()
    studio = Studio(jobs.catalogue.config, ModelManager(), extra_entries=jobs.model_entries, jobs=jobs)
    assert f"runs/{run_id}" in [model_id for _, model_id in studio.model_choices("text-classification")]
    raw = studio.run("text-classification", f"runs/{run_id}", {"text": "lovely", "top_k": 2}).output
    assert {row["label"] for row in raw} == {"negative", "positive"}
    assert f"runs/{run_id}" in [row["model"] for row in studio.loaded_models()]

    jobs.delete(run_id)
    assert run_id not in jobs.run_ids() and not (jobs.runs_dir / run_id).exists()
    assert f"runs/{run_id}" not in [model_id for _, model_id in studio.model_choices("text-classification")]
    with pytest.raises(UserError, match="Pick a run first"):
        jobs.delete("")
