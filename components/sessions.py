"""Lighter Gradio sessions: a session's copy of the page config is built when it is needed.

Every API call without a session (each REST call, each MCP call) starts a new Gradio
session, and Gradio's `SessionState` builds the config (props and API info) of every
component of the page at once, and then again for each input of each call: ~100 ms and
~1 MB for this app's ~700 components, for a copy that only deep links read (this app has no
deep-link button). `LightSessionState` builds the whole copy only when a deep link asks, so
a call costs what its own event does. Installed by `lighten_sessions(demo)` after
launch; bench/serving.py measures the difference (figure 1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from copy import copy
from typing import Any

import gradio as gr
from gradio.state_holder import SessionState, StateHolder


class LightSessionState(SessionState):
    """Gradio's SessionState without the eager per-component config copy."""

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
    def components(self) -> Iterator[dict]:
        """Every component's config (deep links): the ones not used yet are built now."""
        for key, block in self.blocks_config.blocks.items():
            if key in self._page_ids and key not in self.config_values:
                self.config_values[key] = self.blocks_config.config_for_block(key, [], block)
        yield from super().components


class LightStateHolder(StateHolder):
    """Gradio's StateHolder, making LightSessionStates."""

    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LightSessionState(self.blocks)
        return super().__getitem__(session_id)


def lighten_sessions(demo: gr.Blocks) -> None:
    """Swap the running app's session store for the light one (call right after launch)."""
    app = demo.server_app
    if app is None:
        raise RuntimeError("launch the app before lightening its sessions")
    holder = LightStateHolder()
    holder.set_blocks(demo)
    app.state_holder = holder
