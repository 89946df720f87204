"""Loading one model: devices, where the weights come from, from_pretrained, and its errors.

ModelManager (studio/models/manager.py) caches what these functions load; see docs/ARCHITECTURE.md.
torch and transformers are imported lazily, inside the functions, so importing this module
is cheap.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.config import ModelEntry
from studio.errors import UserError
from studio.models.gguf import packaged_gguf_source
from studio.models.hub import hub_is_offline, offline_by_choice
from studio.models.remote import REMOTE_DEVICE, connect
from studio.models.settings import ModelSettings
from studio.serving.batching import Batchers
from studio.tasks.task import Task


@dataclass
class LoadedModel:
    """A model ready to run: the pipeline where the task has one, else model + processor."""

    entry: ModelEntry
    task: str
    settings: ModelSettings
    device: str
    model: Any
    processor: Any = None
    pipeline: Any = None
    path: str = ""
    num_bytes: int = 0
    load_seconds: float = 0.0
    last_used: float = field(default_factory=time.monotonic)
    # Dynamic batching of its forwards, by settings (studio/serving/batching.py); ModelManager sets window and size.
    batchers: Batchers = field(default_factory=Batchers, repr=False)

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)


def resolve_device(requested: str) -> str:
    """The torch device for a request; a UserError when it does not exist here."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("CUDA is not available on this machine; set device to auto or cpu.")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError("Apple MPS is not available on this machine; set device to auto or cpu.")
    return requested


def package_path(entry: ModelEntry) -> Path:
    """The folder (or file) of weights shipped inside an installed pip package."""
    packages = entry.package if isinstance(entry.package, list) else [entry.package]
    try:
        module = importlib.import_module(str(packages[0]))
    except ImportError:
        pip_name = str(packages[0]).replace("_", "-")
        raise UserError(
            f"Model {entry.display_name} needs the pip package {pip_name}; install it with pip install {pip_name}."
        ) from None
    if hasattr(module, "get_model_path"):
        return Path(module.get_model_path())
    raise UserError(f"Package {packages[0]} does not ship a model folder (no get_model_path()); check models.yaml.")


def resolve_source(entry: ModelEntry) -> str:
    """What from_pretrained / pipeline is given: a hub id, or a local folder."""
    if entry.source == "local":
        path = Path(getattr(entry, "folder", "") or entry.id).expanduser()  # a fine-tuned run: its folder
        if not path.is_dir():
            raise UserError(f"The folder of {entry.display_name!r} does not exist; fix its path in models.yaml.")
        return str(path)
    if entry.source == "package":
        if entry.gguf_file:  # GGUF chunks in pip packages: converted once to safetensors (studio/models/gguf.py)
            return packaged_gguf_source(entry)
        return str(package_path(entry))
    return entry.id


def is_cached(entry: ModelEntry) -> bool:
    """Whether the model can load without the network (cheap: looks at the hub cache only)."""
    if entry.source != "hub":
        return True
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(entry.id, "config.json", revision=entry.revision)
    return isinstance(found, str)


def not_downloaded(entry: ModelEntry) -> UserError:
    """The sentence for a Hub model that is not on this machine while the Hub is out of reach."""
    if offline_by_choice():
        why, how = "HF_HUB_OFFLINE is set", "restart it without HF_HUB_OFFLINE and press Download beside the model list"
    else:
        why, how = (
            "the Hugging Face Hub cannot be reached",
            "connect to the network and press Download beside the model list",
        )
    return UserError(
        f"Model {entry.id} is not downloaded and the app is offline ({why}); {how}, or pick a model marked offline."
    )


def explain_load_error(entry: ModelEntry, exc: BaseException) -> UserError | None:
    """A one-sentence UserError for the load failures a person can do something about."""
    name = entry.display_name
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or "OutOfMemoryError" in text or "out of memory" in text.lower():
        return UserError(
            f"Not enough memory to load {name}; unload models in the Loaded models panel, "
            "choose a smaller dtype or quantization, or pick a smaller model."
        )
    if entry.source == "local" and (isinstance(exc, OSError) or "Unrecognized model" in text):
        # transformers names the folder in these messages: say what to do instead.
        return UserError(
            f"The folder of {name!r} holds no model transformers can read (config.json and weights); "
            "fix its path in models.yaml."
        )
    if "GatedRepoError" in text or "gated repo" in text.lower():
        return UserError(
            f"Model {entry.public_id} is gated; accept its licence on huggingface.co and set HF_TOKEN "
            "before starting the app."
        )
    if "RepositoryNotFoundError" in text or "is not a valid model identifier" in text:
        return UserError(f"Model {entry.public_id} was not found on the Hugging Face Hub; check its id in models.yaml.")
    if "RevisionNotFoundError" in text or "is not a valid git identifier" in text:
        return UserError(f"Revision {entry.revision} of {entry.public_id} was not found; check the sha in models.yaml.")
    offline_markers = ("offline", "couldn't connect", "cannot find the requested files", "LocalEntryNotFound")
    if entry.source == "hub" and any(marker.lower() in text.lower() for marker in offline_markers):
        return not_downloaded(entry)
    if "bitsandbytes" in text.lower() or "quantiz" in text.lower():
        return UserError(
            f"{name} cannot be loaded with 8-bit or 4-bit quantization on this device; set quantization to none."
        )
    if "trust_remote_code" in text:
        return UserError(
            f"Model {entry.public_id} needs custom code from its repository; enable trust_remote_code for it in "
            "models.yaml only if you trust that code."
        )
    return None


