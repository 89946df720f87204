"""Benchmark: tokens/s streamed through the running app's API vs raw model.generate.

    python bench/generation.py                      # packaged Gemma 3 270M, greedy, 64 tokens
    python bench/generation.py --max-new-tokens 128 --runs 5
    python bench/generation.py --page               # also the page, in Chromium (playwright)
    python bench/generation.py --page --isolate     # the model on core 0, the clients on core 1

Starts `python app.py` (models.yaml), streams /text_generation with gradio_client
`submit`, and times raw `model.generate` on the same model (the same converted folder),
prompt and settings in this process, one after the other (never at once: 2 cores). Prints
both rates, their ratio (target >= 0.95) and the time-to-first-token overhead, and writes
bench/results/generation.json. With --page, each run also generates from the page (Chromium
clicking Generate) and reads the live figures the page shows: page tokens/s ÷ API tokens/s (target
>= 0.95; the page shares the 2 cores with the browser that draws it), and Chromium's CPU use.

--isolate separates the model from its clients, as a browser on another machine would be: the
app and raw generate() run on core 0 with one thread, gradio_client and Chromium on core 1.
Page ÷ API then measures what the page's way through the app costs the model, without the
browser's own drawing (~40 ms of CPU per update) taking the model's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def through_api(client, model: str, prompt: str, max_new_tokens: int) -> dict:
    """Stream one request; time to the first partial text and to the end (client side)."""
    started = time.perf_counter()
    job = client.submit(
        model=model, prompt=prompt, strategy="greedy", max_new_tokens=max_new_tokens, api_name="/text_generation"
    )
    first = None
    for output in job:
        if first is None and output[-1]:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    text = job.outputs()[-1][-1][0]["generated_text"]
    match = LIVE_FIGURES.search(job.outputs()[-1][1])
    rate = float(match.group(2)) if match else 0.0
    return {"first": first, "total": total, "text": text, "partials": len(job.outputs()), "rate": rate}


LIVE_FIGURES = re.compile(r"(\d+) tokens\*?\*? · ([\d.]+) tokens/s")


def open_page(browser, url: str, prompt: str, max_new_tokens: int):
    """Text generation in Chromium, set to greedy with the bench's prompt and length."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(300_000)
    page.goto(url)
    page.get_by_role("tab", name="Generate", exact=True).click()
    page.get_by_role("tab", name="Text generation", exact=True).click()
    page.get_by_label("Prompt").fill(prompt)
    box = page.get_by_label("number input for Max new tokens")
    box.fill(str(max_new_tokens))
    box.press("Enter")
    return page


def chromium_seconds() -> float:
    """CPU seconds used so far by every Chromium process (the browser and its renderers)."""
    import psutil

    total = 0.0
    for process in psutil.process_iter(["name"]):
        if "chrom" in (process.info["name"] or ""):
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
    return total


def through_page(page) -> dict:
    """One Generate click: the wall time until the figures say done, and the figures' own rate."""
    figures = page.locator(".live-figures").locator("visible=true").first
    cpu, started = chromium_seconds(), time.perf_counter()
    page.get_by_role("button", name="Generate").locator("visible=true").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.live-figures')].some(e => e.offsetParent && / done/.test(e.innerText))"
    )
    total = time.perf_counter() - started
    match = LIVE_FIGURES.search(figures.inner_text())
    tokens, rate = (int(match.group(1)), float(match.group(2))) if match else (0, 0.0)
    return {"total": total, "tokens": tokens, "rate": rate, "chromium_cores": (chromium_seconds() - cpu) / total}


MODEL_CORE, CLIENT_CORE = {0}, {1}  # --isolate


