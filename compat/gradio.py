"""Gradio internals the page relies on (see compat/__init__.py): the event functions of a Blocks,
the two methods we wrap to answer input errors and keep a run's error, the session store we
lighten, and the upload-folder check."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from copy import copy
from typing import Any, Literal

import gradio as gr
from gradio import utils as gradio_utils
from gradio.block_function import BlockFunction
from gradio.state_holder import SessionState, StateHolder
from gradio_client import utils as client_utils

from compat import Reliance

RELIES_ON = [
    Reliance("gradio.blocks", "Blocks.fns", "compat.gradio.events"),
    Reliance("gradio.block_function", "BlockFunction.fn", "compat.gradio.Event", instance=True),
    Reliance("gradio.block_function", "BlockFunction.name", "compat.gradio.Event", instance=True),
    Reliance("gradio.block_function", "BlockFunction.api_name", "compat.gradio.Event", instance=True),
    Reliance("gradio.block_function", "BlockFunction.inputs", "compat.gradio.Event", instance=True),
    Reliance("gradio.block_function", "BlockFunction.api_visibility", "compat.gradio.Event", instance=True),
    Reliance(
        "gradio.blocks",
        "Blocks.preprocess_data",
        "compat.gradio.wrap_preprocess_data",
        parameters=("block_fn", "inputs", "state", "explicit_call"),
    ),
    Reliance("gradio.blocks", "Block._id", "compat.gradio.session_copy", instance=True),
    Reliance("gradio.state_holder", "SessionState.__contains__", "compat.gradio.session_copy"),
    Reliance("gradio.state_holder", "SessionState.__getitem__", "compat.gradio.session_copy"),
    Reliance(
        "gradio.blocks",
        "Blocks.process_api",
        "compat.gradio.wrap_process_api",
        parameters=("block_fn", "inputs", "state", "request", "iterator", "session_hash"),
    ),
    Reliance("gradio.blocks", "Blocks.default_config", "compat.gradio.LightSessionState", instance=True),
    Reliance("gradio.blocks", "BlocksConfig.blocks", "compat.gradio.LightSessionState", instance=True),
    Reliance("gradio.blocks", "BlocksConfig.config_for_block", "compat.gradio.LightSessionState"),
    Reliance("gradio.state_holder", "SessionState.blocks_config", "compat.gradio.LightSessionState", instance=True),
    Reliance("gradio.state_holder", "SessionState.config_values", "compat.gradio.LightSessionState", instance=True),
    Reliance("gradio.state_holder", "SessionState.state_data", "compat.gradio.LightSessionState", instance=True),
    Reliance("gradio.state_holder", "SessionState._state_ttl", "compat.gradio.LightSessionState", instance=True),
    Reliance("gradio.state_holder", "SessionState.is_closed", "compat.gradio.LightSessionState", instance=True),
    Reliance(
        "gradio.state_holder", "SessionState.STATE_TTL_WHEN_CLOSED", "compat.gradio.LightSessionState", instance=True
    ),
    Reliance("gradio.state_holder", "SessionState._update_value_in_config", "compat.gradio.LightSessionState"),
    Reliance("gradio.state_holder", "SessionState.components", "compat.gradio.LightSessionState"),
    Reliance("gradio.state_holder", "StateHolder.session_data", "compat.gradio.LightStateHolder", instance=True),
    Reliance("gradio.state_holder", "StateHolder.blocks", "compat.gradio.LightStateHolder", instance=True),
    Reliance("gradio.state_holder", "StateHolder.set_blocks", "compat.gradio.use_light_sessions"),
    Reliance("gradio.blocks", "Blocks.server_app", "compat.gradio.use_light_sessions", instance=True),
    Reliance("gradio.routes", "App.state_holder", "compat.gradio.use_light_sessions", instance=True),
    Reliance("gradio.utils", "abspath", "compat.gradio.is_upload_or_url"),
    Reliance("gradio.utils", "is_in_or_equal", "compat.gradio.is_upload_or_url"),
    Reliance("gradio.utils", "get_upload_folder", "compat.gradio.is_upload_or_url"),
    Reliance("gradio_client.utils", "is_http_url_like", "compat.gradio.is_upload_or_url"),
]


# ----------------------------------------------------------------- event functions
class Event:
    """One event listener of a Blocks, read through Gradio's BlockFunction (an undocumented class;
    its attributes `fn`, `name`, `api_name`, `inputs`, `api_visibility`). We need it to name an
    event's inputs in error sentences, to file a run's error under its endpoint, and to take admin
    endpoints out of the API docs (hence out of the MCP tools) after the page is built."""

    def __init__(self, block_fn: BlockFunction) -> None:
        self.block_fn = block_fn

    @property
    def handler(self) -> Callable[..., Any] | None:
        """The Python function the event runs (None for a JavaScript-only event)."""
        return self.block_fn.fn

    @property
    def name(self) -> str | None:
        """The handler's function name."""
        return self.block_fn.name

    @property
    def api_name(self) -> str | None:
        """The endpoint's name, or None when it has none."""
        return self.block_fn.api_name or None

    @property
    def inputs(self) -> list[Any]:
        """The input components, in the handler's order."""
        return list(self.block_fn.inputs)

    @property
    def api_visibility(self) -> str:
        """Whether the API docs list the endpoint: public, undocumented or private (api_visibility=)."""
        return str(self.block_fn.api_visibility)

    @api_visibility.setter
    def api_visibility(self, value: Literal["public", "private", "undocumented"]) -> None:
        self.block_fn.api_visibility = value


def events(blocks: gr.Blocks) -> list[Event]:
    """Every event listener of the page (Blocks.fns, undocumented), in the order they were wired."""
    return [Event(block_fn) for block_fn in blocks.fns.values()]


