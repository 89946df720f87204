"""No request can hold the machine: every prompt is cut to the model's context with
a notice (image chat and VQA included), a long request on one model does not hold up another
model, Stop ends generate() even inside a forward pass, a seed's text does not depend on
what else runs, and a public app enforces its caps and per-visitor limits with sentences."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from studio.config import ModelEntry
from studio.errors import collect_notices
from studio.generation.continuous import THREAD_NAME
from studio.generation.decoding import GenerationParams
from studio.generation.stream import GenerationRun
from studio.models.manager import ModelManager
from tests.app_process import ROOT
from tests.helpers import run_async

IMAGE = ROOT / "examples" / "images" / "shapes.png"
PROMPT = "the weather today is"
# About 1 MB of conversation: the request that used to stall every generation endpoint.
HUGE_HISTORY = [
    {"role": "user", "content": "tell me about the weather " * 2_000},
    {"role": "assistant", "content": "it is sunny and warm today " * 2_000},
] * 10
# Sampling that runs thousands of tokens on the tiny LM (see tests/api/test_generation.py).
LONG = {"strategy": "sample", "max_new_tokens": 4000, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": 1}


def live_generate_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME and thread.is_alive()]


def wait_until(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def job_notices(job) -> list[str]:
    """The toasts (gr.Warning) a finished gradio_client job received."""

    async def collect() -> list[str]:
        return [update.log[0] for update in [u async for u in job] if getattr(update, "log", None)]

    return run_async(collect)


@pytest.fixture(scope="module")
def manager() -> ModelManager:
    return ModelManager()


@pytest.fixture(scope="module")
def llava(tiny: SimpleNamespace, manager: ModelManager):
    return manager.get(ModelEntry(id=tiny.llava, source="local"), "image-text-to-text")


@pytest.fixture(scope="module")
def lm(tiny: SimpleNamespace, manager: ModelManager):
    return manager.get(ModelEntry(id=tiny.causal_lm, source="local"), "text-generation")


# ------------------------------------------------------------------ every prompt is cut
def test_image_chat_cuts_a_huge_history_to_the_context_with_a_notice(llava) -> None:
    from studio.adapters.generate import context_length
    from studio.adapters.multimodal import _fitted_chat, image_text_to_text
    from studio.spec.messages import plain_history
    from studio.uploads.media import load_image

    with collect_notices() as notices:
        *_, last = image_text_to_text(llava, str(IMAGE), "and now?", HUGE_HISTORY, 4)
    assert last.raw[0]["generated_text"] is not None
    assert any("only its last" in notice for notice in notices), notices
    batch = _fitted_chat(llava, load_image(str(IMAGE)).image, plain_history(HUGE_HISTORY), "and now?")
    assert batch["input_ids"].shape[-1] <= context_length(llava)


def test_image_chat_cuts_a_huge_message_and_keeps_the_image(llava) -> None:
    from studio.adapters.multimodal import image_text_to_text

    with collect_notices() as notices:
        *_, last = image_text_to_text(llava, str(IMAGE), "what colour is it " * 5_000, [], 4)
    assert isinstance(last.raw[0]["generated_text"], str)
    assert any("only its last" in notice and "tokens" in notice for notice in notices), notices


def test_a_one_megabyte_vqa_question_is_cut_with_a_notice(tiny: SimpleNamespace, tmp_path: Path) -> None:
    """BLIP's generative VQA failed on a long question (its text positions overflowed)."""
    import torch
    from transformers import AutoProcessor, BlipConfig, BlipForQuestionAnswering

    from studio.adapters.multimodal import visual_question_answering

    torch.manual_seed(0)
    BlipForQuestionAnswering(BlipConfig.from_pretrained(tiny.blip)).eval().save_pretrained(tmp_path)
    AutoProcessor.from_pretrained(tiny.blip).save_pretrained(tmp_path)
    loaded = ModelManager().get(ModelEntry(id=str(tmp_path), source="local"), "visual-question-answering")
    with collect_notices() as notices:
        answers = visual_question_answering(loaded, str(IMAGE), "how many circles are there? " * 40_000, 1)
    assert len(answers) == 1 and isinstance(answers[0]["answer"], str)
    assert any("question is longer than" in notice for notice in notices), notices


