"""Every task as an MCP tool (python app.py --mcp), driven by the official MCP Python client
over streamable HTTP: the tool list matches the API, descriptions come from the adapters'
docstrings, results equal gradio_client's, and public mode offers no admin tools.
"""

from __future__ import annotations

import ast
import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from tests.app_process import ROOT, running_app
from tests.helpers import run_async

IMAGES = ROOT / "examples" / "images"


def mcp_app_running(models_yaml: Path, folder: Path, *flags: str):
    """The app with --mcp, letting Gradio fetch input URLs from 127.0.0.1 (tests/fixtures/app_local_urls.py)."""
    arguments = ["--models", str(models_yaml), "--runs-dir", str(folder), "--mcp", *flags]
    return running_app(arguments, folder / "app.log", module="tests.fixtures.app_local_urls")


@pytest.fixture(scope="module")
def mcp_app(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mcp-app")
    try:
        with mcp_app_running(models_yaml, folder) as (_, url):
            yield url
    finally:
        print(f"mcp app log: {folder / 'app.log'}")


@pytest.fixture(scope="module")
def gradio(mcp_app: str) -> Client:
    return Client(mcp_app, verbose=False)


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    """The example images over HTTP on 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(IMAGES))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def mcp(url: str, action: str, *args: Any) -> Any:
    """Run one MCP client session against the app: "tools", or "call" (name, arguments)."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def session() -> Any:
        async with (
            streamablehttp_client(url.rstrip("/") + "/gradio_api/mcp/") as (read, write, _),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            if action == "tools":
                return (await client.list_tools()).tools
            return await client.call_tool(*args)

    return run_async(session)


def tool_result(result: Any) -> list[Any]:
    """A tool's outputs: the text content is the list of the endpoint's output values."""
    assert not result.isError, result.content
    text = result.content[0].text
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def model_id(gradio: Client, api_name: str) -> str:
    """The endpoint's default model (the dropdown's value, the public id)."""
    endpoint = gradio.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]
    return next(p for p in endpoint["parameters"] if p["parameter_name"] == "model")["parameter_default"]


# --------------------------------------------------------------------------------- tests
def test_every_endpoint_is_a_tool_with_the_api_names(mcp_app: str, gradio: Client) -> None:
    from studio.tasks.table import TASKS

    tools = {tool.name: tool for tool in mcp(mcp_app, "tools")}
    endpoints = gradio.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(tools) == {name.lstrip("/") for name in endpoints}  # UI-only events are in neither
    for name, endpoint in endpoints.items():
        arguments = list(tools[name.lstrip("/")].inputSchema["properties"])
        assert arguments == [parameter["parameter_name"] for parameter in endpoint["parameters"]], name
    for task in TASKS.values():
        assert task.api_name in tools, f"{task.id} is not a tool"
    assert not [name for name in tools if "lambda" in name or "refresh" in name or "code" in name]


def test_descriptions_and_argument_docs_come_from_the_adapters(mcp_app: str) -> None:
    from studio.adapters.text import text_classification

    tool = next(tool for tool in mcp(mcp_app, "tools") if tool.name == "text_classification")
    first_line = text_classification.__doc__.splitlines()[0]
    assert tool.description.startswith(f"Text classification: {first_line}")
    properties = tool.inputSchema["properties"]
    assert properties["text"]["description"] == "The text to classify."
    assert properties["top_k"]["description"] == "How many labels to return, best first."
    assert properties["model"]["description"].startswith("The model id, as models.yaml lists it")
    assert properties["dtype"]["description"] == "auto: as the model was saved."


def test_tool_results_equal_gradio_client_results(mcp_app: str, gradio: Client, image_server: str) -> None:
    model = model_id(gradio, "/text_classification")
    arguments = {"model": model, "text": "I love this film", "top_k": 2}
    via_mcp = tool_result(mcp(mcp_app, "call", "text_classification", arguments))
    assert via_mcp == list(gradio.predict(**arguments, api_name="/text_classification"))
    assert via_mcp[-1][0]["label"] in {"NEGATIVE", "POSITIVE"}

    model = model_id(gradio, "/feature_extraction")
    arguments = {"model": model, "source": "a cat sat", "sentences": "a dog ran\nthe stock market fell"}
    via_mcp = tool_result(mcp(mcp_app, "call", "feature_extraction", arguments))
    assert via_mcp == list(gradio.predict(**arguments, api_name="/feature_extraction"))
    assert {row["sentence"] for row in via_mcp[-1]} == {"a dog ran", "the stock market fell"}

    model = model_id(gradio, "/image_classification")
    url = f"{image_server}/cat.jpg"
    via_mcp = tool_result(mcp(mcp_app, "call", "image_classification", {"model": model, "image": url}))
    via_client = gradio.predict(model=model, image=handle_file(url), api_name="/image_classification")
    assert via_mcp == list(via_client)
    assert via_mcp[-1] and set(via_mcp[-1][0]) == {"label", "score"}


def test_public_mode_offers_no_admin_tools(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """An app of its own: with --mcp a public app hides the admin endpoints from its API, which the
    public-mode tests of conftest.public_app call to see them refused."""
    folder = tmp_path_factory.mktemp("mcp-public")
    with mcp_app_running(models_yaml, folder, "--public") as (_, url):
        names = {tool.name for tool in mcp(url, "tools")}
    assert {"text_classification", "chat", "image_classification"} <= names
    admin = {"unload_model", "train_stop", "train_resume", "delete_run", "train_start"}
    assert not names & admin, names & admin
