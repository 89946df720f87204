"""Adapters called directly with tiny models: notices and limits."""

from __future__ import annotations

from types import SimpleNamespace

from studio.adapters.text import MAX_SENTENCES, feature_extraction, text_classification
from studio.config import ModelEntry
from studio.errors import collect_notices
from studio.models.manager import ModelManager


def test_long_text_is_truncated_with_a_notice(tiny: SimpleNamespace) -> None:
    loaded = ModelManager().get(ModelEntry(id=tiny.text_classifier, source="local"), "text-classification")
    with collect_notices() as notices:
        result = text_classification(loaded, "good news " * 30_000, top_k=2)
    assert len(result) == 2
    assert any("only the first 50,000 were used" in notice for notice in notices)
    assert any("the model reads only the first 128" in notice for notice in notices)


def test_too_many_sentences_are_cut_with_a_notice(tiny: SimpleNamespace) -> None:
    loaded = ModelManager().get(ModelEntry(id=tiny.sentence_embedder, source="local"), "feature-extraction")
    lines = "\n".join(f"sentence number {i}" for i in range(MAX_SENTENCES + 5))
    with collect_notices() as notices:
        result = feature_extraction(loaded, "sentence", lines)
    assert len(result) == MAX_SENTENCES
    assert notices == [f"Only the first {MAX_SENTENCES} of {MAX_SENTENCES + 5} sentences were compared."]
