"""Continuous batching (studio/generation/continuous.py) on the tiny Llama: concurrent greedy requests give
generate()'s tokens, Stop cancels one request only, what the engine cannot run falls back to
generate() with the reason in the figures, and a request streams its own tokens."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from studio.config import ModelEntry
from studio.models.manager import ModelManager

PROMPTS = ["the weather today is", "hello", "once upon a time in a land far away there lived a", "why"]


@pytest.fixture(scope="module")
def lm(tiny: SimpleNamespace):
    return ModelManager().get(ModelEntry(id=tiny.causal_lm, source="local"), "text-generation")


def generate_ids(lm, prompt: str, **kwargs) -> list[int]:
    """The new token ids of model.generate alone (the reference)."""
    import torch

    batch = lm.tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        output = lm.model.generate(**batch, **kwargs)
    return output[0][batch["input_ids"].shape[-1] :].tolist()


def run(lm, prompt: str, **inputs) -> list:
    from studio.adapters.generate import text_generation

    return list(text_generation(lm, prompt, **inputs))


def test_concurrent_greedy_equals_generate_token_for_token(lm) -> None:
    lengths = [24, 40, 16, 32]
    want = [generate_ids(lm, p, do_sample=False, max_new_tokens=n) for p, n in zip(PROMPTS, lengths)]
    with ThreadPoolExecutor(len(PROMPTS)) as pool:
        finals = list(
            pool.map(lambda pn: run(lm, pn[0], strategy="greedy", max_new_tokens=pn[1])[-1], zip(PROMPTS, lengths))
        )
    for final, ids, prompt in zip(finals, want, PROMPTS):
        assert final.visual["engine"] == "continuous batching"
        assert final.raw[0]["generated_text"] == lm.tokenizer.decode(ids, skip_special_tokens=True), prompt
        assert [item["token"] for item in final.raw[0]["tokens"]] == [lm.tokenizer.decode([i]) for i in ids]


def test_stop_on_one_of_three_streams_leaves_the_others_complete(lm) -> None:
    from studio.adapters.generate import text_generation

    prompts = PROMPTS[:3]
    want = [run(lm, p, strategy="greedy", max_new_tokens=48)[-1].raw[0]["generated_text"] for p in prompts]
    streams = [text_generation(lm, p, strategy="greedy", max_new_tokens=48) for p in prompts]
    firsts = [next(stream) for stream in streams]  # all three are in the engine now
    assert all(first is not None for first in firsts)
    streams[1].close()  # Stop on the second
    finals = [list(streams[0])[-1], list(streams[2])[-1]]
    assert [final.raw[0]["generated_text"] for final in finals] == [want[0], want[2]]
    assert all(final.visual["done"] and not final.visual["stopped"] for final in finals)


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"strategy": "beam", "num_beams": 2}, "beam search needs generate"),
        ({"strategy": "sample", "num_return_sequences": 2}, "several sequences need generate"),
        ({"strategy": "greedy", "stop": "zzz"}, "stop strings need generate"),
    ],
)
def test_what_the_engine_cannot_run_falls_back_with_the_reason(lm, inputs: dict, reason: str) -> None:
    final = run(lm, PROMPTS[0], max_new_tokens=8, **inputs)[-1]
    assert final.visual["engine"] == "generate"
    assert final.visual["engine_reason"] == reason
    assert final.raw[0]["generated_text"] is not None


def test_image_chat_falls_back_with_the_reason(tiny: SimpleNamespace) -> None:
    from studio.adapters.multimodal import image_text_to_text
    from tests.app_process import ROOT

    llava = ModelManager().get(ModelEntry(id=tiny.llava, source="local"), "image-text-to-text")
    *_, final = image_text_to_text(llava, str(ROOT / "examples" / "images" / "shapes.png"), "hi", [], 4)
    assert final.visual["engine"] == "generate"
    assert final.visual["engine_reason"] == "image and audio inputs need generate"


def test_a_request_streams_growing_text(lm) -> None:
    updates = run(lm, PROMPTS[0], strategy="greedy", max_new_tokens=200)
    texts = [update.raw[0]["generated_text"] for update in updates if update.raw]
    assert len(set(texts)) > 2, texts
    assert all(texts[-1].startswith(text) for text in texts)
    assert all(update.visual["engine"] == "continuous batching" for update in updates)


def test_seeded_sampling_gives_its_text_beside_other_requests(lm) -> None:
    sample = {"strategy": "sample", "max_new_tokens": 32, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": 3}
    alone = run(lm, PROMPTS[0], **sample)[-1].raw[0]["generated_text"]
    with ThreadPoolExecutor(3) as pool:
        busy = [pool.submit(run, lm, p, strategy="sample", max_new_tokens=40, seed=9) for p in PROMPTS[1:3]]
        together = run(lm, PROMPTS[0], **sample)[-1]
        [future.result() for future in busy]
    assert together.visual["engine"] == "continuous batching"
    assert together.raw[0]["generated_text"] == alone


def test_the_loop_thread_ends_when_idle_and_on_unload(lm) -> None:
    from studio.generation import continuous

    run(lm, PROMPTS[0], strategy="greedy", max_new_tokens=4)
    live = [t for t in threading.enumerate() if t.name == continuous.THREAD_NAME]
    for thread in live:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in live)
    continuous.stop_engine(lm.model)
    assert run(lm, PROMPTS[0], strategy="greedy", max_new_tokens=4)[-1].raw[0]["generated_text"] is not None
