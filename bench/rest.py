"""Raw REST calls to a running Gradio app, as a stranger's script sends them: shared by the benches.

Each call is `POST /gradio_api/call/<api>` then a GET of its event stream, with a session
hash of its own (a new Gradio session), on an httpx client the caller keeps (one per
thread). gradio_client is not used: its own CPU use caps a cheap endpoint below the app on
2 cores, so it cannot measure the app.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


class Api:
    """Raw REST calls to the app, each with a new session hash."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        info = httpx.get(f"{self.url}/gradio_api/info", timeout=30).json()["named_endpoints"]
        self.parameters = {name.lstrip("/"): endpoint["parameters"] for name, endpoint in info.items()}

    def upload(self, path: Path) -> dict[str, Any]:
        with open(path, "rb") as file:
            response = httpx.post(f"{self.url}/gradio_api/upload", files={"files": (path.name, file)}, timeout=60)
        response.raise_for_status()
        return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": path.name}

    def data(self, api: str, inputs: dict[str, Any]) -> list[Any]:
        """The positional data of a call: the given inputs by name, the endpoint's defaults for the rest."""
        values = []
        for parameter in self.parameters[api]:
            name = parameter["parameter_name"]
            values.append(inputs[name] if name in inputs else parameter.get("parameter_default"))
        return values

    def events(self, client: httpx.Client, api: str, inputs: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """(event, data) of one request from a new session, as they arrive: "generating" for
        each streamed update, then "complete" or "error" (data None when it carries none)."""
        body = {"data": self.data(api, inputs), "session_hash": uuid.uuid4().hex}
        response = client.post(f"{self.url}/gradio_api/call/{api}", json=body)
        if response.status_code != 200:
            yield "error", f"HTTP {response.status_code}: {response.text[:200]}"
            return
        event_id = response.json()["event_id"]
        event = ""
        with client.stream("GET", f"{self.url}/gradio_api/call/{api}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("generating", "complete", "error"):
                    text = line[5:].strip()
                    try:
                        data = json.loads(text)
                    except ValueError:
                        data = text[:200]
                    yield event, data
                    if event in ("complete", "error"):
                        return
        yield "error", "the event stream ended without a result"

    def call(self, client: httpx.Client, api: str, inputs: dict[str, Any]) -> tuple[bool, str]:
        """(success, the error message or "") of one request, from a new session."""
        for event, data in self.events(client, api, inputs):
            if event == "complete":
                return True, ""
            if event == "error":
                return False, str(data)[:200]
        return False, "the event stream ended without a result"

    def timed(self, client: httpx.Client, api: str, inputs: dict[str, Any]) -> tuple[float, Any]:
        """(seconds, final data) of one request; raises on an error event."""
        started = time.perf_counter()
        for event, data in self.events(client, api, inputs):
            if event == "complete":
                return time.perf_counter() - started, data
            if event == "error":
                raise RuntimeError(f"{api} failed: {data}")
        raise RuntimeError(f"{api}: no result")
