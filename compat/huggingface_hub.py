"""huggingface_hub internals studio relies on (see compat/__init__.py): its module of constants
(read once from the environment at import) and the name of a repository's cache folder.

huggingface_hub is imported inside each function (or not at all): the app's start stays light.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from compat import Reliance

RELIES_ON = [
    Reliance("huggingface_hub.constants", "HF_HUB_OFFLINE", "compat.huggingface_hub.set_offline_constant"),
    Reliance("huggingface_hub.constants", "HF_HUB_CACHE", "compat.huggingface_hub.hub_cache"),
    Reliance(
        "huggingface_hub.file_download",
        "repo_folder_name",
        "compat.huggingface_hub.repo_cache_folder",
        parameters=("repo_id", "repo_type"),
    ),
]


def set_offline_constant(offline: bool) -> None:
    """Set huggingface_hub.constants.HF_HUB_OFFLINE, if huggingface_hub is imported already (else it
    reads HF_HUB_OFFLINE from the environment when it is). The constant is read from the
    environment once, at import, and huggingface_hub.is_offline_mode() (which transformers asks)
    reads the constant; changing it afterwards is undocumented. We need it to go offline for the
    session when the Hub does not answer at start, and back online for a Download."""
    constants: Any = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = offline


def hub_cache() -> Path:
    """The Hugging Face cache folder models download into (HF_HUB_CACHE, else HF_HOME/hub, else
    ~/.cache/huggingface/hub, as huggingface_hub resolved them at import). Relies on
    huggingface_hub.constants.HF_HUB_CACHE: only the environment variables are documented."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_cache_folder(repo_id: str, repo_type: str = "model") -> str:
    """The name of a repository's folder in the cache ("models--org--name"). Relies on
    huggingface_hub.file_download.repo_folder_name (undocumented; the layout is documented); we
    need it to measure a download's bytes on disk while it runs."""
    from huggingface_hub.file_download import repo_folder_name

    return str(repo_folder_name(repo_id=repo_id, repo_type=repo_type))
