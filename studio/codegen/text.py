"""Show code snippets for the text tasks."""

from __future__ import annotations

from typing import Any

from studio.codegen import load_arguments, model_reference, pipeline_snippet
from studio.config import ModelEntry
from studio.models import ModelSettings


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
