"""What every endpoint's handler shares, for the page and the API alike: who asks, and the
handler's signature.

- `caller(...)` is the one place a request becomes a `Caller` (studio/policy/access.py): the
  browser session, the `admin_token` parameter, the Hugging Face login, and whether the app's
  own page asks. Every handler passes it into the Studio action it calls; Studio applies the
  app's policy to it (admin rights, public caps, the running limit per visitor).
- `api_handler(fn, parameters)` gives a handler built from a spec its real signature (the API's
  parameter names and defaults, as view_api, the page and an MCP client see them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import gradio as gr

from studio.policy.access import Access, Caller

Handler = TypeVar("Handler", bound=Callable[..., Any])
KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD


def caller(
    access: Access,
    request: gr.Request | None,
    admin_token: str | None = None,
    profile: gr.OAuthProfile | None = None,
) -> Caller:
    """Who makes this request: their browser session, admin token and Hugging Face login; the
    page's own requests say `x-gradio-user: app` (gradio_client's say `api`)."""
    headers = getattr(request, "headers", None) or {}
    return access.actor(
        getattr(request, "session_hash", None),
        admin_token if isinstance(admin_token, str) else None,
        getattr(profile, "username", None) if profile is not None else None,
        from_page=headers.get("x-gradio-user") == "app",
    )


def api_handler(
    fn: Handler, parameters: Sequence[inspect.Parameter], name: str | None = None, doc: str | None = None
) -> Handler:
    """fn with the signature `parameters` (Gradio reads names, defaults and the annotations that
    ask it for a gr.Request); its API name and docstring (the MCP tool's description) when given."""
    fn.__signature__ = inspect.Signature(list(parameters))  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in parameters if p.annotation is not inspect.Parameter.empty}
    if name is not None:
        fn.__name__ = fn.__qualname__ = name
    if doc is not None:
        fn.__doc__ = doc
    return fn


def progress_parameter() -> inspect.Parameter:
    """The gr.Progress parameter Gradio fills (a progress bar), not the API."""
    return inspect.Parameter("progress", KEYWORD, default=gr.Progress())


def request_parameter() -> inspect.Parameter:
    """The gr.Request parameter Gradio fills: who asks (caller above), not the API."""
    return inspect.Parameter("request", KEYWORD, default=None, annotation=gr.Request)
