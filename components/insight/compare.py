"""Two models of one task on one input, side by side. The page; the logic is studio/insight/compare.py.

The endpoint is `/compare_models(task, model_a, model_b, inputs, image=None, audio=None)`:
`inputs` is the task's inputs as one JSON object by parameter name, the names and values
the task's own endpoint takes (docs/API.md); those left out take the spec's defaults. A task
that takes an image or audio gets it from the `image` / `audio` upload (or as a URL in
`inputs`). It returns each side's heading, text, labels and output for the page, then the
raw answer: {"task", "inputs", "a": {"model", "label", "output", "notices", "load_seconds",
"run_seconds", "error"?}, "b": {...}}.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Mapping
from typing import Any

import gradio as gr

from components import run_errors
from components.api import caller
from components.context import TabContext, json_value, on_zero_gpu
from components.errors import shown_as_gr_error
from components.media_inputs import audio_input, image_input, uploaded_path
from studio.spec.messages import message_text
from studio.studio import Studio
from studio.tasks.task import MODALITY_TITLES, Task

API_NAME = "compare_models"
SIDES = ("a", "b")
MEDIA = ("image", "audio")
# The text a task's example gets when its tab offers none (a task added without examples).
SAMPLE_TEXT = "The weather is lovely today, so we are going for a walk in the park."
# The keys of the raw outputs that hold text (generation, summary, translation, QA, captions, speech).
TEXT_KEYS = ("generated_text", "summary_text", "translation_text", "answer", "text")
INTRO = (
    "Run one task with two models on the same input and see both answers side by side, with how long "
    "each model took to load (0 when it was in memory already) and to run. The inputs are a JSON "
    "object by parameter name, as the task's own endpoint takes them; those left out take their defaults."
)


# ------------------------------------------------------------------ tasks, models, examples
def offered(studio: Studio) -> list[Task]:
    """Every task the app offers, in page order."""
    return [task for modality in MODALITY_TITLES for task in studio.offered_tasks(modality)]


def offline_ids(studio: Studio, task_id: str) -> list[str]:
    """The public ids of the task's models that run here without a download."""
    return [model for _, model in studio.model_choices(task_id) if not studio.needs_download(task_id, model)]


def start_task(studio: Studio) -> str | None:
    """The task the page opens on: the first with two models at hand, else the first with one;
    tasks that generate come last (a first comparison should be quick)."""
    tasks = sorted(offered(studio), key=lambda task: "max_new_tokens" in task.spec)
    for least in (2, 1):
        for task in tasks:
            if len(offline_ids(studio, task.id)) >= least:
                return task.id
    return tasks[0].id if tasks else None


def model_pair(studio: Studio, task_id: str | None) -> tuple[str | None, str | None]:
    """Model A (the task's default) and model B (another model, one at hand where there is one)."""
    if not task_id:
        return None, None
    ids = [model for _, model in studio.model_choices(task_id)]
    first = studio.default_model(task_id) or (ids[0] if ids else None)
    others = [model for model in ids if model != first]
    at_hand = [model for model in others if model in offline_ids(studio, task_id)]
    return first, next(iter(at_hand or others), first)


def tab_example(ctx: TabContext, task_id: str) -> dict[str, Any]:
    """The first example of the task's own tab; else its required texts filled with a sample."""
    for ui in ctx.task_uis:
        if ui.task.id == task_id:
            rows = getattr(importlib.import_module(ui.task.tab), "EXAMPLES", None)
            if rows:
                return dict(rows[0])
    spec = ctx.studio.spec(task_id)
    return {param.name: SAMPLE_TEXT for param in spec.params if param.required and param.kind == "text"}


def example(ctx: TabContext, task_id: str | None) -> tuple[str, Any, Any]:
    """(the inputs JSON, the image, the audio) of the task's example; media go to the uploads."""
    if not task_id:
        return "{}", None, None
    row = tab_example(ctx, task_id)
    text = {name: value for name, value in row.items() if name not in MEDIA and value is not None}
    return json.dumps(text, indent=2, ensure_ascii=False, default=str), row.get("image"), row.get("audio")


