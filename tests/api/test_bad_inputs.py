"""Every bad input is answered with a sentence: a corpus of bad values for every endpoint.

The cases go to the REST API as raw JSON (`/gradio_api/call/<api>`), so NaN, infinity and
lone surrogates reach the server (gradio_client refuses them before sending). Each bad case
must be answered with one sentence that names the field at fault: never a bare "Error",
never "unexpected error", never a Python class name or a traceback, never a huge input
echoed whole. After the corpus the server still answers a valid request.

bench/robustness.py runs the same corpus against a fresh app and measures its memory.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import pytest

CAT = Path(__file__).resolve().parents[2] / "examples" / "images" / "cat.jpg"
NAN, INF = float("nan"), float("inf")
SURROGATE = "caf\ud800é"
# Python class names (exception names, "<class 'str'>") and tracebacks.
CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|<class '|Traceback|File \"")
MAX_MESSAGE = 600  # a sentence, not an echo of a 10,000-character input


@dataclass
class Case:
    """One request: the endpoint, the values that differ from a valid call, and the verdict wanted.

    expect "sentence": refused with a sentence naming `field`; "any": answered, or refused
    with a sentence (a value that is odd but usable, such as a lone surrogate, is cleaned).
    `data`, when given, is sent as is (too few values).
    """

    api: str
    values: dict[str, Any] = field(default_factory=dict)
    field: str = ""
    expect: str = "sentence"
    data: list[Any] | None = None
    note: str = ""

    @property
    def name(self) -> str:
        shown = self.note or json.dumps(self.values, default=str)[:60]
        return f"{self.api} {shown}"


# ----------------------------------------------------------------------------- the REST calls
def call(base_url: str, api: str, data: list[Any], timeout: float = 120) -> tuple[str, Any]:
    """("complete", outputs) or ("error", message) or ("http", status) for one raw REST call."""
    url = f"{base_url.rstrip('/')}/gradio_api/call/{api}"
    body = json.dumps({"data": data})  # NaN and Infinity as JSON literals, surrogates escaped
    response = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=timeout)
    if response.status_code != 200:
        return "http", response.status_code
    event_id = response.json()["event_id"]
    event, payload = None, None
    with httpx.stream("GET", f"{url}/{event_id}", timeout=timeout) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line[5:].strip()) if line[5:].strip() not in ("", "null") else None
                break
    if event == "error":
        return "error", (payload or {}).get("error") if isinstance(payload, dict) else payload
    return str(event), payload


def parameter_names(base_url: str) -> dict[str, list[str]]:
    """Each endpoint's parameter names, in order, as the running app declares them."""
    info = httpx.get(f"{base_url.rstrip('/')}/gradio_api/info", timeout=30).json()
    return {
        api.strip("/"): [p["parameter_name"] for p in spec["parameters"]]
        for api, spec in info["named_endpoints"].items()
    }


def flaw(case: Case, outcome: tuple[str, Any]) -> str | None:
    """Why this answer is not good enough, or None."""
    kind, value = outcome
    if kind == "http":
        return f"HTTP {value}"
    if kind == "complete":
        return None if case.expect == "any" else "accepted a bad value"
    if kind != "error":
        return f"ended with {kind!r}"
    message = str(value or "").strip()
    if not message or message.lower() in {"error", "none"}:
        return "a bare Error"
    if "unexpected error" in message:
        return f"a bug, not a sentence: {message}"
    if CLASS_NAME.search(message):
        return f"a Python class name or traceback: {message[:200]}"
    if len(message) > MAX_MESSAGE:
        return f"{len(message)} characters: the input echoed"
    if case.field and case.expect == "sentence" and case.field.lower() not in message.lower():
        return f"does not name {case.field}: {message}"
    return None


def outcome_class(outcome: tuple[str, Any]) -> str:
    """sentence / answered / bare (a bare or generic error) / traceback, for the bench's counts."""
    kind, value = outcome
    if kind == "complete":
        return "answered"
    message = str(value or "")
    if kind != "error" or not message.strip() or message.strip() == "Error" or "unexpected error" in message:
        return "bare"
    return "traceback" if CLASS_NAME.search(message) else "sentence"


