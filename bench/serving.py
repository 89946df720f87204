"""Benchmark: how many people the app serves at once, against baselines measured in the same run.

    python bench/serving.py                 # all five figures (~6 min on 2 cores)
    python bench/serving.py --skip-generation   # figures 1 and 2 only

Every app request is a raw REST call with a session of its own (bench/rest.py), as a
stranger's script sends it. Baselines: a no-op Gradio app with the same inputs and outputs
(bench/noop_app.py, Gradio's own floor) and direct transformers calls on the same models in
this process, one phase at a time (never at once: 2 cores). Models: the packaged
all-MiniLM-L6-v2 (sentence similarity) and Gemma 3 270M (text generation), and the tiny
fill-mask fixture. Prints, and writes bench/results/serving.json:

1. per-request overhead on /feature_extraction: app latency - no-op latency - direct model
   call (medians; goal <= 5 ms);
2. 16 concurrent clients on /feature_extraction: app requests/s / min(no-op requests/s under
   the same load, raw model requests/s with the 16 requests as one batch) (goal >= 0.8);
3. 8 concurrent clients x 32 tokens on Gemma: total tokens/s / one raw generate stream's
   tokens/s (goal >= 3.5);
4. time to first token through the app - a raw 1-token generate (goal <= 50 ms);
5. fill-mask latency while a 64-token generation streams / its idle latency (goal <= 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from bench.rest import Api  # noqa: E402
from tests.app_process import running_app  # noqa: E402
from tests.fixtures.factory import build_fixtures  # noqa: E402

SOURCE = "A man is eating food."
SENTENCES = "A man is eating a piece of bread.\nThe girl is carrying a baby.\nA man is riding a horse."
PROMPT = "The history of the city begins in the year 1200, when"
MASKED = "The capital of France is [MASK]."
ROUNDS = 3  # each throughput is the median of this many rounds (2 shared cores are noisy)
TOKENS = re.compile(r"\*\*(\d+) tokens\*\*")


def bench_models_yaml(work: Path) -> Path:
    """models.yaml: the packaged sentence embedder and Gemma, and the tiny fill-mask fixture."""
    default = yaml.safe_load((ROOT / "models.yaml").read_text(encoding="utf-8"))["tasks"]
    packaged = {
        task: [entry for entry in default[task]["models"] if entry.get("source") == "package"]
        for task in ("feature-extraction", "text-generation")
    }
    folder = build_fixtures(work / "models", ["fill-mask-bert"])["fill-mask-bert"]
    tasks = {task: {"models": entries} for task, entries in packaged.items()}
    tasks["fill-mask"] = {"models": [{"id": str(folder), "label": "tiny fill-mask", "source": "local"}]}
    path = work / "models.yaml"
    path.write_text(yaml.safe_dump({"tasks": tasks}, sort_keys=False), encoding="utf-8")
    return path


def median_seconds(function: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def concurrently(clients: int, work: Callable[[int], None]) -> float:
    """Run work(n) in `clients` threads at once; the wall seconds until all are done."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


