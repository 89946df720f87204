"""A no-op Gradio app with the app's /feature_extraction inputs and outputs: Gradio's own floor.

    python -m bench.noop_app --port 7861 [--concurrency 16]

The endpoint `/feature_extraction` takes the same components (model dropdown, two textboxes,
the settings dropdowns) and returns a constant of the same shape (a table, a bar plot, the
raw JSON), under the same queue settings, so bench/serving.py can subtract what Gradio itself
costs per request from what the app costs.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import pandas as pd

RESULT = [{"sentence": "A man is eating a piece of bread.", "score": 0.75}]


def feature_extraction(model: str, source: str, sentences: str, dtype: str, quantization: str, device: str):
    table = pd.DataFrame(RESULT)
    return table, table, RESULT


def build(concurrency: int | None) -> gr.Blocks:
    with gr.Blocks() as demo:
        inputs = [
            gr.Dropdown(["all-MiniLM-L6-v2"], value="all-MiniLM-L6-v2", label="Model", allow_custom_value=True),
            gr.Textbox(label="Source sentence"),
            gr.Textbox(label="Sentences to compare", lines=6),
            gr.Dropdown(["auto", "float32", "bfloat16", "float16"], value="auto", label="dtype"),
            gr.Dropdown(["none", "8bit", "4bit"], value="none", label="quantization"),
            gr.Dropdown(["auto", "cpu", "cuda", "mps"], value="auto", label="device"),
        ]
        outputs = [
            gr.Dataframe(headers=["sentence", "score"], interactive=False),
            gr.BarPlot(x="sentence", y="score", sort="-y", y_lim=[-1, 1]),
            gr.JSON(),
        ]
        gr.Button("Compare").click(
            feature_extraction, inputs, outputs, api_name="feature_extraction", concurrency_limit=concurrency
        )
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1, help="the endpoint's concurrency limit (0: none)")
    args = parser.parse_args()
    demo = build(args.concurrency or None)
    demo.queue(max_size=64).launch(server_port=args.port, server_name="127.0.0.1")


if __name__ == "__main__":
    main()
