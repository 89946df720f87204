"""The six text tasks through the running app (gradio_client, by parameter name).

Pipeline-backed tasks (token-classification, fill-mask, zero-shot-classification) are
compared with `transformers.pipeline` on the same tiny model; the tasks whose pipelines
transformers 5 removed (question-answering, summarization, translation) with a short
reference written here from the model classes. Every "Show code" snippet is executed and
must give the app's raw output.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gradio_client.exceptions import AppError
from pytest import approx

from studio.config import load_config
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from tests.helpers import run_snippet

NER_TEXT = "John Zurichson went to Paris to work for Google in Berlin."
QA_CONTEXT = "John lives in Paris and works for Google. Mary lives in London and works at the bank."
LONG_QA_CONTEXT = " ".join(
    f"Day {n}: the weather in {city} was {mood} and {name} went to the {place}."
    for n, (city, mood, name, place) in enumerate(
        [
            ("Paris", "good", "John", "park"),
            ("London", "bad", "Mary", "office"),
            ("Berlin", "wonderful", "Alice", "university"),
            ("Rome", "terrible", "Bob", "hospital"),
        ]
        * 6
    )
)


@functools.cache
def pipe(task: str, model: str):
    from transformers import pipeline

    return pipeline(task, model=model)


@functools.cache
def seq2seq(model: str):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(model), AutoModelForSeq2SeqLM.from_pretrained(model).eval()


def call(client, api_name: str, **inputs: Any) -> Any:
    """The raw output (the last output) of an endpoint."""
    return client.predict(**inputs, api_name=f"/{api_name}")[-1]


def assert_same_items(got: list[dict], want: list[dict], tolerance: float = 1e-5) -> None:
    """Same keys and values in the same order; floats within tolerance."""
    assert len(got) == len(want)
    for item, expected in zip(got, want):
        assert list(item) == list(expected)
        for key, value in expected.items():
            if isinstance(value, float):
                assert item[key] == approx(value, abs=tolerance), key
            else:
                assert item[key] == value, key


# ------------------------------------------------------------------------ token classification
@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_token_classification_matches_pipeline(client, tiny: SimpleNamespace, strategy: str) -> None:
    raw = call(client, "token_classification", model=tiny.ner_tagger, text=NER_TEXT, aggregation_strategy=strategy)
    extra = {} if strategy == "none" else {"stride": 32}
    want = pipe("token-classification", tiny.ner_tagger)(NER_TEXT, aggregation_strategy=strategy, **extra)
    key = "entity" if strategy == "none" else "entity_group"
    assert_same_items(
        raw,
        [
            {key: e[key], "score": float(e["score"]), "word": e["word"], "start": e["start"], "end": e["end"]}
            for e in want
        ],
    )
    assert raw, "the tiny tagger tags something in this text"
    if strategy == "none":  # "Zurichson" is split into sub-words, each tagged
        assert any(item["word"].startswith("##") for item in raw)
    if strategy in {"first", "average", "max"}:  # whole words: one tag per word
        assert not any(item["word"].startswith("##") for item in raw)
        assert "zurichson" in [item["word"] for item in raw]


def test_token_classification_table_lists_the_entities(client, tiny: SimpleNamespace) -> None:
    table, raw = client.predict(
        model=tiny.ner_tagger, text=NER_TEXT, aggregation_strategy="average", api_name="/token_classification"
    )
    assert table["headers"] == ["entity", "type", "score", "start", "end"]
    assert [(row[0], row[1], row[3], row[4]) for row in table["data"]] == [
        (e["word"], e["entity_group"], e["start"], e["end"]) for e in raw
    ]


def test_token_classification_tags_a_long_text_in_windows(client, tiny: SimpleNamespace) -> None:
    text = " ".join(["John went to Paris to work for Google."] * 40)  # ~400 tokens, the model reads 128
    grouped = call(client, "token_classification", model=tiny.ner_tagger, text=text, aggregation_strategy="simple")
    want = pipe("token-classification", tiny.ner_tagger)(text, aggregation_strategy="simple", stride=32)
    assert [(e["start"], e["end"], e["entity_group"]) for e in grouped] == [
        (e["start"], e["end"], e["entity_group"]) for e in want
    ]
    assert max(e["end"] for e in grouped) > 0.9 * len(text)  # the end of the text was tagged too
    per_token = call(client, "token_classification", model=tiny.ner_tagger, text=text, aggregation_strategy="none")
    assert max(e["end"] for e in per_token) < 0.5 * len(text)  # "none" reads only the first window


# ------------------------------------------------------------------------- question answering
def reference_answers(model_path: str, question: str, context: str, top_k: int, max_answer_len: int, no_answer: bool):
    """Span search written from its definition: every window alone, every span by loops."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForQuestionAnswering.from_pretrained(model_path).eval()
    max_length = min(384, tokenizer.model_max_length, model.config.max_position_embeddings)
    question_length = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    stride = min(128, max_length // 2, (max_length - question_length - 3) // 2)
    enc = tokenizer(
        question,
        context,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    answers: dict[tuple[int, int], float] = {}
    null_scores = []
    for w in range(len(enc["input_ids"])):
        inputs = {name: torch.tensor([enc[name][w]]) for name in ("input_ids", "token_type_ids", "attention_mask")}
        with torch.no_grad():
            output = model(**inputs)
        context_tokens = [i for i, sid in enumerate(enc.sequence_ids(w)) if sid == 1]
        allowed = [0, *context_tokens]  # [CLS] (position 0) and the context share the softmax
        p_start = dict(zip(allowed, torch.softmax(output.start_logits[0, allowed].double(), 0).tolist()))
        p_end = dict(zip(allowed, torch.softmax(output.end_logits[0, allowed].double(), 0).tolist()))
        null_scores.append(p_start[0] * p_end[0])
        words = enc.word_ids(w)
        for s in context_tokens:
            for e in context_tokens:
                if s <= e < s + max_answer_len:
                    span = (
                        enc.word_to_chars(w, words[s], sequence_index=1).start,
                        enc.word_to_chars(w, words[e], sequence_index=1).end,
                    )
                    answers[span] = max(answers.get(span, 0.0), p_start[s] * p_end[e])
    if no_answer:
        answers[0, 0] = min(null_scores)
    ranked = sorted(answers.items(), key=lambda item: -item[1])[:top_k]
    result = [{"answer": context[s:e], "score": score, "start": s, "end": e} for (s, e), score in ranked]
    return result, len(enc["input_ids"])


@pytest.mark.parametrize(
    ("question", "context", "top_k", "max_answer_len", "no_answer", "windows"),
    [
        ("Where does John live?", QA_CONTEXT, 3, 15, False, 1),
        ("Who works at the bank?", QA_CONTEXT, 5, 4, True, 1),
        ("Where did Alice go?", LONG_QA_CONTEXT, 4, 10, False, 3),
        ("What was the weather in Rome?", LONG_QA_CONTEXT, 3, 15, True, 3),
    ],
)
def test_question_answering_matches_the_span_search(
    client, tiny: SimpleNamespace, question, context, top_k, max_answer_len, no_answer, windows
) -> None:
    raw = call(
        client,
        "question_answering",
        model=tiny.qa_bert,
        question=question,
        context=context,
        top_k=top_k,
        max_answer_len=max_answer_len,
        handle_impossible_answer=no_answer,
    )
    want, window_count = reference_answers(tiny.qa_bert, question, context, top_k, max_answer_len, no_answer)
    assert window_count >= windows  # the long context really spans several windows
    assert_same_items(raw, want, tolerance=1e-6)
    for item in raw:
        assert context[item["start"] : item["end"]] == item["answer"]


def test_question_answering_table_shows_every_answer(client, tiny: SimpleNamespace) -> None:
    table, raw = client.predict(
        model=tiny.qa_bert,
        question="Where does John live?",
        context=QA_CONTEXT,
        top_k=3,
        max_answer_len=15,
        handle_impossible_answer=False,
        api_name="/question_answering",
    )
    assert [row[0] for row in table["data"]] == [item["answer"] for item in raw]


# ------------------------------------------------------------------------------ summarization
def reference_generate(model_path: str, source: str, **generation: Any) -> str:
    import torch

    tokenizer, model = seq2seq(model_path)
    inputs = tokenizer(source, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, **generation)
    return tokenizer.decode(output[0], skip_special_tokens=True)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_new_tokens": 12, "num_beams": 1, "min_new_tokens": 0, "length_penalty": 1.0, "no_repeat_ngram_size": 0},
        {"max_new_tokens": 14, "num_beams": 3, "min_new_tokens": 8, "length_penalty": 1.5, "no_repeat_ngram_size": 2},
    ],
)
def test_summarization_matches_generate(client, tiny: SimpleNamespace, settings: dict) -> None:
    text = "The movie was great and the music was wonderful. The food was good but the train was late."
    raw = call(client, "summarization", model=tiny.summarizer_bart, text=text, **settings)
    generation = dict(settings)
    if generation["num_beams"] == 1:
        generation.pop("length_penalty")
    want = reference_generate(tiny.summarizer_bart, text, **generation)
    assert raw == [{"summary_text": want}]
    assert want.strip()


