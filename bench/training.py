"""Fine-tuning overhead: the same short run through the app vs the worker run directly, and the
delay from a Trainer log event to its appearance in /train_status.

    python bench/training.py [--model tiny|minilm] [--repeats 2]

Writes bench/results/training.json. Targets: samples/s ratio app/direct >= 0.95; log delay < 1.5 s.

    python bench/training.py --gemma-lora [--steps 8] [--max-length 64] [--batch 2]

Seconds per step of LoRA (r=8 on q/k/v/o) on the packaged Gemma 3 270M and the bundled
instructions, the worker run directly (the first step, which warms up, is left out); writes
bench/results/training-gemma-lora.json.
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

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "minilm"], default="tiny")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--gemma-lora", action="store_true", help="s/step of LoRA on the packaged Gemma 270M")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args()
    if args.gemma_lora:
        gemma_lora(args.steps, args.max_length, args.batch)
        return

    import yaml
    from gradio_client import Client

    from studio.config import parse_config
    from studio.training import launcher
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
    config = jobs.build_config(**arguments)  # the same config the app builds from the same API arguments

    def direct_run(index: int) -> float:
        run_dir = work / "direct-runs" / f"direct-{index}"
        run_dir.mkdir(parents=True)
        (run_dir / "config.json").write_text(json.dumps({"run_id": run_dir.name, **config}))
        with open(run_dir / "train.log", "wb") as log:
            subprocess.run(
                launcher.command(config, run_dir), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True
            )
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
        for index in range(args.repeats):  # alternate, so load changes hit both alike
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
        "repeats": args.repeats,
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


def gemma_lora(steps: int, max_length: int, batch: int) -> None:
    """LoRA steps on the packaged Gemma through the worker (shipped models.yaml), timed from metrics.jsonl."""
    from studio.config import load_config
    from studio.training import launcher
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
    )
    run_dir = work / "runs" / "gemma-lora"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"run_id": run_dir.name, **config}))
    began = time.perf_counter()
    with open(run_dir / "train.log", "wb") as log:
        subprocess.run(launcher.command(config, run_dir), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
    total = time.perf_counter() - began
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps_logged = [(r["step"], r["time"]) for r in records if "loss" in r]
    (first_step, first_time), (last_step, last_time) = steps_logged[0], steps_logged[-1]
    results = {
        "model": "gemma-3-270m (packaged GGUF, dequantized to float32)",
        "lora": "r=8, alpha=16, q_proj k_proj v_proj o_proj",
        "batch": batch,
        "max_length": max_length,
        "steps": last_step,
        "seconds_per_step": round((last_time - first_time) / max(1, last_step - first_step), 2),
        "losses": [r["loss"] for r in records if "loss" in r],
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
