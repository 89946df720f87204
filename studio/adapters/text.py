"""Text tasks read by encoder models: classification, entities, fill-mask, zero-shot
classification and sentence similarity. Question answering is in question_answering.py,
summarization and translation (seq2seq generation) in seq2seq.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.adapters import common
from studio.adapters.common import limit_text, max_tokens, notify_if_truncated
from studio.errors import UserError, notify
from studio.serving.batching import batched, run_batched
from studio.serving.pipelines import run_pipeline
from studio.spec.param import Param, takes
from studio.spec.shared import TEXT, TOP_K_LABELS

MAX_SENTENCES = 256


@batched
@takes(TEXT, TOP_K_LABELS.but(default=2))
def text_classification(loaded: Any, text: str, top_k: int) -> list[dict[str, Any]]:
    """Scores for the top_k labels, as transformers' text-classification pipeline returns them.

    Args:
        text: The text to classify.
        top_k: How many labels to return, best first.
    """
    text = limit_text(text)
    notify_if_truncated(loaded, text)
    result = run_pipeline(loaded, text, top_k=top_k, truncation=True)
    return [{"label": str(item["label"]), "score": float(item["score"])} for item in result]


def embed(loaded: Any, sentences: list[str]) -> Any:
    """L2-normalised sentence vectors (mean or CLS pooling, as models.yaml says)."""
    import torch

    batch = loaded.tokenizer(
        sentences,
        padding=True,
        padding_side="right",  # positions as unpadded, so a sentence's vector is the same in any batch
        truncation=True,
        max_length=max_tokens(loaded),
        return_tensors="pt",
    ).to(loaded.model.device)
    with torch.inference_mode():
        hidden = loaded.model(**batch).last_hidden_state
    if loaded.entry.pooling == "cls":
        pooled = hidden[:, 0]
    else:
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled.float(), p=2, dim=1)


EMBED_ROWS = 64  # sentences in one forward: a batch of requests is embedded in chunks of this many


def embed_requests(loaded: Any, requests: list[list[str]]) -> list[Any]:
    """Each request's sentence vectors, the sentences of all of them embedded together (a
    batch counts requests, however many sentences each has)."""
    import torch

    sentences = [sentence for request in requests for sentence in request]
    vectors = torch.cat([embed(loaded, sentences[at : at + EMBED_ROWS]) for at in range(0, len(sentences), EMBED_ROWS)])
    return list(torch.split(vectors, [len(request) for request in requests]))


@batched
@takes(
    Param(
        "source",
        "text",
        help="The sentence the others are compared with.",
        label="Source sentence",
        lines=2,
        placeholder="The sentence to compare with…",
        empty="Type a source sentence first: the input is empty.",
    ),
    Param(
        "sentences",
        "text",
        help="The sentences to rank, one per line.",
        label="Sentences to compare",
        lines=6,
        placeholder="One sentence per line",
        empty="Type one or more sentences to compare with the source, one per line: the input is empty.",
    ),
)
def feature_extraction(loaded: Any, source: str, sentences: str) -> list[dict[str, Any]]:
    """Cosine similarity of each sentence (one per line) to the source, best first.

    Args:
        source: The sentence the others are compared with.
        sentences: The sentences to rank, one per line (at most 256 are compared).
    """
    source = limit_text(source)
    lines = [line.strip() for line in sentences.splitlines() if line.strip()]  # some: the Param refuses blank
    if len(lines) > MAX_SENTENCES:
        notify(f"Only the first {MAX_SENTENCES} of {len(lines)} sentences were compared.")
        lines = lines[:MAX_SENTENCES]
    (vectors,) = run_batched(loaded, "embed", lambda requests: embed_requests(loaded, requests), [[source, *lines]])
    scores = (vectors[1:] @ vectors[0]).tolist()
    ranked = sorted(zip(lines, scores), key=lambda pair: -pair[1])
    return [{"sentence": sentence, "score": float(score)} for sentence, score in ranked]


# --------------------------------------------------------------------- token classification
AGGREGATION_STRATEGIES = ("none", "simple", "first", "average", "max")
# Overlap (in tokens) of the windows a long text is split into when entities are grouped.
TOKEN_STRIDE = 32


@batched
@takes(
    TEXT.but(
        help="The text to find entities in.",
        lines=5,
        placeholder="Type or paste text to find people, places, companies…",
    ),
    Param(
        "aggregation_strategy",
        "choice",
        "simple",
        "none: one tag per token; simple/first/average/max: sub-words grouped into entities",
        label="Word grouping",
        choices=AGGREGATION_STRATEGIES,
        widget="radio",
    ),
)
def token_classification(loaded: Any, text: str, aggregation_strategy: str) -> list[dict[str, Any]]:
    """Entities (or tagged tokens for "none"), as the token-classification pipeline returns them.

    Args:
        text: The text to tag.
        aggregation_strategy: none (one tag per token), or how sub-words are grouped into
            entities (simple, first, average, max).
    """
    text = limit_text(text)
    strategy = aggregation_strategy
    tokenizer = loaded.tokenizer
    if strategy in {"first", "average", "max"} and not tokenizer.is_fast:
        raise UserError("This model's tokenizer cannot group sub-words; choose aggregation_strategy none or simple.")
    kwargs: dict[str, Any] = {"aggregation_strategy": strategy}
    if strategy == "none" or not tokenizer.is_fast or max_tokens(loaded) // 2 <= TOKEN_STRIDE:
        notify_if_truncated(loaded, text)
    else:
        kwargs["stride"] = TOKEN_STRIDE  # long texts are tagged window by window, not cut
    key = "entity" if strategy == "none" else "entity_group"
    entities = run_pipeline(loaded, text, **kwargs)
    return [
        {
            key: str(item[key]),
            "score": float(item["score"]),
            "word": str(item["word"]),
            "start": None if item.get("start") is None else int(item["start"]),
            "end": None if item.get("end") is None else int(item["end"]),
        }
        for item in entities
    ]


# ------------------------------------------------------------------------------ fill-mask
MASK_SPELLINGS = ("[MASK]", "<mask>")


def with_model_mask(text: str, mask_token: str) -> str:
    """The text with the usual mask spellings ([MASK], <mask>) written as this model's."""
    for spelling in MASK_SPELLINGS:
        if spelling != mask_token:
            text = text.replace(spelling, mask_token)
    return text


