"""Fine-tuning without the UI, end to end: the worker process alone, and the JobManager that
runs it (stop, resume, kill -9, torchrun on two processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

from studio.training import launcher
from studio.training.jobs import JobManager
from studio.training.store import last_checkpoint
from tests.app_process import ROOT
from tests.helpers import group_members, tiny_run, wait_until


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
    # The model id is runs/<run_id> (no server path); its folder holds the model.
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
    ).as_json()
    assert config["launcher"] == "torchrun"
    assert "torch.distributed.run" in launcher.command(config, "/runs/x")
    run_id = jobs.start(config)
    status = jobs.wait(run_id, timeout=300)
    assert status["status"] == "completed", status["log_tail"]
    assert status["max_steps"] == 10  # 160 rows / (8 per process x 2 processes)
    ranks = [json.loads(p.read_text()) for p in sorted((jobs.runs_dir / run_id / "ranks").glob("rank-*.json"))]
    assert [(r["rank"], r["world_size"], r["samples"]) for r in ranks] == [(0, 2, 80), (1, 2, 80)]
    assert "f1" in status["final_metrics"]
