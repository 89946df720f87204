"""Every task endpoint as the spec declares it: names, defaults and bounds on the API; a new
row in the task table grows a tab and an endpoint."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from studio.config import parse_config
from studio.models.manager import ModelManager
from studio.spec.shared import MODEL_SETTINGS
from studio.studio import Studio
from studio.tasks.table import TASKS
from studio.tasks.task import Task


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
    from tests.app_process import free_port

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
