"""ModelManager: loads models on first use, caches them, and frees them again.

The cache is keyed by (id, revision, task, dtype, quantization, device), bounded by a
count (max_models) and a memory budget (half of this machine's memory by default), and
evicts the least recently used model. Concurrent requests for one key load it once.
Tokenizers read for the tabs' facts (mask token, languages) live in the same cache with
task "tokenizer", so the Loaded models panel sees and unloads them too. Loading itself
is in studio/models/loading.py (re-exported here); see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.config import ModelEntry
from studio.errors import UserError
from studio.generation.continuous import stop_engine
from studio.models.gguf import packaged_gguf_source
from studio.models.loading import (
    TOKENIZER_TASK,
    LoadedModel,
    explain_load_error,
    is_cached,
    load_model,
    load_tokenizer,
)
from studio.models.settings import ModelSettings
from studio.results import ProgressCallback
from studio.serving.batching import Batchers
from studio.tasks.table import TASKS
from studio.tasks.task import Task

log = logging.getLogger(__name__)
# transformers' lazy imports race when two threads load new model types at once ("module
# 'transformers' has no attribute ..."); loads run one at a time (requests on loaded models do not wait).
_ONE_LOAD_AT_A_TIME = threading.Lock()

GB = 2**30


@dataclass(frozen=True)
class CacheKey:
    model_id: str
    revision: str | None
    task: str
    dtype: str
    quantization: str
    device: str


def default_memory_budget() -> int:
    """Half of this machine's memory: room for the app, the OS and a training run."""
    import psutil

    return psutil.virtual_memory().total // 2


