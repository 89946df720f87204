"""Text and token classification: a new head for the run's labels on an encoder, the labels
found in the data, accuracy and F1, and the model saved with its label names."""

from __future__ import annotations

from typing import Any

from studio.training.callback import say
from studio.training.kinds import Parts, Run
from studio.training.loadreport import describe_loading, load_report_held
from studio.training.metrics import compute_metrics_for
from studio.training.store import write_json
from studio.training.tokens import tokenize

BASE_MODEL_TASKS = ("feature-extraction", "fill-mask")  # encoders, besides the task's own models
MODEL_CLASSES = {
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
}


def serves(task: str) -> tuple[str, ...]:
    return (task,)


def best_metric(task: str) -> tuple[str, bool]:
    """(metric_for_best_model, greater_is_better)."""
    return ("f1" if task == "token-classification" else "accuracy"), True


def predicted_ids(logits: Any, labels: Any) -> Any:
    """Evaluation keeps each example's predicted id, not its scores over every label (bounded memory)."""
    return (logits[0] if isinstance(logits, tuple) else logits).argmax(dim=-1)


def prepare(run: Run) -> Parts:
    import transformers
    from transformers import AutoTokenizer, DataCollatorForTokenClassification, DataCollatorWithPadding

    config, task = run.config, run.config.task
    columns = (config.text_column, config.label_column)
    if not config.labels:  # a large upload: its labels are found here, not in the request
        from studio.training.data import ordered_labels

        config.labels = ordered_labels(run.counts, task)
        if run.main_process:
            run.folder.write_config(config)
    labels = config.labels
    label2id = {name: index for index, name in enumerate(labels)}
    id2label = dict(enumerate(labels))
    tokenizer = AutoTokenizer.from_pretrained(config.model_path)
    max_length = config.training.max_length
    train_set = tokenize(run.train_table, tokenizer, task, *columns, label2id, max_length)
    eval_set = tokenize(run.eval_table, tokenizer, task, *columns, label2id, max_length)
    say(f"data: {len(train_set)} training and {len(eval_set)} evaluation examples, labels {labels}")

    model_class = getattr(transformers, MODEL_CLASSES[task])
    model = with_new_head(model_class, config.model_path, labels, run.main_process)
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
