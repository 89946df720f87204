"""Fine-tuning overhead: the same short run through the app vs the worker run directly, and the
delay from a Trainer log event to its appearance in /train_status.

    python bench/training.py [--model tiny|minilm] [--repeats 2]

Writes bench/results/training.json. Targets: samples/s ratio app/direct >= 0.95; log delay < 1.5 s.

    python bench/training.py --gemma-lora [--steps 8] [--max-length 64] [--batch 2]

Seconds per step of LoRA (r=8 on q/k/v/o) on the packaged Gemma 3 270M and the bundled
instructions, the worker run directly (the first step, which warms up, is left out); writes
bench/results/training-gemma-lora.json.

    python bench/training.py --kinds [--steps 12] [--batch 8] [--max-length 64] [--repeats 3]

Samples/s and s/step of each kind of fine-tuning on the tiny fixture models, the worker run
directly (the first step left out; medians of the repeats): causal LM LoRA, seq2seq, extractive
QA, image classification and text classification as the reference (bench/training_kinds.py);
writes bench/results/training-kinds.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "minilm"], default="tiny")
    parser.add_argument(
        "--repeats", type=int, help="app/direct pairs (default 2); with --kinds, runs of each kind (default 3)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--gemma-lora", action="store_true", help="s/step of LoRA on the packaged Gemma 270M")
    mode.add_argument("--kinds", action="store_true", help="samples/s of each kind of training on tiny models")
    parser.add_argument("--steps", type=int, help="training steps (default: 8 for --gemma-lora, 12 for --kinds)")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch", type=int, help="batch size (default: 2 for --gemma-lora, 8 for --kinds)")
    args = parser.parse_args()
    if args.gemma_lora:
        gemma_lora(args.steps or 8, args.max_length, args.batch or 2)
        return
    if args.kinds:
        from training_kinds import measure_kinds  # bench/ is on sys.path when run as a script

        measure_kinds(args.steps or 12, args.batch or 8, args.max_length, args.repeats or 3)
        return

    import yaml
    from gradio_client import Client

    from studio.config import parse_config
    from studio.training.jobs import JobManager
    from tests.conftest import free_port, wait_for_http
    from tests.fixtures.factory import build_fixtures, fixtures_config

    work = Path(tempfile.mkdtemp(prefix="bench-training-"))
    folders = build_fixtures(work / "models", ["text-classifier"])
    models_yaml = work / "models.yaml"
    models_yaml.write_text(yaml.safe_dump(fixtures_config(folders)))
    model = str(folders["text-classifier"]) if args.model == "tiny" else "all-MiniLM-L6-v2"
    arguments = {
        "task": "text-classification",
        "model": model,
        "sample": "sentiment",
        "num_train_epochs": 1,
        "per_device_train_batch_size": 16,
        "max_length": 64,
        "eval_each_epoch": False,
        "save_each_epoch": False,
    }
    jobs = JobManager(work / "direct-runs", parse_config(fixtures_config(folders)), supervise=False)
    config = jobs.build_config(**arguments).as_json()  # the same config the app builds from the same API arguments

    def direct_run(index: int) -> float:
        run_dir = work / "direct-runs" / f"direct-{index}"
        run_worker(config, run_dir)
        return json.loads((run_dir / "result.json").read_text())["train_metrics"]["train_samples_per_second"]

    port = free_port()
    runs_dir = work / "app-runs"
    with open(work / "app.log", "w") as log:
        app = subprocess.Popen(
            [sys.executable, "app.py", "--models", str(models_yaml), "--port", str(port), "--runs-dir", str(runs_dir)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", app)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)

        def app_run() -> tuple[float, list[float]]:
            run_id = client.predict(**arguments, api_name="/train_start")[-1]["run_id"]
            delays, seen = [], 0
            for outputs in client.submit(run_id=run_id, api_name="/train_status"):
                status = outputs[-1]
                now = time.time()
                logs = status["metrics"]
                delays += [now - record["time"] for record in logs[seen:] if "loss" in record]
                seen = len(logs)
            assert status["status"] == "completed", status["log_tail"]
            result = json.loads((runs_dir / run_id / "result.json").read_text())
            return result["train_metrics"]["train_samples_per_second"], delays

        direct, through_app, delays = [], [], []
        for index in range(args.repeats or 2):  # alternate, so load changes hit both alike
            direct.append(direct_run(index))
            speed, run_delays = app_run()
            through_app.append(speed)
            delays += run_delays
    finally:
        app.terminate()
        app.wait(timeout=30)
    results = {
        "model": model,
        "train_rows": 840,
        "repeats": args.repeats or 2,
        "direct_samples_per_second": direct,
        "app_samples_per_second": through_app,
        "ratio_app_over_direct": round(statistics.median(through_app) / statistics.median(direct), 3),
        "log_to_stream_delay_seconds": {
            "median": round(statistics.median(delays), 3),
            "max": round(max(delays), 3),
            "count": len(delays),
        },
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    out = ROOT / "bench" / "results" / "training.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def run_worker(config: dict[str, Any], run_dir: Path) -> float:
    """Write the run folder and run `python -m studio.training.worker` on it (as the app's launcher
    would, minus the app); returns the process's wall seconds. Its output goes to run_dir/train.log."""
    from studio.training import launcher

    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"run_id": run_dir.name, **config}))
    began = time.perf_counter()
    with open(run_dir / "train.log", "wb") as log:
        subprocess.run(launcher.command(config, run_dir), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - began


def step_records(run_dir: Path) -> list[dict[str, Any]]:
    """The run's training log events (one per step with logging_steps=1), each with "step" and "time"."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [record for record in records if "loss" in record]


def gemma_lora(steps: int, max_length: int, batch: int) -> None:
    """LoRA steps on the packaged Gemma through the worker (shipped models.yaml), timed from metrics.jsonl."""
    from studio.config import load_config
    from studio.training.jobs import JobManager

    work = Path(tempfile.mkdtemp(prefix="bench-gemma-lora-"))
    jobs = JobManager(work / "runs", load_config(), supervise=False)
    config = jobs.build_config(
        task="text-generation",
        model="gemma-3-270m",
        sample="instructions",
        max_train_samples=steps * batch,
        per_device_train_batch_size=batch,
        num_train_epochs=1,
        learning_rate=2e-4,
        max_length=max_length,
        logging_steps=1,
        eval_each_epoch=False,
        save_each_epoch=False,
        use_lora=True,
        merge_adapter=False,
    ).as_json()
    run_dir = work / "runs" / "gemma-lora"
    total = run_worker(config, run_dir)
    records = step_records(run_dir)
    first, last = records[0], records[-1]
    results = {
        "model": "gemma-3-270m (packaged GGUF, dequantized to float32)",
        "lora": "r=8, alpha=16, q_proj k_proj v_proj o_proj",
        "batch": batch,
        "max_length": max_length,
        "steps": last["step"],
        "seconds_per_step": round((last["time"] - first["time"]) / max(1, last["step"] - first["step"]), 2),
        "losses": [r["loss"] for r in records],
        "worker_seconds_total": round(total, 1),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    out = ROOT / "bench" / "results" / "training-gemma-lora.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
