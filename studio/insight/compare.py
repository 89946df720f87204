"""Two models of one task on one input, side by side: each side's raw output, load and run time.

Each side runs through `Studio.run`, exactly as the task's own tab runs it: the model id is
checked against the task's entries, the inputs against the spec, and the model cache is used,
so each side's output equals the task endpoint's for that model. The sides run one after the
other (two loads at once would only race for the same cores). A side whose model fails (not
downloaded, refuses this input) shows its sentence and the other side still runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import UserError, shorten

if TYPE_CHECKING:  # Studio imports Insight, so its type is named for the checker only
    from studio.studio import Studio

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
SIDES = ("a", "b")
MAX_INPUTS_CHARS = 200_000  # the inputs JSON of one request (a long text to summarize fits)
MEDIA_KINDS = ("image", "audio", "file")


class CompareActions:
    studio: Studio  # every action reaches models through the app's Studio

    def compare_inputs(self, text: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """The inputs of a compare request, given as a JSON object by parameter name (or a
        dict already), as a dict; a sentence when it is not one."""
        if text is None or (isinstance(text, str) and not text.strip()):
            return {}
        if isinstance(text, Mapping):
            return dict(text)
        if not isinstance(text, str):
            raise UserError('inputs must be a JSON object by parameter name, such as {"text": "I love it"}.')
        if len(text) > MAX_INPUTS_CHARS:
            raise UserError(f"inputs is {len(text):,} characters long; keep it under {MAX_INPUTS_CHARS:,}.")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"inputs is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                'write an object such as {"text": "I love it"}.'
            ) from None
        if not isinstance(value, dict):
            raise UserError(f'inputs must be a JSON object such as {{"text": "I love it"}}; got {shorten(text, 60)}.')
        return value

    def compare_models(
        self,
        task: str,
        model_a: str,
        model_b: str,
        inputs: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Run `task` on `inputs` with model A, then model B.

        Returns {"task", "inputs", "a": side, "b": side}; a side is {"model" (public id),
        "label", "output" (the task endpoint's raw output), "notices", "load_seconds"
        (0 when the model was loaded already), "run_seconds"} and "error" (its sentence,
        output None) when that model could not run. Mistakes that concern both sides (an
        unknown task, a model the task does not offer, the same model twice, a bad input)
        raise a UserError before anything loads.
        """
        spec = self.studio.spec(task)
        entries = [self.studio.entry(task, model) for model in (model_a, model_b)]
        if entries[0].id == entries[1].id:
            raise UserError(
                f"Model A and model B are both {entries[0].display_name}; pick two different models to compare."
            )
        if not isinstance(inputs, Mapping):
            raise UserError('inputs must be a JSON object by parameter name, such as {"text": "I love it"}.')
        checked = spec.checked(inputs)
        spec.precheck(checked)  # an empty text is said once, before either model loads
        sides = {
            side: self._compare_side(task, entry, dict(inputs), _half(progress, index, side))
            for index, (side, entry) in enumerate(zip(SIDES, entries))
        }
        if progress is not None:
            progress(1.0, "Both models ran")
        return {"task": task, "inputs": _shown_inputs(spec, checked), **sides}

    def _compare_side(self, task: str, entry: Any, inputs: dict[str, Any], progress: Progress | None) -> dict[str, Any]:
        """One side: the run's raw output and times, or its sentence when this model fails."""
        manager = self.studio.manager
        before = {id(loaded) for loaded in manager.loaded()}
        side: dict[str, Any] = {"model": entry.public_id, "label": entry.display_name, "output": None, "notices": []}
        if progress is not None:
            progress(0.0, f"Running {entry.display_name}")
        started = time.perf_counter()
        try:
            result = self.studio.run(task, entry.id, inputs, progress=progress)
            side["output"], side["notices"] = result.output, list(result.notices)
        except UserError as exc:
            side["error"] = str(exc)
        except Exception:
            log.exception("Compare models: %s failed on %s", entry.id, task)
            side["error"] = (
                f"{entry.display_name} failed because of an unexpected error; the details are in the server log."
            )
        total = time.perf_counter() - started
        load = _new_load_seconds(manager.loaded(), before, entry.id, task)
        side["load_seconds"] = round(min(load, total), 3)
        side["run_seconds"] = round(max(total - load, 0.0), 3)
        return side


def _new_load_seconds(loaded: list[Any], before: set[int], entry_id: str, task: str) -> float:
    """How long this request's model took to load (ModelManager's measure); 0 when it was in memory."""
    for model in loaded:
        if id(model) not in before and model.entry.id == entry_id and model.task == task:
            return float(model.load_seconds)
    return 0.0


def _half(progress: Progress | None, index: int, side: str) -> Progress | None:
    """Side A reports the first half of the bar, side B the second, each message naming its side."""
    if progress is None:
        return None
    return lambda fraction, message: progress(
        (index + min(max(fraction, 0.0), 1.0)) / 2, f"Model {side.upper()}: {message}"
    )


def _shown_inputs(spec: Any, checked: Mapping[str, Any]) -> dict[str, Any]:
    """The checked inputs, as the answer repeats them: a file by its own name, never its server folder."""
    shown = {}
    for param in spec.params:
        value = checked[param.name]
        if param.kind in MEDIA_KINDS and isinstance(value, str) and "://" not in value:
            value = Path(value).name
        shown[param.name] = value
    return shown
