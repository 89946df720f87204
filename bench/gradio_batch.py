"""Benchmark: how Gradio's own `batch=True` forms batches, against studio's Batcher, under the
same arrivals (why the app batches in studio/serving/batching.py instead).

    python bench/gradio_batch.py                # 16 clients, 5 rounds
    python bench/gradio_batch.py --no-arrivals  # the Batcher always waits its whole window

Two endpoints on one Gradio app run the same 20 ms "forward" that records each batch's size:
one with Gradio's batch=True (max_batch_size 16), one through a studio Batcher (5 ms window,
arrivals counted as Studio.stream counts them; concurrency limit 16). 16 REST clients start
together, as in bench/serving.py. Prints the batch sizes of each round.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gradio as gr  # noqa: E402
import httpx  # noqa: E402

from bench.rest import Api  # noqa: E402
from studio.serving.batching import Arrivals, Batcher  # noqa: E402
from tests.app_process import free_port  # noqa: E402

CLIENTS, ROUNDS, FORWARD = 16, 5, 0.02


def main() -> None:
    sizes: list[int] = []

    def forward(texts: list[str]) -> list[str]:
        sizes.append(len(texts))
        time.sleep(FORWARD)
        return texts

    arrivals = Arrivals()
    # --no-arrivals: the leader always waits the whole window (what a lone request would pay too)
    batcher = Batcher(forward, 0.005, CLIENTS, arrivals=None if "--no-arrivals" in sys.argv else arrivals)

    def one(text: str) -> str:
        with arrivals.on_the_way():  # as Studio.stream does around an adapter
            return batcher.run([text])[0]

    with gr.Blocks() as demo:
        box = gr.Textbox()
        batched = gr.Button().click
        batched(lambda texts: [forward(texts)], box, box, batch=True, max_batch_size=CLIENTS, api_name="gradio")
        gr.Button().click(one, box, box, concurrency_limit=CLIENTS, api_name="studio")
    demo.queue().launch(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    api = Api(demo.local_url)

    for name, what in (("gradio", "Gradio batch=True"), ("studio", "studio Batcher, 5 ms window")):
        print(f"{what}, {CLIENTS} REST clients starting together:")
        for _ in range(ROUNDS):
            sizes.clear()
            barrier = threading.Barrier(CLIENTS)

            def client(_: int, name: str = name, barrier: threading.Barrier = barrier) -> None:
                with httpx.Client(timeout=60) as http:
                    barrier.wait()
                    api.timed(http, name, {"text": "hello"})

            threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(f"  batch sizes {sizes}")
    demo.close()


if __name__ == "__main__":
    main()