# ------------------------------------------------------------------ Stop, locks, seeds
def test_stop_ends_a_huge_image_chat_within_a_second(llava) -> None:
    from studio.adapters.multimodal import image_text_to_text

    updates = image_text_to_text(llava, str(IMAGE), "go on", HUGE_HISTORY, 4000)
    assert wait_until(lambda: next(updates) is not None and bool(live_generate_threads()))
    updates.close()  # what Gradio does on Stop or when the browser tab closes
    assert wait_until(lambda: not live_generate_threads(), timeout=1.0)


def test_stop_inside_a_forward_pass_ends_generate_before_the_next_layer(lm) -> None:
    """A long prefill is one forward pass: Stop must not wait for it to finish."""
    layers = lm.model.model.layers
    batch = dict(lm.tokenizer(PROMPT, return_tensors="pt"))
    run = GenerationRun(lm.model, lm.tokenizer, batch, GenerationParams.checked(max_new_tokens=50))
    later_layers: list[int] = []
    stop_in_first = layers[0].register_forward_pre_hook(lambda module, args: run.stop())  # Stop arrives mid-pass
    count_second = layers[1].register_forward_pre_hook(lambda module, args: later_layers.append(1))
    try:
        run.start()
        run.thread.join(timeout=10)
    finally:
        stop_in_first.remove()
        count_second.remove()
    assert not run.thread.is_alive()
    assert later_layers == [] and run.output is None and run.error is None


def test_a_seed_gives_the_same_text_while_another_model_samples(tiny: SimpleNamespace, lm, manager) -> None:
    from studio.adapters.generate import chat, text_generation

    chat_lm = manager.get(ModelEntry(id=tiny.chat_lm, source="local"), "chat")

    def sampled() -> str:
        *_, last = text_generation(lm, PROMPT, "sample", 48, temperature=1.0, top_k=0, top_p=1.0, seed=3)
        return last.raw[0]["generated_text"]

    alone = sampled()
    busy = threading.Event()

    def other_model() -> None:
        while not busy.is_set():
            list(chat(chat_lm, "hello", None, "", "sample", 64, temperature=1.0, top_k=0, seed=9))

    neighbour = threading.Thread(target=other_model, daemon=True)
    neighbour.start()
    try:
        together = [sampled() for _ in range(3)]
    finally:
        busy.set()
        neighbour.join(timeout=30)
    assert together == [alone] * 3


# ------------------------------------------------------------------ starvation, through the app
def test_a_huge_image_chat_does_not_starve_text_generation(client, tiny: SimpleNamespace) -> None:
    """While a 1 MB image-chat history runs on the Llava, a 2-token /text_generation on the tiny
    LM answers; the big request ends with a truncation notice, or Stop ends it."""

    def short_image_chat() -> list[dict]:
        return client.predict(
            model=tiny.llava,
            image=handle_file(str(IMAGE)),
            text="hi",
            history=[],
            max_new_tokens=2,
            api_name="/image_text_to_text",
        )[-1]

    short_image_chat()  # both models loaded first: what is timed is the wait, not a first load
    client.predict(model=tiny.causal_lm, prompt=PROMPT, max_new_tokens=1, api_name="/text_generation")
    big = client.submit(
        model=tiny.llava,
        image=handle_file(str(IMAGE)),
        text="and now?",
        history=HUGE_HISTORY,
        max_new_tokens=4000,
        api_name="/image_text_to_text",
    )
    started = time.monotonic()
    raw = client.predict(
        model=tiny.causal_lm, prompt=PROMPT, strategy="greedy", max_new_tokens=2, api_name="/text_generation"
    )[-1]
    answered_after = time.monotonic() - started
    big_still_running = not big.done()
    assert raw[0]["generated_text"] is not None
    assert answered_after < 10, f"/text_generation waited {answered_after:.1f} s behind the image chat"
    if big_still_running:
        big.cancel()
        assert wait_until(big.done, timeout=10)
    else:
        assert any("only its last" in notice for notice in job_notices(big))
    assert isinstance(short_image_chat()[0]["generated_text"], str)  # the Llava is free again


