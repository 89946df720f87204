"""Streamed text shows each token at once (not a word later), and never half a character."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from transformers import AutoTokenizer, TextIteratorStreamer

from studio.generation.text_stream import drain, token_streamer


def pieces_after_each_token(streamer, ids: list[int]) -> list[str]:
    shown = []
    for token_id in ids:
        streamer.put(torch.tensor([token_id]))
        shown.append("".join(drain(streamer)))
    streamer.end()
    shown[-1] += "".join(drain(streamer))
    return shown


def test_the_first_token_shows_at_once_and_the_text_is_the_decoded_text(tiny: SimpleNamespace) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny.causal_lm)
    ids = tokenizer("Hello there, world of tokens", add_special_tokens=False)["input_ids"]
    shown = pieces_after_each_token(token_streamer(tokenizer, skip_prompt=False, timeout=0), ids)
    assert shown[0] == tokenizer.decode(ids[:1]) != ""
    for count in range(1, len(ids) + 1):
        assert "".join(shown[:count]) == tokenizer.decode(ids[:count])
    # transformers' own streamer shows nothing until a space follows a word: a token later.
    words = pieces_after_each_token(TextIteratorStreamer(tokenizer, timeout=0), ids)
    assert words[0] == "" and "".join(words) == "".join(shown)


def test_a_character_split_over_tokens_shows_only_when_whole(tiny: SimpleNamespace) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny.causal_lm)
    ids = tokenizer("ok 🙂", add_special_tokens=False)["input_ids"]
    prefix = tokenizer("ok", add_special_tokens=False)["input_ids"]
    assert len(ids) - len(prefix) >= 2, "the fixture tokenizer should split the emoji into byte tokens"
    shown = pieces_after_each_token(token_streamer(tokenizer, skip_prompt=False, timeout=0), ids)
    assert all("\ufffd" not in piece for piece in shown)
    assert "".join(shown) == "ok 🙂"
    assert shown[-1].endswith("🙂")