def inputs_help(studio: Studio, task_id: str | None) -> str:
    """The task's inputs in one line: names, defaults, and which come from the uploads."""
    if not task_id:
        return "No task has a model in this app's models.yaml."
    parts = []
    for param in studio.spec(task_id).params:
        if param.name in MEDIA:
            parts.append(f"`{param.name}` (the {param.name} upload below)")
        else:
            parts.append(f"`{param.name}` (required)" if param.required else f"`{param.name}` = {param.default!r}")
    return f"**Inputs of {studio.task(task_id).title}:** " + ", ".join(parts)


def media_visibility(studio: Studio, task_id: str | None) -> list[bool]:
    spec = studio.spec(task_id) if task_id else None
    return [spec is not None and name in spec for name in MEDIA]


# ------------------------------------------------------------------ outputs, readably
def readable_text(output: Any) -> str | None:
    """The text in a raw output (a generation, summary, translation, answer), or None."""
    if isinstance(output, str):
        return output
    if isinstance(output, Mapping):
        for key in TEXT_KEYS:
            value = output.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, list) and value and isinstance(value[-1], Mapping):  # a chat's messages
                return message_text(value[-1].get("content"))
        return None
    if isinstance(output, list):
        texts = [text for item in output if (text := readable_text(item)) is not None]
        return "\n\n".join(texts) if texts else None
    return None


# The scored items of a raw output, by the key that names each: labels, fill-mask's words, similar sentences.
NAME_KEYS = ("label", "token_str", "sentence")


def readable_labels(output: Any) -> dict[str, float] | None:
    """A raw output that scores labels (or words, or sentences), as gr.Label's {name: score}; else None."""
    if isinstance(output, Mapping) and isinstance(output.get("labels"), list) and "scores" in output:  # zero-shot
        return {str(label): float(score) for label, score in zip(output["labels"], output["scores"])}
    if not isinstance(output, list) or not output or not all(isinstance(item, Mapping) for item in output):
        return None
    for key in NAME_KEYS:
        if all(key in item and isinstance(item.get("score"), (int, float)) for item in output):
            return {str(item[key]): float(item["score"]) for item in output}
    return None


def heading(name: str, side: Mapping[str, Any]) -> str:
    """Model X · its label, then its error sentence, or its times and notices."""
    title = f"### Model {name.upper()} · {side['label']}"
    if side.get("error"):
        return f"{title}\n\n**Could not run:** {side['error']}"
    loaded = side["load_seconds"]
    load = f"loaded in {loaded:.2f} s" if loaded > 0 else "in memory already"
    notices = "".join(f"\n\n_{notice}_" for notice in side.get("notices", []))
    return f"{title}\n\n{load} · ran in {side['run_seconds']:.2f} s{notices}"


def side_values(name: str, side: Mapping[str, Any]) -> list[Any]:
    """The heading, text, labels and output of one side."""
    output = side.get("output")
    text, labels = readable_text(output), readable_labels(output)
    return [
        heading(name, side),
        gr.Textbox(value=text or "", visible=text is not None),
        gr.Label(value=labels, visible=labels is not None),
        json_value(output),
    ]


def with_media(spec: Any, values: dict[str, Any], image: Any, audio: Any) -> dict[str, Any]:
    """The uploads into the inputs of a task that takes them; a path in the JSON must be an
    upload to this app or a URL, never a file elsewhere on the server."""
    for name, upload in zip(MEDIA, (image, audio)):
        if name not in spec:
            continue
        if upload:
            values[name] = upload
        elif values.get(name) is not None:
            if not isinstance(values[name], str):
                raise gr.Error(f"{name} in inputs must be a URL; or use the {name} upload.", print_exception=False)
            values[name] = uploaded_path(values[name], name)
    return values