# ------------------------------------------------------------------ a public app
@pytest.fixture(scope="module")
def visitor(public_app: SimpleNamespace) -> Client:
    """A visitor of the public app (conftest.public_app: its limits are lowered there)."""
    return Client(public_app.url, verbose=False)


@pytest.mark.parametrize(
    ("api_name", "inputs", "message"),
    [
        (
            "/text_generation",
            {"prompt": PROMPT, "max_new_tokens": 4001},
            "max_new_tokens can be at most 4000 on this public app; got 4001.",
        ),
        (
            "/text_generation",
            {"prompt": PROMPT, "strategy": "beam", "num_beams": 4, "max_new_tokens": 4},
            "num_beams can be at most 3 on this public app; got 4.",
        ),
        (
            "/text_generation",
            {"prompt": PROMPT, "strategy": "sample", "num_return_sequences": 3, "max_new_tokens": 4},
            "num_return_sequences can be at most 2 on this public app; got 3.",
        ),
        (
            "/text_generation",
            {"prompt": "rain " * 500, "max_new_tokens": 4},
            "prompt is 2,500 characters long; this public app takes at most 2,000.",
        ),
        (
            "/chat",
            {"message": "hi", "history": HUGE_HISTORY[:2], "max_new_tokens": 4},
            "The history is 106,000 characters long; this public app takes at most 3,000.",
        ),
        (
            "/compare_strategies",
            {"prompt": PROMPT, "strategy_1": "greedy", "strategy_2": "beam", "num_beams": 5, "max_new_tokens": 4},
            "num_beams can be at most 3 on this public app; got 5.",
        ),
    ],
)
def test_public_caps_are_enforced_with_sentences(
    visitor: Client, tiny: SimpleNamespace, api_name: str, inputs: dict, message: str
) -> None:
    model = tiny.chat_lm if api_name == "/chat" else tiny.causal_lm
    with pytest.raises(AppError) as caught:
        visitor.predict(model=model, **inputs, api_name=api_name)
    assert message in str(caught.value)


def test_public_caps_allow_values_within_them(visitor: Client, tiny: SimpleNamespace) -> None:
    raw = visitor.predict(
        model=tiny.causal_lm,
        prompt=PROMPT,
        strategy="beam",
        num_beams=3,
        num_return_sequences=2,
        max_new_tokens=4,
        api_name="/text_generation",
    )[-1]
    assert len(raw) == 2


def test_one_visitor_cannot_hold_every_worker(
    public_app: SimpleNamespace, visitor: Client, tiny: SimpleNamespace
) -> None:
    """Two requests running in one browser session: a third gets a sentence, another visitor is served."""
    first = visitor.submit(model=tiny.causal_lm, prompt=PROMPT, **LONG, api_name="/text_generation")
    second = visitor.submit(
        model=tiny.causal_lm, prompt=PROMPT, strategy_1="sample", strategy_2="off", strategy_3="off",
        **{k: v for k, v in LONG.items() if k != "strategy"}, api_name="/compare_strategies",
    )  # fmt: skip
    try:
        assert wait_until(lambda: len(first.outputs()) >= 1 and len(second.outputs()) >= 1)
        assert not first.done() and not second.done()
        with pytest.raises(AppError) as caught:
            visitor.predict(model=tiny.chat_lm, message="hi", history=[], max_new_tokens=2, api_name="/chat")
        assert "You already have 2 requests running, the most one visitor may run at once" in str(caught.value)
        other = Client(public_app.url, verbose=False)
        reply = other.predict(model=tiny.chat_lm, message="hi", history=[], max_new_tokens=2, api_name="/chat")[-1]
        assert isinstance(reply, str)
    finally:
        first.cancel()
        second.cancel()
    assert wait_until(lambda: first.done() and second.done(), timeout=30)
    # Once they ended, the same visitor may run again.
    raw = visitor.predict(model=tiny.chat_lm, message="hi", history=[], max_new_tokens=2, api_name="/chat")[-1]
    assert isinstance(raw, str)
