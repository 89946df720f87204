"""Extractive question answering: an encoder with a span head (AutoModelForQuestionAnswering)
learns where each answer starts and ends in its context.

Data in SQuAD form: a question column (text_column), an answer column (label_column: the answer
text, or SQuAD's {"text": [...], "answer_start": [...]}), a context column found by name, and an
optional answer_start column (without one, the answer's first occurrence in the context).
Contexts longer than max_length are cut into windows overlapping by a stride, as the Question
answering tab reads them; the answer's characters are mapped to token positions with the offset
mapping, and a window without the answer (or a row whose answer is empty: "no answer") points
at [CLS], index 0.
"""

from __future__ import annotations

from typing import Any

from studio.errors import UserError
from studio.training.files import write_json
from studio.training.kinds.base import Parts, Run
from studio.training.loadreport import describe_loading, load_report_held
from studio.training.worker_log import say
from studio.uploads.tables import column_problems

QUESTION_NAMES = ("question", "query", "q")
ANSWER_NAMES = ("answers", "answer", "answer_text", "answer_texts", "a")
CONTEXT_NAMES = ("context", "passage", "paragraph", "document", "text")
START_NAMES = ("answer_start", "answer_starts", "start")


def named(columns: list[str], names: tuple[str, ...], taken: tuple[str | None, ...] = ()) -> str | None:
    lowered = {column.lower(): column for column in columns if column not in taken}
    return next((lowered[name] for name in names if name in lowered), None)


def guess_columns(columns: list[str]) -> tuple[str | None, str | None]:
    """The question and answer columns, by name."""
    question = named(columns, QUESTION_NAMES)
    return question, named(columns, ANSWER_NAMES, (question,))


def answer_of(value: Any, start: Any = None) -> tuple[str, int | None]:
    """(answer text, its start character or None) from a plain cell or SQuAD's answers dict; ("", None): no answer."""
    if isinstance(value, dict):
        value, start = value.get("text"), value.get("answer_start")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if isinstance(start, list | tuple):
        start = start[0] if start else None
    try:
        start = int(start) if start is not None and str(start).strip() != "" else None
    except ValueError:
        start = None
    return ("" if value is None else str(value)), start


def locate(context: str, answer: str, start: int | None) -> tuple[int, int] | None:
    """The answer's (start, end) characters in the context; (0, 0) for no answer; None when it is not there."""
    if not answer.strip():
        return 0, 0
    if start is None or context[start : start + len(answer)] != answer:
        start = context.find(answer)
    return (start, start + len(answer)) if start >= 0 else None


