"""Insight: why a model answered (attributions), how good it is on a labelled file (evaluate),
a whole file at once (batch) and two models on one input (compare). No Gradio here; the page
is components/insight/. See docs/ARCHITECTURE.md, "Insight".

`Insight` is built on the app's `Studio` (the model cache, the task table, the entries a task
offers), so every insight action loads models the way a tab does and refuses ids a task does
not offer. Each group of actions lives in its own module as a class that needs only
`self.studio`; `Insight` is all of them over one Studio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.insight.batch import BatchActions
from studio.insight.compare import CompareActions
from studio.insight.evaluate import EvaluateActions
from studio.insight.explain import ExplainActions

if TYPE_CHECKING:  # Studio imports Insight, so its type is named for the checker only
    from studio.studio import Studio


class Insight(ExplainActions, EvaluateActions, BatchActions, CompareActions):
    """Every Insight action (explain, evaluate, batch, compare) over one Studio: `Insight(studio)`."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
