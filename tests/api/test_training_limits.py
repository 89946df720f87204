"""Fine-tuning faults and limits with the worker running: Hub push only with a token given for it,
SIGTERM in the data and evaluation phases, upload caps checked in the worker, runs/<id> model ids
and deleting a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.studio import Studio
from studio.training.config import TrainingConfig
from studio.training.jobs import JobManager
from studio.training.model_card import push_to_hub
from tests.app_process import ROOT
from tests.helpers import group_members, sentiment_csv, tiny_run, upload_run, wait_until


def log_of(jobs: JobManager, run_id: str) -> str:
    return (jobs.runs_dir / run_id / "train.log").read_text(encoding="utf-8")


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
    pushed = push_to_hub(tmp_path, config, None)
    assert pushed["error"].startswith("Not pushed to the Hub: no Hub token was given for this run")


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
