"""Text tasks: classification, entities, question answering, summarization, translation,
fill-mask, zero-shot classification and sentence similarity."""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from studio.adapters.common import limit_text, max_tokens, notify_if_truncated, positive_int
from studio.errors import UserError, notify, require_lines, require_text
from studio.params import TEXT, TOP_K_LABELS, takes

log = logging.getLogger(__name__)

MAX_SENTENCES = 256


@takes(TEXT, TOP_K_LABELS.but(default=2))
def text_classification(loaded: Any, text: str, top_k: int) -> list[dict]:
    """Scores for the top_k labels, as transformers' text-classification pipeline returns them.

    Args:
        text: The text to classify.
        top_k: How many labels to return, best first.
    """
    text = limit_text(text)
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


# --------------------------------------------------------------------- token classification
AGGREGATION_STRATEGIES = ("none", "simple", "first", "average", "max")
# Overlap (in tokens) of the windows a long text is split into when entities are grouped.
TOKEN_STRIDE = 32


def token_classification(loaded: Any, text: str, aggregation_strategy: str = "simple") -> list[dict]:
    """Entities (or tagged tokens for "none"), as the token-classification pipeline returns them."""
    text = limit_text(text)
    strategy = str(aggregation_strategy or "simple").strip().lower()
    if strategy not in AGGREGATION_STRATEGIES:
        raise UserError(f"aggregation_strategy must be one of {', '.join(AGGREGATION_STRATEGIES)}; got {strategy!r}.")
    tokenizer = loaded.tokenizer
    if strategy in {"first", "average", "max"} and not tokenizer.is_fast:
        raise UserError("This model's tokenizer cannot group sub-words; choose aggregation_strategy none or simple.")
    kwargs: dict[str, Any] = {"aggregation_strategy": strategy}
    if strategy == "none" or not tokenizer.is_fast or max_tokens(loaded) // 2 <= TOKEN_STRIDE:
        notify_if_truncated(loaded, text)
    else:
        kwargs["stride"] = TOKEN_STRIDE  # long texts are tagged window by window, not cut
    key = "entity" if strategy == "none" else "entity_group"
    entities = loaded.pipeline(text, **kwargs)
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


# ------------------------------------------------------------------------ question answering
QA_MAX_LENGTH = 384  # tokens per window, as the old question-answering pipeline used
QA_BATCH = 8  # windows per forward pass


