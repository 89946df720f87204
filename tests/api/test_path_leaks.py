"""No server path in any output, in any mode.

Every named endpoint of the running app is called through the raw REST API (what a
stranger's client receives, byte for byte), with valid inputs from each tab's examples and
with invalid ones, on the fixtures' `source: local` entries and on a model fine-tuned in the
app. No output, update or error text may name the fixtures folder, the runs folder, the
repository, the home folder, site-packages or anything under /tmp/. Show code is checked by
calling Studio.code for every task (the page's code panel is not an API output).

The one exception is a file the app sends back (an image, a waveform): Gradio serves it from
its own upload cache as a `gradio.FileData` whose `path` and `url` name that cache; the test
checks that they point there and nowhere else.
"""

from __future__ import annotations

import json
import os
import re
import site
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from studio.config import load_config, parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.models.settings import ModelSettings
from studio.studio import Studio
from studio.tasks.table import TASKS
from tests.app_process import ROOT

IMAGES = ROOT / "examples" / "images"
AUDIO = ROOT / "examples" / "audio"
# The app's own tasks by endpoint; the other endpoints are driven by name below.
EXTRA_VIEWS = {"compare_strategies": "text-generation"}
GRADIO_CACHE = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
SERVED_FILE = re.compile(r"^[0-9a-f]{20,}/[^/]+$")  # <content hash>/<file name>, inside Gradio's cache


