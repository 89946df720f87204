"""Widgets built from the parameter spec: one Param, one component, bound by name.

The spec (studio/params.py) says the kind, default, bounds, choices and help; this module
turns its widget hint into a Gradio component with the same default and the same range,
so the page, the API and a Python call agree. A tab may pass layout arguments (lines,
placeholder, scale, elem_classes, visible, ...) but never a different default or range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from components.media_inputs import audio_input, image_input
from studio.params import REQUIRED, Param

# What a tab may change on a widget: layout, never the value or the bounds.
LAYOUT_ARGUMENTS = {
    "lines",
    "max_lines",
    "placeholder",
    "scale",
    "min_width",
    "elem_classes",
    "elem_id",
    "visible",
    "show_label",
    "container",
    "interactive",
    "label",
    "info",
    "sources",
    "height",
    "allow_custom_value",
    "filterable",
    "autofocus",
    "buttons",
}


def _named(name: str, check: Callable[[], Any]) -> Any:
    """Gradio's own range check, its message prefixed with the parameter's API name."""
    try:
        return check()
    except gr.Error as exc:
        raise gr.Error(f"{name}: {exc.message}", print_exception=False) from None


class SpecSlider(gr.Slider):
    """A slider whose out-of-range message names its parameter (Gradio's alone says only
    "Value 500 is greater than maximum value 100.")."""

    is_template = True  # drawn by the frontend's Slider
    param_name = ""

    def preprocess(self, payload: Any) -> Any:
        return _named(self.param_name, lambda: super(SpecSlider, self).preprocess(payload))


class SpecNumber(gr.Number):
    """A number box whose out-of-range message names its parameter (see SpecSlider)."""

    is_template = True
    param_name = ""

    def preprocess(self, payload: Any) -> Any:
        return _named(self.param_name, lambda: super(SpecNumber, self).preprocess(payload))


def info_line(param: Param) -> str | None:
    """The help line, naming the API parameter when the label is a readable one."""
    hint = param.help
    if param.label and param.label != param.name:
        hint = f"{hint} API: {param.name}".strip()
    return hint or None


def _choices(param: Param) -> list[Any]:
    labels = param.choice_labels or tuple(str(choice) for choice in param.choices)
    return list(zip(labels, param.choices))


def _default(param: Param) -> Any:
    return None if param.required else param.default


def _textbox(param: Param, common: dict[str, Any]) -> gr.Component:
    common.setdefault("lines", param.lines)
    common.setdefault("placeholder", param.placeholder or None)
    value = _default(param)
    return gr.Textbox(value=value if value is not None else "", **common)


def _slider(param: Param, common: dict[str, Any]) -> gr.Component:
    step = param.step if param.step is not None else (1 if param.kind == "int" else 0.01)
    slider = SpecSlider(param.low, param.high, value=_default(param), step=step, **common)
    slider.param_name = param.name
    return slider


def _number(param: Param, common: dict[str, Any]) -> gr.Component:
    precision = 0 if param.kind == "int" else None
    number = SpecNumber(_default(param), precision=precision, minimum=param.low, maximum=param.high, **common)
    number.param_name = param.name
    return number


def _checkbox(param: Param, common: dict[str, Any]) -> gr.Component:
    return gr.Checkbox(bool(_default(param)), **common)


def _dropdown(param: Param, common: dict[str, Any]) -> gr.Component:
    return gr.Dropdown(_choices(param), value=_default(param), **common)


def _radio(param: Param, common: dict[str, Any]) -> gr.Component:
    return gr.Radio(_choices(param), value=_default(param), **common)


def _image(param: Param, common: dict[str, Any]) -> gr.Component:
    return image_input(common.pop("label"), **common)


def _audio(param: Param, common: dict[str, Any]) -> gr.Component:
    return audio_input(common.pop("label"), **common)


def _chatbot(param: Param, common: dict[str, Any]) -> gr.Component:
    common.pop("info", None)
    return gr.Chatbot(**common)


def _json(param: Param, common: dict[str, Any]) -> gr.Component:
    common.pop("info", None)
    return gr.JSON(_default(param), **common)


def _file(param: Param, common: dict[str, Any]) -> gr.Component:
    common.pop("info", None)
    return gr.File(**common)


BUILDERS: dict[str, Callable[[Param, dict[str, Any]], gr.Component]] = {
    "textbox": _textbox,
    "slider": _slider,
    "number": _number,
    "checkbox": _checkbox,
    "dropdown": _dropdown,
    "radio": _radio,
    "image": _image,
    "audio": _audio,
    "chatbot": _chatbot,
    "json": _json,
    "file": _file,
}


def widget(param: Param, **layout: Any) -> gr.Component:
    """The component for one parameter: its default, range and help come from the spec."""
    unknown = set(layout) - LAYOUT_ARGUMENTS
    if unknown:
        raise TypeError(f"{param.name}: {sorted(unknown)} are not layout arguments; change the spec instead")
    # Gradio puts a textbox's info line inside its <label>, which then no longer reads as the
    # label alone (screen readers, page tests): a textbox shows help only when a tab asks.
    info = None if param.widget_hint == "textbox" else info_line(param)
    common: dict[str, Any] = {"label": param.title, "info": info, **layout}
    if param.widget_hint not in BUILDERS:
        raise ValueError(f"{param.name}: no widget for hint {param.widget_hint!r}")
    return BUILDERS[param.widget_hint](param, common)


__all__ = ["REQUIRED", "widget"]