def raw_generate(model, tokenizer, prompt: str, max_new_tokens: int, isolate: bool = False) -> dict:
    """model.generate with the same arguments; a bare streamer only records the first token's time.
    With `isolate`, on the app's core and thread count (this thread only, for the call)."""
    import torch

    if isolate:
        os.sched_setaffinity(0, MODEL_CORE)
        try:
            return raw_generate(model, tokenizer, prompt, max_new_tokens)
        finally:
            os.sched_setaffinity(0, CLIENT_CORE)
    from transformers.generation.streamers import BaseStreamer

    class FirstToken(BaseStreamer):
        def __init__(self) -> None:
            self.calls, self.at = 0, None

        def put(self, value) -> None:
            self.calls += 1
            if self.calls == 2 and self.at is None:  # the first put is the prompt
                self.at = time.perf_counter()

        def end(self) -> None:
            pass

    started = time.perf_counter()
    batch = tokenizer(prompt, return_tensors="pt")
    streamer = FirstToken()
    torch.manual_seed(0)
    with torch.inference_mode():
        output = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            streamer=streamer,
        )
    total = time.perf_counter() - started
    new = output[0][batch["input_ids"].shape[-1] :]
    return {
        "first": streamer.at - started,
        "total": total,
        "tokens": len(new),
        "text": tokenizer.decode(new, skip_special_tokens=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma-3-270m", help="a text-generation id of models.yaml")
    parser.add_argument("--models", type=Path, help="another models.yaml (default: the app's)")
    parser.add_argument("--prompt", default="The history of Japan begins")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", action="store_true", help="also generate from the page, in Chromium")
    parser.add_argument("--isolate", action="store_true", help="the model on core 0 (one thread), clients on core 1")
    args = parser.parse_args()
    app_env = dict(os.environ)
    if args.isolate:
        if len(os.sched_getaffinity(0)) < 2:
            raise SystemExit("--isolate needs two cores")
        import torch

        torch.set_num_threads(1)
        app_env["OMP_NUM_THREADS"] = "1"
        os.sched_setaffinity(0, CLIENT_CORE)  # inherited by playwright's driver and Chromium

    from gradio_client import Client
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from studio.config import load_config
    from studio.models.loading import resolve_source

    entry = next(e for e in load_config(args.models).entries("text-generation") if e.id == args.model)
    source = resolve_source(entry)  # converts the packaged GGUF once, if needed

    port = free_port()
    command = [sys.executable, "app.py", "--port", str(port)]
    if args.models:
        command += ["--models", str(args.models)]
    pin = (lambda: os.sched_setaffinity(0, MODEL_CORE)) if args.isolate else None
    app = subprocess.Popen(
        command, cwd=ROOT, env=app_env, preexec_fn=pin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, app)
        client = Client(url, verbose=False)
        through_api(client, args.model, args.prompt, 4)  # warm up: the app loads the model

        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source).eval()
        raw_generate(model, tokenizer, args.prompt, 4, args.isolate)  # warm up

        api_runs, raw_runs, page_runs = [], [], []
        page = browser = playwright = None
        if args.page:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
            )
            page = open_page(browser, url, args.prompt, args.max_new_tokens)
        for _ in range(args.runs):  # alternate, so a busy moment hits both alike
            api_runs.append(through_api(client, args.model, args.prompt, args.max_new_tokens))
            raw_runs.append(raw_generate(model, tokenizer, args.prompt, args.max_new_tokens, args.isolate))
            if page is not None:
                page_runs.append(through_page(page))
        if browser is not None:
            browser.close()
            playwright.stop()
    finally:
        app.terminate()
        app.wait(timeout=30)

    tokens = raw_runs[0]["tokens"]
    same_text = all(run["text"] == raw_runs[0]["text"] for run in api_runs)
    api_rate = statistics.median(tokens / run["total"] for run in api_runs)
    raw_rate = statistics.median(tokens / run["total"] for run in raw_runs)
    api_first = statistics.median(run["first"] for run in api_runs)
    raw_first = statistics.median(run["first"] for run in raw_runs)
    result = {
        "model": args.model,
        "isolate": args.isolate,
        "prompt": args.prompt,
        "max_new_tokens": args.max_new_tokens,
        "tokens": tokens,
        "runs": args.runs,
        "same_text": same_text,
        "api_tokens_per_second": round(api_rate, 2),
        "raw_tokens_per_second": round(raw_rate, 2),
        "ratio": round(api_rate / raw_rate, 3),
        "api_time_to_first_token": round(api_first, 3),
        "raw_time_to_first_token": round(raw_first, 3),
        "ttft_overhead_seconds": round(api_first - raw_first, 3),
        "api_partial_outputs": api_runs[-1]["partials"],
    }
    where = "; model on core 0 (1 thread), clients on core 1" if args.isolate else ""
    print(f"model {args.model}: {tokens} tokens, greedy, median of {args.runs} runs{where}")
    print(f"  raw model.generate : {raw_rate:7.2f} tokens/s, first token after {raw_first:.3f} s")
    print(f"  app API (streamed) : {api_rate:7.2f} tokens/s, first token after {api_first:.3f} s")
    print(
        f"  ratio {result['ratio']:.3f} (target >= 0.95); "
        f"time-to-first-token overhead {result['ttft_overhead_seconds']:+.3f} s"
    )
    print(f"  same text both ways: {same_text}")
    if page_runs:
        api_figure = statistics.median(run["rate"] for run in api_runs)
        page_figure = statistics.median(run["rate"] for run in page_runs)
        page_wall = statistics.median(run["tokens"] / run["total"] for run in page_runs)
        cores = statistics.median(run["chromium_cores"] for run in page_runs)
        result.update(
            page_tokens_per_second=round(page_figure, 2),
            api_figures_tokens_per_second=round(api_figure, 2),
            page_ratio=round(page_figure / api_figure, 3),
            page_wall_tokens_per_second=round(page_wall, 2),
            chromium_cores_while_streaming=round(cores, 2),
        )
        print(f"  page (live figures): {page_figure:7.2f} tokens/s vs API figures {api_figure:.2f}")
        print(f"  each run: page {[run['rate'] for run in page_runs]}, API {[run['rate'] for run in api_runs]}")
        print(f"  page ÷ API {result['page_ratio']:.3f} (target >= 0.95); Chromium: {cores:.2f} cores while streaming")
    out = ROOT / "bench" / "results" / ("generation-isolated.json" if args.isolate else "generation.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