@batched
@takes(
    TEXT.but(
        help="A sentence with the model's mask token where the missing word goes.",
        lines=3,
        placeholder="Write the model's mask token where the missing word goes, e.g. Paris is the [MASK] of France.",
        empty="Type a sentence with a mask token first: the input is empty.",
    ),
    TOP_K_LABELS.but(help="How many candidates", label="Candidates shown"),
)
def fill_mask(loaded: Any, text: str, top_k: int) -> list[dict[str, Any]]:
    """Candidates for the one masked word, as the fill-mask pipeline returns them.

    Args:
        text: A sentence with the mask token ([MASK], <mask>: either is written as the model's) once.
        top_k: How many candidates to return, likeliest first.
    """
    text = limit_text(text)
    tokenizer = loaded.tokenizer
    mask = tokenizer.mask_token
    if mask is None or tokenizer.mask_token_id is None:
        raise UserError(f"{loaded.entry.display_name} has no mask token; pick a masked language model.")
    written = with_model_mask(text, mask)
    if written != text:
        notify(f"This model's mask token is {mask}; the mask in the text was written that way.")
    ids = tokenizer(written, truncation=False)["input_ids"]
    count = ids.count(tokenizer.mask_token_id)
    if count == 0:
        raise UserError(f"Put the mask token {mask} where the missing word goes: the text has none.")
    if count > 1:
        raise UserError(f"Use the mask token {mask} exactly once: the text has {count}.")
    limit = max_tokens(loaded)
    if ids.index(tokenizer.mask_token_id) >= limit:
        raise UserError(f"The mask token lies beyond the {limit:,} tokens the model reads; shorten the text before it.")
    if len(ids) > limit:
        notify(f"The text has {len(ids):,} tokens; the model reads only the first {limit:,}.")
    result = run_pipeline(loaded, written, top_k=top_k, tokenizer_kwargs={"truncation": True, "max_length": limit})
    return [
        {
            "token_str": str(item["token_str"]),
            "score": float(item["score"]),
            "token": int(item["token"]),
            "sequence": str(item["sequence"]),
        }
        for item in result
    ]


# ------------------------------------------------------------------ zero-shot classification
DEFAULT_HYPOTHESIS = "This example is {}."
MAX_LABELS = common.MAX_LABELS


def parse_labels(candidate_labels: str | None) -> list[str]:
    """Comma-separated labels, stripped, empty ones and repeats dropped (at most MAX_LABELS,
    each at most common.MAX_LABEL_CHARS, with a notice); a UserError if none."""
    return common.parse_labels(candidate_labels, "sport, politics, science")


@batched
@takes(
    TEXT.but(help="The text to classify.", placeholder="Type the text to classify…"),
    Param(
        "candidate_labels",
        "text",
        help="The labels to score, separated by commas.",
        label="Candidate labels",
        placeholder="Labels, separated by commas: sport, politics, science",
        empty="Type the candidate labels, separated by commas, in candidate_labels, e.g. sport, politics, science.",
    ),
    Param(
        "multi_label", "bool", False, "Score each label on its own (several can be true)", label="Several can be true"
    ),
    Param(
        "hypothesis_template",
        "text",
        DEFAULT_HYPOTHESIS,
        "The sentence the model checks for each label; {} is replaced by the label",
        label="Hypothesis template",
    ),
)
def zero_shot_classification(
    loaded: Any, text: str, candidate_labels: str, multi_label: bool, hypothesis_template: str
) -> dict[str, Any]:
    """Scores for labels the model never saw in training, via NLI (the zero-shot pipeline).

    Args:
        text: The text to classify.
        candidate_labels: The labels to score, separated by commas (at most 100).
        multi_label: Score each label on its own (several can be true) instead of one softmax.
        hypothesis_template: The sentence checked for each label; {} is replaced by the label.
    """
    text = limit_text(text)
    labels = parse_labels(candidate_labels)
    template = common.label_template(hypothesis_template, DEFAULT_HYPOTHESIS)
    longest = max((template.format(label) for label in labels), key=len)
    room = max_tokens(loaded) - 8  # the text needs a few tokens too, and the special tokens
    if len(loaded.tokenizer(longest, truncation=False)["input_ids"]) > room:
        raise UserError(
            f"A hypothesis (hypothesis_template with a label) is longer than the {room:,} tokens this model can "
            "spare for it; shorten hypothesis_template or candidate_labels."
        )
    notify_if_truncated(loaded, text)
    result = run_pipeline(loaded, text, candidate_labels=labels, hypothesis_template=template, multi_label=multi_label)
    return {
        "sequence": str(result["sequence"]),
        "labels": [str(label) for label in result["labels"]],
        "scores": [float(score) for score in result["scores"]],
    }


# --------------------------------------------------------------- facts for the fill-mask tab
def fill_mask_facts(entry: Any, tokenizer: Callable[[], Any | None]) -> dict[str, Any]:
    """{"mask_token": the model's mask token ([MASK], <mask>...), or None when unknown}."""
    loaded_tokenizer = tokenizer()
    return {"mask_token": getattr(loaded_tokenizer, "mask_token", None)}