def spans(table: Any, question: str, answer: str) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(question, context, answer characters) per row."""
    columns = list(table.column_names)
    context = named(columns, CONTEXT_NAMES, (question, answer))
    start = named(columns, START_NAMES, (question, answer, context))
    starts = table[start] if start else [None] * len(table)
    rows = []
    for asked, text, given, at in zip(table[question], table[context], table[answer], starts):
        answer_text, answer_start = answer_of(given, at)
        text = "" if text is None else str(text)
        rows.append(("" if asked is None else str(asked), text, locate(text, answer_text, answer_start)))
    return rows


def problems(table: Any, text_column: str, label_column: str) -> list[str]:
    """Missing columns (a context too), empty questions or contexts, and answers not in their context."""
    columns = list(table.column_names)
    found = column_problems(columns, text_column, label_column)
    if not found and named(columns, CONTEXT_NAMES, (text_column, label_column)) is None:
        found.append(f"no context column (name it 'context'; the file has: {', '.join(columns)})")
    if found:
        return found
    empty, missing = [], []
    for row, (asked, context, where) in enumerate(spans(table, text_column, label_column), start=1):
        if not asked.strip() or not context.strip():
            empty.append(row)
        elif where is None:
            missing.append(row)
    for rows, what in ((empty, "an empty question or context"), (missing, "an answer that is not in its context")):
        if rows:
            shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
            found.append(f"{len(rows)} row{'s' if len(rows) > 1 else ''} with {what} (row {shown})")
    return found


def windows(rows: list[tuple[str, str, tuple[int, int] | None]], tokenizer: Any, max_length: int) -> Any:
    """Every row's windows with start_positions/end_positions (0: [CLS], the answer is not in it)."""
    from datasets import Dataset

    stride = min(128, max_length // 4)
    usable = [
        row
        for row in rows
        if row[2] is not None
        and row[0].strip()
        and len(tokenizer(row[0], add_special_tokens=False)["input_ids"]) <= max_length // 2
    ]
    if len(usable) < len(rows):
        say(f"{len(rows) - len(usable)} of {len(rows)} rows left out: a question over half of max_length")
    if not usable:
        return Dataset.from_dict({"input_ids": [], "start_positions": [], "end_positions": []})
    questions, contexts, answers = zip(*usable)
    encoding = tokenizer(
        list(questions),
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    starts, ends = [], []
    for window, offsets in enumerate(encoding["offset_mapping"]):
        first_char, last_char = answers[encoding["overflow_to_sample_mapping"][window]]
        in_context = [index for index, sid in enumerate(encoding.sequence_ids(window)) if sid == 1]
        if (
            first_char == last_char
            or not in_context
            or not (offsets[in_context[0]][0] <= first_char and last_char <= offsets[in_context[-1]][1])
        ):
            starts.append(0)
            ends.append(0)
            continue
        starts.append(next(i for i in in_context if offsets[i][1] > first_char))
        ends.append(next(i for i in reversed(in_context) if offsets[i][0] < last_char))
    names = [name for name in tokenizer.model_input_names if name in encoding]
    columns = {name: encoding[name] for name in names}
    return Dataset.from_dict({**columns, "start_positions": starts, "end_positions": ends})


def predicted_spans(logits: Any, labels: Any) -> Any:
    """Evaluation keeps each window's predicted (start, end), not its logits."""
    import torch

    start_logits, end_logits = logits[:2]
    return torch.stack([start_logits.argmax(dim=-1), end_logits.argmax(dim=-1)], dim=-1)


def span_match(prediction: Any) -> dict[str, float]:
    """The share of windows whose predicted start and end are both right ([CLS] for no answer)."""
    import numpy as np

    predicted, (starts, ends) = prediction.predictions, prediction.label_ids
    same = (predicted[:, 0] == starts) & (predicted[:, 1] == ends)
    return {"exact_match": float(np.mean(same)) if len(same) else 0.0}


def prepare(run: Run) -> Parts:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, DataCollatorWithPadding

    config = run.config
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    if not getattr(tokenizer, "is_fast", False):
        raise UserError("Question answering needs a fast tokenizer (for the offset mapping); pick another base model.")
    columns, max_length = (config.text_column, config.label_column), config.training.max_length
    train_set = windows(spans(run.train_table, *columns), tokenizer, max_length)
    eval_set = windows(spans(run.eval_table, *columns), tokenizer, max_length)
    if len(train_set) == 0:
        raise UserError(f"No training row fits max_length ({max_length} tokens); raise it or shorten the questions.")
    answered = sum(1 for start in train_set["start_positions"] if start)
    say(f"data: {len(train_set)} training windows ({answered} hold the answer) and {len(eval_set)} evaluation windows")
    with load_report_held(say):  # a new span head: transformers' MISSING table, said in one line below
        model, loading = AutoModelForQuestionAnswering.from_pretrained(run.model_path, output_loading_info=True)
    if run.main_process and (report := describe_loading(loading, model.base_model_prefix, 2)):
        say(report)
    return Parts(
        model,
        tokenizer,
        train_set,
        eval_set,
        DataCollatorWithPadding(tokenizer),
        compute_metrics=span_match,
        preprocess_logits=predicted_spans,
    )


def save(trainer: Any, run: Run, parts: Parts) -> None:
    """model/: the weights and tokenizer."""
    model_dir = run.folder.model
    trainer.save_model(str(model_dir))
    config = run.config
    write_json(model_dir / "studio_run.json", {"run_id": config.run_id, "task": config.task})