# ------------------------------------------------------------------ the sub-tab
def build(ctx: TabContext) -> None:
    """The sub-tab (call inside `with gr.Tab(...)`)."""
    studio = ctx.studio
    task_id = start_task(studio)
    first, second = model_pair(studio, task_id)
    choices = [(f"{task.title} ({MODALITY_TITLES[task.modality]})", task.id) for task in offered(studio)]
    example_json, example_image, example_audio = example(ctx, task_id)
    show_image, show_audio = media_visibility(studio, task_id)

    gr.Markdown(INTRO)
    with gr.Row():
        task = gr.Dropdown(choices=choices, value=task_id, label="Task", elem_classes=["compare-task"])
        # Ids are checked by Studio.entry (the task's entries), so custom values are refused there.
        model_a, model_b = (
            gr.Dropdown(
                choices=studio.model_choices(task_id) if task_id else [],
                value=value,
                label=f"Model {name.upper()}",
                info="The models this app offers for the task; each loads when first used.",
                allow_custom_value=True,
                elem_classes=[f"compare-model-{name}"],
            )
            for name, value in zip(SIDES, (first, second))
        )
    for dropdown in (model_a, model_b):  # the API takes any task's model (Studio.entry checks it), not this list
        dropdown.api_info = lambda: {"type": "string"}  # type: ignore[method-assign]
    inputs = gr.Code(
        value=example_json, language="json", label="Inputs (JSON, by parameter name)", elem_classes=["compare-inputs"]
    )
    help_line = gr.Markdown(inputs_help(studio, task_id))
    with gr.Row():
        image = image_input(label="Image", value=example_image, visible=show_image, height=280)
        audio = audio_input(label="Audio", value=example_audio, visible=show_audio)
    with gr.Row():
        run = gr.Button("Compare", variant="primary", elem_classes=["compare-run"])
        fill = gr.Button("Example input", elem_classes=["compare-example"])
    error = run_errors.error_box()
    views: list[Any] = []
    with gr.Row():
        for name in SIDES:
            with gr.Column():
                views += [
                    gr.Markdown(elem_classes=[f"compare-{name}-head"]),
                    gr.Textbox(label="Text", visible=False, lines=3, elem_classes=[f"compare-{name}-text"]),
                    gr.Label(label="Labels", visible=False, elem_classes=[f"compare-{name}-labels"]),
                    gr.JSON(label="Output", elem_classes=[f"compare-{name}-output"]),
                ]
    with gr.Accordion("Raw output (what /compare_models returns)", open=False):
        raw = gr.JSON(label="Raw output", elem_classes=["compare-raw"])

    def compare_models(
        task: str,
        model_a: str,
        model_b: str,
        inputs: str,
        image: str | None = None,
        audio: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way to ask for a progress bar)
        request: gr.Request = None,
    ) -> list[Any]:
        """Two models of one task on one input: each one's raw output (as the task's endpoint
        returns it), its load time (0 when it was in memory) and run time; a side that cannot
        run gives its sentence under "error" and the other side still runs.

        Args:
            task: The task id, e.g. text-classification or translation.
            model_a: The first model's id, as models.yaml lists it for the task.
            model_b: The second model's id, a different one.
            inputs: The task's inputs as a JSON object by parameter name (defaults fill the rest): {"text": "Hi"}.
            image: The image, for a task that takes one (an upload or a URL).
            audio: The audio, for a task that takes one (an upload or a URL).
        """
        with shown_as_gr_error("Compare models"):
            if not task:
                raise gr.Error("Pick a task first.", print_exception=False)
            values = with_media(studio.spec(task), studio.insight.compare_inputs(inputs), image, audio)
            report = lambda fraction, message: progress(fraction, desc=message)  # noqa: E731
            answer = studio.compare_models(task, model_a, model_b, values, report, caller(studio.access, request))
        return [*side_values("a", answer["a"]), *side_values("b", answer["b"]), answer]

    event = run.click(
        on_zero_gpu(compare_models),
        inputs=[task, model_a, model_b, inputs, image, audio],
        outputs=[*views, raw],
        api_name=API_NAME,
        concurrency_id=API_NAME,
        concurrency_limit=1,
    )
    run_errors.wire_error_box(event, error, [*views, raw], API_NAME)

    def chosen(task_id: str | None) -> list[Any]:
        """New task: its models, its example and which uploads it takes."""
        first, second = model_pair(studio, task_id)
        models = studio.model_choices(task_id) if task_id else []
        text, picture, sound = example(ctx, task_id)
        show_image, show_audio = media_visibility(studio, task_id)
        return [
            gr.Dropdown(choices=models, value=first),
            gr.Dropdown(choices=models, value=second),
            text,
            inputs_help(studio, task_id),
            gr.Image(value=picture, visible=show_image),
            gr.Audio(value=sound, visible=show_audio),
        ]

    quiet = {"api_visibility": "undocumented", "queue": False, "show_progress": "hidden"}
    task.change(chosen, inputs=task, outputs=[model_a, model_b, inputs, help_line, image, audio], **quiet)
    fill.click(functools.partial(example, ctx), inputs=task, outputs=[inputs, image, audio], **quiet)
