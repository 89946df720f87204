"""Show code snippets for the multimodal tasks: captioning, visual question answering, image chat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.codegen import file_reference, load_arguments, model_reference
from studio.config import ModelEntry
from studio.models.loading import is_cached, resolve_source
from studio.models.settings import ModelSettings
from studio.spec.messages import plain_history

PLACEHOLDER_IMAGE = "photo.jpg"
GENERATIVE_VQA = {"blip", "blip-2"}


def config_model_type(entry: ModelEntry) -> str | None:
    """model_type from the entry's config.json (read without transformers), or None if unknown."""
    try:
        if entry.source == "hub":
            if not is_cached(entry):
                return None
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(entry.id, "config.json", revision=entry.revision)
            if not isinstance(found, str):
                return None
            path = Path(found)
        else:
            path = Path(resolve_source(entry)) / "config.json"
        model_type: str | None = json.loads(path.read_text()).get("model_type")
        return model_type
    except Exception:
        return None


def _image_path(inputs: dict[str, Any]) -> str:
    path = str(inputs.get("image") or "").strip()
    return file_reference(path) if path else PLACEHOLDER_IMAGE


def _imports(settings: ModelSettings, *names: str) -> str:
    names = tuple(sorted({*names, *(["BitsAndBytesConfig"] if settings.quantization != "none" else [])}))
    return f"from transformers import {', '.join(names)}"


def _pipeline_lines(entry: ModelEntry, settings: ModelSettings, name: str) -> list[str]:
    setup, model = model_reference(entry)
    arguments = ", ".join(
        ["'image-text-to-text'", f"model={model}", *load_arguments(entry, settings, for_pipeline=True)]
    )
    return ["from PIL import Image", _imports(settings, "pipeline"), "", *setup, f"{name} = pipeline({arguments})"]


def image_to_text(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    prompt = inputs["prompt"].strip()
    max_new_tokens = inputs["max_new_tokens"]
    lines = [
        *_pipeline_lines(entry, settings, "captioner"),
        "# transformers 5 runs captioning through image-text-to-text; the prompt starts the caption",
        f'image = Image.open({_image_path(inputs)!r}).convert("RGB")',
        f"outputs = captioner(images=image, text={prompt!r}, max_new_tokens={max_new_tokens})",
        'result = [{"generated_text": output["generated_text"]} for output in outputs]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def visual_question_answering(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    setup, model = model_reference(entry)
    question = inputs["question"].strip()
    top_k = inputs["top_k"]
    load = load_arguments(entry, settings, for_pipeline=False)
    device_move = [f"model = model.to({settings.device!r})"] if any(a.startswith("device=") for a in load) else []
    load = [argument for argument in load if not argument.startswith("device=")]
    revision = [argument for argument in load if argument.startswith(("revision=", "trust_remote_code="))]
    lines = [
        "import torch",
        "from PIL import Image",
        _imports(settings, "AutoModelForVisualQuestionAnswering", "AutoProcessor"),
        "",
        "# transformers 5 has no visual-question-answering pipeline: the model classes do it",
        *setup,
        f"model_id = {model}",
        f"processor = AutoProcessor.from_pretrained({', '.join(['model_id', *revision])})",
        f"model = AutoModelForVisualQuestionAnswering.from_pretrained({', '.join(['model_id', *load])})",
        *device_move,
        f'image = Image.open({_image_path(inputs)!r}).convert("RGB")',
        f'inputs = processor(images=image, text={question!r}, return_tensors="pt", truncation=True)',
        "inputs = inputs.to(model.device)",
    ]
    if config_model_type(entry) in GENERATIVE_VQA:
        lines += [
            "# a generative model: one answer, scored by the probability of its tokens",
            "with torch.inference_mode():",
            "    out = model.generate(**inputs, max_new_tokens=20, output_scores=True, return_dict_in_generate=True)",
            "new_tokens = out.sequences[0, -len(out.scores):]",
            "steps = zip(out.scores, new_tokens)",
            "log_probs = [torch.log_softmax(step[0].float(), dim=-1)[token] for step, token in steps]",
            "answer = processor.decode(new_tokens, skip_special_tokens=True).strip()",
            'result = [{"answer": answer, "score": float(torch.stack(log_probs).sum().exp())}]',
        ]
    else:
        lines += [
            "with torch.inference_mode():",
            "    logits = model(**inputs).logits[0].float()",
            f"scores, ids = logits.sigmoid().topk(min({top_k}, logits.numel()))  # answer classes, as the old pipeline",
            "labels = model.config.id2label",
            'result = [{"answer": labels[i], "score": s} for s, i in zip(scores.tolist(), ids.tolist())]',
        ]
    lines.append("print(result)")
    return "\n".join(lines) + "\n"


def image_text_to_text(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    text = inputs["text"].strip()
    max_new_tokens = inputs["max_new_tokens"]
    turns = [*plain_history(inputs["history"]), {"role": "user", "content": text}]
    first_user = next(index for index, turn in enumerate(turns) if turn["role"] == "user")
    messages = []
    for index, turn in enumerate(turns):
        parts = [f'{{"type": "text", "text": {turn["content"]!r}}}']
        if index == first_user:
            parts.insert(0, '{"type": "image", "image": image}')
        messages.append(f'    {{"role": {turn["role"]!r}, "content": [{", ".join(parts)}]}},')
    lines = [
        *_pipeline_lines(entry, settings, "chat"),
        f'image = Image.open({_image_path(inputs)!r}).convert("RGB")',
        "# the image goes with the first user message; later turns are text",
        "messages = [",
        *messages,
        "]",
        f"outputs = chat(text=messages, max_new_tokens={max_new_tokens})",
        'result = [{"generated_text": outputs[0]["generated_text"][-1]["content"]}]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"