class ModelManager:
    """Lazy loading, a bounded LRU cache, and one load per key when requests race.

    max_models bounds how many models (not tokenizers) stay loaded. memory_budget (bytes;
    None means half of this machine's memory) bounds the sum of their num_bytes: after each
    load, least recently used models are unloaded until both bounds hold. The model just
    requested is never unloaded; when it alone is over budget it stays, with a warning.
    Tokenizer entries count as ~0 bytes, never push models out, and are bounded on their
    own by max_tokenizers.
    """

    max_tokenizers = 32

    def __init__(
        self,
        max_models: int = 3,
        memory_budget: int | None = None,
        batch_window_ms: float = 5.0,
        max_batch_size: int = 16,
    ) -> None:
        self.max_models = max(1, max_models)
        # Dynamic batching of encoder tasks (studio/serving/batching.py); max_batch_size 1 turns it off.
        self.batch_window_ms = batch_window_ms
        self.max_batch_size = max_batch_size
        self.memory_budget = default_memory_budget() if memory_budget is None else memory_budget
        self._cache: OrderedDict[CacheKey, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[CacheKey, threading.Lock] = {}
        self.load_count = 0
        self.tokenizer_load_count = 0

    @staticmethod
    def key(entry: ModelEntry, task: Task | str, settings: ModelSettings) -> CacheKey:
        task_id = task if isinstance(task, str) else task.id
        return CacheKey(entry.id, entry.revision, task_id, settings.dtype, settings.quantization, settings.device)

    def get(
        self,
        entry: ModelEntry,
        task: Task | str,
        settings: ModelSettings | None = None,
        progress: ProgressCallback | None = None,
    ) -> LoadedModel:
        """The loaded model for this entry, task and settings; loads it on first use."""
        task = TASKS[task] if isinstance(task, str) else task
        settings = settings or ModelSettings()
        return self._cached(self.key(entry, task, settings), lambda: self._load(entry, task, settings, progress))

    def tokenizer(self, entry: ModelEntry) -> Any | None:
        """The entry's AutoTokenizer alone (no weights), cached with task "tokenizer".

        None when the model is not on this machine (is_cached) or its tokenizer cannot be
        read: a tab must not fail because of a tokenizer fact.
        """
        if not is_cached(entry):
            return None
        key = self.key(entry, TOKENIZER_TASK, ModelSettings())
        try:
            return self._cached(key, lambda: self._load_tokenizer(entry)).processor
        except Exception as exc:
            log.info("No tokenizer for %s: %s", entry.id, exc)
            return None

    def loaded(self) -> list[LoadedModel]:
        """What is in memory, most recently used first (tokenizers included)."""
        with self._lock:
            return list(reversed(self._cache.values()))

    def loaded_bytes(self) -> int:
        """The sum of num_bytes over everything loaded: what memory_budget bounds."""
        with self._lock:
            return sum(m.num_bytes for m in self._cache.values())

    def unload(self, model_id: str | None = None) -> int:
        """Unload one model id (all its tasks, settings and its tokenizer), or everything; returns how many."""
        with self._lock:
            keys = [k for k in self._cache if model_id is None or k.model_id == model_id]
            for key in keys:
                self._drop(key)
        _free_memory()
        return len(keys)

    def _cached(self, key: CacheKey, load: Callable[[], LoadedModel]) -> LoadedModel:
        with self._lock:
            if key in self._cache:
                return self._touch(key)
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._cache:
                    return self._touch(key)
            try:
                with _ONE_LOAD_AT_A_TIME:
                    loaded = load()
            except BaseException:
                with self._lock:
                    self._loading.pop(key, None)
                raise
            with self._lock:
                self._cache[key] = loaded
                self._loading.pop(key, None)
                evicted = self._evict(keep=key)
        if evicted:
            _free_memory()
        return loaded

    def _drop(self, key: CacheKey) -> None:
        """Forget one entry (lock held); its continuous batching loop is told to end now, not at
        the next garbage collection (its in-flight requests are cancelled)."""
        loaded = self._cache.pop(key)
        if loaded.model is not None:
            stop_engine(loaded.model, timeout=0)

    def _touch(self, key: CacheKey) -> LoadedModel:
        self._cache.move_to_end(key)
        loaded = self._cache[key]
        loaded.last_used = time.monotonic()
        return loaded

    def _evict(self, keep: CacheKey) -> int:
        """Drop least recently used entries until the bounds hold (lock held); returns how many."""
        evicted = 0
        while True:
            # Remote connections (studio/models/remote.py) hold no weights: they never push a model out.
            models = [k for k in self._cache if k.task != TOKENIZER_TASK and self._cache[k].device != "remote"]
            tokenizers = [k for k in self._cache if k.task == TOKENIZER_TASK]
            total = sum(self._cache[k].num_bytes for k in models)
            over_budget = total > self.memory_budget
            if keep.task != TOKENIZER_TASK and (len(models) > self.max_models or over_budget):
                candidates = [k for k in models if k != keep]
                if not candidates:
                    log.warning(
                        "%s (%s) alone takes %.2f GB, over the memory budget of %.2f GB; keeping it loaded",
                        keep.model_id,
                        keep.task,
                        total / GB,
                        self.memory_budget / GB,
                    )
                    break
            elif len(tokenizers) > self.max_tokenizers:
                candidates = [k for k in tokenizers if k != keep]
            else:
                break
            oldest = candidates[0]
            log.info("Unloading %s (%s) to stay within the cache bounds", oldest.model_id, oldest.task)
            self._drop(oldest)
            evicted += 1
        return evicted

    def _load(
        self, entry: ModelEntry, task: Task, settings: ModelSettings, progress: ProgressCallback | None
    ) -> LoadedModel:
        if progress:
            progress(0.0, f"Loading {entry.display_name}…")
        started = time.perf_counter()
        try:
            if entry.source == "package" and entry.gguf_file:
                packaged_gguf_source(entry, progress)  # the one-time GGUF conversion, with progress
            loaded = load_model(entry, task, settings)
        except UserError:
            raise
        except Exception as exc:
            explained = explain_load_error(entry, exc)
            if explained is None:
                raise
            log.info("Load of %s failed: %s", entry.id, exc)
            raise explained from exc
        loaded.load_seconds = time.perf_counter() - started
        loaded.batchers = Batchers(self.batch_window_ms, self.max_batch_size)
        self.load_count += 1
        if progress:
            progress(1.0, f"Loaded {entry.display_name} in {loaded.load_seconds:.1f} s")
        log.info("Loaded %s for %s in %.1f s", entry.id, task.id, loaded.load_seconds)
        return loaded

    def _load_tokenizer(self, entry: ModelEntry) -> LoadedModel:
        loaded = load_tokenizer(entry)
        self.tokenizer_load_count += 1
        log.info("Loaded the tokenizer of %s in %.1f s", entry.id, loaded.load_seconds)
        return loaded


def _free_memory() -> None:
    """Collect what eviction released, and hand cached CUDA blocks back to the driver."""
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
