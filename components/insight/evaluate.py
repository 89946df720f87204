"""Evaluate a model on a labelled file (scikit-learn, seqeval; speech: jiwer's WER). The page; the logic is
studio/insight/evaluate.py. Endpoint: /evaluate (task, model, dataset, text_column, label_column)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from components.api import caller
from components.context import TabContext
from components.errors import shown_as_gr_error
from studio.studio import Studio

SPEECH = "automatic-speech-recognition"
TASKS = (
    ("Text classification", "text-classification"),
    ("Token classification (entities)", "token-classification"),
    ("Speech recognition (WER)", SPEECH),
)
FIRST_TASK = TASKS[0][1]
SAMPLES = (
    ("sentiment", "Example: bundled sentiment test set"),
    ("ner", "Example: bundled NER test set"),
    ("speech", "Example: speech clips (zip)"),
)
FILE_TYPES = [".csv", ".tsv", ".jsonl", ".json", ".zip"]
HELPER = {"api_visibility": "private", "show_progress": "hidden"}
NUMBERS_SHOWN = 30  # confusion matrices with more labels than this are drawn without counts in the cells


def offered_model(studio: Studio, task: str, current: str | None = None) -> str | None:
    """The current pick if the task offers it, else the default when it is on this machine,
    else the first model that is (a fine-tuned run, a packaged or downloaded model)."""
    choices = studio.model_choices(task)
    ids = [value for _, value in choices]
    if current in ids:
        return current
    at_hand = [value for label, value in choices if not label.endswith("not downloaded")]
    default = studio.default_model(task)
    return default if default in at_hand or not at_hand else at_hand[0]


def model_list(studio: Studio, task: str, current: str | None) -> gr.Dropdown:
    return gr.Dropdown(choices=studio.model_choices(task), value=offered_model(studio, task, current))


def column_lists(studio: Studio, task: str, dataset: str | None) -> tuple[gr.Dropdown, gr.Dropdown]:
    """The file's columns in both dropdowns, the guessed text and label columns picked."""
    if not dataset:
        return gr.Dropdown(choices=[], value=None), gr.Dropdown(choices=[], value=None)
    with shown_as_gr_error("Reading the file"):
        found = studio.insight.evaluate_columns(task, dataset)
    columns = found["columns"]
    return gr.Dropdown(choices=columns, value=found["text_column"]), gr.Dropdown(
        choices=columns, value=found["label_column"]
    )


def speech_markdown(result: dict[str, Any]) -> str:
    """Speech recognition's headline figures: word and character error rates."""
    lines = [
        f"### WER {result['wer']:.3f} · CER {result['cer']:.3f}",
        f"{result['rows']:,} files of {result['dataset']} on {result['model']}; "
        f"{result['reference_words']:,} words, {result['substitutions']:,} substituted, "
        f"{result['deletions']:,} deleted, {result['insertions']:,} inserted.",
        f"Texts compared in {result['text_normalization']}.",
    ]
    if result["skipped_rows"]:
        lines.append(f"{result['skipped_rows']:,} rows without a file or a transcript were skipped.")
    if result["stopped_early"]:
        lines.append(f"Stopped early: {result['stopped_early']}.")
    return "\n\n".join(lines)


def figures_markdown(result: dict[str, Any]) -> str:
    """The headline figures, and what was left out or read another way."""
    if result["task"] == SPEECH:
        return speech_markdown(result)
    figures = [f"Accuracy {result['accuracy']:.3f}", f"Macro F1 {result['macro_f1']:.3f}"]
    if result["task"] == "token-classification":
        figures += [f"Entity F1 {result['f1']:.3f}", f"precision {result['precision']:.3f}"]
        figures.append(f"recall {result['recall']:.3f}")
    lines = ["### " + " · ".join(figures), f"{result['rows']:,} rows of {result['dataset']} on {result['model']}."]
    if result["skipped_rows"]:
        lines.append(f"{result['skipped_rows']:,} rows without a text or a label were skipped.")
    if result["labels_read_as"]:
        shown = ", ".join(f"{name} → {label}" for name, label in result["labels_read_as"].items())
        lines.append(f"File labels read as the model's: {shown}.")
    if result["unknown_labels"]:
        names = ", ".join(result["unknown_labels"][:10])
        lines.append(
            f"Labels the model does not know: {names} ({result['unknown_label_rows']:,} rows, "
            f"{result['unknown_labels_are']})."
        )
    if result["stopped_early"]:
        lines.append(f"Stopped early: {result['stopped_early']}.")
    return "\n\n".join(lines)


def per_label_frame(result: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {"label": name, **{key: round(float(value), 4) for key, value in scores.items()}}
        for name, scores in result.get("per_label", {}).items()  # speech recognition: none
        if isinstance(scores, dict)
    ]
    return pd.DataFrame(rows, columns=["label", "precision", "recall", "f1-score", "support"])


def mistakes_frame(result: dict[str, Any]) -> pd.DataFrame:
    speech = result["task"] == SPEECH
    columns = ["row", "file", "expected", "predicted", "wer"] if speech else ["row", "text", "expected", "predicted"]
    return pd.DataFrame(result["mistakes"], columns=columns)