# -------------------------------------------------------------------------------- translation
def test_translation_marian(client, tiny: SimpleNamespace) -> None:
    text = "the weather is good today"
    raw = call(client, "translation", model=tiny.translator_marian, text=text, max_new_tokens=10)
    assert raw == [{"translation_text": reference_generate(tiny.translator_marian, text, max_new_tokens=10)}]


@pytest.mark.parametrize("target", ["German", "French"])
def test_translation_t5_uses_the_task_prefix(client, tiny: SimpleNamespace, target: str) -> None:
    text = "the weather is good today"
    raw = call(
        client,
        "translation",
        model=tiny.translator_t5,
        text=text,
        src_lang="English",
        tgt_lang=target,
        max_new_tokens=10,
    )
    want = reference_generate(tiny.translator_t5, f"translate English to {target}: {text}", max_new_tokens=10)
    assert raw == [{"translation_text": want}]


def reference_mbart(model_path: str, text: str, src: str, tgt: str, max_new_tokens: int) -> str:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, src_lang=src)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_path).eval()
    inputs = tokenizer(text, return_tensors="pt")
    assert inputs["input_ids"][0, -1] == tokenizer.convert_tokens_to_ids(src)  # mBART: "... </s> src_lang"
    with torch.no_grad():
        output = model.generate(
            **inputs, max_new_tokens=max_new_tokens, forced_bos_token_id=tokenizer.convert_tokens_to_ids(tgt)
        )
    return tokenizer.decode(output[0], skip_special_tokens=True)