# ------------------------------------------------------------------------------- the check
@pytest.fixture(scope="module")
def forbidden(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Folders no output may name: /tmp/, the fixtures, the runs (under pytest's base temp),
    the repository, the home folder and where Python's packages live."""
    places = ["/tmp/", str(tiny_root), str(tmp_path_factory.getbasetemp()), str(ROOT), *site.getsitepackages()]
    home = str(Path.home())
    if len(home) > 1:
        places.append(home)
    return sorted({p for p in places if p and p != "/"}, key=len, reverse=True)


def served_file(value: dict) -> bool:
    return isinstance(value.get("meta"), dict) and value["meta"].get("_type") == "gradio.FileData"


def leaks(value: Any, forbidden: list[str], where: str = "") -> Iterator[str]:
    """Every place in a JSON value whose text names a forbidden folder."""
    if isinstance(value, dict):
        if served_file(value):
            # Gradio's own file reference: path and url name its upload cache, and only that.
            path = Path(str(value.get("path") or ""))
            inside = path.is_relative_to(GRADIO_CACHE) and SERVED_FILE.match(path.relative_to(GRADIO_CACHE).as_posix())
            if not inside:
                yield f"{where}.path = {value.get('path')!r} is not a file in Gradio's cache"
            value = {k: v for k, v in value.items() if k not in ("path", "url")}
        for key, item in value.items():
            yield from leaks(key, forbidden, f"{where}[{key!r}] (key)")
            yield from leaks(item, forbidden, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from leaks(item, forbidden, f"{where}[{index}]")
    elif isinstance(value, str):
        for place in forbidden:
            if place in value:
                start = max(0, value.index(place) - 60)
                yield f"{where} names {place!r}: …{value[start : start + 200]}…"
                break


def assert_no_path(value: Any, forbidden: list[str], what: str) -> None:
    found = list(leaks(value, forbidden))
    assert not found, f"{what}:\n" + "\n".join(found[:10])


def collect(problems: list[str], value: Any, forbidden: list[str], what: str) -> None:
    """Note the leaks of one output; a test asserts on all of them at its end, so one run
    reports every endpoint that leaks, not just the first."""
    problems += [f"{what}: {found}" for found in list(leaks(value, forbidden))[:3]]


# ------------------------------------------------------------------------------- raw REST
class Rest:
    """The app's REST API as any client sees it: every update and the error text, unparsed by gradio_client."""

    def __init__(self, app_url: str) -> None:
        self.url = app_url.rstrip("/")
        self.http = httpx.Client(timeout=httpx.Timeout(30, read=600))
        api = json.loads(self.http.get(f"{self.url}/gradio_api/info").text)
        self.endpoints: dict[str, list[dict]] = {
            name.lstrip("/"): info["parameters"] for name, info in api["named_endpoints"].items()
        }

    def upload(self, path: Path, name: str | None = None) -> dict:
        """Upload a file as the page does; returns the FileData the endpoints take."""
        name = name or path.name
        files = [("files", (name, path.read_bytes()))]
        (server_path,) = self.http.post(f"{self.url}/gradio_api/upload", files=files).json()
        return {"path": server_path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def inputs(self, api: str, values: dict[str, Any]) -> list[Any]:
        """The positional data for an endpoint: the given values, else the API's defaults."""
        unknown = set(values) - {p["parameter_name"] for p in self.endpoints[api]}
        assert not unknown, f"/{api} has no parameter {unknown}"
        return [values.get(p["parameter_name"], p.get("parameter_default")) for p in self.endpoints[api]]

    def call(self, api: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """("complete" or "error", every payload the stream sent)."""
        posted = self.http.post(f"{self.url}/gradio_api/call/{api}", json={"data": self.inputs(api, values)})
        posted.raise_for_status()
        event_id = posted.json()["event_id"]
        event, payloads = "", []
        with self.http.stream("GET", f"{self.url}/gradio_api/call/{api}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    payloads.append(json.loads(line.removeprefix("data:").strip()))
                    if event in ("complete", "error"):
                        return event, payloads
        return event, payloads


@pytest.fixture(scope="module")
def rest(app_url: str) -> Rest:
    return Rest(app_url)


def error_text(payloads: list[Any]) -> str:
    last = payloads[-1] if payloads else None
    return str(last.get("error") if isinstance(last, dict) else last)


# ------------------------------------------------------------------------------- inputs
def is_example_file(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(str(ROOT)) and Path(value).is_file()


def tab_examples(api: str) -> dict[str, Any]:
    """The first example of a tab (dicts by parameter name), as the page offers it."""
    import importlib

    module = importlib.import_module(f"components.tabs.{api}")
    return dict(module.EXAMPLES[0])


@pytest.fixture(scope="module")
def studio(models_yaml: Path) -> Studio:
    return Studio(load_config(models_yaml), ModelManager())


def local_entry(studio: Studio, task_id: str):
    return next(entry for entry in studio.config.entries(task_id) if entry.source == "local")


def inference_cases(rest: Rest, studio: Studio, api: str, tmp: Path) -> list[tuple[str, dict[str, Any], str]]:
    """(what, inputs, expected event) for one task endpoint: valid, and three kinds of wrong."""
    task_id = EXTRA_VIEWS.get(api) or next(t.id for t in studio.tasks.values() if t.api_name == api)
    entry = local_entry(studio, task_id)
    example = tab_examples("text_generation" if api in EXTRA_VIEWS else api)
    if api in EXTRA_VIEWS:
        example.pop("strategy", None)
    files = {name for name, value in example.items() if is_example_file(value)}
    valid = {**example, **{name: rest.upload(Path(example[name])) for name in files}}
    # The caller may send the folder it knows (tests do); the page sends the public id.
    cases = [
        ("valid, by folder", {**valid, "model": entry.id}, "complete"),
        ("valid, by label", {**valid, "model": entry.public_id}, "complete"),
        ("unknown model", {**valid, "model": "no-such/model"}, "error"),
    ]
    if files:
        name = next(iter(files))
        suffix = Path(example[name]).suffix
        bad = tmp / f"holiday notes{suffix}"
        bad.write_text("not a picture or a recording", encoding="utf-8")
        cases.append(("a file that is not media", {**valid, "model": entry.id, name: rest.upload(bad)}, "error"))
        cases.append(("no file", {**valid, "model": entry.id, name: None}, "error"))
    else:
        first_text = next(name for name, value in example.items() if isinstance(value, str))
        cases.append(("empty text", {**valid, "model": entry.id, first_text: "  "}, "error"))
    return cases


# ------------------------------------------------------------------------------- tests
def task_endpoints(rest: Rest) -> list[str]:
    """The endpoints that run a task (one per task, and Compare strategies)."""
    names = {task.api_name for task in TASKS.values()} | set(EXTRA_VIEWS)
    return [api for api in rest.endpoints if api in names]


def test_every_inference_endpoint_answers_without_a_server_path(
    rest: Rest, studio: Studio, forbidden: list[str], tmp_path: Path
) -> None:
    apis = task_endpoints(rest)
    assert len(apis) >= 22, apis
    seen = {"complete": 0, "error": 0}
    problems: list[str] = []
    for api in apis:
        for what, inputs, expected in inference_cases(rest, studio, api, tmp_path):
            event, payloads = rest.call(api, inputs)
            assert payloads, f"/{api} ({what}) sent nothing"
            assert event == expected, (api, what, event, payloads[-1])
            if event == "error":
                message = error_text(payloads)
                assert message.endswith(".") and message.strip() != "Error", (api, what, message)
            collect(problems, payloads, forbidden, f"/{api} ({what})")
            seen[event] += 1
    assert not problems, "\n".join(problems)
    assert seen["complete"] >= 2 * len(apis) and seen["error"] >= 2 * len(apis)


def test_every_other_endpoint_answers_its_defaults_without_a_server_path(rest: Rest, forbidden: list[str]) -> None:
    """Loaded models, training and whatever else the app names: called with the API's defaults
    (no run id, no data), the answer or the sentence names no server folder."""
    others = [api for api in rest.endpoints if api not in task_endpoints(rest)]
    assert {"loaded_models", "unload_model", "train_runs", "train_command"} <= set(others)
    problems: list[str] = []
    for api in others:
        event, payloads = rest.call(api, {})
        assert event in ("complete", "error") and payloads, (api, event)
        collect(problems, payloads, forbidden, f"/{api} (defaults)")
    assert not problems, "\n".join(problems)


def test_loaded_models_and_unload_show_labels_not_folders(
    rest: Rest, studio: Studio, tiny: SimpleNamespace, forbidden: list[str]
) -> None:
    example = tab_examples("text_classification")
    event, payloads = rest.call("text_classification", {**example, "model": tiny.text_classifier})
    assert event == "complete"
    event, payloads = rest.call("loaded_models", {})
    assert event == "complete"
    assert_no_path(payloads, forbidden, "/loaded_models")
    table, first = payloads[-1]  # plain data: the table and the first loaded model's public id
    assert "tiny text-classifier" in [row[0] for row in table["data"]]
    assert first in [row[0] for row in table["data"]]
    # Unload by the id the caller knows, or by the label the panel shows; an unknown id too.
    for model in (tiny.text_classifier, "tiny text-classifier", "no-such/model"):
        event, payloads = rest.call("unload_model", {"model": model})
        assert_no_path(payloads, forbidden, f"/unload_model {model!r}")
    rest.call("text_classification", {**example, "model": "tiny text-classifier"})
    event, payloads = rest.call("unload_model", {"model": "tiny text-classifier"})
    assert event == "complete" and "tiny text-classifier" not in [row[0] for row in payloads[-1][0]["data"]]


def test_training_endpoints_and_a_fine_tuned_model_show_no_server_path(
    rest: Rest, tiny: SimpleNamespace, forbidden: list[str], tmp_path: Path
) -> None:
    """A short run on an uploaded CSV, followed to the end; then its model is used by its id."""
    data = tmp_path / "reviews.csv"
    rows = [("I loved it, wonderful", "pos"), ("Terrible, a waste of time", "neg")] * 12
    data.write_text("text,label\n" + "".join(f"{text},{label}\n" for text, label in rows), encoding="utf-8")
    start = {
        "task": "text-classification",
        "model": tiny.text_classifier,
        "dataset": rest.upload(data),
        "num_train_epochs": 1,
        "per_device_train_batch_size": 8,
        "max_length": 16,
        "eval_each_epoch": False,
        "save_each_epoch": False,
    }
    problems: list[str] = []
    event, payloads = rest.call("train_command", start)
    assert event == "complete"
    collect(problems, payloads, forbidden, "/train_command")
    event, payloads = rest.call("train_start", start)
    assert event == "complete", payloads
    collect(problems, payloads, forbidden, "/train_start")
    run_id = payloads[-1][-1]["run_id"]

    deadline = time.monotonic() + 600
    while True:  # /train_status streams until the run ends; every update is checked
        event, payloads = rest.call("train_status", {"run_id": run_id})
        collect(problems, payloads, forbidden, "/train_status")
        status = payloads[-1][-1]
        if status["status"] in ("completed", "failed", "stopped") or time.monotonic() > deadline:
            break
    assert status["status"] == "completed", status.get("log_tail")

    event, payloads = rest.call("train_runs", {})
    assert event == "complete"
    collect(problems, payloads, forbidden, "/train_runs")
    model_id = next(run["model_id"] for run in payloads[-1][-1] if run["run_id"] == run_id)
    event, payloads = rest.call("text_classification", {"model": model_id, "text": "wonderful", "top_k": 2})
    assert event == "complete", payloads
    collect(problems, payloads, forbidden, "/text_classification on the fine-tuned model")
    event, payloads = rest.call("loaded_models", {})
    collect(problems, payloads, forbidden, "/loaded_models with the fine-tuned model")

    bad = tmp_path / "one-label.csv"
    bad.write_text("text,label\ngreat,pos\nlovely,pos\n", encoding="utf-8")
    for api, inputs in [
        ("train_stop", {"run_id": run_id}),
        ("train_resume", {"run_id": run_id}),
        ("train_status", {"run_id": "20990101-000000-none-0000"}),
        ("train_stop", {"run_id": "20990101-000000-none-0000"}),
        ("train_start", {**start, "dataset": rest.upload(bad)}),
        ("train_command", {**start, "dataset": rest.upload(bad)}),
        ("unload_model", {"model": model_id}),
    ]:
        event, payloads = rest.call(api, inputs)
        collect(problems, payloads, forbidden, f"/{api} {sorted(inputs)}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------- Show code
def code_inputs(task_id: str, api: str, upload_folder: Path) -> list[dict[str, Any]]:
    """Default inputs, and the tab's example with its file as Gradio stores an upload."""
    example = tab_examples(api)
    for name, value in example.items():
        if is_example_file(value):
            stored = upload_folder / ("0" * 40 + name) / Path(value).name  # <hash>/<original name>
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(Path(value).read_bytes())
            example[name] = str(stored)
    return [{}, example]


def test_show_code_names_no_folder_and_files_by_their_name(
    studio: Studio, forbidden: list[str], tmp_path: Path
) -> None:
    for task in studio.tasks.values():
        if not studio.config.entries(task.id):
            continue
        entry = local_entry(studio, task.id)
        for inputs in code_inputs(task.id, task.api_name, tmp_path):
            for model_id in (entry.id, entry.public_id):
                code = studio.code(task.id, model_id, inputs, ModelSettings())
                assert_no_path(code, forbidden, f"Show code of {task.id} with {sorted(inputs)}")
                assert f"<folder of {entry.display_name!r} in models.yaml>" in code, code
                compile(code, f"<show code {task.id}>", "exec")
                for value in inputs.values():
                    if isinstance(value, str) and value.startswith(str(tmp_path)):
                        assert repr(Path(value).name) in code, (task.id, code)
            runnable = studio.code(task.id, entry.public_id, inputs, ModelSettings(), reveal_paths=True)
            assert repr(entry.id) in runnable  # the tests' variant runs on this machine


def test_show_code_keeps_a_relative_folder_and_hides_a_runs_folder(tmp_path: Path, forbidden: list[str]) -> None:
    from studio.training.store import RunModel

    config = parse_config(
        {"tasks": {"text-classification": {"models": [{"id": "./my-bert", "source": "local", "label": "my bert"}]}}}
    )
    run = RunModel(id="runs/r1", label="Fine-tuned bert · r1", source="local", folder=str(tmp_path / "r1" / "model"))
    studio = Studio(config, ModelManager(), extra_entries=lambda task_id: [run])
    code = studio.code("text-classification", "./my-bert", {"text": "hi"}, ModelSettings())
    assert "model='./my-bert'" in code
    code = studio.code("text-classification", "runs/r1", {"text": "hi"}, ModelSettings())
    assert "model=\"<folder of 'Fine-tuned bert · r1'>\"" in code
    assert_no_path(code, forbidden, "Show code of a fine-tuned run")
    runnable = studio.code("text-classification", "runs/r1", {"text": "hi"}, ModelSettings(), reveal_paths=True)
    assert repr(run.folder) in runnable


# ------------------------------------------------------------------------------- load errors
def test_load_errors_name_the_entry_not_its_folder(tmp_path: Path, forbidden: list[str]) -> None:
    gone, empty = tmp_path / "gone", tmp_path / "empty"
    empty.mkdir()
    models = [
        {"id": str(gone), "source": "local", "label": "my old model"},
        {"id": str(empty), "source": "local"},  # no label: shown by its folder's name
    ]
    studio = Studio(parse_config({"tasks": {"text-classification": {"models": models}}}), ModelManager())
    assert [label for label, _ in studio.model_choices("text-classification")] == ["my old model", "empty"]
    with pytest.raises(UserError) as caught:
        studio.run("text-classification", str(gone), {"text": "hi"})
    assert str(caught.value) == "The folder of 'my old model' does not exist; fix its path in models.yaml."
    with pytest.raises(UserError) as caught:
        studio.run("text-classification", "empty", {"text": "hi"})
    assert "'empty' holds no model transformers can read" in str(caught.value)
    assert_no_path(str(caught.value), forbidden, "load error")


def test_two_folders_shown_alike_are_refused_at_start() -> None:
    models = [{"id": "/srv/a/bert", "source": "local"}, {"id": "/srv/b/bert", "source": "local"}]
    with pytest.raises(Exception, match="two models are shown as 'bert'; give each local folder its own label"):
        parse_config({"tasks": {"text-classification": {"models": models}}})
