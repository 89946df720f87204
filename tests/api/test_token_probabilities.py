"""Token probabilities in /text_generation's raw output, against transformers itself.

On the tiny causal LM, each token's `probability` equals softmax(scores) of
`generate(output_scores=True, return_dict_in_generate=True)` at that step (the processed
scores: after temperature, top_k and top_p when sampling), and `top` equals topk(5) of the
same; beam search shows the chosen beam (compute_transition_scores).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

PROMPT = "the weather today is"


def reference(model_path: str, seed: int = 0, **kwargs) -> SimpleNamespace:
    """tokenizer + model.generate with output_scores, seeded the way the app's seed reproduces."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    batch = tokenizer(PROMPT, return_tensors="pt")
    torch.manual_seed(seed)
    with torch.inference_mode():
        output = model.generate(**batch, **kwargs, output_scores=True, return_dict_in_generate=True)
    start = batch["input_ids"].shape[-1]
    return SimpleNamespace(tokenizer=tokenizer, model=model, output=output, new=output.sequences[:, start:])


def assert_step(item: dict, scores_row, token_id: int, tokenizer) -> None:
    """One token item against softmax(scores) at its step: the token's probability and the top 5."""
    import torch

    probabilities = torch.softmax(scores_row.float(), dim=-1)
    assert item["token"] == tokenizer.decode([token_id])
    assert item["probability"] == pytest.approx(float(probabilities[token_id]), rel=1e-5, abs=1e-9)
    top = probabilities.topk(5)
    assert [alternative["token"] for alternative in item["top"]] == [tokenizer.decode([i]) for i in top.indices]
    for alternative, value in zip(item["top"], top.values.tolist()):
        assert alternative["probability"] == pytest.approx(value, rel=1e-5, abs=1e-9)


CASES = {
    "greedy": ({"strategy": "greedy", "max_new_tokens": 16}, {"do_sample": False, "max_new_tokens": 16}),
    "greedy-repetition": (
        {"strategy": "greedy", "max_new_tokens": 16, "repetition_penalty": 1.3, "no_repeat_ngram_size": 2},
        {"do_sample": False, "max_new_tokens": 16, "repetition_penalty": 1.3, "no_repeat_ngram_size": 2},
    ),
    "sample": (
        {"strategy": "sample", "max_new_tokens": 16, "temperature": 0.8, "top_k": 30, "top_p": 0.9},
        {"do_sample": True, "max_new_tokens": 16, "temperature": 0.8, "top_k": 30, "top_p": 0.9},
    ),
    "sample-3-sequences": (
        {"strategy": "sample", "max_new_tokens": 10, "temperature": 1.3, "top_k": 0, "top_p": 1.0,
         "num_return_sequences": 3},
        {"do_sample": True, "max_new_tokens": 10, "temperature": 1.3, "top_k": 0, "top_p": 1.0,
         "num_return_sequences": 3},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_probabilities_are_softmax_of_generates_scores(client, tiny: SimpleNamespace, case: str) -> None:
    inputs, kwargs = CASES[case]
    *_, raw = client.predict(model=tiny.causal_lm, prompt=PROMPT, seed=11, **inputs, api_name="/text_generation")
    want = reference(tiny.causal_lm, seed=11, **kwargs)
    eos = want.model.generation_config.eos_token_id
    ends = set(eos if isinstance(eos, list) else [eos])
    assert len(raw) == len(want.new)
    for index, item in enumerate(raw):
        ids = want.new[index].tolist()
        assert item["generated_text"] == want.tokenizer.decode(ids, skip_special_tokens=True)
        # every generated token, up to and including the end token when one came
        length = next((step + 1 for step, token in enumerate(ids) if token in ends), len(ids))
        assert len(item["tokens"]) == length > 0
        for step, token in enumerate(item["tokens"]):
            assert_step(token, want.output.scores[step][index], ids[step], want.tokenizer)
            assert 0 < token["probability"] <= 1  # the chosen token was possible


def test_beam_search_shows_the_chosen_beam(client, tiny: SimpleNamespace) -> None:
    import torch

    inputs = {"strategy": "beam", "max_new_tokens": 10, "num_beams": 3, "num_return_sequences": 2}
    *_, raw = client.predict(model=tiny.causal_lm, prompt=PROMPT, **inputs, api_name="/text_generation")
    want = reference(tiny.causal_lm, do_sample=False, max_new_tokens=10, num_beams=3, num_return_sequences=2)
    output = want.output
    transition = want.model.compute_transition_scores(output.sequences, output.scores, output.beam_indices)
    for index, item in enumerate(raw):
        steps = int((output.beam_indices[index] >= 0).sum())
        assert len(item["tokens"]) == steps
        for step, token in enumerate(item["tokens"]):
            row = int(output.beam_indices[index, step])
            assert_step(token, output.scores[step][row], int(want.new[index, step]), want.tokenizer)
            # no processor changed the beam's log-probabilities: probability = exp(transition score)
            assert token["probability"] == pytest.approx(float(torch.exp(transition[index, step])), rel=1e-5)


def test_streaming_sends_text_then_the_tokens_with_the_final_update(client, tiny: SimpleNamespace) -> None:
    job = client.submit(
        model=tiny.causal_lm, prompt=PROMPT, strategy="greedy", max_new_tokens=120, api_name="/text_generation"
    )
    final = job.result(timeout=120)[-1]
    raws = [output[-1] for output in job.outputs() if output[-1]]
    assert len(raws) >= 3
    assert all("tokens" not in raw[0] for raw in raws[:-1]), "partial updates carry the text only"
    assert raws[-1] == final and len(final[0]["tokens"]) == 120
