"""The Hugging Face Hub: one probe at start, offline for the session, and Studio's Hub methods.

At start `probe_hub` asks the Hub once, with a short timeout. When it cannot be reached the
app runs offline for the session (HF_HUB_OFFLINE for huggingface_hub and transformers), so a
model that is not downloaded is refused at once instead of after minutes of retries.

Downloading is studio/models/downloading.py; the page's Download row is components/download.py;
Studio's Hub methods (needs_download, hub_state, download) are in studio/offers.py and
studio/studio.py. No Gradio here; see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.error
import urllib.request

from compat.huggingface_hub import set_offline_constant
from studio.errors import UserError

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0  # seconds the start-up probe waits for the Hub
DEFAULT_ENDPOINT = "https://huggingface.co"

# Set beside HF_HUB_OFFLINE when the probe turned the app offline itself: the flag lives in the
# environment with the setting it explains (a training worker inherits both), not in a global.
PROBED_OFFLINE = "STUDIO_HUB_OFFLINE_BY_PROBE"


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def hub_is_offline() -> bool:
    """Whether HF_HUB_OFFLINE is in effect, set by the person or by the start-up probe."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def offline_by_choice() -> bool:
    """HF_HUB_OFFLINE set by the person starting the app (not by the probe)."""
    return hub_is_offline() and not offline_for_session()


def offline_for_session() -> bool:
    """Whether the start-up probe found no Hub (and turned the app offline)."""
    return os.environ.get(PROBED_OFFLINE) == "1"


def hub_reachable(url: str | None = None, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether the Hub answers at all (any HTTP status counts) within timeout seconds.

    Runs in a thread so a hanging name lookup cannot hold the caller past the timeout.
    """
    answer: list[bool] = []

    def ask() -> None:
        request = urllib.request.Request(f"{url or endpoint()}/api/models?limit=1", method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                answer.append(True)
        except urllib.error.HTTPError:
            answer.append(True)  # it answered, even if with an error status
        except (OSError, ValueError):
            answer.append(False)

    thread = threading.Thread(target=ask, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(answer and answer[0])


def _set_offline(offline: bool) -> None:
    """HF_HUB_OFFLINE for this process: the variable, and huggingface_hub's constant if imported
    (transformers asks huggingface_hub.is_offline_mode(), which reads that constant)."""
    if offline:
        os.environ["HF_HUB_OFFLINE"] = os.environ[PROBED_OFFLINE] = "1"
    else:
        os.environ.pop("HF_HUB_OFFLINE", None)
        os.environ.pop(PROBED_OFFLINE, None)
    set_offline_constant(offline)


def probe_hub(timeout: float = PROBE_TIMEOUT) -> str:
    """Ask the Hub once at start; offline for the session when it does not answer. The log line."""
    if offline_by_choice():
        return "HF_HUB_OFFLINE is set: models load from this machine only; Download is off."
    started = time.perf_counter()
    if hub_reachable(timeout=timeout):
        return f"The Hugging Face Hub ({endpoint()}) answers: models not downloaded yet can be downloaded."
    _set_offline(True)
    return (
        f"The Hugging Face Hub ({endpoint()}) cannot be reached (checked in {time.perf_counter() - started:.1f} s): "
        "running offline for this session; models not downloaded yet are marked so."
    )


def back_online() -> None:
    """Before a download: refuse under the person's HF_HUB_OFFLINE; after a failed probe, ask again."""
    if offline_by_choice():
        raise UserError(
            "HF_HUB_OFFLINE is set, so this app does not use the network; restart it without HF_HUB_OFFLINE "
            "to download models."
        )
    if offline_for_session():
        if not hub_reachable():
            raise UserError(
                f"The Hugging Face Hub ({endpoint()}) cannot be reached from this machine; connect it to the "
                "network and press Download again, or pick a model marked offline."
            )
        log.info("The Hugging Face Hub answers again: back online.")
        _set_offline(False)
