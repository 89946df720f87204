"""Seconds from `python app.py` to HTTP 200, against a bare Gradio Blocks app, in one run.

Run: python bench/startup.py [--repeat 3]. Prints both medians and the ratio (target <= 2x),
and writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
import gradio as gr, sys
with gr.Blocks() as demo:
    gr.Textbox(label="Text")
    gr.Button("Run")
demo.launch(server_port=int(sys.argv[1]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seconds_to_200(command: list[str], port: int) -> float:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(" ".join(command))
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bare, studio = [], []
    for _ in range(args.repeat):
        port = free_port()
        bare.append(seconds_to_200([sys.executable, "-c", BARE_APP, str(port)], port))
        port = free_port()
        studio.append(seconds_to_200([sys.executable, "app.py", "--port", str(port)], port))
    result = {
        "bare_gradio_s": round(statistics.median(bare), 2),
        "studio_s": round(statistics.median(studio), 2),
        "ratio": round(statistics.median(studio) / statistics.median(bare), 2),
        "runs": args.repeat,
    }
    print(f"bare Gradio Blocks app: {result['bare_gradio_s']:.2f} s to HTTP 200 (median of {args.repeat})")
    print(f"Transformers Studio:    {result['studio_s']:.2f} s to HTTP 200 (median of {args.repeat})")
    print(f"ratio: {result['ratio']:.2f}x (target: at most 2x)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
