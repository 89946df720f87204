"""Every endpoint of a public app, walked: each request reaches Studio as the visitor's Caller
(so the running limit counts it), every capped input past its public cap is refused with its
sentence, and every admin endpoint refuses a visitor. No endpoint's own code names the caps
(tests/unit/test_policy.py): Studio applies them. A new endpoint must be classified below; one
that runs a model without going through Studio fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from studio.policy.access import Caller, owner_key
from tests.app_process import ROOT, free_port

# Low enough to pass, high enough that the specs' defaults (image chat's 256 tokens, summarization's
# 4 beams) stay within them; image-to-text's max_new_tokens goes up to 512.
LIMITS = {"max_new_tokens": 300, "num_beams": 4, "num_return_sequences": 2, "prompt_chars": 200, "history_chars": 300}
IMAGE = ROOT / "examples" / "images" / "cat.jpg"
AUDIO = ROOT / "examples" / "audio" / "welcome.wav"
NEEDS_ADMIN = "needs the admin credential on this public app"
PROMPT_NAMES = ("prompt", "message", "text", "question", "system_prompt")

# The endpoints that are not a task's Run and run no model, with what a visitor gets.
READS = {"train_status", "train_runs", "train_command", "train_trials", "loaded_models"}
ADMIN_ONLY = {  # endpoint: (arguments, the sentence's start)
    "unload_model": ({"model": "anything"}, "Unloading models"),
    "delete_run": ({"run_id": "20250101-000000-text-0000"}, "Deleting a run"),
    "train_push": ({"run_id": "20250101-000000-text-0000"}, "Pushing a run to the Hub"),
}
OWNER_ONLY = {"train_stop", "train_resume"}  # the run's own session or the admin (test_public_mode.py)


@pytest.fixture(scope="module")
def public_app(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The app built as app.py builds it on a Space, in this process, so the test sees each
    Caller Studio admits (wrapping Policy.admitted) while gradio_client calls the endpoints."""
    from components.app import build_app
    from studio.config import load_config, with_public_limits
    from studio.models.manager import ModelManager
    from studio.policy.access import Access
    from studio.studio import Studio
    from studio.training.jobs import JobManager

    config = with_public_limits(load_config(models_yaml), [f"{name}={value}" for name, value in LIMITS.items()])
    access = Access(public=True, admin_token="admin-token-for-tests")
    jobs = JobManager(tmp_path_factory.mktemp("runs"), config, public=True, access=access, supervise=False)
    studio = Studio(config, ModelManager(), public=True, extra_entries=jobs.model_entries, jobs=jobs, access=access)
    admitted: list[Caller | None] = []
    original = studio.policy.admitted

    @contextmanager
    def recording(caller: Caller | None) -> Iterator[None]:
        admitted.append(caller)
        with original(caller):
            yield

    studio.policy.admitted = recording  # type: ignore[method-assign]
    demo = build_app(studio)
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield SimpleNamespace(studio=studio, demo=demo, admitted=admitted, client=Client(demo.local_url, verbose=False))
    finally:
        demo.close()


def endpoints(app: SimpleNamespace) -> dict[str, Any]:
    """Every endpoint the API offers, by name (what view_api lists: the page's helpers are private or undocumented)."""
    named = app.client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    registered = {fn.api_name for fn in app.demo.fns.values() if fn.api_name and fn.api_visibility == "public"}
    assert {name.lstrip("/") for name in named} == registered
    return {name.lstrip("/"): info for name, info in named.items()}


def refused(app: SimpleNamespace, api_name: str, **arguments: Any) -> str:
    """The sentence the visitor gets; fails when the call succeeds."""
    with pytest.raises(AppError) as caught:
        app.client.predict(**arguments, api_name=f"/{api_name}")
    return str(caught.value)


def reached_studio_as_the_visitor(app: SimpleNamespace, call: Callable[[], Any]) -> bool:
    """Whether the call reached a Studio action as this client's Caller."""
    app.admitted.clear()
    with suppress(AppError):
        call()
    session = owner_key(app.client.session_hash)
    return any(caller is not None and caller.session == session and not caller.admin for caller in app.admitted)


def valid(param: Any) -> Any:
    """A value the spec accepts for a required input."""
    if param.kind == "image":
        return handle_file(str(IMAGE))
    if param.kind == "audio":
        return handle_file(str(AUDIO))
    return "a, b" if param.name == "candidate_labels" else "hello there"


