"""Dynamic batching of encoder tasks: concurrent requests on one model and the same
settings run as one forward, with the results of one-by-one runs.

The batcher itself is tested with plain functions (order, keys, groups, size, window, errors,
a lone request); every batched task is tested on its tiny model with inputs of different
lengths sent from threads through Studio.run, against the same requests run one by one.
Nothing is timed: batches are proven by the batchers' own counters and forward hooks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from studio.config import ModelEntry, load_config
from studio.errors import collect_notices
from studio.models.manager import ModelManager
from studio.serving.batching import Arrivals, Batcher, Batchers
from studio.studio import Studio
from studio.tasks.table import TASKS
from tests.fixtures.factory import write_models_yaml
from tests.helpers import assert_same

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog",
    "while",
    "seven",
    "happy",
    "people",
    "read",
    "good",
    "news",
]
BATCHED_TASKS = [
    "text-classification",
    "token-classification",
    "fill-mask",
    "zero-shot-classification",
    "feature-extraction",
    "image-classification",
    "zero-shot-image-classification",
    "audio-classification",
]
N = 8


def text_of(words: int, offset: int = 0) -> str:
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(words))


# ------------------------------------------------------------------------- the batcher alone
class Recorder:
    """A batch function that records its batches; it can wait on a gate and fail on values."""

    def __init__(self, fail_on: Callable[[Any], bool] = lambda value: False) -> None:
        self.batches: list[list[Any]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(self, values: list[Any]) -> list[Any]:
        self.gate.wait(30)
        with self.lock:
            self.batches.append(list(values))
        if any(self.fail_on(value) for value in values):
            raise ValueError(f"bad value in {values}")
        return [value * 10 for value in values]


def concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Every call in its own thread, started together; results (or exceptions) in call order."""
    barrier = threading.Barrier(len(calls))

    def start(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # returned for the test to look at
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(start, calls))


def test_a_lone_request_is_answered() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder, window=0.005, max_size=16)
    assert batcher.run([1]) == [10]
    assert batcher.run([2, 3]) == [20, 30]
    assert recorder.batches == [[1], [2, 3]]


def test_concurrent_requests_share_a_forward_in_order() -> None:
    recorder = Recorder()
    recorder.gate.clear()  # the first batch waits, so the others queue behind it
    batcher = Batcher(recorder, window=0.005, max_size=16)
    opened = threading.Timer(0.3, recorder.gate.set)
    opened.start()
    results = concurrently([lambda i=i: batcher.run([i, i + 100]) for i in range(N)])
    assert results == [[i * 10, (i + 100) * 10] for i in range(N)]
    assert len(recorder.batches) < N
    assert sorted(value for batch in recorder.batches for value in batch) == sorted(
        [i for i in range(N)] + [i + 100 for i in range(N)]
    )
    assert batcher.batches == len(recorder.batches) and batcher.items == 2 * N


def test_a_batch_holds_at_most_max_size() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder, window=10.0, max_size=3)  # a long window: only a full batch goes early
    assert batcher.run(list(range(7))) == [i * 10 for i in range(7)]
    assert [len(batch) for batch in recorder.batches] == [3, 3, 1]


def test_a_long_window_collects_late_arrivals() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder, window=2.0, max_size=4)  # a full batch goes at once
    results = concurrently([lambda i=i: batcher.run([i]) for i in range(4)])
    assert results == [[0], [10], [20], [30]]
    assert len(recorder.batches) == 1 and sorted(recorder.batches[0]) == [0, 1, 2, 3]


def test_a_lone_request_does_not_wait_for_company_that_is_not_coming() -> None:
    """With Arrivals (as every model's batchers have), nobody on the way: the batch goes at
    once, however long the window (a minute here; the test would hang without it)."""
    recorder = Recorder()
    batcher = Batcher(recorder, window=60.0, max_size=16, arrivals=Arrivals())
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(batcher.run, [1]).result(timeout=30) == [10]


def test_the_first_arrival_waits_for_a_request_on_its_way() -> None:
    """A request still reading its input (on the way) is waited for: both go in one forward."""
    recorder = Recorder()
    arrivals = Arrivals()
    batcher = Batcher(recorder, window=60.0, max_size=16, arrivals=arrivals)
    reading, read = threading.Event(), threading.Event()

    def second() -> list[int]:
        with arrivals.on_the_way():
            reading.set()
            read.wait()
            return batcher.run([2])

    with ThreadPoolExecutor(2) as pool:
        later = pool.submit(second)
        reading.wait()
        first = pool.submit(batcher.run, [1])
        while not batcher._pending:  # the first has submitted and leads, waiting for the second
            threading.Event().wait(0.01)
        read.set()
        assert first.result(timeout=30) == [10] and later.result(timeout=30) == [20]
    assert recorder.batches == [[1, 2]]


