"""Insight: why a model answered (attributions), how good it is on a labelled file (evaluate),
a whole file at once (batch) and two models on one input (compare). No Gradio here; the page
is components/insight/. See docs/ARCHITECTURE.md, "Insight".

`Insight` is built on the app's `Studio` (the model cache, the task table, the entries a task
offers), so every insight action loads models the way a tab does and refuses ids a task does
not offer. Each action lives in its own module as a mixin.
"""

from __future__ import annotations

from typing import Any

from studio.insight.batch import BatchActions
from studio.insight.compare import CompareActions
from studio.insight.evaluate import EvaluateActions
from studio.insight.explain import ExplainActions


class Insight(ExplainActions, EvaluateActions, BatchActions, CompareActions):
    """The insight actions over one Studio."""

    def __init__(self, studio: Any) -> None:
        self.studio = studio  # studio.studio.Studio (not imported: it imports this module)