def event_of(blocks: gr.Blocks, block_fn: BlockFunction | int) -> Event | None:
    """The event that process_api was called with: Gradio passes a BlockFunction or its index
    in Blocks.fns (undocumented). None for an index it does not know."""
    if isinstance(block_fn, int):
        found = blocks.fns.get(block_fn)
        return None if found is None else Event(found)
    return Event(block_fn)


# ----------------------------------------------------------------- wrapped methods
RunPreprocess = Callable[[], Awaitable[Any]]
CopyInSession = Callable[[Any], Any]
PreprocessWrapper = Callable[[RunPreprocess, Event, list[Any], CopyInSession], Awaitable[Any]]
ErrorRecorder = Callable[["Event | None", "str | None", Exception], None]


def wrap_preprocess_data(blocks: gr.Blocks, wrapper: PreprocessWrapper) -> None:
    """Route every event's input preprocessing through `wrapper(run, event, inputs, copy_in_session)`:
    `run()` is Gradio's own Blocks.preprocess_data(block_fn, inputs, state, explicit_call), an
    undocumented method, the one place where all of an event's inputs are checked together;
    `copy_in_session(component)` is the caller's session's copy of a component (session_copy).
    We need it to answer Gradio's own input errors with a sentence naming the parameter."""
    original = blocks.preprocess_data

    async def preprocess_data(
        block_fn: BlockFunction, inputs: list[Any], state: SessionState | None, explicit_call: bool = False
    ) -> Any:
        return await wrapper(
            lambda: original(block_fn, inputs, state, explicit_call),
            Event(block_fn),
            inputs,
            lambda component: session_copy(state, component),
        )

    blocks.preprocess_data = preprocess_data  # type: ignore[method-assign]  # wrapped on this Blocks alone


def session_copy(state: SessionState | None, component: Any) -> Any:
    """The session's own copy of a component (Gradio keeps one per session once an event updates
    its props), or None. Relies on Block._id and SessionState's item access, both undocumented;
    we need it to give a rebuilt spec widget its Param back before Gradio checks its value."""
    if state is None or component._id not in state:
        return None
    return state[component._id]


def wrap_process_api(blocks: gr.Blocks, on_error: ErrorRecorder) -> None:
    """Call `on_error(event, session_hash, exc)` when an event fails, then let the error go on.
    Relies on Blocks.process_api(block_fn, inputs, state, request, iterator, session_hash, ...),
    an undocumented method: the one call that every event goes through, streaming or not, from
    preprocessing to the last output. We need it to keep a failed run's sentence for its tab."""
    original = blocks.process_api

    async def process_api(block_fn: BlockFunction | int, inputs: list[Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(block_fn, inputs, *args, **kwargs)
        except Exception as exc:
            session = kwargs.get("session_hash", args[3] if len(args) > 3 else None)
            on_error(event_of(blocks, block_fn), session, exc)
            raise

    blocks.process_api = process_api  # type: ignore[method-assign]  # wrapped on this Blocks alone


# ----------------------------------------------------------------- light sessions
class LightSessionState(SessionState):
    """Gradio's SessionState without the eager per-component config copy (components/sessions.py
    says why). Its __init__ does what SessionState.__init__ does, less the copy, so it skips
    super() and sets SessionState's undocumented attributes itself: blocks_config, config_values,
    state_data, _state_ttl, is_closed, STATE_TTL_WHEN_CLOSED (read from Blocks.default_config and
    BlocksConfig.blocks / config_for_block). Update it with each Gradio that changes them."""

    def __init__(self, blocks: gr.Blocks) -> None:
        self.blocks_config = copy(blocks.default_config)
        self._page_ids = blocks.blocks.keys()
        self.config_values: dict[int, Any] = {}
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, Any] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    def _update_value_in_config(self, key: int, value: Any) -> None:
        """A used component's value, for deep links; one never shown to a deep link is not built."""
        if key in self.config_values:
            super()._update_value_in_config(key, value)

    @property
    def components(self) -> Iterator[dict[str, Any]]:
        """Every component's config (deep links): the ones not used yet are built now."""
        for key, block in self.blocks_config.blocks.items():
            if key in self._page_ids and key not in self.config_values:
                self.config_values[key] = self.blocks_config.config_for_block(key, [], block)
        yield from super().components


class LightStateHolder(StateHolder):
    """Gradio's StateHolder, making LightSessionStates (relies on StateHolder.session_data and
    .blocks, undocumented, which its __getitem__ reads)."""

    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LightSessionState(self.blocks)
        return super().__getitem__(session_id)


def use_light_sessions(demo: gr.Blocks) -> None:
    """Swap the running app's session store for a LightStateHolder. Relies on Blocks.server_app
    (set by launch) and its App.state_holder, and on StateHolder.set_blocks: all undocumented;
    Gradio has no setting for how a session copies the page config."""
    app = demo.server_app
    if app is None:
        raise RuntimeError("launch the app before lightening its sessions")
    holder = LightStateHolder()  # type: ignore[no-untyped-call]  # Gradio leaves StateHolder.__init__ unannotated
    holder.set_blocks(demo)
    app.state_holder = holder


# ----------------------------------------------------------------- uploads
def is_upload_or_url(path: str) -> bool:
    """Whether a path is a URL or lies in Gradio's upload folder: the check Gradio makes on a
    path marked as a file, done here for a bare {"path": ...} it does not check. Relies on
    gradio.utils.abspath / is_in_or_equal / get_upload_folder and gradio_client.utils.is_http_url_like,
    all undocumented helpers; Gradio exposes no public check."""
    return bool(
        client_utils.is_http_url_like(path)
        or gradio_utils.is_in_or_equal(gradio_utils.abspath(path), gradio_utils.get_upload_folder())
    )
