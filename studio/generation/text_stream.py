"""Streamed text, token by token: the first token shows as soon as it is generated.

transformers' TextIteratorStreamer holds text back until a word is complete (a space
follows), so the first word of a reply reached the page one or more tokens late, the
largest part of the time to first token above generate() itself. `token_streamer` hands on
all decoded text at once, holding back only an incomplete character (a multi-byte
character split over tokens decodes to U+FFFD until its last byte comes). The final update
of a run is decoded from all its tokens, so text the tokenizer would tidy later (spaces
before punctuation) is right at the end either way.
"""

from __future__ import annotations

import functools
import queue
from collections.abc import Iterator
from typing import Any, cast

INCOMPLETE = "\ufffd"


@functools.cache
def _streamer_class() -> type:
    from transformers import TextIteratorStreamer

    class TokenStreamer(TextIteratorStreamer):
        """A TextIteratorStreamer that passes on each token's text at once."""

        def put(self, value: Any) -> None:
            if len(value.shape) > 1:
                value = value[0]
            if self.skip_prompt and self.next_tokens_are_prompt:
                self.next_tokens_are_prompt = False
                return
            self.token_cache.extend(value.tolist())
            # one flat list of ids decodes to one str (a list of lists would give list[str])
            text = cast(str, self.tokenizer.decode(self.token_cache, **self.decode_kwargs))
            if text.endswith(INCOMPLETE) or len(text) <= self.print_len:
                return
            printable, self.print_len = text[self.print_len :], len(text)
            if text.endswith("\n"):  # a finished line: start the next decode afresh (cheaper), as transformers does
                self.token_cache, self.print_len = [], 0
            self.on_finalized_text(printable)

    return TokenStreamer


def token_streamer(tokenizer: Any, skip_prompt: bool = True, timeout: float | None = None, **decode_kwargs: Any) -> Any:
    """A streamer for generate() (or fed by hand with put/end) whose iterator yields text pieces
    token by token; `timeout` as TextIteratorStreamer's (queue.Empty when nothing came)."""
    return _streamer_class()(tokenizer, skip_prompt=skip_prompt, timeout=timeout, **decode_kwargs)


def drain(streamer: Any) -> Iterator[str]:
    """The text pieces a streamer made with timeout=0 holds now (it waits for nothing)."""
    while True:
        try:
            yield next(streamer)
        except (queue.Empty, StopIteration):
            return
