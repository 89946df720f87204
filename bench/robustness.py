"""The bad-input corpus (tests/api/test_bad_inputs.py) against a freshly started app, with its memory.

Run: python bench/robustness.py [--passes 1]. Builds the tiny fixture models, starts
`python app.py --models <their models.yaml> --port N`, runs the corpus once to warm up (every
model loaded, every code path taken), measures the app's RSS (psutil, children included),
runs the corpus again `--passes` times, measures RSS again, and prints the counts:
sentences, answered (a usable odd value), bare errors, tracebacks (a class name in the
message) and server deaths. Goal: 0 bare errors, 0 tracebacks, 0 deaths, RSS growth <= 10 %
after the warm-up. Writes bench/results/robustness.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.api.test_bad_inputs import flaw, outcome_class, run_corpus  # noqa: E402
from tests.app_process import running_app  # noqa: E402
from tests.fixtures.factory import build_fixtures, write_models_yaml  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident memory of the app and its child processes, in MB."""
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total / 2**20


def one_pass(url: str, tiny: SimpleNamespace, folder: Path, process: subprocess.Popen) -> dict:
    counts: Counter[str] = Counter()
    flaws: list[str] = []
    started = time.perf_counter()
    for case, outcome in run_corpus(url, tiny, folder):
        if process.poll() is not None:
            counts["server_deaths"] += 1
            break
        counts[outcome_class(outcome)] += 1
        why = flaw(case, outcome)
        if why:
            flaws.append(f"{case.name}: {why}")
    counts["cases"] = sum(counts[key] for key in ("sentence", "answered", "bare", "traceback"))
    if process.poll() is not None and not counts["server_deaths"]:
        counts["server_deaths"] = 1
    return {**counts, "seconds": round(time.perf_counter() - started, 1), "flaws": flaws}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=1, help="measured passes after the warm-up")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="robustness-"))
    folders = build_fixtures(work / "tiny")
    models_yaml = write_models_yaml(folders, work / "tiny" / "models.yaml")
    tiny = SimpleNamespace(**{name.replace("-", "_"): str(path) for name, path in folders.items()})
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    arguments = ["--models", str(models_yaml), "--runs-dir", str(work / "runs")]
    with running_app(arguments, work / "app.log", env) as (process, url):
        warm = one_pass(url, tiny, work / "files", process)
        before = rss_mb(process.pid)
        measured = [one_pass(url, tiny, work / "files", process) for _ in range(args.passes)]
        after = rss_mb(process.pid) if process.poll() is None else float("nan")
    last = measured[-1]
    result = {
        "cases": last["cases"],
        "sentences": last.get("sentence", 0),
        "answered": last.get("answered", 0),
        "bare_errors": sum(run.get("bare", 0) for run in [warm, *measured]),
        "tracebacks": sum(run.get("traceback", 0) for run in [warm, *measured]),
        "server_deaths": sum(run.get("server_deaths", 0) for run in [warm, *measured]),
        "flaws": sorted({flaw for run in [warm, *measured] for flaw in run["flaws"]}),
        "warmup_seconds": warm["seconds"],
        "pass_seconds": [run["seconds"] for run in measured],
        "rss_after_warmup_mb": round(before, 1),
        "rss_after_passes_mb": round(after, 1),
        "rss_growth_percent": round((after - before) / before * 100, 1),
        "passes": args.passes,
    }
    print(
        f"cases per pass: {result['cases']} (warm-up pass: {warm['seconds']} s; measured: {result['pass_seconds']} s)"
    )
    print(
        f"sentences: {result['sentences']}  answered: {result['answered']}  bare errors: {result['bare_errors']}  "
        f"tracebacks: {result['tracebacks']}  server deaths: {result['server_deaths']}"
    )
    print(
        f"RSS after warm-up: {before:.0f} MB; after {args.passes} more pass(es): {after:.0f} MB "
        f"({result['rss_growth_percent']:+.1f} %, goal <= +10 %)"
    )
    for line in result["flaws"]:
        print("flaw:", line)
    print(f"app log: {work / 'app.log'}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
