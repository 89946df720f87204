"""Lighter Gradio sessions: a session's copy of the page config is built when it is needed.

Every API call without a session (each REST call, each MCP call) starts a new Gradio
session, and Gradio's `SessionState` builds the config (props and API info) of every
component of the page at once, and then again for each input of each call: ~100 ms and
~1 MB for this app's ~700 components, for a copy that only deep links read (this app has no
deep-link button). `LightSessionState` (compat/gradio.py) builds the whole copy only when a
deep link asks, so a call costs what its own event does. Installed by `lighten_sessions(demo)`
after launch; bench/serving.py measures the difference (figure 1).
"""

from __future__ import annotations

import gradio as gr

from compat.gradio import use_light_sessions


def lighten_sessions(demo: gr.Blocks) -> None:
    """Swap the running app's session store for the light one (call right after launch)."""
    use_light_sessions(demo)