# ----------------------------------------------------------------------------- files
def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width×height pixels and holds almost nothing (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def make_files(folder: Path) -> dict[str, Path]:
    """The odd files the corpus uploads."""
    import soundfile
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in ("cat.png", "thin.png", "huge.png", "bomb.png", "dot.png", "text.png")}
    Image.open(CAT).convert("RGB").resize((64, 48)).save(files["cat.png"])
    Image.new("RGB", (16_000, 8), "red").save(files["thin.png"])
    Image.new("RGB", (65_000, 8), "red").save(files["huge.png"])
    files["bomb.png"].write_bytes(_png_header_only(100_000, 100_000))
    Image.new("RGB", (1, 1), "red").save(files["dot.png"])
    files["text.png"].write_text("this is not an image\n")
    files["empty.png"] = folder / "empty.png"
    files["empty.png"].write_bytes(b"")
    files["cut.png"] = folder / "cut.png"
    files["cut.png"].write_bytes(files["cat.png"].read_bytes()[:200])
    rate = 16_000
    files["tone.wav"] = folder / "tone.wav"
    soundfile.write(files["tone.wav"], (0.3 * np.sin(np.arange(rate) / 5)).astype(np.float32), rate)
    files["one.wav"] = folder / "one.wav"
    soundfile.write(files["one.wav"], np.zeros(1, np.float32), rate)
    files["text.wav"] = folder / "text.wav"
    files["text.wav"].write_text("RIFF but not really a wave file\n")
    files["data.csv"] = folder / "data.csv"
    files["data.csv"].write_text("text,label\n" + "\n".join(f"row {i},{'ab'[i % 2]}" for i in range(20)) + "\n")
    return files


def uploaded(base_url: str, path: Path) -> dict[str, Any]:
    """A file uploaded to the app, as the REST API takes it."""
    with open(path, "rb") as handle:
        response = httpx.post(
            f"{base_url.rstrip('/')}/gradio_api/upload", files={"files": (path.name, handle)}, timeout=60
        )
    response.raise_for_status()
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": path.name}


# ----------------------------------------------------------------------------- the corpus
# A valid call of each task endpoint (by parameter name), on a tiny fixture model.
def valid_calls(tiny: Any, file: Callable[[str], dict]) -> dict[str, dict[str, Any]]:
    image, audio = file("cat.png"), file("tone.wav")
    return {
        "text_classification": {"model": tiny.text_classifier, "text": "I love it", "top_k": 2},
        "token_classification": {"model": tiny.ner_tagger, "text": "Ada lives in Paris"},
        "question_answering": {"model": tiny.qa_bert, "question": "Where?", "context": "Ada lives in Paris."},
        "summarization": {"model": tiny.summarizer_bart, "text": "A long text about cats. " * 4, "max_new_tokens": 8},
        "translation": {"model": tiny.translator_t5, "text": "Hello", "max_new_tokens": 8},
        "fill_mask": {"model": tiny.fill_mask_bert, "text": "Paris is the [MASK] of France."},
        "zero_shot_classification": {"model": tiny.nli_bert, "text": "a match", "candidate_labels": "sport, art"},
        "feature_extraction": {"model": tiny.sentence_embedder, "source": "a cat", "sentences": "a dog\na car"},
        "text_generation": {"model": tiny.causal_lm, "prompt": "Once", "max_new_tokens": 2},
        "compare_strategies": {"model": tiny.causal_lm, "prompt": "Once", "max_new_tokens": 2},
        "chat": {"model": tiny.chat_lm, "message": "Hi", "max_new_tokens": 2},
        "image_classification": {"model": tiny.vit, "image": image},
        "object_detection": {"model": tiny.detr, "image": image},
        "image_segmentation": {"model": tiny.segformer, "image": image},
        "depth_estimation": {"model": tiny.dpt, "image": image},
        "zero_shot_image_classification": {"model": tiny.clip, "image": image, "candidate_labels": "a cat, a dog"},
        "automatic_speech_recognition": {"model": tiny.whisper, "audio": audio},
        "audio_classification": {"model": tiny.audio_classifier, "audio": audio},
        "text_to_audio": {"model": tiny.vits, "text": "hello"},
        "image_to_text": {"model": tiny.blip, "image": image, "max_new_tokens": 4},
        "visual_question_answering": {"model": tiny.vilt, "image": image, "question": "What is it?"},
        "image_text_to_text": {"model": tiny.llava, "image": image, "text": "What is it?", "max_new_tokens": 2},
    }


