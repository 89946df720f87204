"""Text and token classification: a new head for the run's labels on an encoder, the labels
found in the data, accuracy and F1, and the model saved with its label names."""

from __future__ import annotations

from typing import Any

from studio.training.data import (
    TOKEN_CLASSIFICATION,
    as_tags,
    as_tokens,
    count_labels,
    looks_like_formula,
    ordered_labels,
)
from studio.training.files import write_json
from studio.training.kinds.base import Parts, Run
from studio.training.loadreport import describe_loading, load_report_held
from studio.training.metrics import compute_metrics_for
from studio.training.tokens import tokenize
from studio.training.worker_log import say
from studio.uploads.tables import column_problems

ENCODERS = ("feature-extraction", "fill-mask")  # base models besides the task's own
MODEL_CLASSES = {
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
}


def problems(table: Any, text_column: str, label_column: str, task: str) -> list[str]:
    """Everything wrong with a classifier's table (empty when it can train): missing columns,
    empty cells, tokens without their tags, labels a spreadsheet would run, a single label."""
    found = column_problems(list(table.column_names), text_column, label_column)
    if found:
        return found
    empty_text, empty_label, mismatched = [], [], []
    for row, (text, label) in enumerate(zip(table[text_column], table[label_column]), start=1):
        if task == TOKEN_CLASSIFICATION:
            tokens, tags = as_tokens(text), as_tags(label)
            if not tokens:
                empty_text.append(row)
            elif len(tokens) != len(tags):
                mismatched.append(row)
        else:
            if text is None or not str(text).strip():
                empty_text.append(row)
            if label is None or not str(label).strip():
                empty_label.append(row)
    for rows, what in (
        (empty_text, f"an empty {text_column!r}"),
        (empty_label, f"an empty {label_column!r}"),
        (mismatched, "a different number of tokens and tags"),
    ):
        if rows:
            shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
            found.append(f"{len(rows)} row{'s' if len(rows) > 1 else ''} with {what} (row {shown})")
    counts = count_labels(table, task, label_column)
    formulas = [name for name in counts if looks_like_formula(name)]
    if formulas:
        found.append(
            f"{len(formulas)} label{'s' if len(formulas) > 1 else ''} starting with = + - or @ ({formulas[0][:40]!r}), "
            "which spreadsheets run as formulas: rename them"
        )
    if len(counts) < 2:
        only = f" ({next(iter(counts))!r})" if counts else ""
        found.append(f"only one label{only}: a classifier needs at least two")
    return found


def predicted_ids(logits: Any, labels: Any) -> Any:
    """Evaluation keeps each example's predicted id, not its scores over every label (bounded memory)."""
    return (logits[0] if isinstance(logits, tuple) else logits).argmax(dim=-1)


def prepare(run: Run) -> Parts:
    import transformers
    from transformers import AutoTokenizer, DataCollatorForTokenClassification, DataCollatorWithPadding

    config, task = run.config, run.config.task
    columns = (config.text_column, config.label_column)
    if not config.labels:  # a large upload: its labels are found here, not in the request
        config.labels = ordered_labels(run.counts, task)
        if run.main_process:
            run.folder.write_config(config)
    labels = config.labels
    label2id = {name: index for index, name in enumerate(labels)}
    id2label = dict(enumerate(labels))
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    max_length = config.training.max_length
    train_set = tokenize(run.train_table, tokenizer, task, *columns, label2id, max_length)
    eval_set = tokenize(run.eval_table, tokenizer, task, *columns, label2id, max_length)
    say(f"data: {len(train_set)} training and {len(eval_set)} evaluation examples, labels {labels}")

    model_class = getattr(transformers, MODEL_CLASSES[task])
    model = with_new_head(model_class, run.model_path, labels, run.main_process)
    collator = (
        DataCollatorForTokenClassification(tokenizer)
        if task == "token-classification"
        else DataCollatorWithPadding(tokenizer)
    )
    return Parts(
        model,
        tokenizer,
        train_set,
        eval_set,
        collator,
        compute_metrics=compute_metrics_for(task, id2label),
        preprocess_logits=predicted_ids,
    )


def save(trainer: Any, run: Run, parts: Parts) -> None:
    """model/: the weights, tokenizer and label names (config.json's id2label)."""
    model_dir = run.folder.model
    trainer.save_model(str(model_dir))
    config = run.config
    write_json(model_dir / "studio_run.json", {"run_id": config.run_id, "task": config.task, "labels": config.labels})


def with_new_head(model_class: Any, model_path: str, labels: list[str], main_process: bool) -> Any:
    """The base model with a new head for these labels; transformers' MISSING table for that head is
    said in one line (it is expected: the head starts from random weights)."""
    with load_report_held(say):
        model, loading = model_class.from_pretrained(
            model_path,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: index for index, name in enumerate(labels)},
            ignore_mismatched_sizes=True,
            output_loading_info=True,
        )
    if main_process and (report := describe_loading(loading, model.base_model_prefix, len(labels))):
        say(report)
    return model