def test_translation_multilingual_language_codes(client, tiny: SimpleNamespace) -> None:
    text = "the weather is good today"
    outputs = {}
    for src, tgt in [("en_XX", "fr_XX"), ("fr_XX", "de_DE"), ("", "")]:
        raw = call(
            client, "translation", model=tiny.translator_mbart, text=text, src_lang=src, tgt_lang=tgt, max_new_tokens=10
        )
        # Empty codes mean the tokenizer's own defaults (en_XX -> de_DE), even after another pair ran.
        want = reference_mbart(tiny.translator_mbart, text, src or "en_XX", tgt or "de_DE", 10)
        assert raw == [{"translation_text": want}]
        outputs[src, tgt] = want
    assert len(set(outputs.values())) == 3  # the language codes change the translation


def test_translation_languages_come_from_the_tokenizer(tiny: SimpleNamespace, models_yaml: Path) -> None:
    from transformers.models.mbart.tokenization_mbart import FAIRSEQ_LANGUAGE_CODES

    studio = Studio(load_config(models_yaml), ModelManager())

    def languages_of(model: str) -> SimpleNamespace:
        return SimpleNamespace(**studio.facts("translation", model))

    mbart = languages_of(tiny.translator_mbart)
    assert (mbart.kind, mbart.src_lang, mbart.tgt_lang) == ("multilingual", "en_XX", "de_DE")
    assert sorted(mbart.sources) == sorted(FAIRSEQ_LANGUAGE_CODES) == sorted(mbart.targets)
    t5 = languages_of(tiny.translator_t5)
    assert (t5.kind, t5.sources, t5.targets) == ("t5", ("English",), ("German", "French", "Romanian"))
    marian = languages_of(tiny.translator_marian)
    assert marian.kind == "marian"


# ---------------------------------------------------------------------------------- fill-mask
def test_fill_mask_matches_pipeline(client, tiny: SimpleNamespace) -> None:
    text = "The movie was [MASK] and the music was wonderful."
    label, raw = client.predict(model=tiny.fill_mask_bert, text=text, top_k=4, api_name="/fill_mask")
    want = pipe("fill-mask", tiny.fill_mask_bert)(text, top_k=4)
    assert_same_items(
        raw,
        [
            {"token_str": w["token_str"], "score": w["score"], "token": w["token"], "sequence": w["sequence"]}
            for w in want
        ],
        tolerance=1e-6,
    )
    assert label["label"] == want[0]["token_str"]
    # The other usual spelling of the mask is written as this model's.
    assert call(client, "fill_mask", model=tiny.fill_mask_bert, text=text.replace("[MASK]", "<mask>"), top_k=4) == raw


