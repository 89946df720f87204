"""Sequence-to-sequence tasks: summarization and translation with AutoModelForSeq2SeqLM.generate
(transformers 5 removed both pipelines), and the translation tab's language facts."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.adapters.common import limit_text, max_tokens, notify_if_truncated
from studio.config import ModelEntry
from studio.errors import UserError, notify, shorten
from studio.spec.param import Param, spec_of, takes
from studio.spec.shared import GENERATION, TEXT

_GENERATION = spec_of(GENERATION)


def _encode_source(loaded: Any, source: str) -> Any:
    """The tokenized source, cut to the model's input size with a notice."""
    notify_if_truncated(loaded, source)
    return loaded.tokenizer(source, truncation=True, max_length=max_tokens(loaded), return_tensors="pt")


def _decoder_limit(loaded: Any) -> int | None:
    """The most positions the decoder has (learned or fixed position embeddings), if any."""
    config = getattr(loaded.model, "config", None)
    limit = getattr(config, "max_target_positions", None) or getattr(config, "max_position_embeddings", None)
    return int(limit) if isinstance(limit, int) and limit > 1 else None


def _generate_text(loaded: Any, batch: Any, **generation: Any) -> str:
    """The decoded output; max_new_tokens is lowered (with a notice) to what the decoder can
    hold, past which its position embeddings would be read out of range."""
    import torch

    limit = _decoder_limit(loaded)
    if limit is not None and generation.get("max_new_tokens", 0) > limit - 1:
        notify(
            f"This model writes at most {limit - 1:,} tokens; max_new_tokens was lowered from "
            f"{generation['max_new_tokens']:,} to {limit - 1:,}."
        )
        generation["max_new_tokens"] = limit - 1
        generation["min_new_tokens"] = min(generation.get("min_new_tokens", 0), limit - 1)
    with torch.inference_mode():
        output = loaded.model.generate(**batch.to(loaded.model.device), **generation)
    text: str = loaded.tokenizer.decode(output[0], skip_special_tokens=True)
    return text


@takes(
    TEXT.but(
        help="The article or long paragraph to summarize.",
        lines=10,
        placeholder="Paste an article or a long paragraph…",
        empty="Type some text to summarize first: the input is empty.",
    ),
    _GENERATION["max_new_tokens"].but(default=60, high=1024),
    _GENERATION["num_beams"].but(help="Beams kept at each step; 1: greedy"),
    Param(
        "min_new_tokens", "int", 0, "The fewest tokens to generate.", label="Min new tokens", low=0, high=1024, step=1
    ),
    _GENERATION["length_penalty"].but(help=">1 longer, <1 shorter (beams only)"),
    _GENERATION["no_repeat_ngram_size"].but(default=3, help="Never repeat an n-gram of this size; 0: off"),
)
def summarization(
    loaded: Any,
    text: str,
    max_new_tokens: int,
    num_beams: int,
    min_new_tokens: int,
    length_penalty: float,
    no_repeat_ngram_size: int,
) -> list[dict[str, Any]]:
    """A summary from AutoModelForSeq2SeqLM.generate, as [{summary_text}] (the old pipeline's shape).

    Args:
        text: The text to summarize.
        max_new_tokens: The most tokens the summary may have.
        num_beams: Beams kept at each step (1: greedy).
        min_new_tokens: The fewest tokens the summary may have (at most max_new_tokens).
        length_penalty: Above 1 favours longer summaries, below 1 shorter ones (beam search only).
        no_repeat_ngram_size: Never repeat an n-gram of this size (0: off).
    """
    text = limit_text(text)
    if min_new_tokens > max_new_tokens:
        raise UserError(f"min_new_tokens ({min_new_tokens}) must not exceed max_new_tokens ({max_new_tokens}).")
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


def translation_kind(entry: ModelEntry, tokenizer: Any = None, model: Any = None) -> str:
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
    value = shorten(value)  # a language name or code: never echoed whole
    return value or default


@takes(
    TEXT.but(
        help="The text to translate.",
        lines=5,
        placeholder="Type text to translate…",
        empty="Type some text to translate first: the input is empty.",
    ),
    Param(
        "src_lang",
        "text",
        "",
        "The language of the text (multilingual models).",
        label="Source language",
        widget="dropdown",
    ),
    Param(
        "tgt_lang",
        "text",
        "",
        "The language to translate into (multilingual models).",
        label="Target language",
        widget="dropdown",
    ),
    _GENERATION["max_new_tokens"].but(default=128, high=1024),
)
def translation(loaded: Any, text: str, src_lang: str, tgt_lang: str, max_new_tokens: int) -> list[dict[str, Any]]:
    """A translation from AutoModelForSeq2SeqLM.generate, as [{translation_text}].

    marian: one fixed pair; t5: a "translate English to German: " prefix; multilingual
    (mBART, M2M100, NLLB): src_lang set on the tokenizer and the target language code
    forced as the first generated token.

    Args:
        text: The text to translate.
        src_lang: The source language (a name for T5, a code such as en_XX for multilingual
            models); empty: the model's own.
        tgt_lang: The target language, likewise; empty: the model's own.
        max_new_tokens: The most tokens the translation may have.
    """
    text = limit_text(text)
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
    for role, field, code in (("source", "src_lang", src), ("target", "tgt_lang", tgt)):
        if not code:
            raise UserError(f"Pick a {role} language ({field}) for {name}.")
        if code not in languages.sources:
            examples = ", ".join(languages.sources[:4])
            raise UserError(
                f"{code!r} is not a language code of {name}; pick the {role} language from the list "
                f"({field}, e.g. {examples})."
            )
    if src == tgt:
        raise UserError(f"The source and target language are both {src}; pick two different languages.")
    with _tokenizer_lock:
        tokenizer.src_lang = src
        batch = _encode_source(loaded, text)
    assert tgt  # the loop above refused an empty target
    forced = language_token_id(tokenizer, tgt)
    translated = _generate_text(loaded, batch, max_new_tokens=max_new_tokens, forced_bos_token_id=forced)
    return [{"translation_text": translated}]


def translation_facts(entry: Any, tokenizer: Callable[[], Any | None]) -> dict[str, Any]:
    """What the translation tab offers for a model: {kind, sources, targets, src_lang, tgt_lang}.

    Only multilingual models read their tokenizer (for its language codes)."""
    if translation_kind(entry) != "multilingual":
        return dataclasses.asdict(translation_languages(entry))
    return dataclasses.asdict(translation_languages(entry, tokenizer()))
