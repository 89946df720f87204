"""The shared pieces every tab uses: model picker, settings row, Run wiring, examples,
"Show code" and raw output. A tab module only declares what is its own."""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from components.errors import shown_as_gr_error
from studio.errors import UserError
from studio.models import DEVICES, DTYPES, QUANTIZATIONS, ModelSettings
from studio.studio import Studio, input_names
from studio.tasks import Task

ToOutputs = Callable[[Any], Sequence[Any]]
SETTING_NAMES = ("dtype", "quantization", "device")


@dataclass
class TabContext:
    """What the app gives each tab: the studio logic and the shared builders."""

    studio: Studio
    task_uis: list[TaskUI] = field(default_factory=list)

    def task_ui(self, task_id: str) -> TaskUI:
        """Start a task tab: renders the model picker and the model-settings row."""
        ui = TaskUI(self.studio, self.studio.task(task_id))
        ui.render_model_row()
        self.task_uis.append(ui)
        return ui


@dataclass
class TaskUI:
    """One task's shared widgets and the wiring of its Run button to the API name."""

    studio: Studio
    task: Task
    model: gr.Dropdown | None = None
    settings: list[gr.Dropdown] = field(default_factory=list)
    raw: gr.JSON | None = None
    button: gr.Button | None = None
    stop: gr.Button | None = None
    event: Any = None  # the Run event (a streaming tab's Stop cancels it)

    def render_model_row(self) -> None:
        choices = self.studio.model_choices(self.task.id)
        with gr.Row():
            self.model = gr.Dropdown(
                choices=choices,
                value=self.studio.default_model(self.task.id),
                label="Model",
                info="Models listed in models.yaml; they load on first use.",
                # Ids are checked by Studio.entry (models.yaml + runs fine-tuned since start),
                # so the API accepts models added at run time and refuses everything else.
                allow_custom_value=True,
                scale=3,
                elem_classes=["model-picker"],
            )
        with gr.Accordion("Model settings", open=False), gr.Row():
            self.settings = [
                gr.Dropdown(list(DTYPES), value="auto", label="dtype", info="auto: as the model was saved"),
                gr.Dropdown(list(QUANTIZATIONS), value="none", label="quantization", info="bitsandbytes 8-bit / 4-bit"),
                gr.Dropdown(list(DEVICES), value="auto", label="device", info="auto: GPU when there is one"),
            ]

    def refresh_models(self, current: str | None) -> gr.Dropdown:
        """The dropdown with current choices (models fine-tuned since the page was built)."""
        return gr.Dropdown(choices=self.studio.model_choices(self.task.id), value=current)

    def run_button(self, label: str = "Run") -> gr.Button:
        self.button = gr.Button(label, variant="primary", elem_classes=["run-button"])
        return self.button

    def stop_button(self, label: str = "Stop") -> gr.Button:
        """A Stop button for a streaming task: cancels the run, which ends the adapter's work too."""
        self.stop = gr.Button(label, variant="stop", elem_classes=["stop-button"])
        return self.stop

    def raw_output(self) -> gr.JSON:
        self.raw = gr.JSON(label="Raw output", elem_classes=["raw-output"])
        return self.raw

    def finish(
        self,
        inputs: list[gr.components.Component],
        outputs: list[gr.components.Component],
        to_outputs: ToOutputs,
        examples: list[list[Any]] | None = None,
        stream: bool = False,
        submit: list[gr.components.Component] | None = None,
    ) -> None:
        """Wire Run (API name = task id with _), add examples and the Show code panel.

        stream=True (the adapter is a generator, see Studio.stream): outputs update as the
        adapter yields, `to_outputs(output, details, inputs)` gets each update's raw output,
        its details (live figures) and the request's inputs by name, and the Stop button
        (ui.stop_button()) cancels the run. `submit`: textboxes whose Enter also runs it.
        """
        assert self.model and self.button and self.raw, "render the run button and raw output first"
        names = input_names(self.task)
        if len(names) != len(inputs):
            raise ValueError(f"{self.task.id}: adapter takes {names}, the tab gives {len(inputs)} inputs")
        handler = on_zero_gpu(self._stream_handler(names, to_outputs) if stream else self._handler(names, to_outputs))
        if submit:
            self.event = gr.on(
                triggers=[self.button.click, *[box.submit for box in submit]],
                fn=handler,
                inputs=[self.model, *inputs, *self.settings],
                outputs=[*outputs, self.raw],
                api_name=self.task.api_name,
            )
        else:
            self.event = self.button.click(
                handler,
                inputs=[self.model, *inputs, *self.settings],
                outputs=[*outputs, self.raw],
                api_name=self.task.api_name,
            )
        if self.stop is not None:
            self.stop.click(None, cancels=[self.event], api_visibility="undocumented", queue=False)
        if examples:
            gr.Examples(examples=examples, inputs=inputs, label="Examples")
        with gr.Accordion("Show code", open=False):
            code = gr.Code(
                value=self._snippet(names)(self.model.value, *[c.value for c in inputs], "auto", "none", "auto"),
                language="python",
                label="The same call in transformers",
                elem_classes=["show-code"],
            )
        gr.on(
            triggers=[c.change for c in (self.model, *inputs, *self.settings)],
            fn=self._snippet(names),
            inputs=[self.model, *inputs, *self.settings],
            outputs=code,
            api_visibility="undocumented",
            queue=False,
            show_progress="hidden",
            trigger_mode="always_last",
        )

    def _handler(self, names: list[str], to_outputs: ToOutputs) -> Callable[..., tuple[Any, ...]]:
        """The Run handler, with a real signature so the API shows real parameter names."""
        studio, task = self.studio, self.task

        def handler(*args: Any) -> tuple[Any, ...]:
            *values, progress = args
            model_id, task_values, setting_values = values[0], values[1 : 1 + len(names)], values[1 + len(names) :]
            with shown_as_gr_error(task.title):
                settings = settings_from(setting_values)
                result = studio.run(
                    task.id,
                    model_id,
                    dict(zip(names, task_values)),
                    settings,
                    progress=lambda fraction, message: progress(fraction, desc=message),
                )
                shown = tuple(to_outputs(result.output))
            for notice in result.notices:
                gr.Warning(notice)
            return event_values(shown, result.output)

        parameters = [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        parameters += [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
        parameters += [
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
            for name, default in zip(SETTING_NAMES, ("auto", "none", "auto"))
        ]
        parameters.append(inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress()))
        handler.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        handler.__name__ = task.api_name
        handler.__doc__ = f"Run {task.title} ({task.id}); the last output is the raw result as JSON."
        return handler

    def _stream_handler(self, names: list[str], to_outputs: Callable[..., Sequence[Any]]) -> Callable[..., Any]:
        """The Run handler of a streaming task: a generator with the same real signature.

        Closing it (Stop, a closed browser tab) closes Studio.stream and so the adapter,
        whose `finally` ends its work (for generation: a StoppingCriteria on a per-request event).
        """
        studio, task = self.studio, self.task

        def handler(*args: Any) -> Iterator[tuple[Any, ...]]:
            *values, progress = args
            model_id, task_values, setting_values = values[0], values[1 : 1 + len(names)], values[1 + len(names) :]
            inputs = dict(zip(names, task_values))
            with shown_as_gr_error(task.title):
                settings = settings_from(setting_values)
                updates = studio.stream(
                    task.id,
                    model_id,
                    inputs,
                    settings,
                    progress=lambda fraction, message: progress(fraction, desc=message),
                )
            try:
                while True:
                    with shown_as_gr_error(task.title):
                        try:
                            result = next(updates)
                        except StopIteration:
                            return
                        shown = tuple(to_outputs(result.output, result.details, inputs))
                    for notice in result.notices:
                        gr.Warning(notice)
                    yield event_values(shown, result.output)
            finally:
                updates.close()

        handler.__signature__ = inspect.signature(self._handler(names, to_outputs))  # type: ignore[attr-defined]
        handler.__name__ = task.api_name
        handler.__doc__ = (
            f"Run {task.title} ({task.id}), streaming: every output updates as it is produced; "
            "the last output is the raw result as JSON."
        )
        return handler

    def _snippet(self, names: list[str]) -> Callable[..., str]:
        studio, task = self.studio, self.task

        def show_code(model_id: str, *values: Any) -> str:
            task_values, setting_values = values[: len(names)], values[len(names) :]
            try:
                return studio.code(task.id, model_id, dict(zip(names, task_values)), settings_from(setting_values))
            except UserError as exc:
                return f"# {exc}\n"

        return show_code


def json_value(value: Any) -> Any:
    """A raw output for gr.JSON, which would parse a plain string (e.g. a chat reply) as JSON text."""
    return json.dumps(value) if isinstance(value, str) else value


def on_zero_gpu(handler: Callable[..., Any]) -> Callable[..., Any]:
    """@spaces.GPU on a Hugging Face ZeroGPU Space (a GPU is attached per call); unchanged elsewhere."""
    if not os.environ.get("SPACES_ZERO_GPU"):
        return handler
    try:
        import spaces
    except ImportError:
        return handler
    wrapped = spaces.GPU(handler)
    wrapped.__signature__ = inspect.signature(handler)  # keep the API's parameter names
    return wrapped


def event_values(shown: Sequence[Any], raw: Any) -> Any:
    """What a handler returns: the shown values, then the raw output; a lone value unwrapped
    (Gradio would otherwise take a 1-tuple as the value of a single output)."""
    values = (*shown, json_value(raw))
    return values if len(values) > 1 else values[0]


def settings_from(values: Sequence[Any]) -> ModelSettings:
    """ModelSettings from the settings row (missing values take their defaults)."""
    dtype, quantization, device = [*list(values), None, None, None][:3]
    return ModelSettings(dtype or "auto", quantization or "none", device or "auto")
