"""LoRA with peft: which layers get adapters (per architecture), and saving the adapter and,
when asked, a merged copy that loads like any model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.errors import UserError
from studio.training.worker_log import say

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
# Per model_type; others get "all-linear" (peft: every Linear layer but the output head).
TARGETS: dict[str, tuple[str, ...]] = {
    **{
        name: ATTENTION
        for name in (
            "llama",
            "mistral",
            "mixtral",
            "qwen2",
            "qwen3",
            "gemma",
            "gemma2",
            "gemma3",
            "gemma3_text",
            "smollm3",
            "olmo",
            "olmo2",
        )
    },
    "gpt2": ("c_attn",),
    "gpt_neox": ("query_key_value",),
    "phi3": ("qkv_proj", "o_proj"),
}


def target_modules(model_type: str, asked: str) -> list[str] | str:
    """The layer names asked for (comma-separated), else the architecture's default."""
    names = [name.strip() for name in asked.split(",") if name.strip()]
    return names or list(TARGETS.get(model_type, ())) or "all-linear"


def with_lora(model: Any, settings: Any) -> Any:
    """The model with LoRA adapters on its target layers (only they train)."""
    from peft import LoraConfig, get_peft_model

    model_type = getattr(model.config, "model_type", "")
    targets = target_modules(model_type, settings.lora_target_modules)
    lora = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
        fan_in_fan_out=model_type == "gpt2",  # GPT-2's Conv1D stores its weight transposed
    )
    try:
        adapted = get_peft_model(model, lora)
    except ValueError:
        shown = ", ".join(targets) if isinstance(targets, list) else targets
        raise UserError(
            f"lora_target_modules {shown!r} names no layer of this {model_type or 'model'}; "
            "leave it empty for the default, or name layers such as q_proj, v_proj."
        ) from None
    trainable, total = adapted.get_nb_trainable_parameters()
    shown = ", ".join(targets) if isinstance(targets, list) else targets
    say(
        f"LoRA r={settings.lora_r}, alpha={settings.lora_alpha} on {shown}: "
        f"{trainable:,} of {total:,} weights train ({100 * trainable / total:.2f}%)"
    )
    return adapted


def save_adapter(model: Any, tokenizer: Any, folder: Path, merge: bool) -> Any:
    """Save the adapter (and the tokenizer) in folder; returns the merged model when merge, else None."""
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    say("saved the LoRA adapter")
    if not merge:
        return None
    merged = model.merge_and_unload()
    say("merged the adapter into the base model's weights")
    return merged
