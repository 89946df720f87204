"""The policy behind the door: a Caller made once per request, and Studio applying admin rights,
the public caps (on the values the spec parsed) and the running limit per visitor itself, at
every entry point, so no endpoint has to remember them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest

from components.api import api_handler, caller, request_parameter
from studio.config import parse_config
from studio.errors import UserError
from studio.models.manager import ModelManager
from studio.policy.access import ADMIN, Access, Caller, owner_key
from studio.policy.limits import VisitorLimits
from studio.studio import Studio

ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"max_new_tokens": 200, "num_beams": 3, "num_return_sequences": 2, "prompt_chars": 200, "history_chars": 300}
MODEL = "tiny/never-loaded"  # listed, never loaded: every refusal here comes before a load


def public_studio(running_per_visitor: int = 2) -> Studio:
    config = parse_config(
        {
            "tasks": {
                "text-generation": {"models": [{"id": MODEL, "source": "hub"}]},
                "chat": {"models": [{"id": MODEL, "source": "hub"}]},
            },
            "public_limits": {**LIMITS, "running_per_visitor": running_per_visitor},
        }
    )
    return Studio(config, ModelManager(), public=True, access=Access(public=True, admin_token="the-token"))


def visitor(studio: Studio, session: str = "visitor-session") -> Caller:
    return studio.access.actor(session)


# ------------------------------------------------------------------ the caller
def test_a_caller_is_decided_once_and_never_keeps_the_token() -> None:
    access = Access(public=True, admin_token="the-token")
    admin = access.actor("a-session", "the-token", "someone", from_page=True)
    assert admin.admin and admin.from_page and admin.username == "someone"
    assert admin.session == owner_key("a-session") != "a-session"  # the session id itself is never kept
    assert "the-token" not in repr(admin) and "a-session" not in repr(admin)
    assert not access.actor("a-session", "wrong").admin
    assert access.actor().owner == ADMIN and access.actor().session is None
    assert Access().actor("anyone").admin  # localhost: everyone


def test_components_make_the_caller_from_gradios_request() -> None:
    studio = public_studio()
    page = SimpleNamespace(session_hash="abc", headers={"x-gradio-user": "app"})
    api = SimpleNamespace(session_hash="abc", headers={"x-gradio-user": "api"})
    made = caller(studio.access, page, "the-token", SimpleNamespace(username="hf-user"))  # type: ignore[arg-type]
    assert made == Caller(owner_key("abc"), True, "hf-user", True)
    assert caller(studio.access, api) == Caller(owner_key("abc"), False, None, False)  # type: ignore[arg-type]
    assert caller(studio.access, None) == Caller(None, False)


def test_api_handler_gives_a_handler_its_signature() -> None:
    def handler(*args: object) -> None: ...

    parameters = [inspect.Parameter("text", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)]
    made = api_handler(handler, [*parameters, request_parameter()], "my_api", "Does a thing.")
    assert list(inspect.signature(made).parameters) == ["text", "request"]
    assert made.__name__ == "my_api" and made.__doc__ == "Does a thing."
    assert made.__annotations__["text"] is str and "request" in made.__annotations__


# ------------------------------------------------------------------ caps, on the checked values
@pytest.mark.parametrize(
    ("task", "inputs", "message"),
    [
        ("text-generation", {"prompt": "hi", "max_new_tokens": "201"}, "max_new_tokens can be at most 200"),
        ("text-generation", {"prompt": "hi", "max_new_tokens": 201.0}, "max_new_tokens can be at most 200"),
        ("text-generation", {"prompt": "hi", "strategy": "beam", "num_beams": "4"}, "num_beams can be at most 3"),
        ("text-generation", {"prompt": "hi", "num_return_sequences": " 3 "}, "num_return_sequences can be at most 2"),
        ("text-generation", {"prompt": "x" * 201}, "prompt is 201 characters long; this public app takes at most 200"),
        ("chat", {"message": "hi", "history": [{"role": "user", "content": "x" * 301}]}, "The history is 301"),
    ],
)
def test_caps_apply_to_what_the_spec_parsed(task: str, inputs: dict, message: str) -> None:
    studio = public_studio()
    with pytest.raises(UserError, match=message):
        studio.run(task, MODEL, inputs, caller=visitor(studio))


def test_caps_apply_without_a_caller_too_and_not_on_localhost() -> None:
    with pytest.raises(UserError, match="max_new_tokens can be at most 200"):
        public_studio().run("text-generation", MODEL, {"prompt": "hi", "max_new_tokens": 201})
    local = Studio(public_studio().config, ModelManager())
    local.policy.cap({"max_new_tokens": 10_000})  # nothing to refuse on localhost


def test_num_beams_is_capped_only_for_beam_search() -> None:
    studio = public_studio()
    studio.policy.cap({"strategy": "greedy", "num_beams": 16, "max_new_tokens": 4})
    with pytest.raises(UserError, match="num_beams can be at most 3"):
        studio.policy.cap({"strategy": "beam", "num_beams": 16, "max_new_tokens": 4})


def test_insight_actions_are_capped_once_before_anything_runs() -> None:
    studio = public_studio()
    over = {"prompt": "hi", "max_new_tokens": "201"}
    with pytest.raises(UserError, match="max_new_tokens can be at most 200"):
        studio.compare_models("text-generation", MODEL, "another", over, caller=visitor(studio))
    with pytest.raises(UserError, match="max_new_tokens can be at most 200"):
        studio.batch("text-generation", MODEL, "no-file.csv", "text", {"max_new_tokens": 201}, caller=visitor(studio))
    # A value the spec refuses is left to the action's own sentence.
    studio.policy.cap_given(studio.spec("text-generation"), {"max_new_tokens": "lots"})


# ------------------------------------------------------------------ the running limit
def test_a_stream_holds_one_of_the_visitors_slots_until_it_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    studio = public_studio(running_per_visitor=1)
    monkeypatch.setattr(studio, "_updates", lambda *args: iter([None, None]))
    held = studio.stream("text-generation", MODEL, {"prompt": "hi"}, caller=visitor(studio))
    next(held)
    with pytest.raises(UserError, match="You already have 1 request running, the most one visitor may run"):
        next(studio.stream("text-generation", MODEL, {"prompt": "hi"}, caller=visitor(studio)))
    other = studio.stream("text-generation", MODEL, {"prompt": "hi"}, caller=visitor(studio, "someone-else"))
    assert next(other) is None
    other.close()
    held.close()
    assert studio.policy.visitors.count(owner_key("visitor-session")) == 0
    assert next(studio.stream("text-generation", MODEL, {"prompt": "hi"}, caller=visitor(studio))) is None


def test_every_insight_action_is_one_running_request(monkeypatch: pytest.MonkeyPatch) -> None:
    studio = public_studio(running_per_visitor=1)
    seen: list[int] = []

    def counted(*args: object, **kwargs: object) -> dict:
        seen.append(studio.policy.visitors.count(owner_key("visitor-session")))
        return {}

    for name in ("explain_text_classification", "evaluate", "batch", "compare_models"):
        monkeypatch.setattr(studio.insight, name, counted)
    who = visitor(studio)
    studio.explain(MODEL, "hi", "predicted", 5, caller=who)
    studio.evaluate("text-classification", MODEL, None, None, None, caller=who)
    studio.batch("text-generation", MODEL, "f.csv", "text", {}, caller=who)
    studio.compare_models("text-generation", MODEL, "b", {"prompt": "hi"}, caller=who)
    assert seen == [1, 1, 1, 1]


def test_visitor_limits_forget_sessions_with_nothing_running() -> None:
    limits = VisitorLimits()
    who = Caller("s", False)
    with limits.running(who, 2), limits.running(who, 2):
        assert limits.count("s") == 2
        with pytest.raises(UserError, match="You already have 2 requests running"), limits.running(who, 2):
            pass
    assert limits.count("s") == 0 and not limits._running
    with limits.running(Caller(None, False), 1), limits.running(None, 1):
        pass  # no session: not counted


# ------------------------------------------------------------------ admin rights
def test_admin_actions_refuse_a_visitor_and_allow_the_admin() -> None:
    studio = public_studio()
    who = visitor(studio)
    with pytest.raises(UserError, match="Unloading models needs the admin credential on this public app"):
        studio.unload("anything", who)
    with pytest.raises(UserError, match="Unloading models needs the admin credential"):
        studio.unload_all(who)
    with pytest.raises(UserError, match="Downloading models needs the admin credential"):
        studio.download("text-generation", MODEL, None, who)
    admin = studio.access.actor("visitor-session", "the-token")
    with pytest.raises(UserError, match="Pick a model to unload first"):
        studio.unload("", admin)
    assert studio.unload_all(admin) == 0


# ------------------------------------------------------------------ no endpoint names the rules
def test_no_component_applies_the_policy_itself() -> None:
    """The caps and the running limit are Studio's: the page only says who asks."""
    words = {"public_limits", "check_caps", "VisitorLimits", "running_per_visitor", "admitted", "cap_given"}
    offenders = {}
    for path in sorted((ROOT / "components").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        found = sorted((names & words) | {m for m in modules if m in ("studio.policy.limits", "studio.policy.rules")})
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}
