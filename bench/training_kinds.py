"""Training throughput of each kind of fine-tuning, on the tiny fixture models built offline:
causal LM LoRA (bundled instructions), seq2seq (sentences copied), extractive QA (the colour after
a cue), image classification (a zip of red and blue squares) and text classification (bundled
sentiment) as the reference.

    python bench/training.py --kinds [--steps 12] [--batch 8] [--max-length 64] [--repeats 3]

Each kind runs `python -m studio.training.worker` directly (training.run_worker) for one epoch of
steps x batch rows, logging every step, `repeats` times (the kinds alternate); the medians are
printed. Samples/s and s/step are timed from metrics.jsonl between
the first and the last step's log events, so the first step (warm-up) is left out; the Trainer's
own train_samples_per_second (warm-up included) is kept beside them. Writes
bench/results/training-kinds.json.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training import ROOT, run_worker, step_records

EVAL_SHARE = 0.15  # an uploaded file is split 85/15 (studio/training/data.py): upload enough rows


@dataclass(frozen=True)
class Kind:
    """One kind of training: its task, its tiny fixture model and how its data is made."""

    name: str
    task: str
    fixture: str
    data: Callable[[Path, int], dict[str, Any]]  # (folder, train rows wanted) -> build_config data arguments
    settings: dict[str, Any]


def uploaded_rows(train_rows: int) -> int:
    """Rows to upload so that at least train_rows remain after the eval split."""
    return math.ceil(train_rows / (1 - EVAL_SHARE)) + 2


def copy_data(folder: Path, rows: int) -> dict[str, Any]:
    """Seq2seq: eight-word sentences whose target is the sentence itself."""
    from tests.fixtures.zoo.common import WORDS
    from tests.unit.test_training_kinds import write_jsonl

    rng = random.Random(0)
    sentences = [" ".join(rng.choices(WORDS, k=8)) for _ in range(uploaded_rows(rows))]
    return {"dataset": write_jsonl(folder / "copy.jsonl", [{"source": s, "target": s} for s in sentences])}


def squad_data(folder: Path, rows: int) -> dict[str, Any]:
    """Extractive QA: SQuAD-form rows, each context short enough for one window (one row, one sample)."""
    from tests.unit.test_training_kinds import COLOURS, CUE, QUESTION, qa_context, write_jsonl

    rng = random.Random(0)
    table = []
    for _ in range(uploaded_rows(rows)):
        colour = rng.choice(COLOURS)
        context = qa_context(rng, 20, colour)
        start = context.index(f"{CUE} {colour}") + len(CUE) + 1
        table.append({"question": QUESTION, "context": context, "answers": {"text": [colour], "answer_start": [start]}})
    return {"dataset": write_jsonl(folder / "squad.jsonl", table)}


def colour_data(folder: Path, rows: int) -> dict[str, Any]:
    """Image classification: a zip of red/ and blue/ folders of noisy squares."""
    from tests.unit.test_training_kinds import colour_zip

    return {"dataset": str(colour_zip(folder / "colours.zip", per_class=math.ceil(uploaded_rows(rows) / 2)))}


def sample(name: str) -> Callable[[Path, int], dict[str, Any]]:
    """A bundled sample (its train file is used whole; max_train_samples cuts it)."""
    return lambda folder, rows: {"sample": name}


KINDS: tuple[Kind, ...] = (
    Kind(
        "causal-lm-lora",
        "text-generation",
        "causal-lm",
        sample("instructions"),
        {"use_lora": True, "merge_adapter": False, "learning_rate": 2e-4},
    ),
    Kind("seq2seq", "summarization", "summarizer-bart", copy_data, {}),
    Kind("extractive-qa", "question-answering", "qa-bert", squad_data, {}),
    Kind("image-classification", "image-classification", "vit", colour_data, {}),
    Kind("text-classification", "text-classification", "text-classifier", sample("sentiment"), {}),
)


def throughput(run_dir: Path, batch: int) -> dict[str, Any]:
    """Samples/s and s/step over steps 2..N (from the step log events), and the Trainer's own figure."""
    result = json.loads((run_dir / "result.json").read_text())
    records = step_records(run_dir)
    first, last = records[0], records[-1]
    timed_steps = last["step"] - first["step"]
    seconds = last["time"] - first["time"]
    timed_samples = result["rows"]["train"] - batch * first["step"]  # one epoch: every step full but the last
    return {
        "steps": last["step"],
        "train_rows": result["rows"]["train"],
        "samples_per_second": round(timed_samples / seconds, 2) if timed_steps else None,
        "seconds_per_step": round(seconds / timed_steps, 4) if timed_steps else None,
        "trainer_samples_per_second": result["train_metrics"]["train_samples_per_second"],
        "first_loss": records[0]["loss"],
        "last_loss": records[-1]["loss"],
    }


def measure_kinds(steps: int, batch: int, max_length: int, repeats: int) -> None:
    """Build the fixtures, run each kind `repeats` times through the worker (kinds alternate, so a
    change of load on the machine hits them alike), print one line each (medians) and write the JSON."""
    from studio.config import parse_config
    from studio.training.jobs import JobManager
    from tests.fixtures.factory import build_fixtures, fixtures_config

    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-training-kinds-"))
    folders = build_fixtures(work / "models", [kind.fixture for kind in KINDS])
    jobs = JobManager(work / "runs", parse_config(fixtures_config(folders)), supervise=False)
    rows = steps * batch
    configs = {
        kind.name: jobs.build_config(
            task=kind.task,
            model=str(folders[kind.fixture]),
            **kind.data(work, rows),
            max_train_samples=rows,
            per_device_train_batch_size=batch,
            num_train_epochs=1,
            max_length=max_length,
            warmup_ratio=0.0,
            logging_steps=1,
            eval_each_epoch=False,
            save_each_epoch=False,
            **kind.settings,
        ).as_json()
        for kind in KINDS
    }
    runs: dict[str, list[dict[str, Any]]] = {kind.name: [] for kind in KINDS}
    for repeat in range(repeats):
        for kind in KINDS:
            run_dir = work / "runs" / f"{kind.name}-{repeat}"
            worker_seconds = run_worker(configs[kind.name], run_dir)
            runs[kind.name].append({**throughput(run_dir, batch), "worker_seconds": round(worker_seconds, 1)})
    kinds = {kind.name: summary(kind.fixture, runs[kind.name]) for kind in KINDS}
    for name, figures in kinds.items():
        print(
            f"{name:22} {figures['samples_per_second']:>8} samples/s {figures['seconds_per_step']:>8} s/step"
            f"  (median of {repeats}: {figures['runs_samples_per_second']} samples/s; {figures['steps']} steps)"
        )
    results = {
        "batch": batch,
        "max_length": max_length,
        "steps_wanted": steps,
        "repeats": repeats,
        "kinds": kinds,
        "wall_seconds": round(time.perf_counter() - began, 1),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    out = ROOT / "bench" / "results" / "training-kinds.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wall time {results['wall_seconds']} s; written {out.relative_to(ROOT)}")


def summary(fixture: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A kind's medians over its runs, with every run's figures kept."""
    return {
        "model": fixture,
        "steps": runs[0]["steps"],
        "train_rows": runs[0]["train_rows"],
        "samples_per_second": round(statistics.median(r["samples_per_second"] for r in runs), 2),
        "seconds_per_step": round(statistics.median(r["seconds_per_step"] for r in runs), 4),
        "trainer_samples_per_second": round(statistics.median(r["trainer_samples_per_second"] for r in runs), 2),
        "runs_samples_per_second": [r["samples_per_second"] for r in runs],
        "runs": runs,
    }
