"""Text tasks: classification and sentence similarity."""

from __future__ import annotations

from typing import Any

from studio.adapters.common import limit_text, max_tokens, notify_if_truncated, positive_int
from studio.errors import notify, require_lines

MAX_SENTENCES = 256


def text_classification(loaded: Any, text: str, top_k: int = 2) -> list[dict]:
    """Scores for the top_k labels, as transformers' text-classification pipeline returns them."""
    text = limit_text(text)
    top_k = positive_int(top_k, "top_k", 1, 1_000)
    notify_if_truncated(loaded, text)
    result = loaded.pipeline(text, top_k=top_k, truncation=True)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]


def embed(loaded: Any, sentences: list[str]) -> Any:
    """L2-normalised sentence vectors (mean or CLS pooling, as models.yaml says)."""
    import torch

    batch = loaded.tokenizer(
        sentences, padding=True, truncation=True, max_length=max_tokens(loaded), return_tensors="pt"
    ).to(loaded.model.device)
    with torch.inference_mode():
        hidden = loaded.model(**batch).last_hidden_state
    if loaded.entry.pooling == "cls":
        pooled = hidden[:, 0]
    else:
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled.float(), p=2, dim=1)


def feature_extraction(loaded: Any, source: str, sentences: str) -> list[dict]:
    """Cosine similarity of each sentence (one per line) to the source, best first."""
    source = limit_text(source, "a source sentence")
    lines = require_lines(sentences, "sentences to compare with the source")
    if len(lines) > MAX_SENTENCES:
        notify(f"Only the first {MAX_SENTENCES} of {len(lines)} sentences were compared.")
        lines = lines[:MAX_SENTENCES]
    vectors = embed(loaded, [source, *lines])
    scores = (vectors[1:] @ vectors[0]).tolist()
    ranked = sorted(zip(lines, scores), key=lambda pair: -pair[1])
    return [{"sentence": sentence, "score": float(score)} for sentence, score in ranked]
