"""Summarization and translation: an encoder-decoder (AutoModelForSeq2SeqLM) learns to write each
row's target from its source, with Seq2SeqTrainer and predict_with_generate (evaluation generates,
so exact match is measured on what the tab would show), and one sample generated each epoch.

The source is given to the model as the Summarization or Translation tab gives it: a T5 base
translating gets the tab's "translate English to German: " prefix, so the fine-tuned model is
asked in the app the way it was trained.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from studio.adapters.seq2seq import translation_languages
from studio.errors import UserError
from studio.training.files import write_json
from studio.training.kinds.base import Parts, Run
from studio.training.worker_log import say
from studio.uploads.tables import column_problems

if TYPE_CHECKING:
    from transformers import TrainerControl, TrainerState, TrainingArguments

ENCODER_DECODERS = ("summarization", "translation")  # any encoder-decoder can start either
SOURCE_NAMES = ("source", "src", "text", "document", "article", "input", "en", "english", "prompt")
TARGET_NAMES = ("target", "tgt", "summary", "highlights", "output", "translation", "de", "fr", "german", "label")
ENCODE_BATCH = 256


def guess_columns(columns: list[str]) -> tuple[str | None, str | None]:
    """The likely source and target columns by name (text/summary, source/target, en/de), else the first two."""
    lowered = {column.lower(): column for column in columns}
    source = next((lowered[name] for name in SOURCE_NAMES if name in lowered), None)
    target = next((lowered[name] for name in TARGET_NAMES if name in lowered and lowered[name] != source), None)
    source = source or next((c for c in columns if c != target), None)
    target = target or next((c for c in columns if c != source), None)
    return source, target


def problems(table: Any, text_column: str, label_column: str) -> list[str]:
    """Missing columns, and rows with an empty source or target."""
    found = column_problems(list(table.column_names), text_column, label_column)
    if found:
        return found
    for column in (text_column, label_column):
        empty = [row for row, value in enumerate(table[column], start=1) if value is None or not str(value).strip()]
        if empty:
            shown = ", ".join(map(str, empty[:5])) + (", ..." if len(empty) > 5 else "")
            found.append(f"{len(empty)} row{'s' if len(empty) > 1 else ''} with an empty {column!r} (row {shown})")
    return found


def source_prefix(task: str, tokenizer: Any, model: Any) -> str:
    """What the tab puts before the source for a fine-tuned model of this base (T5 translation only)."""
    if task != "translation":
        return ""
    stand_in = SimpleNamespace(kind=None, src_lang=None, tgt_lang=None, id="", prefix=None)
    languages = translation_languages(stand_in, tokenizer, model)
    return f"translate {languages.src_lang} to {languages.tgt_lang}: " if languages.kind == "t5" else ""


def encoded(table: Any, tokenizer: Any, columns: tuple[str, str], max_length: int, prefix: str) -> Any:
    """Source ids and target labels (both cut to max_length); rows with an empty side left out.

    Plain Python in batches, not `Dataset.map` (which hashes the whole tokenizer)."""
    from datasets import Dataset

    pairs = [
        (prefix + str(source).strip(), str(target).strip())
        for source, target in zip(table[columns[0]], table[columns[1]])
        if source is not None and target is not None and str(source).strip() and str(target).strip()
    ]
    rows: dict[str, list[Any]] = {}
    for first in range(0, len(pairs), ENCODE_BATCH):
        sources, targets = zip(*pairs[first : first + ENCODE_BATCH])
        batch = tokenizer(list(sources), text_target=list(targets), truncation=True, max_length=max_length)
        for key, values in batch.items():
            rows.setdefault(key, []).extend(values)
    return Dataset.from_dict(rows) if rows else Dataset.from_dict({"input_ids": [], "labels": []})


def exact_match(tokenizer: Any) -> Callable[[Any], dict[str, float]]:
    """compute_metrics: the share of generated texts equal to their target (stripped)."""
    import numpy as np

    def compute(prediction: Any) -> dict[str, float]:
        generated, labels = prediction.predictions, prediction.label_ids
        if isinstance(generated, tuple):
            generated = generated[0]
        pad = tokenizer.pad_token_id or 0
        texts = tokenizer.batch_decode(np.where(generated < 0, pad, generated), skip_special_tokens=True)
        targets = tokenizer.batch_decode(np.where(labels < 0, pad, labels), skip_special_tokens=True)
        same = [a.strip() == b.strip() for a, b in zip(texts, targets)]
        return {"exact_match": float(np.mean(same)) if same else 0.0}

    return compute


def shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sample_callback(tokenizer: Any, source: str, target: str, max_new_tokens: int) -> Any:
    """A TrainerCallback that generates (greedy) for one evaluation example after each epoch and says it."""
    from transformers import TrainerCallback

    class SampleGeneration(TrainerCallback):
        def on_epoch_end(
            self,
            args: TrainingArguments,
            state: TrainerState,
            control: TrainerControl,
            model: Any = None,
            **kwargs: Any,
        ) -> TrainerControl:
            if model is None or not state.is_world_process_zero:
                return control
            import torch

            was_training = model.training
            model.eval()
            try:
                batch = tokenizer(source, truncation=True, max_length=max_new_tokens, return_tensors="pt")
                with torch.no_grad():
                    ids = model.generate(**batch.to(model.device), max_new_tokens=max_new_tokens, num_beams=1)
                text = tokenizer.decode(ids[0], skip_special_tokens=True).strip()
            finally:
                model.train(was_training)
            epoch = round(state.epoch or 0)
            wrote, wanted = shortened(text), shortened(target)
            say(f"sample after epoch {epoch}: {shortened(source)!r} -> {wrote!r} (target {wanted!r})")
            return control

    return SampleGeneration()


def prepare(run: Run) -> Parts:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq

    config = run.config
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(run.model_path, dtype=torch.float32)
    prefix = source_prefix(config.task, tokenizer, model)
    if prefix:
        say(f"each source starts with {prefix!r}, as the Translation tab asks this model")
    columns, max_length = (config.text_column, config.label_column), config.training.max_length
    train_set = encoded(run.train_table, tokenizer, columns, max_length, prefix)
    eval_set = encoded(run.eval_table, tokenizer, columns, max_length, prefix)
    if len(train_set) == 0:
        raise UserError("No training row has both a source and a target; check the two columns.")
    say(f"data: {len(train_set)} training and {len(eval_set)} evaluation pairs")
    callbacks = []
    first = next((row for row in run.eval_table if str(row[columns[0]] or "").strip()), None)
    if first is not None:
        source, target = prefix + str(first[columns[0]]).strip(), str(first[columns[1]] or "").strip()
        callbacks.append(sample_callback(tokenizer, source, target, max_length))
    batch = config.training.per_device_train_batch_size
    return Parts(
        model,
        tokenizer,
        train_set,
        eval_set,
        DataCollatorForSeq2Seq(tokenizer, model=model),
        compute_metrics=exact_match(tokenizer),
        # Evaluation generates (greedy, up to max_length tokens), in batches as small as training's.
        arguments={
            "predict_with_generate": True,
            "generation_max_length": max_length,
            "generation_num_beams": 1,
            "per_device_eval_batch_size": batch,
        },
        callbacks=callbacks,
    )


def save(trainer: Any, run: Run, parts: Parts) -> None:
    """model/: the weights, tokenizer and generation config."""
    model_dir = run.folder.model
    trainer.save_model(str(model_dir))
    config = run.config
    write_json(model_dir / "studio_run.json", {"run_id": config.run_id, "task": config.task})