# ------------------------------------------------------------------- zero-shot classification
@pytest.mark.parametrize(("multi_label", "template"), [(False, "This example is {}."), (True, "The text is about {}.")])
def test_zero_shot_matches_pipeline(client, tiny: SimpleNamespace, multi_label: bool, template: str) -> None:
    text = "The team won the match after a great second half."
    raw = call(
        client,
        "zero_shot_classification",
        model=tiny.nli_bert,
        text=text,
        candidate_labels=" sport, politics ,, cinema, sport",
        multi_label=multi_label,
        hypothesis_template=template,
    )
    want = pipe("zero-shot-classification", tiny.nli_bert)(
        text, candidate_labels=["sport", "politics", "cinema"], hypothesis_template=template, multi_label=multi_label
    )
    assert raw["sequence"] == want["sequence"]
    assert raw["labels"] == want["labels"]
    assert raw["scores"] == approx(want["scores"], abs=1e-6)
    if not multi_label:
        assert sum(raw["scores"]) == approx(1.0, abs=1e-5)


# -------------------------------------------------------------------------------- Show code
SNIPPET_CASES = [
    ("token-classification", "ner_tagger", {"text": NER_TEXT, "aggregation_strategy": "first"}),
    ("token-classification", "ner_tagger", {"text": NER_TEXT, "aggregation_strategy": "none"}),
    (
        "question-answering",
        "qa_bert",
        {
            "question": "What was the weather in Rome?",
            "context": LONG_QA_CONTEXT,
            "top_k": 3,
            "max_answer_len": 15,
            "handle_impossible_answer": True,
        },
    ),
    (
        "summarization",
        "summarizer_bart",
        {
            "text": "The movie was great and the music was wonderful.",
            "max_new_tokens": 12,
            "num_beams": 2,
            "min_new_tokens": 2,
            "length_penalty": 0.8,
            "no_repeat_ngram_size": 2,
        },
    ),
    ("translation", "translator_marian", {"text": "good morning", "max_new_tokens": 8}),
    (
        "translation",
        "translator_t5",
        {"text": "good morning", "src_lang": "English", "tgt_lang": "Romanian", "max_new_tokens": 8},
    ),
    (
        "translation",
        "translator_mbart",
        {"text": "good morning", "src_lang": "de_DE", "tgt_lang": "fr_XX", "max_new_tokens": 8},
    ),
    ("fill-mask", "fill_mask_bert", {"text": "The movie was <mask>.", "top_k": 3}),
    (
        "zero-shot-classification",
        "nli_bert",
        {
            "text": "The team won the match.",
            "candidate_labels": "sport, politics",
            "multi_label": True,
            "hypothesis_template": "It is about {}.",
        },
    ),
]


@pytest.mark.parametrize(("task", "model_name", "inputs"), SNIPPET_CASES)
def test_show_code_snippet_reproduces_the_app(
    client, tiny: SimpleNamespace, models_yaml: Path, task: str, model_name: str, inputs: dict
) -> None:
    model = getattr(tiny, model_name)
    code, snippet_result = run_snippet(models_yaml, task, model, inputs)
    assert "pipeline(" in code or "from_pretrained" in code
    if task in {"question-answering", "summarization", "translation"}:
        assert "pipeline(" not in code  # these pipelines are gone in transformers 5: model classes
    raw = call(client, task.replace("-", "_"), model=model, **inputs)
    if isinstance(raw, dict):
        assert snippet_result["labels"] == raw["labels"]
        assert snippet_result["scores"] == approx(raw["scores"], abs=1e-6)
    else:
        assert_same_items(snippet_result, raw, tolerance=1e-6)


