"""KINDS: every trainable task, one row each. The config's task choices and labels, the base
models offered, the data checks, the Trainer's classes and the tabs that serve a run's model
all read these rows (base.py says what each field means)."""

from __future__ import annotations

from functools import partial

from studio.training import instructions
from studio.training.data import guess_columns
from studio.training.kinds import causal_lm, classification, images, question_answering, seq2seq
from studio.training.kinds.base import Kind

KINDS: dict[str, Kind] = {
    kind.task: kind
    for kind in (
        Kind(
            task="text-classification",
            label="Text classification",
            prepare=classification.prepare,
            save=classification.save,
            best_metric="accuracy",
            greater_is_better=True,
            guess_columns=partial(guess_columns, task="text-classification"),
            problems=partial(classification.problems, task="text-classification"),
            base_model_tasks=classification.ENCODERS,
        ),
        Kind(
            task="token-classification",
            label="Token classification (NER)",
            prepare=classification.prepare,
            save=classification.save,
            best_metric="f1",
            greater_is_better=True,
            guess_columns=partial(guess_columns, task="token-classification"),
            problems=partial(classification.problems, task="token-classification"),
            base_model_tasks=classification.ENCODERS,
        ),
        Kind(
            task="text-generation",
            label="Text generation (instructions)",
            prepare=causal_lm.prepare,
            save=causal_lm.save,
            best_metric="eval_loss",
            greater_is_better=False,
            guess_columns=instructions.guess_columns,
            problems=instructions.problems,
            header_problems=instructions.column_problems,
            base_model_tasks=("chat",),
            also_serves=("chat",),
            labelled=False,
            lora=True,
        ),
        Kind(
            task="summarization",
            label="Summarization",
            prepare=seq2seq.prepare,
            save=seq2seq.save,
            best_metric="eval_loss",
            greater_is_better=False,
            guess_columns=seq2seq.guess_columns,
            problems=seq2seq.problems,
            base_model_tasks=seq2seq.ENCODER_DECODERS,
            column_labels=("Source column (the text)", "Target column (its summary)"),
            labelled=False,
            trainer_class="Seq2SeqTrainer",
            arguments_class="Seq2SeqTrainingArguments",
        ),
        Kind(
            task="translation",
            label="Translation",
            prepare=seq2seq.prepare,
            save=seq2seq.save,
            best_metric="eval_loss",
            greater_is_better=False,
            guess_columns=seq2seq.guess_columns,
            problems=seq2seq.problems,
            base_model_tasks=seq2seq.ENCODER_DECODERS,
            column_labels=("Source column (the text)", "Target column (its translation)"),
            labelled=False,
            trainer_class="Seq2SeqTrainer",
            arguments_class="Seq2SeqTrainingArguments",
        ),
        Kind(
            task="question-answering",
            label="Question answering (extractive)",
            prepare=question_answering.prepare,
            save=question_answering.save,
            best_metric="exact_match",
            greater_is_better=True,
            guess_columns=question_answering.guess_columns,
            problems=question_answering.problems,
            base_model_tasks=classification.ENCODERS,
            column_labels=("Question column (context: the 'context' column)", "Answer column (or SQuAD answers)"),
            labelled=False,
        ),
        Kind(
            task="image-classification",
            label="Image classification (zip of class folders)",
            prepare=images.prepare,
            save=images.save,
            best_metric="accuracy",
            greater_is_better=True,
            guess_columns=images.guess_columns,
            problems=images.problems,
            column_labels=("Image column (the zip's images)", "Class column (the folder names)"),
            read_upload=images.read_upload,
            read_whole=images.read_whole,
        ),
    )
}
TRAINING_TASKS: tuple[str, ...] = tuple(KINDS)
TASK_LABELS: tuple[str, ...] = tuple(kind.label for kind in KINDS.values())


def served_tasks(task: str | None) -> tuple[str, ...]:
    """The inference tasks that offer a run's model (a text-generation run also chats); none for a
    task this app no longer trains."""
    kind = KINDS.get(str(task))
    return kind.serves if kind is not None else ()
