"""Show code snippets for the text tasks."""

from __future__ import annotations

from typing import Any

from studio.adapters.seq2seq import summary_generation_kwargs, translation_languages
from studio.adapters.text import DEFAULT_HYPOTHESIS, MASK_SPELLINGS, TOKEN_STRIDE
from studio.codegen import load_arguments, model_reference, pipeline_snippet
from studio.config import ModelEntry
from studio.models.settings import ModelSettings


def _text(inputs: dict[str, Any], name: str = "text") -> str:
    return str(inputs[name] or "").strip()


def text_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    return pipeline_snippet(
        "text-classification",
        entry,
        settings,
        [repr(_text(inputs)), f"top_k={inputs['top_k']}", "truncation=True"],
        name="classifier",
    )


def feature_extraction(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    setup, model = model_reference(entry)
    source = _text(inputs, "source")
    sentences = [line.strip() for line in inputs["sentences"].splitlines() if line.strip()]
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


# ------------------------------------------------------- helpers for the six text tasks below
def _pipeline_then(snippet: str, lines: list[str]) -> str:
    """A pipeline snippet with lines inserted before its final print(result)."""
    body = snippet.removesuffix("print(result)\n")
    return body + "".join(line + "\n" for line in lines) + "print(result)\n"


def _model_class_setup(entry: ModelEntry, settings: ModelSettings, model_class: str, imports: list[str]) -> list[str]:
    """Import, locate and load a tokenizer and a model class with the settings row."""
    setup, model = model_reference(entry)
    load = load_arguments(entry, settings, for_pipeline=False)
    device_move = [f"model = model.to({settings.device!r})"] if any(a.startswith("device=") for a in load) else []
    load = [argument for argument in load if not argument.startswith("device=")]
    tokenizer_load = [a for a in load if a.startswith(("revision=", "trust_remote_code="))]
    names = ["AutoTokenizer", model_class] + (["BitsAndBytesConfig"] if settings.quantization != "none" else [])
    return [
        *imports,
        f"from transformers import {', '.join(sorted(names))}",
        "",
        *setup,
        f"model_id = {model}",
        f"tokenizer = AutoTokenizer.from_pretrained({', '.join(['model_id', *tokenizer_load])})",
        f"model = {model_class}.from_pretrained({', '.join(['model_id', *load])})",
        *device_move,
        "",
    ]


def _generate_lines(source: str, generation: dict[str, Any]) -> list[str]:
    arguments = ", ".join(["**inputs", *(f"{name}={value!r}" for name, value in generation.items())])
    return [
        f'inputs = tokenizer({source}, truncation=True, return_tensors="pt").to(model.device)',
        "with torch.inference_mode():",
        f"    output = model.generate({arguments})",
    ]


# ------------------------------------------------------------------------------- pipelines
def token_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    strategy = inputs["aggregation_strategy"]
    key = "entity" if strategy == "none" else "entity_group"
    arguments = [repr(_text(inputs)), f"aggregation_strategy={strategy!r}"]
    if strategy != "none":
        arguments.append(f"stride={TOKEN_STRIDE}")  # long texts are tagged in overlapping windows
    snippet = pipeline_snippet("token-classification", entry, settings, arguments, name="tagger")
    return _pipeline_then(
        snippet,
        [
            "result = [",
            f'    {{"{key}": e["{key}"], "score": float(e["score"]), "word": e["word"], "start": e["start"], '
            '"end": e["end"]}',
            "    for e in result",
            "]",
        ],
    )


def fill_mask(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    text = _text(inputs)
    top_k = inputs["top_k"]
    spellings = [spelling for spelling in MASK_SPELLINGS if spelling in text]
    snippet = pipeline_snippet(
        "fill-mask", entry, settings, ["text", f"top_k={top_k}", 'tokenizer_kwargs={"truncation": True}'], "unmasker"
    )
    head, call = snippet.split("result = ", 1)
    lines = [f"text = {text!r}"]
    lines += [f"text = text.replace({spelling!r}, unmasker.tokenizer.mask_token)" for spelling in spellings]
    snippet = head + "\n".join(lines) + "\nresult = " + call
    return _pipeline_then(
        snippet,
        [
            'result = [{"token_str": r["token_str"], "score": r["score"], "token": r["token"], '
            '"sequence": r["sequence"]} for r in result]'
        ],
    )


def zero_shot_classification(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    labels = list(dict.fromkeys(label.strip() for label in inputs["candidate_labels"].split(",")))
    template = _text(inputs, "hypothesis_template") or DEFAULT_HYPOTHESIS
    arguments = [
        repr(_text(inputs)),
        f"candidate_labels={[label for label in labels if label]!r}",
        f"hypothesis_template={template!r}",
        f"multi_label={inputs['multi_label']}",
    ]
    return pipeline_snippet("zero-shot-classification", entry, settings, arguments, name="classifier")


# ----------------------------------------------------------------------------- model classes
def question_answering(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    """The span search of the removed question-answering pipeline, written out."""
    top_k, max_answer_len = inputs["top_k"], inputs["max_answer_len"]
    no_answer = inputs["handle_impossible_answer"]
    lines = _model_class_setup(entry, settings, "AutoModelForQuestionAnswering", ["import numpy as np", "import torch"])
    lines += [
        f"question = {_text(inputs, 'question')!r}",
        f"context = {_text(inputs, 'context')!r}",
        f"top_k, max_answer_len = {top_k}, {max_answer_len}",
        "",
        "# A long context is split into overlapping windows (the old pipeline's sizes).",
        'max_length = min(384, tokenizer.model_max_length, getattr(model.config, "max_position_embeddings", 384))',
        'question_length = len(tokenizer(question, add_special_tokens=False)["input_ids"])',
        "room = max_length - question_length - tokenizer.num_special_tokens_to_add(pair=True)",
        "enc = tokenizer(",
        '    question, context, truncation="only_second", max_length=max_length,',
        "    stride=min(128, max_length // 2, room // 2), return_overflowing_tokens=True,",
        '    return_offsets_mapping=True, padding=True, return_tensors="pt",',
        ")",
        "with torch.inference_mode():",
        "    output = model(**{n: enc[n].to(model.device) for n in tokenizer.model_input_names if n in enc})",
        "",
        "",
        "def softmax(logits, keep):",
        "    logits = np.where(keep, logits.astype(np.float64), -10_000.0)",
        "    exp = np.where(keep, np.exp(logits - logits.max()), 0.0)",
        "    return exp / exp.sum()",
        "",
        "",
        "answers = {}  # (start, end) in the context's characters -> best score",
        "null_score = 1.0  # the [CLS] token's score stands for 'no answer'",
        "for w in range(len(enc['input_ids'])):",
        "    ids = enc['input_ids'][w].tolist()",
        "    cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0",
        "    in_context = np.array([sid == 1 for sid in enc.sequence_ids(w)])",
        "    keep = in_context.copy()",
        "    keep[cls] = True",
        "    p_start = softmax(output.start_logits[w].float().cpu().numpy(), keep)",
        "    p_end = softmax(output.end_logits[w].float().cpu().numpy(), keep)",
        "    null_score = min(null_score, float(p_start[cls] * p_end[cls]))",
        "    length = np.arange(len(ids))[None, :] - np.arange(len(ids))[:, None]  # end - start",
        "    allowed = (length >= 0) & (length < max_answer_len) & np.outer(in_context, in_context)",
        "    scores = np.where(allowed, np.outer(p_start, p_end), -1.0)",
        "    taken = set()  # this window's best top_k answers, each widened to whole words",
        "    for index in np.argsort(-scores, axis=None, kind='stable'):",
        "        s, e = np.unravel_index(index, scores.shape)",
        "        if scores[s, e] < 0 or len(taken) == top_k:",
        "            break",
        "        words = enc.word_ids(w)",
        "        start = enc.word_to_chars(w, words[s], sequence_index=1).start",
        "        end = enc.word_to_chars(w, words[e], sequence_index=1).end",
        "        if (start, end) not in taken:",
        "            taken.add((start, end))",
        "            answers[start, end] = max(answers.get((start, end), 0.0), float(scores[s, e]))",
    ]
    if no_answer:
        lines.append('answers[0, 0] = null_score  # "no answer" competes (SQuAD 2.0 models)')
    lines += [
        "ranked = sorted(answers.items(), key=lambda item: -item[1])[:top_k]",
        'result = [{"answer": context[s:e], "score": score, "start": s, "end": e} for (s, e), score in ranked]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def summarization(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    generation = summary_generation_kwargs(
        inputs["max_new_tokens"],
        inputs["num_beams"],
        inputs["min_new_tokens"],
        inputs["length_penalty"],
        inputs["no_repeat_ngram_size"],
    )
    source = f"{entry.prefix!r} + text" if entry.prefix else "text"
    lines = _model_class_setup(entry, settings, "AutoModelForSeq2SeqLM", ["import torch"])
    lines += [
        f"text = {_text(inputs)!r}",
        *_generate_lines(source, generation),
        'result = [{"summary_text": tokenizer.decode(output[0], skip_special_tokens=True)}]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"


def translation(entry: ModelEntry, inputs: dict[str, Any], settings: ModelSettings) -> str:
    languages = translation_languages(entry)  # no tokenizer here: codes come from models.yaml
    src = _text(inputs, "src_lang") or languages.src_lang
    tgt = _text(inputs, "tgt_lang") or languages.tgt_lang
    generation: dict[str, Any] = {"max_new_tokens": inputs["max_new_tokens"]}
    lines = _model_class_setup(entry, settings, "AutoModelForSeq2SeqLM", ["import torch"])
    lines.append(f"text = {_text(inputs)!r}")
    source = "text"
    if languages.kind == "t5":
        source = f"{entry.prefix or f'translate {src} to {tgt}: '!r} + text"
    elif languages.kind == "multilingual":
        if src:
            lines.append(f"tokenizer.src_lang = {src!r}")
        lines += [
            f"tgt_lang = {tgt!r}" if tgt else "tgt_lang = tokenizer.tgt_lang",
            "# The translation starts with the target language's token (M2M100 maps 'de' to '__de__').",
            "forced_bos_token_id = (",
            '    tokenizer.get_lang_id(tgt_lang) if hasattr(tokenizer, "get_lang_id")',
            "    else tokenizer.convert_tokens_to_ids(tgt_lang)",
            ")",
        ]
    call = _generate_lines(source, generation)
    if languages.kind == "multilingual":
        call[-1] = call[-1].removesuffix(")") + ", forced_bos_token_id=forced_bos_token_id)"
    lines += [
        *call,
        'result = [{"translation_text": tokenizer.decode(output[0], skip_special_tokens=True)}]',
        "print(result)",
    ]
    return "\n".join(lines) + "\n"