# The first number input of each endpoint (wrong types and non-finite values go there).
NUMBER_OF = {
    "text_classification": "top_k",
    "question_answering": "max_answer_len",
    "summarization": "max_new_tokens",
    "translation": "max_new_tokens",
    "fill_mask": "top_k",
    "text_generation": "seed",
    "compare_strategies": "temperature",
    "chat": "top_p",
    "image_classification": "top_k",
    "object_detection": "threshold",
    "image_segmentation": "mask_threshold",
    "audio_classification": "top_k",
    "image_to_text": "max_new_tokens",
    "visual_question_answering": "top_k",
    "image_text_to_text": "max_new_tokens",
}
TEXT_OF = {
    "text_classification": "text",
    "token_classification": "text",
    "question_answering": "question",
    "summarization": "text",
    "translation": "text",
    "fill_mask": "text",
    "zero_shot_classification": "candidate_labels",
    "feature_extraction": "sentences",
    "text_generation": "prompt",
    "compare_strategies": "prompt",
    "chat": "message",
    "zero_shot_image_classification": "candidate_labels",
    "text_to_audio": "text",
    "image_to_text": "prompt",
    "visual_question_answering": "question",
    "image_text_to_text": "text",
}
IMAGE_APIS = [
    "image_classification",
    "object_detection",
    "image_segmentation",
    "depth_estimation",
    "zero_shot_image_classification",
    "image_to_text",
    "visual_question_answering",
    "image_text_to_text",
]
AUDIO_APIS = ["automatic_speech_recognition", "audio_classification"]


BAD_NUMBERS = ("abc", NAN, INF, [1], {"value": 1}, True, "", "1e999")
BAD_SETTINGS = ({"dtype": "float64"}, {"device": 5}, {"quantization": ["none"]}, {"dtype": 3.5})
ODD_TEXTS = (
    ("", "empty"),
    (SURROGATE + "\x00", "with a lone surrogate and NUL"),
    ("🙂" * 3_000, "an emoji flood"),
    ("\u0301" * 3_000, "combining marks only"),
    ("\u202e" + "abc" * 100, "a right-to-left override"),
)
BAD_TEXTS = (["a", "list"], {"an": "object"}, [None])
BAD_IMAGES = (
    ("not a file", ""),
    (5, ""),
    (None, ""),
    ("text.png", "a text file as image"),
    ("empty.png", "an empty file"),
    ("cut.png", "a truncated PNG"),
    ("dot.png", "a 1×1 image"),
    ("bomb.png", "a decompression bomb"),
)


def _number_cases(api: str, turn: int) -> list[Case]:
    number = NUMBER_OF.get(api)
    if not number:
        return []
    picked = [BAD_NUMBERS[(2 * turn + i) % len(BAD_NUMBERS)] for i in range(2)]
    return [Case(api, {number: value}, number, note=f"{number}={value!r}") for value in picked]


def _text_cases(api: str, turn: int) -> list[Case]:
    text = TEXT_OF.get(api)
    if not text:
        return []
    odd, what = ODD_TEXTS[turn % len(ODD_TEXTS)]
    return [
        Case(api, {text: BAD_TEXTS[turn % len(BAD_TEXTS)]}, text),
        Case(api, {text: odd}, expect="any", note=f"{text} {what}"),
    ]


def _image_cases(api: str, turn: int, file: Callable[[str], dict]) -> list[Case]:
    cases = []
    for i in range(4):
        value, note = BAD_IMAGES[(4 * turn + i) % len(BAD_IMAGES)]
        sent = file(value) if note else value
        cases.append(Case(api, {"image": sent}, "image", note=note or f"image={value!r}"))
    return cases


def corpus(file: Callable[[str], dict]) -> list[Case]:
    """The bad inputs, endpoint by endpoint (so each model loads once); the kinds of bad value
    rotate over the endpoints, so that each kind reaches several of them."""
    cases: list[Case] = []
    apis = list(dict.fromkeys([*TEXT_OF, *IMAGE_APIS, *AUDIO_APIS]))
    for turn, api in enumerate(apis):
        cases += [
            Case(api, data=["x"], field="values", note="too few values"),
            Case(api, {"model": "m" * 10_000}, "model", note="a 10,000-character model id"),
            Case(api, BAD_SETTINGS[turn % len(BAD_SETTINGS)], next(iter(BAD_SETTINGS[turn % len(BAD_SETTINGS)]))),
        ]
        if turn % 3 == 0:
            cases.append(Case(api, {"model": [1] if turn % 2 else ""}, "model"))
        cases += _number_cases(api, turn) + _text_cases(api, turn)
        if api in IMAGE_APIS:
            cases += _image_cases(api, IMAGE_APIS.index(api), file)
        if api in AUDIO_APIS:
            cases += [
                Case(api, {"audio": "not a file"}, "audio"),
                Case(api, {"audio": 5}, "audio"),
                Case(api, {"audio": None}, "audio"),
                Case(api, {"audio": file("one.wav")}, "audio", note="a one-sample WAV"),
                Case(api, {"audio": file("text.wav")}, "audio", note="a text file as audio"),
                Case(api, {"audio": file("text.png")}, "audio", note="an image as audio"),
            ]
        cases += SPECIAL.get(api, lambda file: [])(file)
    return [*cases, *admin_cases(file)]


