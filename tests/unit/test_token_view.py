"""Token probabilities as the page shows them: components/token_view.py's HTML (escaping, visible
whitespace, shading, the 5 alternatives), and chat's tokens (page only) against transformers.

Text generation's tokens are compared with generate(output_scores=True) in
tests/api/test_token_probabilities.py; chat records them the same way, checked here on the
chat-templated input.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from components.token_view import percent, shade, token_html


def item(token: str, probability: float, top: list[tuple[str, float]] | None = None) -> dict:
    top = top if top is not None else [(token, probability), ("b", 0.1), ("c", 0.05), ("d", 0.02), ("e", 0.01)]
    return {"token": token, "probability": probability, "top": [{"token": t, "probability": p} for t, p in top]}


class Spans(HTMLParser):
    """The page's token spans: each one's text, style, tabindex and its tooltip's table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[dict] = []
        self.depth: list[str] = []  # the class of each open element
        self.row: list[str] | None = None
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        if classes == "token":
            self.tokens.append({**attributes, "text": "", "tip": "", "rows": []})
        if tag == "tr":
            self.row = []
        self.depth.append(classes)

    def handle_endtag(self, tag: str) -> None:
        self.depth.pop()
        if tag == "tr" and self.row is not None:
            self.tokens[-1]["rows"].append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if "token-tip" in self.depth:
            self.tokens[-1]["tip"] += data
            if self.row is not None:
                self.row.append(data)
        elif "token" in self.depth:
            self.tokens[-1]["text"] += data


def parsed(html: str) -> Spans:
    spans = Spans()
    spans.feed(html)
    spans.close()
    return spans


def test_each_token_is_a_focusable_shaded_span_with_its_five_alternatives() -> None:
    tokens = [item("The", 0.9), item(" cat", 0.3), item(" sat", 0.01)]
    spans = parsed(token_html([tokens])).tokens
    assert [span["text"] for span in spans] == ["The", " cat", " sat"]
    assert all(span["tabindex"] == "0" for span in spans)  # a tap or Tab focuses it: the tooltip shows
    shades = [float(re.search(r"--shade:([\d.]+)", span["style"]).group(1)) for span in spans]
    assert shades[0] < shades[1] < shades[2], "the less likely, the stronger the tint"
    first = spans[0]
    assert len(first["rows"]) == 5
    assert first["rows"][0] == ["The", "90.0%"] and first["rows"][1] == ["b", "10.0%"]
    assert "90.0%" in first["tip"]


def test_every_token_is_escaped_and_cannot_reach_a_template() -> None:
    evil = ["<script>alert(1)</script>", "${value}", "{{value}}", "a & b", '"quoted"', "`tick`\\"]
    html = token_html([[item(token, 0.5, [(token, 0.5)]) for token in evil]])
    assert "<script" not in html and "${" not in html and "{{" not in html.split("</style>")[1]
    spans = parsed(html)
    assert spans.tags <= {"div", "style", "p", "span", "b", "table", "tr", "td"}
    assert [span["text"] for span in spans.tokens] == evil  # shown as written
    assert [span["rows"][0][0] for span in spans.tokens] == [token.replace(" ", "␣") for token in evil]


def test_whitespace_tokens_are_visible() -> None:
    tokens = [item("Hi", 0.5), item(" ", 0.5), item("\n", 0.5), item("\t", 0.5), item("a\nb", 0.5), item("", 0.5)]
    spans = parsed(token_html([tokens])).tokens
    assert [span["text"] for span in spans] == ["Hi", "␣", "↵\n", "⇥", "a↵\nb", "∅"]
    alternatives = parsed(token_html([[item("x", 0.5, [(" the", 0.3), ("\n", 0.2)])]])).tokens[0]["rows"]
    assert [row[0] for row in alternatives] == ["␣the", "↵"]


def test_several_sequences_are_titled_and_nothing_shows_before_the_tokens() -> None:
    html = token_html([[item("a", 0.5)], [item("b", 0.5)]])
    assert "Sequence 1" in html and "Sequence 2" in html
    assert "Sequence" not in token_html([[item("a", 0.5)]])
    assert token_html(None) == token_html([]) == token_html([None]) == token_html([[]]) == ""


