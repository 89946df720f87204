"""Serving many people: each task has its own concurrency group and limit, and an API call no
longer copies the whole page's config into its session (components/sessions.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from app import check_serving, parse_args
from bench.rest import Api


def events_by_api_name(demo) -> dict:
    return {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}


def test_each_task_has_its_own_group_and_limit(launched) -> None:
    """Batched tasks take a batch's worth at once, generation a stream per slot, the rest one;
    a cheap task's group is never a generation's."""
    expected = {
        "fill_mask": 16,  # --max-batch-size
        "feature_extraction": 16,
        "text_classification": 16,
        "image_classification": 16,
        "audio_classification": 16,
        "text_generation": 8,  # --generation-streams
        "chat": 8,
        "question_answering": 1,
        "summarization": 1,
    }
    events = events_by_api_name(launched)
    for api_name, limit in expected.items():
        assert events[api_name].concurrency_limit == limit, api_name
        assert events[api_name].concurrency_id == api_name


def test_serving_flags_out_of_range_get_a_sentence() -> None:
    for argv, words in (
        (["--max-batch-size", "0"], "--max-batch-size must be 1 or more"),
        (["--batch-window-ms", "-1"], "--batch-window-ms must be between 0 and 1000"),
        (["--generation-streams", "0"], "--generation-streams must be 1 or more"),
    ):
        with pytest.raises(SystemExit, match=words):
            check_serving(parse_args(argv))
    check_serving(parse_args([]))


@pytest.fixture(scope="module")
def launched(tiny: SimpleNamespace, models_yaml: Path):
    """The app built in this process (so its session store can be read), lightened as app.py does."""
    from components.app import build_app
    from components.sessions import lighten_sessions
    from studio.config import load_config
    from studio.models.manager import ModelManager
    from studio.studio import Studio
    from tests.app_process import free_port

    demo = build_app(Studio(load_config(models_yaml), ModelManager()))
    demo.queue().launch(server_port=free_port(), prevent_thread_lock=True)
    lighten_sessions(demo)
    yield demo
    demo.close()


def test_an_api_call_builds_no_page_config_and_deep_links_still_get_all_of_it(launched, tiny: SimpleNamespace) -> None:
    from gradio.state_holder import SessionState

    from compat.gradio import LightSessionState

    api = Api(launched.local_url)
    with httpx.Client(timeout=120) as client:
        events = list(api.events(client, "fill_mask", {"model": tiny.fill_mask_bert, "text": "the [MASK] is nice"}))
    assert events[-1][0] == "complete"
    holder = launched.server_app.state_holder
    assert len(holder.session_data) == 1
    session = next(iter(holder.session_data.values()))
    assert isinstance(session, LightSessionState)
    assert len(session.config_values) == 0  # Gradio's own SessionState builds one per component
    # A deep link (the only reader) gets every component's config, as Gradio's session gives it.
    eager = SessionState(launched)
    assert len(list(session.components)) == len(list(eager.components)) > 500
    assert list(session.components) == list(eager.components)
