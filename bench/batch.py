"""Benchmark: Insight > Batch a file through the app, against the raw batched transformers
pipeline on the same file and model, measured in the same run.

    python bench/batch.py                 # ~2 min on 2 idle cores
    python bench/batch.py --rows 4000     # a bigger file

The app is called as a stranger's script calls it: POST /gradio_api/call/batch (bench/rest.py,
httpx), the file uploaded once beforehand; the app's figure is rows / the call's wall time,
reading the file and writing the CSV included, after a warm-up call that loads the model.
Baselines run in this process, alternating with the app's calls, never at the same time (2
cores): `transformers.pipeline(...)(texts, batch_size=B)` with B the app's --max-batch-size.
Figures, from the median time of --rounds:

1. feature extraction, the packaged all-MiniLM-L6-v2 (the shipped models.yaml's entry): app
   rows/s / raw feature-extraction pipeline rows/s (mean-pooled, as the app does) (goal >= 0.8);
   the raw forward alone (tokenizer + model on chunks of B, no pipeline) is printed beside it;
2. text classification, the tiny classifier fixture: app rows/s / raw text-classification
   pipeline rows/s (goal >= 0.8). A tiny model's forward costs almost nothing, so this
   figure is the app's per-row cost against the pipeline's.

Prints, and writes bench/results/batch.json. No asserts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
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

SOURCE_FILE = ROOT / "data" / "sentiment" / "train.csv"
GOAL = 0.8


def bench_models_yaml(work: Path) -> Path:
    """models.yaml: the shipped packaged sentence embedder, and the tiny classifier fixture."""
    shipped = yaml.safe_load((ROOT / "models.yaml").read_text(encoding="utf-8"))["tasks"]
    packaged = [entry for entry in shipped["feature-extraction"]["models"] if entry.get("source") == "package"]
    folder = build_fixtures(work / "models", ["text-classifier"])["text-classifier"]
    tasks = {
        "feature-extraction": {"models": packaged},
        "text-classification": {"models": [{"id": str(folder), "label": "tiny classifier", "source": "local"}]},
    }
    path = work / "models.yaml"
    path.write_text(yaml.safe_dump({"tasks": tasks}, sort_keys=False), encoding="utf-8")
    return path


def bench_file(work: Path, rows: int) -> tuple[Path, list[str]]:
    """The sentiment training reviews, repeated to `rows` rows, as a one-column CSV."""
    with open(SOURCE_FILE, newline="", encoding="utf-8") as file:
        reviews = [row["text"] for row in csv.DictReader(file)]
    texts = [reviews[number % len(reviews)] for number in range(rows)]
    path = work / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text"])
        writer.writerows([text] for text in texts)
    return path, texts


def seconds_of(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


class Raw:
    """The baselines: transformers pipelines on the same models, in this process."""

    def __init__(self, models_yaml: Path, batch_size: int) -> None:
        from transformers import pipeline

        from studio.config import load_config
        from studio.models.manager import ModelManager
        from studio.models.settings import ModelSettings
        from studio.tasks.table import TASKS

        config = load_config(models_yaml)
        manager = ModelManager(max_models=2)
        embedder = manager.get(config.entries("feature-extraction")[0], TASKS["feature-extraction"], ModelSettings())
        self.tokenizer, self.model = embedder.tokenizer, embedder.model
        self.embedding = pipeline("feature-extraction", model=embedder.model, tokenizer=embedder.tokenizer)
        self.classifier = pipeline("text-classification", model=config.entries("text-classification")[0].id)
        self.batch_size = batch_size

    def embed_pipeline(self, texts: list[str]) -> list[Any]:
        import numpy as np

        outputs = self.embedding(texts, batch_size=self.batch_size, truncation=True)
        vectors = [np.asarray(output[0]).mean(axis=0) for output in outputs]
        return [vector / np.linalg.norm(vector) for vector in vectors]

    def embed_forward(self, texts: list[str]) -> None:
        import torch

        for at in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(texts[at : at + self.batch_size], padding=True, truncation=True, return_tensors="pt")
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)

    def classify(self, texts: list[str]) -> None:
        self.classifier(texts, batch_size=self.batch_size, top_k=2, truncation=True)


def app_call(api: Api, client: httpx.Client, upload: dict, task: str, model: str, rows: int) -> dict:
    """One /batch call on the whole file; its summary (every row must have run)."""
    inputs = {"task": task, "model": model, "dataset": upload, "column": "text", "settings": ""}
    _, (_, summary) = api.timed(client, "batch", inputs)
    if summary["done"] != rows or summary["failed"]:
        raise RuntimeError(f"{task}: the batch did not run every row: {summary}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000, help="rows in the file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--app-arg", action="append", default=[], help="an extra app.py argument (repeatable)")
    args = parser.parse_args()

    from app import parse_args

    batch_size = parse_args(args.app_arg).max_batch_size
    work = Path(tempfile.mkdtemp(prefix="studio-bench-batch-"))
    models_yaml = bench_models_yaml(work)
    path, texts = bench_file(work, args.rows)
    figures: dict[str, Any] = {"rows": args.rows, "batch_size": batch_size, "rounds": args.rounds}
    raw = Raw(models_yaml, batch_size)
    app_args = ["--models", str(models_yaml), "--runs-dir", str(work / "runs"), *args.app_arg]
    with running_app(app_args, work / "app.log", timeout=300) as (_, url), httpx.Client(timeout=1800) as client:
        api = Api(url)
        upload = api.upload(path)
        app = {
            "embed": lambda: app_call(api, client, upload, "feature-extraction", "all-MiniLM-L6-v2", args.rows),
            "classify": lambda: app_call(api, client, upload, "text-classification", "tiny classifier", args.rows),
        }
        baselines = {
            "embed": lambda: raw.embed_pipeline(texts),
            "forward": lambda: raw.embed_forward(texts),
            "classify": lambda: raw.classify(texts),
        }
        for function in [*app.values(), *baselines.values()]:  # warm-up: models loaded, threads made
            function()
        # Rounds alternate app and baseline (one at a time: 2 cores), so a shared machine's
        # changing load weighs on both alike.
        times: dict[str, list[float]] = {name: [] for name in ["app_embed", "app_classify", *baselines]}
        for round_number in range(args.rounds):
            for name in ("embed", "classify"):
                times[name].append(seconds_of(baselines[name]))
                times[f"app_{name}"].append(seconds_of(app[name]))
            times["forward"].append(seconds_of(baselines["forward"]))
            print(f"round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    rate = {name: args.rows / statistics.median(values) for name, values in times.items()}

    figures["1_feature_extraction_ratio"] = round(rate["app_embed"] / rate["embed"], 2)
    figures["1_feature_extraction_ratio_parts"] = {
        "app_rows_per_s": round(rate["app_embed"], 1),
        "raw_pipeline_rows_per_s": round(rate["embed"], 1),
        "raw_forward_rows_per_s": round(rate["forward"], 1),
        "app_vs_raw_forward": round(rate["app_embed"] / rate["forward"], 2),
    }
    figures["2_text_classification_ratio"] = round(rate["app_classify"] / rate["classify"], 2)
    figures["2_text_classification_ratio_parts"] = {
        "app_rows_per_s": round(rate["app_classify"], 1),
        "raw_pipeline_rows_per_s": round(rate["classify"], 1),
    }
    report(figures)


def report(figures: dict[str, Any]) -> None:
    for name in ("1_feature_extraction_ratio", "2_text_classification_ratio"):
        value = figures[name]
        met = value >= GOAL
        print(f"{name}: {value} (goal >= {GOAL}: {'met' if met else 'NOT met'})  {figures[name + '_parts']}")
        figures.setdefault("goals_met", {})[name] = met
    out = ROOT / "bench" / "results" / "batch.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
