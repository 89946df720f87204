"""ModelManager's memory budget and its tokenizer entries (the tabs' tokenizer facts)."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from types import SimpleNamespace

import psutil
import pytest

from studio.config import ModelEntry
from studio.models.loading import TOKENIZER_TASK
from studio.models.manager import ModelManager


def local(path: str, **fields: object) -> ModelEntry:
    return ModelEntry(id=path, source="local", **fields)


def sizes(tiny: SimpleNamespace) -> dict[str, int]:
    """num_bytes of three tiny models, measured once with an unbounded cache."""
    manager = ModelManager(max_models=10, memory_budget=2**62)
    return {
        "a": manager.get(local(tiny.text_classifier), "text-classification").num_bytes,
        "b": manager.get(local(tiny.sentence_embedder), "feature-extraction").num_bytes,
        "c": manager.get(local(tiny.ner_tagger), "token-classification").num_bytes,
    }


def test_default_budget_is_half_the_machines_memory() -> None:
    manager = ModelManager()
    assert manager.memory_budget == psutil.virtual_memory().total // 2
    assert ModelManager(memory_budget=123).memory_budget == 123


def test_budget_unloads_the_least_recently_used_and_frees_it(tiny: SimpleNamespace) -> None:
    size = sizes(tiny)
    assert all(size.values())
    manager = ModelManager(max_models=10, memory_budget=sum(size.values()) - 1)
    a, b, c = local(tiny.text_classifier), local(tiny.sentence_embedder), local(tiny.ner_tagger)
    manager.get(a, "text-classification")
    loaded_b = manager.get(b, "feature-extraction")
    model_b = weakref.ref(loaded_b.model)
    del loaded_b
    manager.get(a, "text-classification")  # a is now more recently used than b
    manager.get(c, "token-classification")  # a + b + c is over budget: b goes
    gc.collect()
    assert [loaded.entry.id for loaded in manager.loaded()] == [c.id, a.id]
    assert manager.loaded_bytes() == size["a"] + size["c"] <= manager.memory_budget
    assert model_b() is None, "the model unloaded for the budget is still referenced somewhere"


def test_a_model_alone_over_budget_is_kept_with_a_warning(
    tiny: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    manager = ModelManager(max_models=10, memory_budget=1)
    entry = local(tiny.text_classifier)
    with caplog.at_level(logging.WARNING, logger="studio.models"):
        loaded = manager.get(entry, "text-classification")
    assert manager.loaded() == [loaded]
    assert "over the memory budget" in caplog.text
    assert manager.get(entry, "text-classification") is loaded and manager.load_count == 1


def test_tokenizer_is_cached_listed_and_unloadable(tiny: SimpleNamespace) -> None:
    manager = ModelManager(max_models=1, memory_budget=1)
    model_entry = local(tiny.text_classifier)
    mask_entry = local(tiny.fill_mask_bert)
    model = manager.get(model_entry, "text-classification")
    tokenizer = manager.tokenizer(mask_entry)
    assert tokenizer is not None and tokenizer.mask_token == "[MASK]"
    assert manager.tokenizer(mask_entry) is tokenizer and manager.tokenizer_load_count == 1
    # A tokenizer is not a model: it neither counts towards max_models nor pushes the model out.
    listed = manager.loaded()
    assert [(m.entry.id, m.task) for m in listed] == [(mask_entry.id, TOKENIZER_TASK), (model_entry.id, model.task)]
    assert listed[0].num_bytes == 0 and listed[0].tokenizer is tokenizer
    assert manager.load_count == 1
    ref = weakref.ref(tokenizer)
    del tokenizer, listed
    assert manager.unload(mask_entry.id) == 1
    gc.collect()
    assert ref() is None, "the unloaded tokenizer is still referenced somewhere"
    assert [m.entry.id for m in manager.loaded()] == [model_entry.id]


def test_loading_a_model_after_tokenizers_keeps_them_out_of_the_count(tiny: SimpleNamespace) -> None:
    manager = ModelManager(max_models=1)
    manager.tokenizer(local(tiny.fill_mask_bert))
    manager.tokenizer(local(tiny.translator_mbart))
    manager.get(local(tiny.text_classifier), "text-classification")
    assert sorted(m.task for m in manager.loaded()) == ["text-classification", TOKENIZER_TASK, TOKENIZER_TASK]


def test_tokenizers_are_bounded_on_their_own(tiny: SimpleNamespace) -> None:
    manager = ModelManager()
    manager.max_tokenizers = 1
    manager.tokenizer(local(tiny.fill_mask_bert))
    manager.tokenizer(local(tiny.translator_mbart))
    assert [m.entry.id for m in manager.loaded()] == [tiny.translator_mbart]


def test_racing_tokenizer_requests_load_once(tiny: SimpleNamespace) -> None:
    manager = ModelManager()
    entry = local(tiny.fill_mask_bert)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def request() -> None:
        barrier.wait()
        results.append(manager.tokenizer(entry))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 8 and results[0] is not None
    assert all(result is results[0] for result in results)
    assert manager.tokenizer_load_count == 1


def test_tokenizer_is_none_when_not_on_this_machine_or_unreadable(
    tiny: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    manager = ModelManager()
    assert manager.tokenizer(ModelEntry(id="someone/not-a-cached-model")) is None
    with caplog.at_level(logging.INFO, logger="studio.models"):
        assert manager.tokenizer(local(tiny.vit)) is None  # an image model: no tokenizer to read
    assert "No tokenizer for" in caplog.text
    assert manager.loaded() == []
