"""The house rules, checked: two layers, one declaration per parameter, a task is one row."""

from __future__ import annotations

import ast
import inspect
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio.config import load_config, parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.spec.param import REQUIRED, Param
from studio.spec.shared import MODEL_SETTINGS
from studio.studio import Studio
from studio.tasks.table import TASKS
from studio.tasks.task import Task, TaskTableError

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_FROM_COMPONENTS = {"studio.studio", "studio.params"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_studio_never_imports_gradio() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("studio")
        if any(name == "gradio" or name.startswith("gradio.") for name in imported_modules(path))
    ]
    assert offenders == []


def test_components_reach_studio_only_through_studio_and_the_spec() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imported_modules(path)
            if (name == "studio" or name.startswith("studio.")) and name not in ALLOWED_FROM_COMPONENTS
        )
        for path in python_files("components")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_module_over_300_lines_and_no_reference_to_a_missing_design_file() -> None:
    long = {}
    for path in [*python_files("studio"), *python_files("components")]:
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 300:
            long[str(path.relative_to(ROOT))] = text.count("\n")
        assert "DESIGN.md" not in text, path
    assert long == {}


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


def test_api_defaults_equal_the_spec_for_every_endpoint(client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    checked = 0
    for task in TASKS.values():
        name = f"/{task.api_name}"
        if name not in endpoints:
            continue
        parameters = endpoints[name]["parameters"]
        names = [parameter["parameter_name"] for parameter in parameters]
        assert names == ["model", *task.spec.names, *[p.name for p in MODEL_SETTINGS]], task.id
        for parameter, param in zip(parameters[1:], [*task.spec.params, *MODEL_SETTINGS]):
            if param.required:
                continue
            assert parameter["parameter_has_default"], (task.id, param.name)
            assert parameter["parameter_default"] == param.default, (task.id, param.name)
        checked += 1
    assert checked == len(TASKS)


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


def test_a_bound_is_enforced_through_the_api(client, tiny: SimpleNamespace) -> None:
    from gradio_client.exceptions import AppError

    # Gradio's own slider check answers first on the API; its message gains the parameter's name.
    with pytest.raises(AppError, match="top_k: Value 500 is greater than maximum value 100."):
        client.predict(model=tiny.text_classifier, text="fine", top_k=500, api_name="/text_classification")
    with pytest.raises(AppError, match="top_k must be a whole number between 1 and 100; got 2.5."):
        client.predict(model=tiny.text_classifier, text="fine", top_k=2.5, api_name="/text_classification")


def test_a_new_task_is_one_row_and_gets_its_tab_and_endpoint(tiny: SimpleNamespace) -> None:
    """A scratch task table with one new row: the app grows a tab and an endpoint from it."""
    from gradio_client import Client
    from transformers import AutoTokenizer

    from components.app import build_app
    from tests.conftest import free_port

    row = Task(
        "token-count",
        "text",
        "Token count",
        "AutoModelForSequenceClassification",
        adapter="tests.fixtures.scratch_task:count_tokens",
        code="tests.fixtures.scratch_task:count_tokens_code",
        tab="tests.fixtures.scratch_task",
    )
    scratch = {"token-count": row}
    config = parse_config(
        {"tasks": {"token-count": {"models": [{"id": tiny.text_classifier, "source": "local"}]}}}, tasks=scratch
    )
    demo = build_app(Studio(config, ModelManager(), tasks=scratch))
    demo.queue().launch(server_port=free_port(), prevent_thread_lock=True)
    try:
        client = Client(demo.local_url, verbose=False)
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/token_count"]
        assert [p["parameter_name"] for p in api["parameters"]] == [
            "model",
            "text",
            "add_special_tokens",
            "dtype",
            "quantization",
            "device",
        ]
        count, raw = client.predict(model=tiny.text_classifier, text="hello world", api_name="/token_count")
        ids = AutoTokenizer.from_pretrained(tiny.text_classifier)("hello world")["input_ids"]
        assert count == len(ids) == raw["count"]
        labels = [block.get("props", {}).get("label") for block in demo.config["components"]]
        assert "Token count" in labels
    finally:
        demo.close()


def test_required_marker_is_not_a_default() -> None:
    assert repr(REQUIRED) == "REQUIRED"
    assert Param("x", "text").required and not Param("x", "text", "").required


def test_the_api_parameter_docs_are_generated_from_the_spec() -> None:
    from studio.apidocs import API_FILE, api_markdown

    assert API_FILE.read_text(encoding="utf-8") == api_markdown(), "run: python -m studio.apidocs"