def over_cap(spec: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """(inputs past one public cap, the sentence that refuses them) for each capped input of a spec."""
    over = {name: value + 1 for name, value in LIMITS.items()}
    for name in ("max_new_tokens", "num_beams", "num_return_sequences"):
        if name in spec:
            beam = {"strategy": "beam"} if name == "num_beams" and "strategy" in spec else {}
            yield {name: over[name], **beam}, f"{name} can be at most {LIMITS[name]} on this public app"
    if "max_new_tokens" not in spec:
        return  # the size limits are for the tasks that generate
    for name in PROMPT_NAMES:
        if name in spec and spec[name].kind == "text":
            yield {name: "x" * over["prompt_chars"]}, f"{name} is {over['prompt_chars']:,} characters long"
    if "history" in spec:
        history = [{"role": "user", "content": "x" * over["history_chars"]}]
        yield {"history": history}, f"The history is {over['history_chars']:,} characters long"


def test_every_endpoint_goes_through_studio_with_its_policy(public_app: SimpleNamespace) -> None:
    app, studio = public_app, public_app.studio
    tasks = {task.api_name: task for task in studio.tasks.values() if studio.entries(task.id)}
    insight = {"explain_text_classification", "evaluate", "batch", "compare_models", "compare_strategies"}
    unknown = set(endpoints(app)) - set(tasks) - insight - READS - set(ADMIN_ONLY) - OWNER_ONLY - {"train_start"}
    assert unknown == set(), f"classify these endpoints in {__name__}: do they run a model, need the admin?"

    capped = 0
    for api_name, task in tasks.items():
        required = {param.name: valid(param) for param in task.spec.params if param.required}
        model = studio.default_model(task.id) or studio.entries(task.id)[0].public_id
        # Every Run reaches Studio as the visitor (an unpicked model: refused after admission, nothing loads).
        run = {"model": "", **required, "api_name": f"/{api_name}"}
        assert reached_studio_as_the_visitor(app, lambda run=run: app.client.predict(**run)), (
            f"/{api_name} did not reach Studio as the visitor's Caller"
        )
        for inputs, sentence in over_cap(task.spec):
            assert sentence in refused(app, api_name, model=model, **{**required, **inputs}), (api_name, inputs)
            capped += 1
    assert capped >= 15  # text generation, chat, summarization, translation, image chat, captions

    generator = studio.default_model("text-generation")
    over = LIMITS["max_new_tokens"] + 1
    sentence = f"max_new_tokens can be at most {LIMITS['max_new_tokens']} on this public app; got {over}."
    # Compare strategies: each column is a Studio stream, capped as the Run is.
    assert sentence in refused(app, "compare_strategies", model=generator, prompt="hi", max_new_tokens=over)
    assert "num_beams can be at most 4" in refused(
        app, "compare_strategies", model=generator, prompt="hi", strategy_1="beam", num_beams=5
    )
    # Insight: the caps inside its JSON inputs and settings, refused once and whole.
    inputs = json.dumps({"prompt": "hi", "max_new_tokens": over})
    compared = refused(app, "compare_models", task="text-generation", model_a=generator, model_b="b", inputs=inputs)
    assert sentence in compared
    table = handle_file(str(ROOT / "data" / "sentiment" / "test.csv"))
    batch = {"task": "text-generation", "model": generator, "dataset": table, "column": "text"}
    assert sentence in refused(app, "batch", **batch, settings=json.dumps({"max_new_tokens": over}))
    # Every Insight action, and Compare strategies, reaches Studio as the visitor.
    calls = {
        "compare_strategies": lambda: app.client.predict(model="", prompt="hi", api_name="/compare_strategies"),
        "explain_text_classification": lambda: app.client.predict(
            model="", text="hi", target="predicted", n_steps=5, api_name="/explain_text_classification"
        ),
        "evaluate": lambda: app.client.predict(
            task="text-classification", model="", dataset=None, text_column="", label_column="", api_name="/evaluate"
        ),
        "batch": lambda: app.client.predict(**{**batch, "model": ""}, settings="{}", api_name="/batch"),
        "compare_models": lambda: app.client.predict(
            task="text-classification", model_a="", model_b="", inputs='{"text": "hi"}', api_name="/compare_models"
        ),
    }
    assert set(calls) == insight
    for api_name, call in calls.items():
        assert reached_studio_as_the_visitor(app, call), f"/{api_name} did not reach Studio as the visitor's Caller"


def test_admin_endpoints_refuse_a_visitor(public_app: SimpleNamespace, tiny: SimpleNamespace) -> None:
    app = public_app
    for api_name, (arguments, action) in ADMIN_ONLY.items():
        assert f"{action} {NEEDS_ADMIN}" in refused(app, api_name, **arguments), api_name
    started = refused(app, "train_start", task="text-classification", model=tiny.text_classifier)
    assert f"Starting a fine-tuning run {NEEDS_ADMIN}" in started
    for api_name in OWNER_ONLY:  # a run this session did not start: refused (no such run here)
        refused(app, api_name, run_id="20250101-000000-text-0000")