def _huge(size: int) -> str:
    return ("word " * (size // 5 + 1))[:size]


def _server_paths(api: str, name: str) -> list[Case]:
    """Files named by a path on the server instead of an upload: refused, whichever form."""
    return [
        Case(api, {name: {"path": str(CAT)}}, name, note=f"{name}: a server path"),
        Case(api, {name: {"path": str(CAT), "meta": {"_type": "gradio.FileData"}}}, name, note="a server path (meta)"),
        Case(api, {name: {"path": "/etc/hostname"}}, name, note=f"{name}: /etc/hostname"),
    ]


SPECIAL: dict[str, Callable[[Callable[[str], dict]], list[Case]]] = {
    "image_classification": lambda file: _server_paths("image_classification", "image"),
    "audio_classification": lambda file: _server_paths("audio_classification", "audio"),
    "text_classification": lambda file: [
        Case("text_classification", {"top_k": 0}, "top_k"),
        Case("text_classification", {"top_k": 2.5}, "top_k"),
        Case("text_classification", {"top_k": "5"}, expect="any", note="top_k as the text '5'"),
        Case("text_classification", {"text": _huge(200_000)}, expect="any", note="200,000 characters"),
    ],
    "token_classification": lambda file: [
        Case("token_classification", {"aggregation_strategy": "most"}, "aggregation_strategy"),
        Case("token_classification", {"aggregation_strategy": 3}, "aggregation_strategy"),
    ],
    "question_answering": lambda file: [
        Case("question_answering", {"question": _huge(2_000_000)}, "question", note="a 2 MB question"),
        Case("question_answering", {"context": _huge(2_000_000)}, expect="any", note="a 2 MB context"),
        Case("question_answering", {"context": ""}, "context"),
        Case("question_answering", {"handle_impossible_answer": "maybe"}, "handle_impossible_answer"),
        Case("question_answering", {"handle_impossible_answer": [True]}, "handle_impossible_answer"),
    ],
    "summarization": lambda file: [
        Case("summarization", {"max_new_tokens": 512}, expect="any", note="max_new_tokens=512"),
        Case("summarization", {"min_new_tokens": 20, "max_new_tokens": 5}, "min_new_tokens"),
        Case("summarization", {"num_beams": -1}, "num_beams"),
    ],
    "translation": lambda file: [
        Case("translation", {"src_lang": "x" * 10_000}, expect="any", note="a 10,000-character src_lang"),
        Case("translation", {"tgt_lang": ["German"]}, "tgt_lang"),
        Case("translation", {"model": "x", "src_lang": 5}, "model"),
    ],
    "fill_mask": lambda file: [
        Case("fill_mask", {"text": "no mask here"}, "mask"),
        Case("fill_mask", {"text": "[MASK] and [MASK]"}, "mask"),
    ],
    "zero_shot_classification": lambda file: [
        Case("zero_shot_classification", {"candidate_labels": "a" * 1_000_000}, expect="any", note="a 1 MB label"),
        Case("zero_shot_classification", {"hypothesis_template": "x {} " * 200_000}, "hypothesis_template"),
        Case("zero_shot_classification", {"hypothesis_template": "{0} {x}"}, "hypothesis_template"),
        Case("zero_shot_classification", {"hypothesis_template": "It is {} {x}."}, expect="any", note="{x}"),
        Case("zero_shot_classification", {"candidate_labels": ",".join(map(str, range(500)))}, expect="any"),
        Case("zero_shot_classification", {"candidate_labels": " , , "}, "labels"),
        Case("zero_shot_classification", {"multi_label": "sometimes"}, "multi_label"),
    ],
    "feature_extraction": lambda file: [
        Case("feature_extraction", {"sentences": "\n".join(["s"] * 1000)}, expect="any", note="1,000 sentences"),
        Case("feature_extraction", {"source": ""}, "source"),
    ],
    "text_generation": lambda file: [
        Case("text_generation", {"strategy": "telepathy"}, "strategy"),
        Case("text_generation", {"strategy": 1}, "strategy"),
        Case("text_generation", {"early_stopping": "maybe"}, "early_stopping"),
        Case("text_generation", {"seed": -1}, "seed"),
        Case("text_generation", {"seed": 2**40}, "seed"),
        Case("text_generation", {"top_p": 0, "strategy": "sample"}, "top_p"),
    ],
    "compare_strategies": lambda file: [
        Case("compare_strategies", {"strategy_1": "nope"}, "strategy_1"),
    ],
    "chat": lambda file: [
        Case("chat", {"history": "not a list"}, "history"),
        Case("chat", {"history": [{"role": ["user"], "content": "hi"}]}, "history"),
        Case("chat", {"history": [5, 6]}, "history"),
        Case("chat", {"history": [{"role": "user", "content": SURROGATE}]}, expect="any", note="surrogate history"),
        Case("chat", {"system_prompt": ["a"]}, "system_prompt"),
    ],
    "image_segmentation": lambda file: [
        Case("image_segmentation", {"image": file("thin.png")}, "image", note="a 16000×8 image"),
        Case("image_segmentation", {"subtask": "cubist"}, "subtask"),
    ],
    "object_detection": lambda file: [
        Case("object_detection", {"image": file("huge.png")}, "image", note="a 65000×8 image"),
        Case("object_detection", {"image": file("thin.png")}, "image", note="a 16000×8 image"),
    ],
    "depth_estimation": lambda file: [
        Case("depth_estimation", {"image": file("thin.png")}, "image", note="a 16000×8 image"),
        Case("depth_estimation", {"dtype": "bfloat16"}, expect="any", note="dtype=bfloat16"),
    ],
    "zero_shot_image_classification": lambda file: [
        Case(
            "zero_shot_image_classification",
            {"candidate_labels": "cat " * 300 + ", dog"},
            expect="any",
            note="a label longer than CLIP's 77 tokens",
        ),
        Case("zero_shot_image_classification", {"hypothesis_template": "{0} {x}"}, "hypothesis_template"),
    ],
    "automatic_speech_recognition": lambda file: [
        Case("automatic_speech_recognition", {"return_timestamps": "always"}, "return_timestamps"),
        Case("automatic_speech_recognition", {"language": "x" * 10_000}, "language"),
        Case("automatic_speech_recognition", {"task": "summarize"}, "task"),
    ],
    "text_to_audio": lambda file: [
        Case("text_to_audio", {"text": ["to", "speak"]}, "text"),
    ],
}


def admin_cases(file: Callable[[str], dict]) -> list[Case]:
    """Loaded models and training endpoints with wrong types (none of them may start a run)."""
    bad_start = {"model": "no-such-model", "sample": "", "dataset": None}
    cases = [
        Case("loaded_models", data=[1, 2], expect="any", note="values it does not take"),
        Case("unload_model", {"model": [5]}, expect="any"),
        Case("unload_model", {"model": {"id": 1}}, expect="any"),
        Case("unload_model", {"model": "x" * 10_000}, expect="any", note="a 10,000-character id"),
        Case("unload_model", data=[], field="values", note="too few values"),
    ]
    for api in ("train_start", "train_command"):
        cases += [
            Case(api, data=["text-classification"], field="values", note="too few values"),
            Case(api, {**bad_start, "task": 5}, "task"),
            Case(api, {**bad_start, "num_train_epochs": "abc"}, "num_train_epochs"),
            Case(api, {**bad_start, "learning_rate": NAN}, "learning_rate", note="learning_rate=NaN"),
            Case(api, {**bad_start, "seed": INF}, "seed", note="seed=Infinity"),
            Case(api, {**bad_start, "per_device_train_batch_size": [8]}, "per_device_train_batch_size"),
            Case(api, {**bad_start, "precision": "fp8"}, "precision"),
            Case(api, {**bad_start, "eval_each_epoch": "maybe"}, "eval_each_epoch"),
            Case(api, {**bad_start, "dataset": "not a file"}, "dataset"),
            Case(api, {**bad_start, "dataset": 5}, "dataset"),
        ]
    for api in ("train_status", "train_stop", "train_resume"):
        cases += [
            Case(api, {"run_id": [1]}, expect="any"),
            Case(api, {"run_id": 5}, expect="any"),
            Case(api, {"run_id": "r" * 5_000}, expect="any", note="a 5,000-character run_id"),
            Case(api, {"run_id": "../../etc"}, expect="any", note="a run_id with .."),
        ]
    return cases


def request_data(case: Case, names: dict[str, list[str]], valid: dict[str, dict[str, Any]]) -> list[Any]:
    """The positional values of the case: the valid call with the case's values put in."""
    if case.data is not None:
        return case.data
    params = names[case.api]
    values = {**valid.get(case.api, {}), **case.values}
    defaults = {"dtype": "auto", "quantization": "none", "device": "auto"}
    return [values.get(name, defaults.get(name)) for name in params]


def run_corpus(base_url: str, tiny: Any, folder: Path) -> Iterator[tuple[Case, tuple[str, Any]]]:
    """Each case of the corpus and the app's answer to it."""
    paths = make_files(folder)
    cache: dict[str, dict] = {}

    def file(name: str) -> dict:
        if name not in cache:
            cache[name] = uploaded(base_url, paths[name])
        return cache[name]

    names = parameter_names(base_url)
    valid = valid_calls(tiny, file)
    for case in corpus(file):
        if case.api not in names:
            continue
        yield case, call(base_url, case.api, request_data(case, names, valid))


# ----------------------------------------------------------------------------- the tests
def test_every_bad_input_gets_a_sentence(app_url: str, tiny: SimpleNamespace, tmp_path: Path) -> None:
    results = list(run_corpus(app_url, tiny, tmp_path))
    flaws = [f"{case.name}: {why}" for case, outcome in results if (why := flaw(case, outcome))]
    assert len(results) >= 150
    assert not flaws, "\n".join(flaws)
    # The server is still there and still answers a valid request.
    kind, output = call(app_url, "text_classification", [tiny.text_classifier, "I love it", 2, "auto", "none", "auto"])
    assert kind == "complete", output
    assert {item["label"] for item in output[-1]} <= {"POSITIVE", "NEGATIVE"}


def test_gradio_preprocessing_errors_name_the_parameter_and_its_range(app_url: str, tiny: SimpleNamespace) -> None:
    """The exact sentences for values Gradio itself used to refuse with a bare "Error"."""
    model = tiny.text_classifier
    cases = {
        "abc": "top_k must be a whole number between 1 and 100; got 'abc'.",
        NAN: "top_k must be a whole number between 1 and 100; got nan.",
        INF: "top_k must be a whole number between 1 and 100; got inf.",
        (1,): "top_k must be a whole number between 1 and 100; got [1].",
    }
    for value, message in cases.items():
        sent = list(value) if isinstance(value, tuple) else value
        assert call(app_url, "text_classification", [model, "hi", sent, "auto", "none", "auto"]) == ("error", message)
    too_few = call(app_url, "text_classification", [model, "hi"])
    assert too_few == (
        "error",
        "text_classification takes 6 values (model, text, top_k, dtype, quantization, device) but got 2; "
        "send one value per input, in that order.",
    )
    assert call(app_url, "text_classification", [model, "hi", 2, 64, "none", "auto"]) == (
        "error",
        "dtype must be one of auto, float32, float16, bfloat16; got 64.",
    )
    assert call(app_url, "text_classification", [model, "hi", 2, "float64", "none", "auto"]) == (
        "error",
        "dtype must be one of auto, float32, float16, bfloat16; got 'float64'.",
    )
    # A lone surrogate and NUL are removed before the tokenizer sees the text.
    kind, output = call(app_url, "text_classification", [model, SURROGATE + "\x00", 2, "auto", "none", "auto"])
    assert kind == "complete", output


def test_long_audio_is_read_only_as_far_as_it_is_used(tmp_path: Path) -> None:
    """Over-long audio is cut with a notice, and the file is never read whole."""
    import soundfile

    from studio.errors import collect_notices
    from studio.uploads.media import load_audio

    path = tmp_path / "long.wav"
    soundfile.write(path, (0.3 * np.sin(np.arange(3 * 8000) / 5)).astype(np.float32), 8000)
    with collect_notices() as notices:
        audio = load_audio(str(path), 8000, max_seconds=1.0)
    assert audio.seconds == pytest.approx(1.0)
    assert notices == ["The audio is 3 seconds long; only the first 1 seconds were used."]
