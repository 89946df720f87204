"""Integrated gradients over a classifier's input embeddings (captum): what each token adds
to one label's logit, from a baseline of pad tokens to the text.

Why `IntegratedGradients` on `inputs_embeds` and not `LayerIntegratedGradients` on the
embedding layer: the two give the same numbers (tests/api/test_explain.py compares them), but
the layer variant puts a forward hook on the embedding module while it runs, and the model
is shared with every other request on it (the Text classification tab, its batched
forwards): their forwards would go through the hook. Passing embeddings leaves the model
untouched, so attributions can run beside them. It also makes f(baseline) the model at the
path's start (the text's positions and attention mask, pad embeddings), which is what the
completeness check compares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from studio.errors import notify

MAX_EXPLAIN_TOKENS = 512  # a model with a longer context still explains at most this many tokens
TOKENS_PER_BATCH = 4096  # interpolation steps run together while their tokens stay under this


def label_names(model: Any) -> list[str]:
    """The classifier's labels, by index (config.id2label; LABEL_i where it names none)."""
    config = model.config
    id2label = {int(index): str(name) for index, name in (getattr(config, "id2label", None) or {}).items()}
    return [id2label.get(index, f"LABEL_{index}") for index in range(int(config.num_labels))]


def encode(tokenizer: Any, text: str, limit: int) -> Any:
    """The tokenized text (cut to `limit` tokens, with a notice), its special-token mask and,
    from a fast tokenizer, each token's character span."""
    count = len(tokenizer(text, truncation=False)["input_ids"])
    if count > limit:
        notify(f"The text has {count:,} tokens; only the first {limit:,} were explained.")
    return tokenizer(
        text,
        truncation=True,
        max_length=limit,
        return_tensors="pt",
        return_special_tokens_mask=True,
        return_offsets_mapping=bool(getattr(tokenizer, "is_fast", False)),
    )


def pad_baseline(input_ids: Any, special_tokens_mask: Any, tokenizer: Any) -> Any:
    """The same length of pad tokens, special tokens (CLS, SEP) kept where they are."""
    pad = tokenizer.pad_token_id
    if pad is None:
        pad = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
    return input_ids.masked_fill(special_tokens_mask == 0, int(pad))


def integrated_gradients(
    model: Any,
    tokenizer: Any,
    encoded: Any,
    target: int | None,
    n_steps: int,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Per-token attributions (summed over the embedding dimension) to the target logit, the
    convergence delta, and the logits of the text and of the baseline. target None: the
    predicted label."""
    import torch
    from captum.attr import IntegratedGradients

    device = model.device
    input_ids = encoded["input_ids"].to(device)
    names = [name for name in encoded if name not in ("input_ids", "special_tokens_mask", "offset_mapping")]
    extra = tuple(encoded[name].to(device) for name in names)  # attention mask, token types: as for the text
    embedding = model.get_input_embeddings()
    with torch.no_grad():
        inputs = embedding(input_ids).detach()
        baseline_ids = pad_baseline(encoded["input_ids"], encoded["special_tokens_mask"], tokenizer)
        baselines = embedding(baseline_ids.to(device)).detach()

    seen = [0]

    def logits(embeds: Any, *tensors: Any) -> Any:
        """The model's logits for a batch of embeddings (the text's other inputs repeated)."""
        batch = embeds.shape[0]
        kwargs = {name: tensor.expand(batch, -1) for name, tensor in zip(names, tensors)}
        out = model(inputs_embeds=embeds, **kwargs).logits
        seen[0] += batch
        if progress is not None and seen[0] <= n_steps:
            progress(seen[0] / n_steps, f"Integrated gradients: step {seen[0]} of {n_steps}")
        return out

    with torch.no_grad():
        text_logits = model(inputs_embeds=inputs, **dict(zip(names, extra))).logits[0].float()
        baseline_logits = model(inputs_embeds=baselines, **dict(zip(names, extra))).logits[0].float()
    index = int(text_logits.argmax()) if target is None else target
    seen[0] = 0
    attributions, delta = IntegratedGradients(logits).attribute(
        inputs,
        baselines=baselines,
        target=index,
        additional_forward_args=extra,
        n_steps=n_steps,
        internal_batch_size=max(1, min(n_steps, TOKENS_PER_BATCH // max(1, input_ids.shape[1]))),
        return_convergence_delta=True,
    )
    return {
        "target": index,
        "predicted": int(text_logits.argmax()),
        "per_token": attributions.sum(dim=-1)[0].float().tolist(),
        "delta": float(delta.reshape(-1)[0]),
        "text_logits": text_logits.tolist(),
        "baseline_logits": baseline_logits.tolist(),
    }


def token_rows(tokenizer: Any, encoded: Any, per_token: Sequence[float]) -> list[dict[str, Any]]:
    """[{token, attribution, start, end}]: start/end are the token's characters in the text
    (None for special tokens, or when the tokenizer gives no offsets)."""
    ids = encoded["input_ids"][0].tolist()
    special = encoded["special_tokens_mask"][0].tolist()
    offsets = encoded["offset_mapping"][0].tolist() if "offset_mapping" in encoded else [None] * len(ids)
    rows = []
    for token, score, is_special, span in zip(tokenizer.convert_ids_to_tokens(ids), per_token, special, offsets):
        start, end = (None, None) if is_special or span is None or span[0] == span[1] else span
        rows.append({"token": str(token), "attribution": float(score), "start": start, "end": end})
    return rows