def test_groups_never_share_a_batch() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder, window=0.05, max_size=16)
    results = concurrently([lambda i=i: batcher.run([i], groups=[i % 2]) for i in range(N)])
    assert results == [[i * 10] for i in range(N)]
    assert all(len({value % 2 for value in batch}) == 1 for batch in recorder.batches)


def test_settings_keys_get_their_own_batchers() -> None:
    batchers = Batchers(window_ms=5, max_size=16)
    first, second = Recorder(), Recorder()
    assert batchers.get(("top_k", 1), first) is batchers.get(("top_k", 1), second)
    assert batchers.get(("top_k", 2), second) is not batchers.get(("top_k", 1), first)
    results = concurrently(
        [lambda i=i: batchers.get(("top_k", i % 2), first if i % 2 else second).run([i]) for i in range(N)]
    )
    assert results == [[i * 10] for i in range(N)]
    assert all(value % 2 == 1 for batch in first.batches for value in batch)
    assert all(value % 2 == 0 for batch in second.batches for value in batch)


def test_one_bad_value_does_not_fail_the_others() -> None:
    recorder = Recorder(fail_on=lambda value: value == 3)
    recorder.gate.clear()
    batcher = Batcher(recorder, window=0.005, max_size=16)
    threading.Timer(0.3, recorder.gate.set).start()
    results = concurrently([lambda i=i: batcher.run([i]) for i in range(N)])
    assert isinstance(results[3], ValueError)
    assert [result for i, result in enumerate(results) if i != 3] == [[i * 10] for i in range(N) if i != 3]
    assert batcher.run([5]) == [50]  # and the batcher still works


def test_max_batch_size_one_turns_batching_off() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder, window=10.0, max_size=1)  # no wait at all
    results = concurrently([lambda i=i: batcher.run([i, i]) for i in range(4)])
    assert results == [[i * 10, i * 10] for i in range(4)]
    assert all(len(batch) == 1 for batch in recorder.batches)


def test_adapters_are_marked_batched() -> None:
    for task_id in BATCHED_TASKS:
        assert getattr(TASKS[task_id].adapter_function(), "batched", False), task_id
    for task_id in ("question-answering", "object-detection", "automatic-speech-recognition"):
        assert not getattr(TASKS[task_id].adapter_function(), "batched", False), task_id