class Raw:
    """Direct transformers calls on the same models, in this process (the baselines)."""

    def __init__(self, models_yaml: Path) -> None:
        from studio.config import load_config
        from studio.models.manager import ModelManager
        from studio.models.settings import ModelSettings
        from studio.tasks.table import TASKS

        config = load_config(models_yaml)
        manager = ModelManager(max_models=2)
        get = lambda task: manager.get(config.entries(task)[0], TASKS[task], ModelSettings())  # noqa: E731
        self.embedder, self.generator = get("feature-extraction"), get("text-generation")

    def embed(self, sentences: list[str]) -> Any:
        import torch

        tokenizer, model = self.embedder.tokenizer, self.embedder.model
        batch = tokenizer(sentences, padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)

    def similarity(self) -> Any:
        vectors = self.embed([SOURCE, *SENTENCES.splitlines()])
        return vectors[1:] @ vectors[0]

    def static_batch_tokens_per_second(self, prompts: int, max_new_tokens: int) -> float:
        """The machine's own batching limit: the prompts as one padded generate() batch."""
        import torch

        tokenizer, model = self.generator.tokenizer, self.generator.model
        prompts_text = [f"{PROMPT} {n}" for n in range(prompts)]
        batch = tokenizer(prompts_text, return_tensors="pt", padding=True, padding_side="left")
        started = time.perf_counter()
        with torch.inference_mode():
            model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens)
        return prompts * max_new_tokens / (time.perf_counter() - started)

    def tokens_per_second(self, max_new_tokens: int) -> float:
        started = time.perf_counter()
        return self.generate(max_new_tokens) / (time.perf_counter() - started)

    def generate(self, max_new_tokens: int) -> int:
        import torch

        tokenizer, model = self.generator.tokenizer, self.generator.model
        batch = tokenizer(PROMPT, return_tensors="pt")
        with torch.inference_mode():
            output = model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens)
        return int(output.shape[-1] - batch["input_ids"].shape[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=10, help="requests per client (figure 2)")
    parser.add_argument("--runs", type=int, default=30, help="sequential requests per latency figure")
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--skip-generation", action="store_true", help="figures 1 and 2 only")
    parser.add_argument("--app-arg", action="append", default=[], help="an extra app.py argument (repeatable)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="studio-serving-"))
    models_yaml = bench_models_yaml(work)
    figures: dict[str, Any] = {"clients": args.clients, "streams": args.streams, "tokens": args.tokens}
    print("raw baselines (direct transformers calls in this process)...", flush=True)
    raw = Raw(models_yaml)
    raw.similarity()
    raw_call = median_seconds(raw.similarity, args.runs)
    batch = [SOURCE, *SENTENCES.splitlines()] * args.clients
    raw.embed(batch)
    raw_batch_rps = args.clients / median_seconds(lambda: raw.embed(batch), 5)
    if not args.skip_generation:
        raw.generate(4)
        raw_stream_tps = statistics.median(raw.tokens_per_second(args.tokens) for _ in range(ROUNDS))
        static = raw.static_batch_tokens_per_second(args.streams, args.tokens)
        figures["raw_static_batch_tokens_per_s"] = round(static, 1)
        raw_first_token = median_seconds(lambda: raw.generate(1), 5)

    fe = {"model": "all-MiniLM-L6-v2", "source": SOURCE, "sentences": SENTENCES}
    limit = feature_extraction_limit(args.app_arg)

    def load(api: Api, name: str = "feature_extraction", inputs: dict | None = None) -> tuple[float, float]:
        """(median sequential latency, requests/s under args.clients concurrent clients)."""
        inputs = inputs or fe
        with httpx.Client(timeout=120) as client:
            for _ in range(3):
                api.timed(client, name, inputs)
            sequential = statistics.median(api.timed(client, name, inputs)[0] for _ in range(args.runs))

        def client_work(_: int) -> None:
            with httpx.Client(timeout=300) as client:
                for _ in range(args.requests):
                    api.timed(client, name, inputs)

        concurrently(args.clients, client_work)  # warm-up round: threads and buffers exist
        walls = [concurrently(args.clients, client_work) for _ in range(ROUNDS)]
        return sequential, args.clients * args.requests / statistics.median(walls)

    print("no-op Gradio app...", flush=True)
    noop_args = ["--concurrency", str(limit)]
    with running_app(noop_args, work / "noop.log", module="bench.noop_app") as (_, url):
        noop_latency, noop_rps = load(Api(url))

    print("the app...", flush=True)
    app_args = ["--models", str(models_yaml), "--runs-dir", str(work / "runs"), *args.app_arg]
    with running_app(app_args, work / "app.log", timeout=300) as (_, url):
        api = Api(url)
        app_latency, app_rps = load(api)
        figures["1_overhead_ms"] = round(1000 * (app_latency - noop_latency - raw_call), 1)
        figures["1_overhead_ms_parts"] = {
            "app": round(1000 * app_latency, 1),
            "noop": round(1000 * noop_latency, 1),
            "model": round(1000 * raw_call, 1),
        }
        floor = min(noop_rps, raw_batch_rps)
        figures["2_throughput_ratio"] = round(app_rps / floor, 2)
        figures["2_throughput_ratio_parts"] = {
            "app": round(app_rps, 1),
            "noop": round(noop_rps, 1),
            "raw_batch": round(raw_batch_rps, 1),
        }
        if not args.skip_generation:
            generation_figures(api, args, figures, raw_stream_tps, raw_first_token)

    report(figures)


def feature_extraction_limit(app_args: list[str]) -> int:
    """The concurrency limit the app gives /feature_extraction (its batch size), for the no-op app."""
    from app import parse_args

    return parse_args(app_args).max_batch_size


def generation_figures(api: Api, args: argparse.Namespace, figures: dict, raw_tps: float, raw_first: float) -> None:
    """Figures 3-5, on the running app."""
    gemma = {"model": "gemma-3-270m", "prompt": PROMPT, "strategy": "greedy"}
    with httpx.Client(timeout=600) as client:
        api.timed(client, "text_generation", {**gemma, "max_new_tokens": 4})  # loads Gemma

    counted: list[int] = []

    def stream(_: int) -> None:
        with httpx.Client(timeout=600) as client:
            _, data = api.timed(client, "text_generation", {**gemma, "max_new_tokens": args.tokens})
            counted.append(int(TOKENS.search(data[1]).group(1)))

    concurrently(2, stream)  # warm-up
    rates = []
    for _ in range(ROUNDS):
        counted.clear()
        wall = concurrently(args.streams, stream)
        rates.append(sum(counted) / wall)
    app_tps = statistics.median(rates)
    figures["3_generation_ratio"] = round(app_tps / raw_tps, 2)
    figures["3_generation_ratio_parts"] = {
        "app_tokens_per_s": round(app_tps, 1),
        "raw_stream_tokens_per_s": round(raw_tps, 1),
    }

    def first_token() -> float:
        """Seconds to the first streamed text (the stream is read to its end, so nothing runs on)."""
        first = None
        with httpx.Client(timeout=600) as client:
            started = time.perf_counter()
            for event, data in api.events(client, "text_generation", {**gemma, "max_new_tokens": 8}):
                if first is None and event in ("generating", "complete") and data and data[0]:
                    first = time.perf_counter() - started
                if event == "error":
                    raise RuntimeError(f"text_generation failed: {data}")
        if first is None:
            raise RuntimeError("no token came")
        return first

    app_first = statistics.median(first_token() for _ in range(7))
    figures["4_first_token_overhead_ms"] = round(1000 * (app_first - raw_first), 1)
    figures["4_first_token_overhead_ms_parts"] = {
        "app_first_token": round(1000 * app_first, 1),
        "raw_1_token": round(1000 * raw_first, 1),
    }

    fill = {"model": "tiny fill-mask", "text": MASKED}
    with httpx.Client(timeout=120) as client:
        api.timed(client, "fill_mask", fill)
        idle = statistics.median(api.timed(client, "fill_mask", fill)[0] for _ in range(args.runs))
        busy: list[float] = []
        generating = threading.Thread(
            target=lambda: api.timed(httpx.Client(timeout=600), "text_generation", {**gemma, "max_new_tokens": 64})
        )
        generating.start()
        time.sleep(1.0)  # the generation is streaming
        while generating.is_alive() and len(busy) < args.runs:
            busy.append(api.timed(client, "fill_mask", fill)[0])
        generating.join()
    figures["5_fill_mask_ratio"] = round(statistics.median(busy) / idle, 2)
    figures["5_fill_mask_ratio_parts"] = {
        "idle": round(1000 * idle, 1),
        "during_generation": round(1000 * statistics.median(busy), 1),
        "samples": len(busy),
    }


GOALS = {
    "1_overhead_ms": ("<=", 5),
    "2_throughput_ratio": (">=", 0.8),
    "3_generation_ratio": (">=", 3.5),
    "4_first_token_overhead_ms": ("<=", 50),
    "5_fill_mask_ratio": ("<=", 2),
}


def report(figures: dict[str, Any]) -> None:
    for name, (sign, goal) in GOALS.items():
        if name not in figures:
            continue
        value = figures[name]
        met = value <= goal if sign == "<=" else value >= goal
        parts = figures.get(f"{name}_parts", "")
        print(f"{name}: {value} (goal {sign} {goal}: {'met' if met else 'NOT met'})  {parts}")
        figures.setdefault("goals_met", {})[name] = met
    out = ROOT / "bench" / "results" / "serving.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
