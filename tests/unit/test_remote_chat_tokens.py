"""Token probabilities for remote chat (source: openai): the final update's visual carries
`token_probabilities`, the server's logprobs exponentiated, as local chat's does; the raw output
stays the reply string; a server that refuses logprobs still answers, without them."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from studio.config import parse_config
from studio.models.manager import ModelManager
from studio.studio import Studio
from tests.fixtures.engine import CHAT_TOKENS, STUB_REQUESTS, stub_server

MESSAGE = {"message": "What is the capital of Japan?", "history": [], "max_new_tokens": 8}


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    with stub_server() as url:
        yield url


def chat_studio(base_url: str) -> Studio:
    entry = {"id": "remote-chat", "label": "remote chat", "source": "openai", "base_url": base_url, "model": "stub"}
    return Studio(parse_config({"tasks": {"chat": {"models": [entry]}}}), ModelManager())


def test_remote_chat_tokens_are_the_servers_logprobs_exponentiated(stub: str) -> None:
    STUB_REQUESTS.clear()
    updates = list(chat_studio(f"{stub}/chat/v1").stream("chat", "remote-chat", MESSAGE))
    final = updates[-1]
    assert final.output == "Tokyo."  # the raw output (API, MCP) is the reply string alone
    assert all("token_probabilities" not in (update.visual or {}) for update in updates[:-1])
    tokens = final.visual["token_probabilities"]
    assert [token["token"] for token in tokens] == [token for token, *_ in CHAT_TOKENS]
    for token, (_, logprob, top) in zip(tokens, CHAT_TOKENS):
        assert token["probability"] == pytest.approx(math.exp(logprob), rel=1e-5)
        best = sorted(top.items(), key=lambda pair: -pair[1])
        assert [alternative["token"] for alternative in token["top"]] == [name for name, _ in best]
        assert [a["probability"] for a in token["top"]] == pytest.approx([math.exp(v) for _, v in best], rel=1e-5)
    [sent] = STUB_REQUESTS
    assert sent["logprobs"] is True and sent["top_logprobs"] == 5 and sent["stream"] is True
    assert sent["messages"][-1] == {"role": "user", "content": MESSAGE["message"]}


def test_a_server_that_refuses_logprobs_still_answers_without_tokens(stub: str) -> None:
    STUB_REQUESTS.clear()
    updates = list(chat_studio(f"{stub}/nologprobs/v1").stream("chat", "remote-chat", MESSAGE))
    assert updates[-1].output == "Tokyo."
    assert all("token_probabilities" not in (update.visual or {}) for update in updates)
    asked, again = STUB_REQUESTS  # refused with 400, then asked again without logprobs
    assert asked["logprobs"] is True and asked["top_logprobs"] == 5
    assert "logprobs" not in again and "top_logprobs" not in again
    assert again["messages"] == asked["messages"] and again["max_tokens"] == asked["max_tokens"] == 8
    assert not [notice for update in updates for notice in update.notices]  # chat: nothing to apologise for


def test_other_refusals_keep_their_sentence(stub: str) -> None:
    from studio.errors import UserError

    STUB_REQUESTS.clear()
    with pytest.raises(UserError, match=r"refused the key \(401\)"):
        chat_studio(f"{stub}/s401/v1").run("chat", "remote-chat", MESSAGE)