# ------------------------------------------------------------------------ notices and errors
def test_long_inputs_are_cut_with_a_notice(tiny: SimpleNamespace, models_yaml: Path) -> None:
    studio = Studio(load_config(models_yaml), ModelManager())
    long_text = "the movie was great and the music was wonderful. " * 40
    summary = studio.run(
        "summarization", tiny.summarizer_bart, {"text": long_text, "max_new_tokens": 5, "num_beams": 1}, ModelSettings()
    )
    assert summary.output[0]["summary_text"]
    assert any("the model reads only the first 128" in notice for notice in summary.notices)
    tags = studio.run(
        "token-classification", tiny.ner_tagger, {"text": long_text, "aggregation_strategy": "none"}, ModelSettings()
    )
    assert any("the model reads only the first 128" in notice for notice in tags.notices)
    masked = studio.run("fill-mask", tiny.fill_mask_bert, {"text": "A <mask> day.", "top_k": 1}, ModelSettings())
    assert masked.notices == ["This model's mask token is [MASK]; the mask in the text was written that way."]


BAD_INPUTS = [
    ("token_classification", "ner_tagger", {"text": "  ", "aggregation_strategy": "simple"}, "Type some text first"),
    ("question_answering", "qa_bert", {"question": " ", "context": QA_CONTEXT}, "Type a question first"),
    ("question_answering", "qa_bert", {"question": "Who?", "context": ""}, "Type a context to find the answer in"),
    ("question_answering", "qa_bert", {"question": "why " * 120, "context": QA_CONTEXT}, "shorten it"),
    ("summarization", "summarizer_bart", {"text": "\n"}, "Type some text to summarize first"),
    (
        "summarization",
        "summarizer_bart",
        {"text": "a b c", "max_new_tokens": 10, "min_new_tokens": 20},
        "min_new_tokens (20) must not exceed max_new_tokens (10).",
    ),
    ("translation", "translator_marian", {"text": ""}, "Type some text to translate first"),
    (
        "translation",
        "translator_t5",
        {"text": "hello", "src_lang": "German", "tgt_lang": "English"},
        "cannot translate German to English; it translates English to German, French or Romanian.",
    ),
    (
        "translation",
        "translator_mbart",
        {"text": "hello", "src_lang": "en_XX", "tgt_lang": "xx_YY"},
        "'xx_YY' is not a language code of tiny translator-mbart; pick the target language from the list",
    ),
    (
        "translation",
        "translator_mbart",
        {"text": "hello", "src_lang": "fr_XX", "tgt_lang": "fr_XX"},
        "The source and target language are both fr_XX; pick two different languages.",
    ),
    (
        "fill_mask",
        "fill_mask_bert",
        {"text": "No mask in here."},
        "Put the mask token [MASK] where the missing word goes: the text has none.",
    ),
    (
        "fill_mask",
        "fill_mask_bert",
        {"text": "Two [MASK] in [MASK]."},
        "Use the mask token [MASK] exactly once: the text has 2.",
    ),
    (
        "zero_shot_classification",
        "nli_bert",
        {"text": "hello", "candidate_labels": ""},
        "Type the candidate labels, separated by commas",
    ),
    (
        "zero_shot_classification",
        "nli_bert",
        {"text": "hello", "candidate_labels": " , ,,"},
        "The labels are all empty; type label names between the commas",
    ),
    (
        "zero_shot_classification",
        "nli_bert",
        {"text": "hello", "candidate_labels": "a, b", "hypothesis_template": "No slot here."},
        "The hypothesis template must contain {} exactly once",
    ),
]


@pytest.mark.parametrize(("api_name", "model_name", "inputs", "message"), BAD_INPUTS)
def test_bad_input_is_one_clear_sentence(
    client, tiny: SimpleNamespace, api_name: str, model_name: str, inputs: dict, message: str
) -> None:
    with pytest.raises(AppError) as caught:
        client.predict(model=getattr(tiny, model_name), **inputs, api_name=f"/{api_name}")
    shown = str(caught.value)
    assert message in shown
    assert "Traceback" not in shown and "\n" not in shown
    assert shown.endswith(".") and shown.replace("e.g. ", "").count(". ") == 0  # one sentence


def test_server_keeps_serving_after_bad_input(client, tiny: SimpleNamespace) -> None:
    for text in ["no mask", "[MASK] [MASK]", " "]:
        with pytest.raises(AppError):
            client.predict(model=tiny.fill_mask_bert, text=text, top_k=2, api_name="/fill_mask")
    raw = call(client, "fill_mask", model=tiny.fill_mask_bert, text="a [MASK] day", top_k=2)
    assert len(raw) == 2 and raw[0]["score"] >= raw[1]["score"]