# ------------------------------------------------------------------------------ tiny models
@pytest.fixture(scope="module")
def studio(tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Studio:
    path = write_models_yaml(tiny.folders, tmp_path_factory.mktemp("batching") / "models.yaml")
    # A long window: the concurrent requests of a test surely meet (results must not depend on it).
    return Studio(load_config(path), ModelManager(batch_window_ms=200, max_batch_size=16))


def image(path: Path, width: int, height: int, seed: int) -> str:
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def clip_of(seconds: float, seed: int) -> tuple[int, np.ndarray]:
    t = np.arange(int(16_000 * seconds)) / 16_000
    noise = 0.05 * np.random.default_rng(seed).standard_normal(t.shape)
    return 16_000, (0.3 * np.sin(2 * np.pi * (200 + 40 * seed) * t) + noise).astype(np.float32)


def requests(task_id: str, tmp_path: Path) -> list[dict]:
    """N inputs of different lengths (1 to 50 words, images of different sizes, clips of different durations)."""
    words = [1, 3, 7, 12, 20, 30, 41, 50]
    if task_id in {"text-classification", "token-classification"}:
        return [{"text": text_of(count, i)} for i, count in enumerate(words)]
    if task_id == "fill-mask":
        return [{"text": text_of(count, i) + " [MASK] " + text_of(i, 3), "top_k": 3} for i, count in enumerate(words)]
    if task_id == "zero-shot-classification":
        return [
            {"text": text_of(count, i), "candidate_labels": "sport, politics, a very long label about science"}
            for i, count in enumerate(words)
        ]
    if task_id == "feature-extraction":
        return [
            {"source": text_of(count, i), "sentences": f"{text_of(2, i)}\n{text_of(count + 3, i + 1)}"}
            for i, count in enumerate(words)
        ]
    if task_id == "image-classification":
        return [{"image": image(tmp_path / f"{i}.png", 20 + 13 * i, 60 - 5 * i, i)} for i in range(N)]
    if task_id == "zero-shot-image-classification":
        return [
            {"image": image(tmp_path / f"{i}.png", 20 + 13 * i, 60 - 5 * i, i), "candidate_labels": "a cat, a dog"}
            for i in range(N)
        ]
    # audio: this wav2vec2 has no attention mask, so only clips of one length share a forward
    return [{"audio": clip_of([0.5, 1.25, 2.0, 3.0][i % 4], i)} for i in range(N)]


def count_forwards(loaded: Any) -> tuple[list[int], Any]:
    """Batch sizes of the model's forward calls from now on (a forward hook), and the hook's handle."""
    sizes: list[int] = []

    def hook(module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        first = next(value for value in [*args, *kwargs.values()] if hasattr(value, "shape"))
        sizes.append(int(first.shape[0]))

    return sizes, loaded.model.register_forward_hook(hook, with_kwargs=True)


@pytest.mark.parametrize("task_id", BATCHED_TASKS)
def test_concurrent_requests_give_one_by_one_results_in_fewer_forwards(
    studio: Studio, task_id: str, tmp_path: Path
) -> None:
    model_id = studio.entries(task_id)[0].id
    inputs = requests(task_id, tmp_path)
    loaded = studio.manager.get(studio.entry(task_id, model_id), task_id)
    # The batch waits out its whole window (not 2 ms of quiet): however busy the machine, the
    # test's requests meet.
    loaded.batchers.arrivals.quiet = loaded.batchers.window
    assert studio.run(task_id, model_id, inputs[0]).output  # a lone request is answered
    # One by one, batching off: the reference.
    reference = ModelManager(max_batch_size=1)
    one_by_one = Studio(studio.config, reference)
    want = [one_by_one.run(task_id, model_id, request).output for request in inputs]
    reference.unload()
    sizes, hook = count_forwards(loaded)
    try:
        results = concurrently([lambda request=request: studio.run(task_id, model_id, request) for request in inputs])
    finally:
        hook.remove()
    for result, expected in zip(results, want):
        assert not isinstance(result, Exception), result
        assert_same(result.output, expected)
    forwards_alone = 1 if task_id != "zero-shot-classification" else 3  # zero-shot: one pair per label, alone
    assert 0 < len(sizes) < N * forwards_alone, sizes
    assert max(sizes) > 1, sizes


def test_a_request_with_other_settings_is_not_mixed_in(studio: Studio) -> None:
    fresh = Studio(studio.config, ModelManager(batch_window_ms=200))
    model_id = fresh.entries("text-classification")[0].id
    results = concurrently(
        [
            lambda i=i: fresh.run("text-classification", model_id, {"text": text_of(3 + i), "top_k": 1 + i % 2})
            for i in range(N)
        ]
    )
    assert [len(result.output) for result in results] == [1 + i % 2 for i in range(N)]
    (loaded,) = fresh.manager.loaded()
    batchers = loaded.batchers.all()
    assert len(batchers) == 2  # one per top_k, each with exactly the 4 requests of its setting
    assert sorted(batcher.items for batcher in batchers.values()) == [N // 2, N // 2]
    assert sorted("('top_k', 1)" in key[1] for key in batchers) == [False, True]


def test_notices_stay_with_their_own_request(studio: Studio) -> None:
    """A notice is raised in the caller's thread, never in the thread that ran the batch."""
    model_id = studio.entries("text-classification")[0].id
    long_text = "good news " * 200  # over the tiny model's 128 tokens: a notice
    results = concurrently(
        [
            lambda i=i: studio.run("text-classification", model_id, {"text": long_text if i == 2 else text_of(4, i)})
            for i in range(N)
        ]
    )
    assert [bool(result.notices) for result in results] == [i == 2 for i in range(N)]


def test_one_failing_input_in_a_batch_fails_alone(tiny: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forward that fails on one input (injected: real inputs are checked before) costs only its request."""
    manager = ModelManager(batch_window_ms=200)
    loaded = manager.get(ModelEntry(id=tiny.text_classifier, source="local"), "text-classification")
    loaded.batchers.arrivals.quiet = loaded.batchers.window  # the whole window: the requests surely meet
    from studio.adapters.text import text_classification

    real_forward = loaded.model.forward
    poison = loaded.tokenizer("poison")["input_ids"][1]

    def forward(*args: Any, **kwargs: Any) -> Any:
        if (kwargs["input_ids"] == poison).any():
            raise RuntimeError("this input breaks the model")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(loaded.model, "forward", forward)
    texts = [text_of(2 + i, i) if i != 5 else "poison" for i in range(N)]

    def classify(text: str) -> Any:
        with collect_notices():
            return text_classification(loaded, text, top_k=2)

    results = concurrently([lambda text=text: classify(text) for text in texts])
    assert isinstance(results[5], RuntimeError)
    assert all(isinstance(result, list) and len(result) == 2 for i, result in enumerate(results) if i != 5)
    batcher = next(iter(loaded.batchers.all().values()))
    assert batcher.largest > 1  # they did share a batch before it was split up
