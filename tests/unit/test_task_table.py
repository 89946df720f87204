"""The task table and the parameter spec: every row names real functions, every bound is
enforced with a sentence naming the parameter, and docs/API.md is generated from the spec."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import pytest

from studio.config import load_config, parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.spec.param import REQUIRED, Param
from studio.studio import Studio
from studio.tasks.table import TASKS
from studio.tasks.task import Task, TaskTableError


def test_every_task_row_names_real_functions_and_a_spec() -> None:
    from components.app import check_task_table

    studio = Studio(parse_config({"tasks": {}}), ModelManager())
    check_task_table(studio)  # raises TaskTableError naming the first wrong row
    for task in TASKS.values():
        spec_names = task.spec.names
        assert list(inspect.signature(task.adapter_function()).parameters)[1:] == spec_names, task.id


def test_a_wrong_name_in_a_row_stops_the_app_with_one_line() -> None:
    from components.app import build_app

    wrong = {
        "text-classification": Task(**{**TASKS["text-classification"].__dict__, "adapter": "studio.adapters.text:nope"})
    }
    config = parse_config({"tasks": {}}, tasks=wrong)
    with pytest.raises(TaskTableError) as caught:
        build_app(Studio(config, ModelManager(), tasks=wrong))
    assert str(caught.value) == (
        "task text-classification: adapter studio.adapters.text has no function 'nope' (in 'studio.adapters.text:nope')"
    )
    wrong_tab = {
        "text-classification": Task(**{**TASKS["text-classification"].__dict__, "tab": "components.tabs.nope"})
    }
    with pytest.raises(TaskTableError, match="task text-classification: no tab module 'components.tabs.nope'"):
        build_app(Studio(config, ModelManager(), tasks=wrong_tab))


def test_adapter_defaults_are_the_spec_defaults() -> None:
    for task in TASKS.values():
        signature = inspect.signature(task.adapter_function())
        for param in task.spec.params:
            default = signature.parameters[param.name].default
            expected = inspect.Parameter.empty if param.required else param.default
            assert default == expected, (task.id, param.name)


def bad_values(param: Param) -> list[object]:
    """Values outside what the spec allows (wrong type, out of range, unknown choice)."""
    if param.kind == "choice":
        return ["no-such-choice", 3]
    if param.kind in ("int", "float"):
        values: list[object] = ["abc", math.nan, [1]]
        if param.high is not None:
            values.append(param.high + 1)
        if param.low is not None:
            values.append(param.low if param.low_open else param.low - 1)
        if param.kind == "int":
            values.append((param.low or 0) + 0.5)
        return values
    if param.kind == "bool":
        return ["maybe", 7]
    if param.kind == "text":
        return [["a list"]]
    return []


@pytest.fixture(scope="module")
def studio(models_yaml: Path) -> Studio:
    return Studio(load_config(models_yaml), ModelManager())


def test_every_bound_is_enforced_with_a_sentence_naming_the_parameter(studio: Studio) -> None:
    """Inputs are checked before any model loads, so this runs every task's every bound fast."""
    cases = 0
    for task in TASKS.values():
        model = studio.default_model(task.id)
        if model is None:
            continue
        for param in task.spec.params:
            for value in bad_values(param):
                with pytest.raises(UserError) as caught:
                    studio.run(task.id, model, {param.name: value})
                message = str(caught.value)
                assert message.startswith(param.name + " must be"), (task.id, param.name, value, message)
                assert message.endswith("."), message
                cases += 1
    assert studio.manager.loaded() == []  # nothing was loaded to refuse them
    assert cases > 150


def test_required_marker_is_not_a_default() -> None:
    assert repr(REQUIRED) == "REQUIRED"
    assert Param("x", "text").required and not Param("x", "text", "").required


def test_the_api_parameter_docs_are_generated_from_the_spec() -> None:
    from components.apidocs import API_FILE, api_markdown

    assert API_FILE.read_text(encoding="utf-8") == api_markdown(), "run: python -m components.apidocs"
