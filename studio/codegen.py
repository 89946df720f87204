""" "Show code": the transformers snippet that reproduces a tab's call with its settings.

Every snippet is runnable as printed and leaves its answer in a variable named `result`,
equal to the tab's raw output (the tests execute them to make sure).
"""

from __future__ import annotations

from typing import Any

from studio.config import ModelEntry
from studio.models import ModelSettings


def model_reference(entry: ModelEntry) -> tuple[list[str], str]:
    """Lines that locate the model, and the expression to pass as `model`."""
    if entry.source == "package":
        package = entry.package[0] if isinstance(entry.package, list) else entry.package
        return [f"import {package}", ""], f"str({package}.get_model_path())"
    return [], repr(entry.id)


def load_arguments(entry: ModelEntry, settings: ModelSettings, for_pipeline: bool) -> list[str]:
    """Keyword arguments (as source text) matching the settings row."""
    arguments: list[str] = []
    if entry.revision:
        arguments.append(f"revision={entry.revision!r}")
    if entry.trust_remote_code:
        arguments.append("trust_remote_code=True")
    if settings.dtype != "auto":
        arguments.append(f"dtype={settings.dtype!r}")
    if settings.quantization != "none":
        flag = "load_in_8bit" if settings.quantization == "8bit" else "load_in_4bit"
        config = f"BitsAndBytesConfig({flag}=True)"
        if for_pipeline:
            arguments.append(f'model_kwargs={{"quantization_config": {config}}}')
        else:
            arguments.append(f"quantization_config={config}")
    elif settings.device != "auto":
        arguments.append(f"device={settings.device!r}")
    return arguments


def _call(function: str, first: str, arguments: list[str]) -> str:
    return f"{function}({', '.join([first, *arguments])})"


def pipeline_snippet(
    pipeline_task: str, entry: ModelEntry, settings: ModelSettings, call_arguments: list[str], name: str = "pipe"
) -> str:
    """A pipeline-based snippet: build the pipeline, call it, print the result."""
    setup, model = model_reference(entry)
    imports = "from transformers import pipeline"
    if settings.quantization != "none":
        imports = "from transformers import BitsAndBytesConfig, pipeline"
    load = load_arguments(entry, settings, for_pipeline=True)
    lines = [
        imports,
        "",
        *setup,
        f"{name} = " + _call("pipeline", repr(pipeline_task), [f"model={model}", *load]),
        f"result = {name}({', '.join(call_arguments)})",
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def text_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    text = str(inputs.get("text") or "").strip()
    return pipeline_snippet(
        "text-classification",
        entry,
        settings,
        [repr(text), f"top_k={int(inputs.get('top_k') or 1)}", "truncation=True"],
        name="classifier",
    )


def feature_extraction(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    setup, model = model_reference(entry)
    source = str(inputs.get("source") or "").strip()
    sentences = [line.strip() for line in str(inputs.get("sentences") or "").splitlines() if line.strip()]
    load = load_arguments(entry, settings, for_pipeline=False)
    imports = "from transformers import AutoModel, AutoTokenizer"
    if settings.quantization != "none":
        imports = "from transformers import AutoModel, AutoTokenizer, BitsAndBytesConfig"
    if entry.pooling == "cls":
        pooling = ["vectors = hidden[:, 0]  # CLS pooling"]
    else:
        pooling = [
            'mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)',
            "vectors = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)  # mean pooling",
        ]
    device_move = [] if "device=" not in " ".join(load) else [f"model = model.to({settings.device!r})"]
    load = [argument for argument in load if not argument.startswith("device=")]
    lines = [
        "import torch",
        imports,
        "",
        *setup,
        f"model_id = {model}",
        f"tokenizer = AutoTokenizer.from_pretrained({', '.join(['model_id', *[a for a in load if 'revision' in a]])})",
        f"model = AutoModel.from_pretrained({', '.join(['model_id', *load])})",
        *device_move,
        "",
        f"source = {source!r}",
        f"sentences = {sentences!r}",
        'batch = tokenizer([source, *sentences], padding=True, truncation=True, return_tensors="pt")',
        "batch = batch.to(model.device)",
        "with torch.inference_mode():",
        "    hidden = model(**batch).last_hidden_state",
        *pooling,
        "vectors = torch.nn.functional.normalize(vectors.float(), p=2, dim=1)",
        "scores = (vectors[1:] @ vectors[0]).tolist()",
        "ranked = sorted(zip(sentences, scores), key=lambda pair: -pair[1])",
        'result = [{"sentence": sentence, "score": score} for sentence, score in ranked]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"