@pytest.mark.parametrize(
    ("probability", "shown"),
    [(1.0, "100.0%"), (0.831, "83.1%"), (0.02349, "2.35%"), (0.0012, "0.12%"), (0.0, "0%"), (1e-9, "<0.0001%")],
)
def test_probabilities_read_as_percentages(probability: float, shown: str) -> None:
    assert percent(probability) == shown


def test_shade_stays_within_its_bounds() -> None:
    assert 0 < shade(1.0) < shade(0.5) < shade(0.0) < 1
    assert shade(-1) == shade(0.0) and shade(2) == shade(1.0)


# ------------------------------------------------------------------ chat's tokens, against transformers

MESSAGES = [{"role": "user", "content": "what is the weather"}]


@pytest.fixture(scope="module")
def studio(models_yaml):
    from studio.config import load_config
    from studio.models.manager import ModelManager
    from studio.studio import Studio

    return Studio(load_config(models_yaml), ModelManager())


def chat_reference(model_path: str, seed: int, **kwargs) -> SimpleNamespace:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    batch = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_dict=True, return_tensors="pt")
    torch.manual_seed(seed)
    with torch.inference_mode():
        output = model.generate(**batch, **kwargs, output_scores=True, return_dict_in_generate=True)
    new = output.sequences[0, batch["input_ids"].shape[-1] :].tolist()
    return SimpleNamespace(tokenizer=tokenizer, model=model, scores=output.scores, new=new)


CHAT_CASES = {
    "greedy": ({"strategy": "greedy"}, {"do_sample": False}),
    "sample": (
        {"strategy": "sample", "temperature": 0.8, "top_k": 30, "top_p": 0.9},
        {"do_sample": True, "temperature": 0.8, "top_k": 30, "top_p": 0.9},
    ),
}


@pytest.mark.parametrize("case", list(CHAT_CASES))
def test_chat_tokens_are_softmax_of_generates_scores_and_stay_off_the_raw_output(
    studio, tiny: SimpleNamespace, case: str
) -> None:
    import torch

    inputs, kwargs = CHAT_CASES[case]
    request = {"message": MESSAGES[0]["content"], "system_prompt": "", "max_new_tokens": 16, "seed": 11, **inputs}
    *partials, final = studio.stream("chat", tiny.chat_lm, request)
    want = chat_reference(tiny.chat_lm, seed=11, max_new_tokens=16, **kwargs)
    assert isinstance(final.output, str)  # the API's value: the reply alone
    assert final.output == want.tokenizer.decode(want.new, skip_special_tokens=True).strip()
    assert all("token_probabilities" not in (update.visual or {}) for update in partials)
    assert isinstance(final.visual["tokens"], int)  # the live figures' count stays
    tokens = final.visual["token_probabilities"]
    ends = set(want.model.generation_config.eos_token_id)
    length = next((step + 1 for step, token in enumerate(want.new) if token in ends), len(want.new))
    assert len(tokens) == length > 0
    for step, token in enumerate(tokens):
        probabilities = torch.softmax(want.scores[step][0].float(), dim=-1)
        assert token["token"] == want.tokenizer.decode([want.new[step]])
        assert token["probability"] == pytest.approx(float(probabilities[want.new[step]]), rel=1e-5, abs=1e-9)
        top = probabilities.topk(5)
        assert [alternative["token"] for alternative in token["top"]] == [
            want.tokenizer.decode([i]) for i in top.indices
        ]
        assert [alternative["probability"] for alternative in token["top"]] == pytest.approx(
            top.values.tolist(), rel=1e-5, abs=1e-9
        )


def test_chat_tokens_end_where_the_reply_is_cut() -> None:
    from studio.adapters.generate import reply, reply_tokens

    tokens = [item(" Hello", 0.5), item(" there", 0.5), item("\n", 0.5), item("User", 0.5), item(":", 0.5)]
    text = "".join(token["token"] for token in tokens)
    assert reply(text, ("\nUser:",)) == "Hello there"
    assert [token["token"] for token in reply_tokens(tokens, text, ("\nUser:",))] == [" Hello", " there"]
    assert reply_tokens(tokens, text, ()) == tokens