def qa_window(tokenizer: Any, model: Any, question: str) -> tuple[int, int]:
    """(max_length, stride) of the windows a context is split into for this question."""
    limits = [QA_MAX_LENGTH, getattr(tokenizer, "model_max_length", None)]
    limits.append(getattr(getattr(model, "config", None), "max_position_embeddings", None))
    max_length = min(int(limit) for limit in limits if isinstance(limit, int) and 0 < limit < 1_000_000)
    question_length = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    room = max_length - question_length - tokenizer.num_special_tokens_to_add(pair=True)
    if room < max(8, max_length // 4):
        raise UserError(
            f"The question is {question_length} tokens long; shorten it to under "
            f"{max_length - max(8, max_length // 4) - tokenizer.num_special_tokens_to_add(pair=True)} tokens."
        )
    return max_length, min(128, max_length // 2, room // 2)


def question_answering(
    loaded: Any,
    question: str,
    context: str,
    top_k: int = 1,
    max_answer_len: int = 15,
    handle_impossible_answer: bool = False,
) -> list[dict]:
    """The top_k answer spans in the context, as the old question-answering pipeline gave them.

    Long contexts are split into overlapping windows; spans are aligned to whole words;
    with handle_impossible_answer (SQuAD 2.0 models), "no answer" ("" at 0..0) competes.
    """
    import numpy as np
    import torch

    from studio import qa

    question = require_text(question, "a question")
    context = limit_text(context, "a context to find the answer in")
    top_k = positive_int(top_k, "top_k", 1, 20)
    max_answer_len = positive_int(max_answer_len, "max_answer_len", 1, 512)
    tokenizer, model = loaded.tokenizer, loaded.model
    max_length, stride = qa_window(tokenizer, model, question)
    encoding = tokenizer(
        question,
        context,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="np",
    )
    input_ids = encoding["input_ids"]
    names = [name for name in tokenizer.model_input_names if name in encoding]
    start_logits, end_logits = [], []
    with torch.inference_mode():
        for first in range(0, len(input_ids), QA_BATCH):
            batch = {name: torch.as_tensor(encoding[name][first : first + QA_BATCH]) for name in names}
            output = model(**{name: tensor.to(model.device) for name, tensor in batch.items()})
            start_logits.append(output.start_logits.float().cpu().numpy())
            end_logits.append(output.end_logits.float().cpu().numpy())
    in_context = np.array([[sid == 1 for sid in encoding.sequence_ids(w)] for w in range(len(input_ids))])
    cls_index = [_first_index(row, tokenizer.cls_token_id) for row in input_ids]
    word_ids = np.array(
        [[-1 if word is None else word for word in _word_ids(encoding, w)] for w in range(len(input_ids))]
    )
    spans, null_score = qa.decode(
        np.concatenate(start_logits), np.concatenate(end_logits), in_context, cls_index, top_k, max_answer_len, word_ids
    )
    candidates = []
    for span in spans:
        start, end = _span_chars(encoding, span.window, span.start, span.end)
        candidates.append(qa.Answer(context[start:end], span.score, start, end))
    answers = qa.best_answers(candidates, top_k, null_score if handle_impossible_answer else None)
    return [answer.as_dict() for answer in answers]


def _first_index(row: Any, token_id: int | None) -> int:
    if token_id is None:
        return 0
    positions = (row == token_id).nonzero()[0]
    return int(positions[0]) if len(positions) else 0


def _word_ids(encoding: Any, window: int) -> list[int | None]:
    try:
        return encoding.word_ids(window)
    except (TypeError, ValueError):  # tokenizers without word ids: every token on its own
        return [None] * len(encoding["input_ids"][window])


def _span_chars(encoding: Any, window: int, start: int, end: int) -> tuple[int, int]:
    """Character offsets in the context of a token span, widened to whole words."""
    word_ids = encoding.word_ids(window)
    offsets = encoding["offset_mapping"][window]
    try:
        return (
            encoding.word_to_chars(window, word_ids[start], sequence_index=1).start,
            encoding.word_to_chars(window, word_ids[end], sequence_index=1).end,
        )
    except (TypeError, ValueError, IndexError):
        return int(offsets[start][0]), int(offsets[end][1])


# ----------------------------------------------------------------------------- seq2seq
def _number(value: Any, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number between {low} and {high}.") from None
    if not low <= number <= high:
        raise UserError(f"{name} must be between {low} and {high}; got {number:g}.")
    return number


def _encode_source(loaded: Any, source: str) -> Any:
    """The tokenized source, cut to the model's input size with a notice."""
    notify_if_truncated(loaded, source)
    return loaded.tokenizer(source, truncation=True, max_length=max_tokens(loaded), return_tensors="pt")


def _generate_text(loaded: Any, batch: Any, **generation: Any) -> str:
    import torch

    with torch.inference_mode():
        output = loaded.model.generate(**batch.to(loaded.model.device), **generation)
    return loaded.tokenizer.decode(output[0], skip_special_tokens=True)


def summarization(
    loaded: Any,
    text: str,
    max_new_tokens: int = 60,
    num_beams: int = 4,
    min_new_tokens: int = 0,
    length_penalty: float = 1.0,
    no_repeat_ngram_size: int = 3,
) -> list[dict]:
    """A summary from AutoModelForSeq2SeqLM.generate, as [{summary_text}] (the old pipeline's shape)."""
    text = limit_text(text, "some text to summarize")
    max_new_tokens = positive_int(max_new_tokens, "max_new_tokens", 1, 1024)
    num_beams = positive_int(num_beams, "num_beams", 1, 16)
    min_new_tokens = positive_int(min_new_tokens, "min_new_tokens", 0, 1024)
    if min_new_tokens > max_new_tokens:
        raise UserError(f"min_new_tokens ({min_new_tokens}) must not exceed max_new_tokens ({max_new_tokens}).")
    length_penalty = _number(length_penalty, "length_penalty", -10.0, 10.0)
    no_repeat_ngram_size = positive_int(no_repeat_ngram_size, "no_repeat_ngram_size", 0, 20)
    generation = summary_generation_kwargs(
        max_new_tokens, num_beams, min_new_tokens, length_penalty, no_repeat_ngram_size
    )
    batch = _encode_source(loaded, (loaded.entry.prefix or "") + text)
    return [{"summary_text": _generate_text(loaded, batch, **generation)}]


def summary_generation_kwargs(
    max_new_tokens: int, num_beams: int, min_new_tokens: int, length_penalty: float, no_repeat_ngram_size: int
) -> dict[str, Any]:
    """generate() arguments; length_penalty only with beam search (where it means something)."""
    kwargs: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "min_new_tokens": min_new_tokens,
        "num_beams": num_beams,
        "no_repeat_ngram_size": no_repeat_ngram_size,
    }
    if num_beams > 1:
        kwargs["length_penalty"] = length_penalty
    return kwargs


# --------------------------------------------------------------------------- translation
T5_TRANSLATIONS = {"English": ("German", "French", "Romanian")}
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}_[A-Z][A-Za-z]{1,3}$")
MARIAN_PAIR = re.compile(r"opus-mt-([a-z]{2,3})-([a-z]{2,3})$")
_tokenizer_lock = threading.Lock()  # src_lang is set on a shared tokenizer


@dataclass(frozen=True)
class Languages:
    """What a translation model can be asked: its kind, source and target languages, defaults."""

    kind: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    src_lang: str | None
    tgt_lang: str | None


def language_codes(tokenizer: Any) -> list[str]:
    """The language codes a multilingual tokenizer knows (mBART, M2M100, NLLB...)."""
    mapping = getattr(tokenizer, "lang_code_to_id", None)
    if mapping:
        return list(mapping)
    specials = list(getattr(tokenizer, "all_special_tokens", []))
    specials += list(getattr(tokenizer, "added_tokens_encoder", {}))
    return sorted({token for token in specials if LANGUAGE_CODE.match(token)})


def language_token_id(tokenizer: Any, code: str) -> int:
    """The id generate() must start the translation with (forced_bos_token_id)."""
    if hasattr(tokenizer, "get_lang_id"):  # M2M100: "de" -> "__de__"
        return int(tokenizer.get_lang_id(code))
    return int(tokenizer.convert_tokens_to_ids(code))


def translation_kind(entry: Any, tokenizer: Any = None, model: Any = None) -> str:
    """models.yaml's kind, or a guess from the tokenizer and model."""
    if entry.kind:
        return entry.kind
    if tokenizer is not None and language_codes(tokenizer):
        return "multilingual"
    if model is not None and getattr(model.config, "model_type", "") == "t5":
        return "t5"
    return "marian"


def translation_languages(entry: Any, tokenizer: Any = None, model: Any = None) -> Languages:
    """The language choices for an entry; multilingual ones read the tokenizer's codes."""
    kind = translation_kind(entry, tokenizer, model)
    if kind == "t5":
        sources = tuple(dict.fromkeys([*T5_TRANSLATIONS, *([entry.src_lang] if entry.src_lang else [])]))
        targets = tuple(dict.fromkeys([*T5_TRANSLATIONS["English"], *([entry.tgt_lang] if entry.tgt_lang else [])]))
        return Languages(kind, sources, targets, entry.src_lang or "English", entry.tgt_lang or "German")
    if kind == "marian":
        pair = (entry.src_lang, entry.tgt_lang)
        found = MARIAN_PAIR.search(entry.id)
        if not all(pair) and found:
            pair = (entry.src_lang or found.group(1), entry.tgt_lang or found.group(2))
        src, tgt = pair
        return Languages(kind, (src,) if src else (), (tgt,) if tgt else (), src, tgt)
    codes = tuple(language_codes(tokenizer)) if tokenizer is not None else ()
    # The tokenizer's own defaults as saved (src_lang is changed on the shared tokenizer per request).
    saved = getattr(tokenizer, "init_kwargs", {}) if tokenizer is not None else {}
    src = entry.src_lang or saved.get("src_lang") or getattr(tokenizer, "src_lang", None)
    tgt = entry.tgt_lang or saved.get("tgt_lang") or getattr(tokenizer, "tgt_lang", None)
    if not codes:
        codes = tuple(code for code in (src, tgt) if code)
    return Languages(kind, codes, codes, src, tgt)


def _one_of(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _pick(value: str | None, default: str | None) -> str | None:
    value = str(value).strip() if value is not None else ""
    return value or default


def translation(
    loaded: Any, text: str, src_lang: str | None = None, tgt_lang: str | None = None, max_new_tokens: int = 256
) -> list[dict]:
    """A translation from AutoModelForSeq2SeqLM.generate, as [{translation_text}].

    marian: one fixed pair; t5: a "translate English to German: " prefix; multilingual
    (mBART, M2M100, NLLB): src_lang set on the tokenizer and the target language code
    forced as the first generated token.
    """
    text = limit_text(text, "some text to translate")
    max_new_tokens = positive_int(max_new_tokens, "max_new_tokens", 1, 1024)
    tokenizer = loaded.tokenizer
    languages = translation_languages(loaded.entry, tokenizer, loaded.model)
    src, tgt = _pick(src_lang, languages.src_lang), _pick(tgt_lang, languages.tgt_lang)
    name = loaded.entry.display_name
    if languages.kind == "marian":
        if languages.sources and (src, tgt) != (languages.src_lang, languages.tgt_lang):
            raise UserError(
                f"{name} only translates {languages.src_lang} to {languages.tgt_lang}; "
                "pick a multilingual model for other language pairs."
            )
        batch = _encode_source(loaded, text)
        return [{"translation_text": _generate_text(loaded, batch, max_new_tokens=max_new_tokens)}]
    if languages.kind == "t5":
        if src not in languages.sources or tgt not in languages.targets:
            raise UserError(
                f"{name} cannot translate {src} to {tgt}; it translates {' or '.join(languages.sources)} "
                f"to {_one_of(languages.targets)}."
            )
        prefix = loaded.entry.prefix or f"translate {src} to {tgt}: "
        batch = _encode_source(loaded, prefix + text)
        return [{"translation_text": _generate_text(loaded, batch, max_new_tokens=max_new_tokens)}]
    for role, code in (("source", src), ("target", tgt)):
        if not code:
            raise UserError(f"Pick a {role} language for {name}.")
        if code not in languages.sources:
            examples = ", ".join(languages.sources[:4])
            raise UserError(
                f"{code!r} is not a language code of {name}; pick the {role} language from the list (e.g. {examples})."
            )
    if src == tgt:
        raise UserError(f"The source and target language are both {src}; pick two different languages.")
    with _tokenizer_lock:
        tokenizer.src_lang = src
        batch = _encode_source(loaded, text)
    forced = language_token_id(tokenizer, tgt)
    translated = _generate_text(loaded, batch, max_new_tokens=max_new_tokens, forced_bos_token_id=forced)
    return [{"translation_text": translated}]


# ------------------------------------------------------------------------------ fill-mask
MASK_SPELLINGS = ("[MASK]", "<mask>")


def with_model_mask(text: str, mask_token: str) -> str:
    """The text with the usual mask spellings ([MASK], <mask>) written as this model's."""
    for spelling in MASK_SPELLINGS:
        if spelling != mask_token:
            text = text.replace(spelling, mask_token)
    return text


def fill_mask(loaded: Any, text: str, top_k: int = 5) -> list[dict]:
    """Candidates for the one masked word, as the fill-mask pipeline returns them."""
    text = limit_text(text, "a sentence with a mask token")
    top_k = positive_int(top_k, "top_k", 1, 100)
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
    result = loaded.pipeline(written, top_k=top_k, tokenizer_kwargs={"truncation": True, "max_length": limit})
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
MAX_LABELS = 100


def parse_labels(candidate_labels: str | None) -> list[str]:
    """Comma-separated labels, stripped, empty ones and repeats dropped; a UserError if none."""
    labels = list(dict.fromkeys(label.strip() for label in str(candidate_labels or "").split(",")))
    labels = [label for label in labels if label]
    if not labels:
        if str(candidate_labels or "").strip():
            raise UserError("The labels are all empty; type label names between the commas, e.g. sport, politics.")
        raise UserError("Type the candidate labels, separated by commas, e.g. sport, politics, science.")
    if len(labels) > MAX_LABELS:
        raise UserError(f"There are {len(labels)} labels; use at most {MAX_LABELS}.")
    return labels


def zero_shot_classification(
    loaded: Any,
    text: str,
    candidate_labels: str,
    multi_label: bool = False,
    hypothesis_template: str = DEFAULT_HYPOTHESIS,
) -> dict:
    """Scores for labels the model never saw in training, via NLI (the zero-shot pipeline)."""
    text = limit_text(text)
    labels = parse_labels(candidate_labels)
    template = str(hypothesis_template or "").strip() or DEFAULT_HYPOTHESIS
    if template.count("{}") != 1:
        raise UserError(
            "The hypothesis template must contain {} exactly once, where the label goes (e.g. This example is {})."
        )
    notify_if_truncated(loaded, text)
    result = loaded.pipeline(text, candidate_labels=labels, hypothesis_template=template, multi_label=bool(multi_label))
    return {
        "sequence": str(result["sequence"]),
        "labels": [str(label) for label in result["labels"]],
        "scores": [float(score) for score in result["scores"]],
    }


# ------------------------------------------------------- tokenizer facts for the tabs (light)
@functools.lru_cache(maxsize=32)
def _light_tokenizer(entry: Any) -> Any:
    from transformers import AutoTokenizer

    from studio.models import resolve_source

    kwargs: dict[str, Any] = {"trust_remote_code": entry.trust_remote_code}
    if entry.revision:
        kwargs["revision"] = entry.revision
    return AutoTokenizer.from_pretrained(resolve_source(entry), **kwargs)


def light_tokenizer(entry: Any) -> Any | None:
    """The entry's tokenizer (AutoTokenizer only, cached), or None when it is not on this machine."""
    from studio.models import is_cached

    if not is_cached(entry):
        return None
    try:
        return _light_tokenizer(entry)
    except Exception as exc:  # a tab must not fail because a tokenizer cannot be read
        log.info("No tokenizer for %s: %s", entry.id, exc)
        return None


def mask_token_of(entry: Any) -> str | None:
    """The model's mask token ([MASK], <mask>...), or None when unknown."""
    tokenizer = light_tokenizer(entry)
    return getattr(tokenizer, "mask_token", None) if tokenizer is not None else None


def languages_of(entry: Any) -> Languages:
    """translation_languages, reading the tokenizer only for multilingual models."""
    if translation_kind(entry) != "multilingual":
        return translation_languages(entry)
    return translation_languages(entry, light_tokenizer(entry))