def model_bytes(model: Any) -> int:
    """Bytes held by a model's parameters and buffers."""
    try:
        tensors = list(model.parameters()) + list(model.buffers())
    except AttributeError:
        return 0
    return sum(t.numel() * t.element_size() for t in tensors)


def _load_kwargs(entry: ModelEntry, settings: ModelSettings, device: str) -> dict[str, Any]:
    """from_pretrained keyword arguments for the settings row."""
    kwargs: dict[str, Any] = {"trust_remote_code": entry.trust_remote_code, "dtype": settings.dtype}
    if entry.revision:
        kwargs["revision"] = entry.revision
    if settings.quantization != "none":
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise UserError(
                "8-bit and 4-bit loading need the bitsandbytes package; set quantization to none."
            ) from None
        from transformers import BitsAndBytesConfig

        if settings.quantization == "8bit":
            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)  # type: ignore[no-untyped-call]  # unannotated
        else:
            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True)  # type: ignore[no-untyped-call]  # unannotated
        kwargs["device_map"] = {"": device}
    return kwargs


def load_model(entry: ModelEntry, task: Task, settings: ModelSettings) -> LoadedModel:
    """Load an entry for a task: a pipeline where one exists, else model and processor."""
    if entry.source == "openai":  # a server runs it: the app holds a connection, no weights (studio/models/remote.py)
        return LoadedModel(entry, task.id, settings, REMOTE_DEVICE, connect(entry))
    if entry.source == "hub" and hub_is_offline() and not is_cached(entry):
        raise not_downloaded(entry)  # before torch and transformers are imported: answers at once
    import transformers

    device = resolve_device(settings.device)
    source = resolve_source(entry)
    kwargs = _load_kwargs(entry, settings, device)
    quantized = "quantization_config" in kwargs
    if task.pipeline_task:
        revision = kwargs.pop("revision", None)
        trust = kwargs.pop("trust_remote_code")
        pipe = transformers.pipeline(  # type: ignore[call-overload]  # its overloads take Literal task names only
            task.pipeline_task,
            model=source,
            revision=revision,
            trust_remote_code=trust,
            device=None if quantized else device,
            model_kwargs=kwargs,
        )
        processor = getattr(pipe, "processor", None) or getattr(pipe, "tokenizer", None)
        return LoadedModel(
            entry, task.id, settings, device, pipe.model, processor, pipe, source, model_bytes(pipe.model)
        )
    model_class = getattr(transformers, task.model_class)
    base = getattr(entry, "adapter_of", "")  # a LoRA run saved as its adapter alone (studio/training/store.py)
    model = model_class.from_pretrained(base or source, **kwargs)
    if base:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, source).merge_and_unload()
    if not quantized:
        model = model.to(device)
    model.eval()
    processor_class = getattr(transformers, task.processor_class)
    processor_kwargs: dict[str, bool | str] = {"trust_remote_code": entry.trust_remote_code}
    if entry.revision:
        processor_kwargs["revision"] = entry.revision
    processor = processor_class.from_pretrained(source, **processor_kwargs)
    return LoadedModel(entry, task.id, settings, device, model, processor, None, source, model_bytes(model))


TOKENIZER_TASK = "tokenizer"


def load_tokenizer(entry: ModelEntry) -> LoadedModel:
    """Just the entry's AutoTokenizer, as a LoadedModel of task "tokenizer" (no weights, ~0 bytes)."""
    from transformers import AutoTokenizer

    started = time.perf_counter()
    source = resolve_source(entry)
    kwargs: dict[str, Any] = {"trust_remote_code": entry.trust_remote_code}
    if entry.revision:
        kwargs["revision"] = entry.revision
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    loaded = LoadedModel(entry, TOKENIZER_TASK, ModelSettings(), "cpu", None, tokenizer, None, source, 0)
    loaded.load_seconds = time.perf_counter() - started
    return loaded
