"""Benchmark: many visitors at once, each request from a new session, through the REST API.

    python bench/load.py                          # 32 clients x 25 mixed requests
    python bench/load.py --clients 8 --requests 10

Builds the tiny fixture models (tests/fixtures), starts `python app.py` on them, warms each
endpoint once and runs a short concurrent warm-up round, then runs the clients in threads.
Every request is a raw REST call (`POST /gradio_api/call/<api>` then its event stream) with
a session hash of its own, as a stranger's script would send it: nothing is reused between
requests. Prints the errors (goal 0), p50/p95 latency, and the app process's RSS after the
warm-up, every 100 requests and at the end (goal: growth <= 10 %); writes
bench/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.rest import Api  # noqa: E402
from tests.app_process import running_app  # noqa: E402
from tests.fixtures.factory import build_fixtures, write_models_yaml  # noqa: E402

IMAGE = ROOT / "examples" / "images" / "shapes.png"


def mix(models: dict[str, str], image: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The requests a client picks from: (api name, inputs by name)."""
    return [
        ("text_classification", {"model": models["text-classifier"], "text": "What a lovely day.", "top_k": 2}),
        ("fill_mask", {"model": models["fill-mask-bert"], "text": "The cat sat on the [MASK]."}),
        (
            "zero_shot_classification",
            {"model": models["nli-bert"], "text": "The match ended 2-1.", "candidate_labels": "sport, politics"},
        ),
        ("text_generation", {"model": models["causal-lm"], "prompt": "the weather today is", "max_new_tokens": 8}),
        (
            "chat",
            {"model": models["chat-lm"], "message": "hello", "history": [], "system_prompt": "", "max_new_tokens": 8},
        ),
        ("image_classification", {"model": models["vit"], "image": image}),
        (
            "image_text_to_text",
            {"model": models["llava"], "image": image, "text": "what is it?", "history": [], "max_new_tokens": 4},
        ),
        ("loaded_models", {}),
    ]


def rss(process: psutil.Process) -> int:
    return process.memory_info().rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=4, help="requests per client in the concurrent warm-up round")
    parser.add_argument(
        "--max-loaded-models", type=int, default=8, help="the app's cache: every model of the mix stays loaded"
    )
    args = parser.parse_args()
    random.seed(args.seed)

    work = Path(tempfile.mkdtemp(prefix="studio-load-"))
    folders = build_fixtures(work / "models")
    models_yaml = write_models_yaml(folders, work / "models.yaml")
    arguments = ["--models", str(models_yaml), "--runs-dir", str(work)]
    arguments += ["--max-loaded-models", str(args.max_loaded_models)]
    with running_app(arguments, work / "app.log", timeout=180) as (app, url):
        api = Api(url)
        process = psutil.Process(app.pid)
        requests = mix({name: str(path) for name, path in folders.items()}, api.upload(IMAGE))
        with httpx.Client(timeout=300) as client:
            for name, inputs in requests:  # warm-up: every model loaded once
                ok, message = api.call(client, name, inputs)
                if not ok:
                    print(f"warm-up {name} failed: {message}")
        latencies: list[float] = []
        errors: list[str] = []
        peak = [0]
        series: list[float] = []  # RSS (MB) after every 100 requests
        lock = threading.Lock()
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.5):
                peak[0] = max(peak[0], rss(process))

        def client_thread(number: int, count: int, record: bool = True) -> None:
            chooser = random.Random(args.seed * 1000 + number + (0 if record else 500))
            with httpx.Client(timeout=300) as client:
                for _ in range(count):
                    name, inputs = chooser.choice(requests)
                    started = time.perf_counter()
                    try:
                        ok, message = api.call(client, name, inputs)
                    except httpx.HTTPError as exc:
                        ok, message = False, f"{type(exc).__name__}: {exc}"
                    if not record:
                        if not ok:
                            print(f"warm-up {name} failed: {message}")
                        continue
                    with lock:
                        latencies.append(time.perf_counter() - started)
                        if not ok:
                            errors.append(f"{name}: {message}")
                        if len(latencies) % 100 == 0:
                            series.append(round(rss(process) / 2**20, 1))
                            print(f"  {len(latencies)} requests, {len(errors)} errors, RSS {series[-1]} MB", flush=True)

        # ... and a concurrent round, so that the server's threads and buffers exist before RSS is read.
        warmup_threads = [
            threading.Thread(target=client_thread, args=(n, args.warmup, False)) for n in range(args.clients)
        ]
        for thread in warmup_threads:
            thread.start()
        for thread in warmup_threads:
            thread.join()
        time.sleep(1)
        rss_before = rss(process)
        peak[0] = rss_before
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.perf_counter()
        threads = [threading.Thread(target=client_thread, args=(n, args.requests)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        done.set()
        time.sleep(2)
        rss_after = rss(process)

    quantiles = statistics.quantiles(latencies, n=100)
    result = {
        "clients": args.clients,
        "requests_per_client": args.requests,
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:10],
        "p50_seconds": round(statistics.median(latencies), 3),
        "p95_seconds": round(quantiles[94], 3),
        "wall_seconds": round(wall, 1),
        "requests_per_second": round(len(latencies) / wall, 2),
        "warmup_requests_per_client": args.warmup,
        "rss_after_warmup_mb": round(rss_before / 2**20, 1),
        "rss_peak_mb": round(peak[0] / 2**20, 1),
        "rss_after_mb": round(rss_after / 2**20, 1),
        "rss_growth_percent": round(100 * (rss_after - rss_before) / rss_before, 1),
        "rss_every_100_requests_mb": series,
    }
    print(f"{result['requests']} requests from {args.clients} clients, each from a new session")
    print(f"errors: {result['errors']} (goal 0)")
    for sample in result["error_samples"]:
        print(f"  {sample}")
    print(f"latency p50 {result['p50_seconds']} s, p95 {result['p95_seconds']} s", end="; ")
    print(f"{result['requests_per_second']} requests/s")
    print(
        f"RSS after warm-up {result['rss_after_warmup_mb']} MB, peak {result['rss_peak_mb']} MB, "
        f"after {result['rss_after_mb']} MB: growth {result['rss_growth_percent']} % (goal <= 10 %)"
    )
    out = ROOT / "bench" / "results" / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
