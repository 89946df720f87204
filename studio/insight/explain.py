"""Attributions for text classification: which tokens pushed the prediction towards a label and
which away from it (captum integrated gradients; the math is in attributions.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.adapters.common import limit_text, max_tokens
from studio.errors import UserError, collect_notices, shorten
from studio.insight.attributions import MAX_EXPLAIN_TOKENS, encode, integrated_gradients, label_names, token_rows
from studio.models.loading import is_cached, resolve_source
from studio.spec.param import Param
from studio.spec.shared import TEXT

if TYPE_CHECKING:  # Studio imports Insight, so its type is named for the checker only
    from studio.studio import Studio

TASK_ID = "text-classification"
PREDICTED = "predicted"  # the target meaning "the label the model predicts"
LABELS_LISTED = 20  # an unknown target's sentence lists at most this many labels

EXPLAIN_TEXT = TEXT.but(help="The text to classify and explain.", placeholder="Type or paste text to explain…")
TARGET = Param(
    "target",
    "text",
    PREDICTED,
    "The label to explain: which tokens pushed towards it and which away; predicted: the model's top label.",
    label="Target label",
)
N_STEPS = Param(
    "n_steps",
    "int",
    50,
    "Integration steps: more steps follow the path more closely (a smaller delta) and take longer.",
    label="Integration steps",
    low=1,
    high=300,
    step=1,
)


class ExplainActions:
    studio: Studio  # every action reaches models through the app's Studio

    explain_params = (EXPLAIN_TEXT, TARGET, N_STEPS)  # the page builds its widgets from these
    predicted_target = PREDICTED

    def explain_text_classification(
        self,
        model: str,
        text: str,
        target: str | None = PREDICTED,
        n_steps: int = 50,
        progress: Callable[[float, str], None] | None = None,
    ) -> dict[str, Any]:
        """Integrated gradients of one label's logit over the token embeddings, from a baseline
        of pad tokens (CLS/SEP kept) to the text: the tokens' attributions add up to
        f(text) - f(baseline), within the convergence delta.

        Inputs are checked before the model loads; the text is cut to the model's length
        (at most MAX_EXPLAIN_TOKENS tokens) with a notice, listed in "notices".
        """
        entry = self.studio.entry(TASK_ID, model)
        text = limit_text(EXPLAIN_TEXT.check(text))
        steps = N_STEPS.check(n_steps)
        wanted = TARGET.check(target).strip()
        loaded = self.studio.manager.get(entry, self.studio.task(TASK_ID), self.studio.settings({}), progress)
        if not hasattr(loaded.model, "get_input_embeddings"):
            raise UserError("Explanations need a model that runs in this app; pick a local text-classification model.")
        labels = label_names(loaded.model)
        index = target_index(labels, wanted)
        tokenizer = loaded.tokenizer
        with collect_notices() as notices:
            encoded = encode(tokenizer, text, min(max_tokens(loaded), MAX_EXPLAIN_TOKENS))
            if progress is not None:
                progress(0.0, f"Integrated gradients: {steps} steps over {encoded['input_ids'].shape[1]} tokens…")
            found = integrated_gradients(loaded.model, tokenizer, encoded, index, steps, progress)
        target_logit = found["text_logits"][found["target"]]
        baseline_logit = found["baseline_logits"][found["target"]]
        tokens = token_rows(tokenizer, encoded, found["per_token"])
        return {
            "label": labels[found["target"]],
            "predicted": labels[found["predicted"]],
            "tokens": tokens,
            "delta": found["delta"],
            "target_logit": target_logit,
            "baseline_logit": baseline_logit,
            "logit_difference": target_logit - baseline_logit,
            "attribution_sum": sum(row["attribution"] for row in tokens),
            "n_steps": steps,
            "labels": labels,
            "text": text,
            "notices": list(notices),
        }

    def explain_labels(self, model: str | None) -> list[str]:
        """The labels of an offered text-classification model, read from its config alone
        (no weights), for the target list before a run; empty when it cannot be read here."""
        try:
            entry = self.studio.entry(TASK_ID, model or "")
        except UserError:
            return []
        if entry.source not in ("local", "package", "hub") or not is_cached(entry):
            return []
        config = config_json(resolve_source(entry), entry.revision)  # plain JSON: building the page imports no torch
        id2label = {int(index): str(name) for index, name in (config.get("id2label") or {}).items()}
        count = int(config.get("num_labels") or len(id2label))
        return [id2label.get(index, f"LABEL_{index}") for index in range(count)]


def config_json(source: str, revision: str | None) -> dict[str, Any]:
    """A model's config.json as a dict, from its folder or the Hub cache; {} when it is not here."""
    path = Path(source) / "config.json"
    if not path.is_file():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, "config.json", revision=revision)
        if not isinstance(cached, str):
            return {}
        path = Path(cached)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def target_index(labels: list[str], wanted: str) -> int | None:
    """The index of the target label (exact, then ignoring case); None for the predicted one.
    An unknown label is a UserError that lists the model's labels."""
    if not wanted or wanted.lower() == PREDICTED:
        return None
    if wanted in labels:
        return labels.index(wanted)
    folded = [label.lower() for label in labels]
    if folded.count(wanted.lower()) == 1:
        return folded.index(wanted.lower())
    shown = ", ".join(labels[:LABELS_LISTED]) + (
        f" and {len(labels) - LABELS_LISTED} more" if len(labels) > LABELS_LISTED else ""
    )
    raise UserError(f"Target {shorten(wanted)!r} is not a label of this model; choose one of {shown}, or {PREDICTED}.")
