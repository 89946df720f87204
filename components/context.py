"""The shared pieces every tab uses: model picker, settings row, widgets from the spec, Run
wiring, examples, "Show code" and raw output. A tab module only declares what is its own.

Widgets are bound to the handler by name: `ui.input("top_k")` builds the widget for the
spec's `top_k` and `ui.finish` passes the widgets in the spec's order, so two widgets can
never be swapped. See docs/ARCHITECTURE.md, "Tabs".
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from components import run_errors, stopping
from components.api import KEYWORD, api_handler, caller, progress_parameter, request_parameter
from components.download import download_row
from components.errors import shown_as_gr_error
from components.mcp import tool_doc
from components.remote_inputs import wire_remote_inputs
from components.widgets import widget
from studio.errors import UserError
from studio.results import RunResult
from studio.spec.param import Spec
from studio.spec.shared import MODEL_SETTINGS
from studio.studio import Studio
from studio.tasks.task import Task

ToOutputs = Callable[[RunResult], Sequence[Any]]
SETTING_NAMES = tuple(param.name for param in MODEL_SETTINGS)


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
    settings: list[gr.Component] = field(default_factory=list)
    widgets: dict[str, gr.Component] = field(default_factory=dict)
    raw: gr.JSON | None = None
    button: gr.Button | None = None
    stop: gr.Button | None = None
    event: Any = None  # the Run event (a streaming tab's Stop cancels it)

    @property
    def spec(self) -> Spec:
        return self.task.spec

    def render_model_row(self) -> None:
        with gr.Row():
            self.model = gr.Dropdown(
                choices=self.studio.model_choices(self.task.id),
                value=self.studio.default_model(self.task.id),
                label="Model",
                info="The models this app offers for the task; each loads when first used.",
                # Ids are checked by Studio.entry (models.yaml + runs fine-tuned since start),
                # so the API accepts models added at run time and refuses everything else.
                allow_custom_value=True,
                scale=3,
                elem_classes=["model-picker"],
            )
        download_row(self)  # a Hub model not on this machine: Download, with progress (components/download.py)
        with gr.Accordion("Model settings", open=False), gr.Row():
            self.settings = [widget(param) for param in MODEL_SETTINGS]

    def refresh_models(self, current: str | None) -> gr.Dropdown:
        """The dropdown with current choices (models fine-tuned since the page was built)."""
        return gr.Dropdown(choices=self.studio.model_choices(self.task.id), value=current)

    # ------------------------------------------------------------------ widgets by name
    def input(self, name: str, **layout: Any) -> gr.Component:
        """The widget of the spec's parameter `name` (its default, range and help from the spec)."""
        return self.bind(name, widget(self.spec[name], **layout))

    def inputs(self, *names: str, **layout: Any) -> list[gr.Component]:
        return [self.input(name, **layout) for name in names]

    def bind(self, name: str, component: gr.Component) -> gr.Component:
        """Use a component the tab built itself (e.g. a Chatbot) for the parameter `name`."""
        if name not in self.spec:
            raise ValueError(f"{self.task.id}: {name!r} is not in its spec {self.spec.names}")
        if name in self.widgets:
            raise ValueError(f"{self.task.id}: {name!r} has a widget already")
        self.widgets[name] = component
        return component

    def bound(self) -> list[gr.Component]:
        """The widgets in the spec's order (every parameter must have one)."""
        missing = [name for name in self.spec.names if name not in self.widgets]
        if missing:
            raise ValueError(f"{self.task.id}: no widget for {missing}")
        return [self.widgets[name] for name in self.spec.names]

    def run_button(self, label: str = "Run") -> gr.Button:
        self.button = gr.Button(label, variant="primary", elem_classes=["run-button"])
        return self.button

    def stop_button(self, label: str = "Stop") -> gr.Button:
        """A Stop button for a streaming task, enabled while it runs (components/stopping.py)."""
        self.stop = stopping.stop_button(label)
        return self.stop

    def raw_output(self) -> gr.JSON:
        self.error = getattr(self, "error", None) or run_errors.error_box()  # unless the tab placed it
        self.raw = gr.JSON(label="Raw output", elem_classes=["raw-output"])
        return self.raw

    # ------------------------------------------------------------------ wiring
    def finish(
        self,
        outputs: list[gr.components.Component],
        to_outputs: ToOutputs,
        examples: list[Mapping[str, Any]] | None = None,
        submit: list[gr.components.Component] | None = None,
    ) -> None:
        """Wire Run (API name = task id with _), add examples and the Show code panel.

        `to_outputs(result)` turns a RunResult (raw output, visual, checked inputs) into the
        values of `outputs`; for a streaming task it is called on every update, and the
        Stop button (ui.stop_button()) cancels the run. `examples` are dicts by parameter
        name. `submit`: textboxes whose Enter also runs it.
        """
        assert self.model and self.button and self.raw, "render the run button and raw output first"
        inputs = self.bound()
        handler = on_zero_gpu(self.handler(to_outputs))
        triggers = [self.button.click, *[box.submit for box in submit or []]]
        self.event = stopping.on_start(self.stop, triggers, stopping.live_figures(outputs))(
            fn=handler,
            inputs=[self.model, *inputs, *self.settings],
            outputs=[*outputs, self.raw],
            api_name=self.task.api_name,
            concurrency_limit=self.studio.concurrency_limit(self.task.id),
            concurrency_id=self.task.api_name,
            show_progress_on=(badges := run_errors.badges([*outputs, self.raw], inputs)),
        )
        run_errors.wire_error_box(self.event, self.error, badges, self.task.api_name)
        if self.stop is not None:  # says how far the run got in the live figures, if the tab has them
            stopping.wire_stop(self.stop, [self.event], stopping.live_figures(outputs))
        if examples:
            self.examples(examples)
        self.show_code()
        wire_remote_inputs(self)  # a remote model: inputs the OpenAI API lacks are off (components/remote_inputs.py)

    def examples(self, rows: list[Mapping[str, Any]], label: str = "Examples") -> None:
        """Examples as dicts by parameter name; the widgets they fill are the named ones."""
        names = list(dict.fromkeys(name for row in rows for name in row))
        components = [self.widgets[name] for name in names]
        values = [[row.get(name, self.spec[name].default) for name in names] for row in rows]
        gr.Examples(examples=values, inputs=components, label=label)

    def show_code(self) -> None:
        inputs = self.bound()
        show = self._snippet()
        with gr.Accordion("Show code", open=False):
            code = gr.Code(
                value=show(self.model.value, *[c.value for c in inputs], *[c.value for c in self.settings]),
                language="python",
                label="The same call in transformers",
                elem_classes=["show-code"],
            )
        gr.on(
            triggers=[c.change for c in (self.model, *inputs, *self.settings)],
            fn=show,
            inputs=[self.model, *inputs, *self.settings],
            outputs=code,
            api_visibility="undocumented",
            queue=False,
            show_progress="hidden",
            trigger_mode="always_last",
        )

    def _split(self, values: Sequence[Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(model id, inputs by name, settings by name) from the handler's positional values."""
        names = self.spec.names
        model_id, task_values, setting_values = values[0], values[1 : 1 + len(names)], values[1 + len(names) :]
        return model_id, dict(zip(names, task_values)), dict(zip(SETTING_NAMES, setting_values))

    def results(
        self,
        model_id: str,
        inputs: Mapping[str, Any],
        settings: Mapping[str, Any],
        progress: Any = None,
        request: gr.Request | None = None,
    ) -> Iterator[RunResult]:
        """Studio.stream with UserErrors as gr.Error and notices as toasts: the one wrapped stream
        every event of this task goes through (Run, and extra views such as Compare), for the
        request's caller (Studio applies the public caps and the running limit)."""
        report = (lambda fraction, message: progress(fraction, desc=message)) if progress is not None else None
        who = caller(self.studio.access, request)
        with shown_as_gr_error(self.task.title):
            settings_row = self.studio.settings(settings)
            updates = self.studio.stream(self.task.id, model_id, inputs, settings_row, report, caller=who)
        try:
            while True:
                with shown_as_gr_error(self.task.title):
                    try:
                        result = next(updates)
                    except StopIteration:
                        return
                for notice in result.notices:
                    gr.Warning(notice)
                yield result
        finally:
            updates.close()

    def handler(self, to_outputs: ToOutputs) -> Callable[..., Any]:
        """The Run handler, with a real signature (spec names and defaults) for the API.

        A streaming task's handler is a generator: closing it (Stop, a closed browser tab)
        closes Studio.stream and so the adapter, whose `finally` ends its work.
        """
        task = self.task

        def shown(result: RunResult) -> Any:
            with shown_as_gr_error(task.title):
                values = tuple(to_outputs(result))
            return event_values(values, result.output)

        def run(*args: Any) -> Any:
            *values, progress, request = args
            last = None
            for result in self.results(*self._split(values), progress, request):
                last = result
            return shown(last)

        def stream(*args: Any) -> Iterator[Any]:
            *values, progress, request = args
            for result in self.results(*self._split(values), progress, request):
                yield shown(result)

        parameters = [inspect.Parameter("model", KEYWORD), *self.spec.signature_parameters()]
        parameters += [inspect.Parameter(param.name, KEYWORD, default=param.default) for param in MODEL_SETTINGS]
        parameters += [progress_parameter(), request_parameter()]
        # The MCP tool's description and Args come from the docstring.
        return api_handler(stream if task.streams else run, parameters, task.api_name, tool_doc(self.studio, task))

    def _snippet(self) -> Callable[..., str]:
        def show_code(model_id: str, *values: Any) -> str:
            _, inputs, settings = self._split([model_id, *values])
            try:
                return self.studio.code(self.task.id, model_id, inputs, self.studio.settings(settings))
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
    return api_handler(wrapped, list(inspect.signature(handler).parameters.values()))  # the API's names


def event_values(shown: Sequence[Any], raw: Any) -> Any:
    """What a handler returns: the shown values, then the raw output; a lone value unwrapped
    (Gradio would otherwise take a 1-tuple as the value of a single output)."""
    values = (*shown, json_value(raw))
    return values if len(values) > 1 else values[0]
