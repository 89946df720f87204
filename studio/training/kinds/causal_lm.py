"""Text generation: supervised fine-tuning of a causal LM on conversations, full or with LoRA.

Each row (a prompt/response pair, or a `messages` list) is rendered with the model's chat
template; a base model without one gets DEFAULT_CHAT_TEMPLATE, the plain transcript the app's
Chat uses for the packaged Gemma (models.yaml), and it is saved as the tokenizer's
chat_template, so Chat talks to the fine-tuned model the way it was trained. The loss counts
the responses only: every prompt token's label is -100.

Plain Trainer with this module's collator, not TRL's SFTTrainer: TRL is not installed (it pulls
more packages) and the two things it would add here, templating and masking the prompt, are a
few lines each below, where the tests can see them.
"""

from __future__ import annotations

import math
from typing import Any

from studio.errors import UserError
from studio.training.files import write_json
from studio.training.instructions import conversation
from studio.training.kinds.base import Parts, Run
from studio.training.kinds.lora import save_adapter, with_lora
from studio.training.worker_log import say

IGNORE_INDEX = -100
# models.yaml's chat_template for the packaged Gemma base model (a test keeps the two the same).
DEFAULT_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
    "System: {{ message['content'] | trim }}\n"
    "{% elif message['role'] == 'user' %}User: {{ message['content'] | trim }}\n"
    "{% else %}Assistant: {{ message['content'] | trim }}\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
)
DEFAULT_END_OF_TURN = ["User:", "System:"]  # where a reply in that transcript ends


def encode(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> dict[str, list[int]] | None:
    """Token ids and labels of one conversation: each assistant turn labelled (ending with the
    end-of-sequence token), everything else -100; cut to max_length. None when no response token
    is left, or the template does not render the conversation turn by turn."""
    ids: list[int] = []
    labels: list[int] = []
    done = ""

    def add(text: str, learn: bool) -> None:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        if learn and tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in piece:
            piece = [*piece, tokenizer.eos_token_id]  # so the model learns to stop after its reply
        ids.extend(piece)
        labels.extend(piece if learn else [IGNORE_INDEX] * len(piece))

    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(messages[:index], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages[: index + 1], tokenize=False)
        if not prompt.startswith(done) or not full.startswith(prompt):
            return None
        add(prompt[len(done) :], learn=False)
        add(full[len(prompt) :], learn=True)
        done = full
    ids, labels = ids[:max_length], labels[:max_length]
    if all(label == IGNORE_INDEX for label in labels):
        return None
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def tokenized(table: Any, tokenizer: Any, text_column: str, label_column: str | None, max_length: int) -> Any:
    """The table as training examples; rows that cannot train (no response left after cutting) are left out.

    Plain Python over the rows, not `Dataset.map`: map hashes its function, here the whole tokenizer
    (a minute for Gemma's 262k-token vocabulary)."""
    from datasets import Dataset

    columns = [name for name in (text_column, label_column) if name]
    rows = table.select_columns(columns).to_list()
    encoded = []
    for row in rows:
        messages = conversation(row, text_column, label_column)
        example = encode(tokenizer, messages, max_length) if messages else None
        if example is not None:
            encoded.append(example)
    if len(encoded) < len(rows):
        say(f"{len(rows) - len(encoded)} of {len(rows)} rows left out: no response token within max_length")
    empty: dict[str, list[int]] = {"input_ids": [], "attention_mask": [], "labels": []}
    return Dataset.from_list(encoded) if encoded else Dataset.from_dict(empty)


class ResponseCollator:
    """Pads a batch on the right: input ids with the pad token, labels with -100 (not scored)."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(feature["input_ids"]) for feature in features)

        def padded(key: str, value: int) -> Any:
            return torch.tensor([list(f[key]) + [value] * (longest - len(f[key])) for f in features])

        return {
            "input_ids": padded("input_ids", self.pad_token_id),
            "attention_mask": padded("attention_mask", 0),
            "labels": padded("labels", IGNORE_INDEX),
        }


def with_perplexity(metrics: dict[str, float]) -> dict[str, float]:
    loss = metrics.get("eval_loss")
    if isinstance(loss, int | float):
        return {**metrics, "eval_perplexity": math.exp(min(loss, 50.0))}
    return metrics


def prepare(run: Run) -> Parts:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = run.config
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    own_template = bool(getattr(tokenizer, "chat_template", None))
    if not own_template:
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
        say("the base model has no chat template: using the default User:/Assistant: transcript")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    columns = (config.text_column, config.label_column or None)
    max_length, batch = config.training.max_length, config.training.per_device_train_batch_size
    train_set = tokenized(run.train_table, tokenizer, *columns, max_length)
    eval_set = tokenized(run.eval_table, tokenizer, *columns, max_length)
    if len(train_set) == 0:
        raise UserError(
            f"No training row has a response within max_length ({max_length} tokens); raise max_length "
            "or shorten the prompts."
        )
    say(f"data: {len(train_set)} training and {len(eval_set)} evaluation conversations")
    model = AutoModelForCausalLM.from_pretrained(run.model_path, dtype=torch.float32)
    lora = config.lora
    if lora is not None and lora.use_lora:
        model = with_lora(model, lora)
    else:
        say(f"full fine-tuning: {sum(p.numel() for p in model.parameters()):,} weights train")
    return Parts(
        model,
        tokenizer,
        train_set,
        eval_set,
        ResponseCollator(tokenizer.pad_token_id),
        # Evaluation keeps the loss, never the logits; its batches stay small: a batch's logits are
        # tokens x vocabulary (Gemma: 262k), so the classifiers' 32 would be gigabytes.
        arguments={"prediction_loss_only": True, "per_device_eval_batch_size": batch},
        final=with_perplexity,
        facts={"own_template": own_template},
    )


def save(trainer: Any, run: Run, parts: Parts) -> None:
    """adapter/ (LoRA), model/ (full fine-tuning, or the merged LoRA model), each with the tokenizer
    (its chat_template the one trained on) and studio_run.json (the turn ends Chat stops at)."""
    config, tokenizer = run.config, parts.tokenizer
    own = parts.facts.get("own_template", True)
    info = {
        "run_id": config.run_id,
        "task": config.task,
        "chat_template": "the model's own" if own else "default",
        "end_of_turn": [] if own else DEFAULT_END_OF_TURN,
    }
    lora = config.lora
    if lora is not None and lora.use_lora:
        merged = save_adapter(trainer.model, tokenizer, run.folder.path / "adapter", lora.merge_adapter)
        write_json(run.folder.path / "adapter" / "studio_run.json", {**info, "adapter": True})
        if merged is None:
            return
        merged.save_pretrained(str(run.folder.model))
        tokenizer.save_pretrained(str(run.folder.model))
    else:
        trainer.save_model(str(run.folder.model))
    write_json(run.folder.model / "studio_run.json", info)
