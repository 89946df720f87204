"""Studio: the only door from the UI into the logic. Config, task table and model cache in;
plain results and notices out. Every action takes the Caller who asks (studio/policy/access.py)
and Studio applies the app's policy to it itself: admin rights, the public caps on the checked
inputs, the running limit per visitor (studio/policy/rules.py). See docs/ARCHITECTURE.md,
"One request's walk".
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.adapters.remote import remote_adapter
from studio.codegen import paths_revealed
from studio.codegen.remote import REMOTE_SNIPPETS
from studio.config import ModelEntry, StudioConfig
from studio.errors import UserError, collect_notices, shorten
from studio.insight import Insight
from studio.models import downloading
from studio.models.hub import offline_by_choice, offline_for_session
from studio.models.loading import LoadedModel, is_cached
from studio.models.manager import ModelManager
from studio.models.remote import REMOTE_DEVICE, remote_device, remote_settings, unsupported_inputs
from studio.models.settings import ModelSettings
from studio.policy.access import Access, Caller
from studio.policy.rules import Policy
from studio.results import ProgressCallback, RunResult, split_output
from studio.serving.batching import arriving
from studio.spec.param import Spec, spec_of
from studio.spec.shared import MODEL_SETTINGS
from studio.tasks.table import TASKS
from studio.tasks.task import Task, resolve
from studio.training.jobs import JobManager

log = logging.getLogger(__name__)
SETTINGS_SPEC = spec_of(MODEL_SETTINGS)
LOAD_SHOWN_AFTER = 0.1  # seconds: a wait this long before running was a model load


@dataclass
class Studio:
    """The app's logic, shared by every tab: what it offers (tasks, models, facts, read before
    anything runs), and the actions a caller asks for, each under the app's policy."""

    config: StudioConfig
    manager: ModelManager
    # Entries added at run time (models fine-tuned in the app), by task id.
    extra_entries: Callable[[str], list[ModelEntry]] | None = None
    tasks: Mapping[str, Task] = field(default_factory=lambda: TASKS)
    generation_streams: int = 8  # generation requests of one task that run at once (continuous batching)
    public: bool = False  # a Space, --share or --public: the caps and the running limit apply
    jobs: JobManager | None = None  # fine-tuning, when it is on (its actions check `access` too)
    access: Access = field(default_factory=Access)  # who is admin (Access(): everyone, as on localhost)
    policy: Policy = field(init=False)
    insight: Insight = field(init=False)  # Insight's actions run through Studio's own, below

    def __post_init__(self) -> None:
        self.policy = Policy(self.access, self.config.public_limits, self.public)
        self.insight = Insight(self)

    # ------------------------------------------------------------------ what it offers
    def task(self, task_id: str) -> Task:
        if task_id not in self.tasks:
            raise UserError(f"Unknown task {task_id!r}.")
        return self.tasks[task_id]

    def offered_tasks(self, modality: str) -> list[Task]:
        """The tasks of one modality that have models to offer, in table order."""
        return [task for task in self.tasks.values() if task.modality == modality and self.entries(task.id)]

    def spec(self, task_id: str) -> Spec:
        return self.task(task_id).spec

    def entries(self, task_id: str) -> list[ModelEntry]:
        """The models a task offers: models.yaml's, then those fine-tuned in the app."""
        entries = self.config.entries(task_id)
        if self.extra_entries is not None:
            known = {entry.id for entry in entries}
            entries += [entry for entry in self.extra_entries(task_id) if entry.id not in known]
        return entries

    def model_choices(self, task_id: str) -> list[tuple[str, str]]:
        """(label, public id) pairs for the model dropdown; models that need a download say so,
        and so do those always at hand (packaged, or fine-tuned here: not in models.yaml).
        A local folder's path is never sent to the page: its public id is its label."""
        choices = []
        listed = {entry.id for entry in self.config.entries(task_id)}
        for entry in self.entries(task_id):
            label = entry.display_name
            if entry.source == "package" or entry.id not in listed:
                label += " · offline"
            elif entry.source == "openai":
                label += " · remote"
            elif entry.source == "hub" and not is_cached(entry):
                label += " · not downloaded"
            choices.append((label, entry.public_id))
        return choices

    def default_model(self, task_id: str) -> str | None:
        """models.yaml's default, or the first offline entry when the default is not downloaded."""
        default_id = self.config.default_id(task_id)
        if default_id is None:
            return None
        entries = self.config.entries(task_id)
        default = next(entry for entry in entries if entry.id == default_id)
        if is_cached(default):
            return default.public_id
        offline = [entry for entry in entries if is_cached(entry)]
        return (offline[0] if offline else default).public_id

    def entry(self, task_id: str, model_id: str) -> ModelEntry:
        """The entry a request names (by id, or by the public id the page shows); a UserError
        for ids this task does not offer."""
        if not model_id:
            raise UserError("Pick a model first.")
        entries = self.entries(task_id)
        for entry in entries:
            if entry.id == model_id:
                return entry
        for entry in entries:
            if entry.public_id == model_id:
                return entry
        shown = shorten(str(model_id), 80)
        raise UserError(
            f"Model {shown!r} is not offered for {task_id}; pick one from the model list "
            "(models.yaml and the models fine-tuned here say which)."
        )

    def facts(self, task_id: str, model_id: str | None, read_tokenizer: bool = True) -> dict[str, Any]:
        """What a tab shows about a model before it runs (a mask token, languages), from the
        task row's facts function; read_tokenizer=False answers from models.yaml alone."""
        task = self.task(task_id)
        try:
            entry = self.entry(task_id, model_id or "")
        except UserError:
            return {}
        if not task.facts:
            return {}
        tokenizer = (lambda: self.manager.tokenizer(entry)) if read_tokenizer else (lambda: None)
        facts: dict[str, Any] = resolve(task.facts)(entry, tokenizer)
        return facts

    def concurrency_limit(self, task_id: str) -> int:
        """How many requests of a task run at once; the queue holds the rest and shows their place.

        A batched task takes a batch's worth (they run as one forward pass), a streaming task
        `generation_streams` (continuous batching runs them together), any other task one.
        Each task has its own limit, so a cheap request never waits behind a long generation.
        """
        task = self.task(task_id)
        if task.batched:
            return max(1, self.manager.max_batch_size)
        return max(1, self.generation_streams) if task.streams else 1

    def settings(self, values: Mapping[str, Any]) -> ModelSettings:
        """ModelSettings from the settings row's values (missing ones take their defaults)."""
        return ModelSettings(**SETTINGS_SPEC.checked({k: v for k, v in values.items() if v is not None}))

    def unsupported_inputs(self, task_id: str, model_id: str | None) -> dict[str, Any]:
        """The inputs a remote entry cannot use, with the value that turns each off (None: none);
        empty for a local model. The page disables them; the API gets a notice."""
        try:
            entry = self.entry(task_id, model_id or "")
        except UserError:
            return {}
        return unsupported_inputs(self.spec(task_id).names) if entry.source == "openai" else {}

    def loaded_models(self) -> list[dict[str, Any]]:
        """What is in memory, for the Loaded models panel (a remote entry: its connection, 0 MB)."""
        return [
            {
                "model": loaded.entry.public_id,  # never a server folder
                "label": loaded.entry.display_name,
                "task": loaded.task,
                "dtype": loaded.settings.dtype,
                "quantization": loaded.settings.quantization,
                "device": remote_device(loaded.entry) if loaded.device == REMOTE_DEVICE else loaded.device,
                "size_mb": round(loaded.num_bytes / 2**20, 1),
                "load_seconds": round(loaded.load_seconds, 2),
            }
            for loaded in self.manager.loaded()
        ]

    def needs_download(self, task_id: str, model_id: str | None) -> bool:
        """Whether the picked model is a Hub model not in this machine's cache."""
        try:
            entry = self.entry(task_id, model_id or "")
        except UserError:
            return False
        return entry.source == "hub" and not is_cached(entry)

    def hub_state(self) -> str:
        """ "online", "offline" (the start-up probe found no Hub) or "off" (HF_HUB_OFFLINE set by the person)."""
        return "off" if offline_by_choice() else "offline" if offline_for_session() else "online"

    # ------------------------------------------------------------------ running
    def _prepare(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings,
        progress: ProgressCallback | None,
    ) -> tuple[Callable[..., Any], LoadedModel, dict[str, Any]]:
        """The adapter, the loaded model and the checked inputs; inputs are checked before loading."""
        task = self.task(task_id)
        entry = self.entry(task_id, model_id)
        adapter = task.adapter_function()
        if entry.source == "openai":  # its server runs it: same spec and API (studio/adapters/remote.py)
            adapter, settings = remote_adapter(task_id, entry.display_name), remote_settings(entry, settings)
        checked = task.spec.checked(inputs)
        self.policy.cap(checked)  # a public app's caps, on the values the spec parsed
        task.spec.precheck(checked)  # empty or too long: said before any model loads
        self._fetch_before_load(entry, progress)  # not downloaded yet: with bytes-and-files progress
        loaded = self.manager.get(entry, task, settings, progress)
        return getattr(adapter, "unchecked", adapter), loaded, checked

    def run(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings | None = None,
        progress: ProgressCallback | None = None,
        caller: Caller | None = None,
    ) -> RunResult:
        """Load (or reuse) the model and run the task; a streaming task's last update is the result."""
        last: RunResult | None = None
        for result in self.stream(task_id, model_id, inputs, settings, progress, caller):
            last = result
        assert last is not None
        return last

    def stream(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings | None = None,
        progress: ProgressCallback | None = None,
        caller: Caller | None = None,
    ) -> Iterator[RunResult]:
        """Run the task, one RunResult per update (one in all for a task that does not stream).

        The one stream loop of the app. Closing this generator closes the adapter's, whose
        `finally` stops its work (generation: a StoppingCriteria on a per-request event).
        Until then it is one of the caller's running requests (None: this process itself,
        e.g. an Insight action's own runs, admitted once as a whole).
        """
        with self.policy.admitted(caller):
            yield from self._updates(task_id, model_id, inputs, settings or ModelSettings(), progress)

    def _updates(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings,
        progress: ProgressCallback | None,
    ) -> Iterator[RunResult]:
        with collect_notices() as notices:
            asked = time.perf_counter()
            adapter, loaded, checked = self._prepare(task_id, model_id, inputs, settings, progress)
            waited = time.perf_counter() - asked  # a model load this request waited for: shown apart
            with arriving(loaded):  # a batched model's other requests wait for this one (studio/serving/batching.py)
                produced = adapter(loaded, **checked)
        if not inspect.isgenerator(produced):
            raw, visual = split_output(produced)
            yield RunResult(raw, list(notices), visual, checked)
            return
        try:
            while True:
                # Notices are collected per step: each next() may run in another worker thread.
                with collect_notices() as step_notices:
                    try:
                        item = next(produced)
                    except StopIteration:
                        return
                raw, visual = split_output(item)
                if waited > LOAD_SHOWN_AFTER and isinstance(visual, dict):  # live figures show the load apart
                    visual = {**visual, "load_seconds": round(waited, 1)}
                yield RunResult(raw, [*notices, *step_notices], visual, checked)
                notices = []
        finally:
            produced.close()

    def code(
        self,
        task_id: str,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: ModelSettings,
        reveal_paths: bool = False,
    ) -> str:
        """The "Show code" snippet for the current inputs and settings.

        A local folder is named by a placeholder and a file by its own name, so no server
        path is shown; reveal_paths=True (tests only) writes the real paths, to run it here.
        """
        task = self.task(task_id)
        entry = self.entry(task_id, model_id)
        with paths_revealed(reveal_paths):
            code = task.code_function()
            if entry.source == "openai":  # the openai client call (studio/codegen/remote.py)
                code = REMOTE_SNIPPETS.get(task_id, code)
            return code(entry, task.spec.checked(inputs), settings)

    # ------------------------------------------------------------------ models in memory, the Hub
    def unload(self, model_id: str, caller: Caller | None = None) -> int:
        """Unload one model, by id or public id (every task and setting it is loaded with); an
        admin action in public mode. An empty id is a mistake, never "all" (that is unload_all)."""
        self.policy.require_admin(caller, "Unloading models")
        if not model_id or not str(model_id).strip():
            raise UserError("Pick a model to unload first; the list shows what is in memory.")
        ids = {m.entry.id for m in self.manager.loaded() if model_id in (m.entry.id, m.entry.public_id)}
        return sum(self.manager.unload(entry_id) for entry_id in ids)

    def unload_all(self, caller: Caller | None = None) -> int:
        """Unload every model (the Loaded models panel's "Unload all", an admin action in public mode)."""
        self.policy.require_admin(caller, "Unloading models")
        return self.manager.unload(None)

    def _fetch_before_load(self, entry: ModelEntry, progress: ProgressCallback | None) -> None:
        """A Run on a listed Hub model not on this machine, with the Hub online: download it first,
        so the page shows bytes and files (inside the load, transformers would show nothing).
        Not an admin action: models.yaml lists the model, and a Run always fetched it."""
        if entry.source == "hub" and self.hub_state() == "online" and not is_cached(entry):
            downloading.download(entry, progress)

    def download(
        self, task_id: str, model_id: str, progress: ProgressCallback | None = None, caller: Caller | None = None
    ) -> str:
        """Download the picked model (an admin action in public mode); the sentence saying what was done."""
        self.policy.require_admin(caller, "Downloading models")
        return downloading.download(self.entry(task_id, model_id), progress)

    # ------------------------------------------------------------------ Insight (studio/insight/)
    def explain(
        self,
        model: str,
        text: str,
        target: str | None,
        n_steps: int,
        progress: ProgressCallback | None = None,
        caller: Caller | None = None,
    ) -> dict[str, Any]:
        """Which tokens pushed a text-classification model towards a label (studio/insight/explain.py)."""
        with self.policy.admitted(caller):
            return self.insight.explain_text_classification(model, text, target, n_steps, progress)

    def evaluate(
        self,
        task: str,
        model: str,
        dataset: str | None,
        text_column: str | None,
        label_column: str | None,
        progress: ProgressCallback | None = None,
        caller: Caller | None = None,
    ) -> dict[str, Any]:
        """A model's scores on a labelled file (studio/insight/evaluate.py)."""
        with self.policy.admitted(caller):
            return self.insight.evaluate(task, model, dataset, text_column, label_column, progress)

    def batch(
        self,
        task: str,
        model: str,
        dataset: str,
        column: str,
        settings: Mapping[str, Any],
        progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        caller: Caller | None = None,
    ) -> tuple[Path, dict[str, Any]]:
        """A task on every row of a file, into a CSV (studio/insight/batch.py); its settings are
        capped once, before any row runs (each row's run is capped too)."""
        with self.policy.admitted(caller):
            self.policy.cap_given(self.spec(task), settings)
            return self.insight.batch(task, model, dataset, column, dict(settings), progress, should_stop)

    def compare_models(
        self,
        task: str,
        model_a: str,
        model_b: str,
        inputs: Mapping[str, Any],
        progress: ProgressCallback | None = None,
        caller: Caller | None = None,
    ) -> dict[str, Any]:
        """Two models of one task on one input (studio/insight/compare.py); the inputs are capped
        once, before either side runs."""
        with self.policy.admitted(caller):
            self.policy.cap_given(self.spec(task), inputs)
            return self.insight.compare_models(task, model_a, model_b, inputs, progress)
