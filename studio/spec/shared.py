"""The parameter spec: every input of every task declared once.

A `Param` (studio/spec/param.py) holds a name (the API's, as transformers spells it), a kind, a
default, bounds or choices, a label, one line of help and a widget hint. From one
declaration come validation (`Param.check`, the only place values are parsed), an
adapter's signature and defaults (`@takes`), the widgets (components/widgets.py, bound by
name), Show code's arguments and docs/API.md (components/apidocs.py). This module holds the
inputs several tasks share; a task's own inputs sit beside its adapter.
See docs/ARCHITECTURE.md, "Parameters".
"""

from __future__ import annotations

from studio.spec.param import Param

__all__ = [
    "AUDIO",
    "GENERATION",
    "IMAGE",
    "MODEL_SETTINGS",
    "TEXT",
    "TOP_K_LABELS",
]

# ------------------------------------------------------------------ inputs shared by tasks
TEXT = Param(
    "text",
    "text",
    help="The text to work on.",
    label="Text",
    lines=4,
    empty="Type some text first: the input is empty.",
)
TOP_K_LABELS = Param("top_k", "int", 5, "How many labels to show.", label="Labels shown", low=1, high=100, step=1)
IMAGE = Param(
    "image", "image", help="A picture: an upload, a URL, or a path the app may read.", empty="Upload an image first."
)
AUDIO = Param("audio", "audio", help="A recording: an upload or a URL.", empty="Upload or record some audio first.")

# Generation: one group for text generation, compare, chat and image chat.
STRATEGIES = ("greedy", "beam", "sample")
MAX_NEW_TOKENS = 4096
MAX_SEED = 2**32 - 1
GENERATION: tuple[Param, ...] = (
    Param(
        "strategy",
        "choice",
        "greedy",
        "How the next token is chosen.",
        choices=STRATEGIES,
        label="Decoding",
        choice_labels=("Greedy", "Beam search", "Sampling"),
        widget="radio",
    ),
    Param(
        "max_new_tokens",
        "int",
        64,
        "The most tokens to generate.",
        label="Max new tokens",
        low=1,
        high=MAX_NEW_TOKENS,
        step=1,
    ),
    Param("num_beams", "int", 4, "Beams kept at each step (beam search).", label="Beams", low=1, high=16, step=1),
    Param(
        "temperature",
        "float",
        0.7,
        "Higher: more random (sampling).",
        label="Temperature",
        low=0.0,
        high=5.0,
        step=0.05,
    ),
    Param("top_k", "int", 50, "Sample from the k likeliest tokens; 0: off.", label="Top-k", low=0, high=200, step=1),
    Param(
        "top_p",
        "float",
        0.95,
        "Sample from the smallest set of tokens with this much probability; 1: off.",
        label="Top-p",
        low=0.0,
        high=1.0,
        low_open=True,
        step=0.01,
    ),
    Param(
        "min_p",
        "float",
        0.0,
        "Drop tokens below this fraction of the top one; 0: off.",
        label="Min-p",
        low=0.0,
        high=0.99,
        step=0.01,
    ),
    Param(
        "repetition_penalty",
        "float",
        1.0,
        "Above 1 discourages repeating tokens; 1: off.",
        label="Repetition penalty",
        low=0.0,
        high=10.0,
        low_open=True,
        step=0.05,
    ),
    Param(
        "no_repeat_ngram_size",
        "int",
        0,
        "Never repeat an n-gram of this size; 0: off.",
        label="No repeat n-gram",
        low=0,
        high=20,
        step=1,
    ),
    Param("seed", "int", 0, "Same seed, same sampled text.", label="Seed", low=0, high=MAX_SEED, widget="number"),
    Param(
        "early_stopping",
        "bool",
        False,
        "Stop when num_beams candidates are finished (beam search).",
        label="Early stopping",
    ),
    Param(
        "length_penalty",
        "float",
        1.0,
        "Above 0 favours longer beams (beam search).",
        label="Length penalty",
        low=-10.0,
        high=10.0,
        step=0.1,
    ),
    Param(
        "num_return_sequences",
        "int",
        1,
        "How many texts to return (beam search, sampling).",
        label="Texts returned",
        low=1,
        high=16,
        step=1,
    ),
    Param(
        "stop",
        "text",
        "",
        "Stop when one of these texts appears; one per line.",
        label="Stop strings",
        lines=2,
        placeholder="One text per line, e.g. ###",
    ),
)

# The model-settings row of every task (how the model is loaded, not what it is asked).
DTYPES = ("auto", "float32", "float16", "bfloat16")
QUANTIZATIONS = ("none", "8bit", "4bit")
DEVICES = ("auto", "cpu", "cuda", "mps")
MODEL_SETTINGS: tuple[Param, ...] = (
    Param("dtype", "choice", "auto", "auto: as the model was saved.", label="Data type", choices=DTYPES),
    Param(
        "quantization",
        "choice",
        "none",
        "bitsandbytes 8-bit or 4-bit weights.",
        label="Quantization",
        choices=QUANTIZATIONS,
    ),
    Param("device", "choice", "auto", "auto: a GPU when there is one.", label="Device", choices=DEVICES),
)