def matrix_figure(result: dict[str, Any]) -> Any:
    """The confusion matrix as a heat map: expected (the file) down, predicted across."""
    if "confusion_matrix" not in result:  # speech recognition: no labels
        return None
    labels, matrix = result["confusion_matrix"]["labels"], result["confusion_matrix"]["matrix"]
    side = min(9.0, 3.0 + 0.45 * len(labels))
    figure = Figure(figsize=(side + 1.2, side), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels=labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels=labels)
    axes.set_xlabel("Predicted")
    axes.set_ylabel("Expected (the file)")
    highest = max((max(row) for row in matrix), default=0) or 1
    if len(labels) <= NUMBERS_SHOWN:
        for row, counts in enumerate(matrix):
            for column, count in enumerate(counts):
                colour = "white" if count > highest / 2 else "black"
                axes.text(column, row, str(count), ha="center", va="center", color=colour, fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.8)
    return figure


def evaluate_handler(studio: Studio) -> Callable[..., Any]:
    """The Evaluate event; its parameter names are the API's."""

    def evaluate(
        task: str,
        model: str,
        dataset: str | None,
        text_column: str | None,
        label_column: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[str, pd.DataFrame, Any, pd.DataFrame, dict[str, Any]]:
        """Scores of a model on a labelled file: accuracy, macro F1, a report per label, the
        confusion matrix and the first 50 mistakes (token classification: seqeval's entity-level
        precision, recall and F1 too; speech recognition: jiwer's WER and CER, and the files
        whose transcript differs, each with its WER).

        Args:
            task: text-classification, token-classification or automatic-speech-recognition.
            model: A model the app offers for the task (a fine-tuned run too).
            dataset: A CSV, TSV or JSONL file with a text and a label column (token
                classification: a list of words and a list of IOB2 tags per row; speech
                recognition: a zip of audio files and one such table naming each file).
            text_column: The column with the texts (or words; speech: the audio file names); empty to guess it.
            label_column: The column with the labels (or tags; speech: the transcripts); empty to guess it.
        """
        report = lambda fraction, message: progress(fraction, desc=message)  # noqa: E731
        with shown_as_gr_error("Evaluate"):
            result = studio.evaluate(
                task, model, dataset, text_column, label_column, report, caller(studio.access, request)
            )
        return (
            figures_markdown(result),
            per_label_frame(result),
            matrix_figure(result),
            mistakes_frame(result),
            result,
        )

    return evaluate


def build(ctx: TabContext) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    studio = ctx.studio
    gr.Markdown(
        "Score a model on a labelled file: its predictions, made in batches, against the file's "
        "labels (scikit-learn; entities the CoNLL way with seqeval)."
    )
    with gr.Row():
        task = gr.Radio(TASKS, value=FIRST_TASK, label="Task", scale=2)
        model = gr.Dropdown(
            choices=studio.model_choices(FIRST_TASK),
            value=offered_model(studio, FIRST_TASK),
            label="Model",
            info="Any model the app offers for the task, the ones fine-tuned here too.",
            allow_custom_value=True,  # checked by Studio.entry, so runs fine-tuned later are accepted
            scale=3,
        )
    with gr.Row():
        with gr.Column():
            dataset = gr.File(
                label="Labelled file (CSV, TSV or JSONL; speech: a zip of audio files and a CSV of transcripts)",
                file_types=FILE_TYPES,
                type="filepath",
            )
            with gr.Row():
                samples = [gr.Button(title, size="sm") for _, title in SAMPLES]
        with gr.Column():
            # Custom values: the API names the columns of its own file, not the page's.
            text_column = gr.Dropdown(
                [],
                label="Text column",
                info="Token classification: the words. Speech: the audio file names.",
                allow_custom_value=True,
            )
            label_column = gr.Dropdown(
                [],
                label="Label column",
                info="Token classification: the IOB2 tags. Speech: the transcripts.",
                allow_custom_value=True,
            )
            button = gr.Button("Evaluate", variant="primary")
    figures = gr.Markdown(elem_classes=["evaluate-figures"])
    with gr.Row():
        per_label = gr.Dataframe(label="Per label", interactive=False, elem_classes=["evaluate-per-label"])
        matrix = gr.Plot(label="Confusion matrix", format="png", elem_classes=["evaluate-matrix"])
    mistakes = gr.Dataframe(
        label="Mistakes (the first 50)", interactive=False, wrap=True, elem_classes=["evaluate-mistakes"]
    )
    raw = gr.JSON(label="Raw output", elem_classes=["raw-output"])

    columns = [text_column, label_column]
    model.focus(lambda t, m: model_list(studio, t, m), [task, model], model, **HELPER)  # runs fine-tuned since
    task.input(lambda t, m: model_list(studio, t, m), [task, model], model, **HELPER).then(
        lambda t, d: column_lists(studio, t, d), [task, dataset], columns, **HELPER
    )
    dataset.upload(lambda t, d: column_lists(studio, t, d), [task, dataset], columns, **HELPER)
    dataset.clear(lambda: column_lists(studio, FIRST_TASK, None), None, columns, **HELPER)
    for (name, _), sample_button in zip(SAMPLES, samples):

        def use_sample(current: str | None, name: str = name) -> tuple[Any, ...]:
            with shown_as_gr_error("Using the sample"):
                path, sample_task = studio.insight.evaluate_sample(name)
            return (
                sample_task,
                model_list(studio, sample_task, current),
                path,
                *column_lists(studio, sample_task, path),
            )

        sample_button.click(use_sample, model, [task, model, dataset, *columns], **HELPER)
    button.click(
        evaluate_handler(studio),
        [task, model, dataset, text_column, label_column],
        [figures, per_label, matrix, mistakes, raw],
        api_name="evaluate",
        concurrency_id="evaluate",
        concurrency_limit=1,
    )
