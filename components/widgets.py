"""Widgets built from the parameter spec: one Param, one component, bound by name.

The spec (studio/spec/shared.py) says the kind, default, bounds, choices and help; this module
turns its widget hint into a Gradio component with the same default and the same range,
so the page, the API and a Python call agree. A tab may pass layout arguments (lines,
placeholder, scale, elem_classes, visible, ...) but never a different default or range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gradio as gr

from components.media_inputs import audio_input, image_input
from studio.errors import UserError
from studio.spec.param import Param

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


def _checked(param: Param, value: Any) -> Any:
    """The value checked by the spec (studio/spec/param.py): a bad one is a sentence naming the parameter."""
    try:
        return param.check(value)
    except UserError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


def _checked_number(param: Param, payload: Any, gradio_check: Callable[[Any], Any]) -> Any:
    """A finite number goes through Gradio's range check (its message prefixed with the API
    name); anything else (text, NaN, infinity, a list, true) gets the spec's sentence."""
    finite = isinstance(payload, (int, float)) and not isinstance(payload, bool) and math.isfinite(payload)
    if not finite:
        return _checked(param, payload)
    try:
        value = gradio_check(payload)
    except gr.Error as exc:
        raise gr.Error(f"{param.name}: {exc.message}", print_exception=False) from None
    return _checked(param, value)


class SpecSlider(gr.Slider):
    """A slider whose bad values get a sentence naming its parameter (Gradio's alone says only
    "Value 500 is greater than maximum value 100.", or a bare "Error" for "abc" or NaN)."""

    is_template = True  # drawn by the frontend's Slider
    param: Param

    def preprocess(self, payload: Any) -> Any:
        param = getattr(self, "param", None)
        return _checked_number(param, payload, super().preprocess) if param else super().preprocess(payload)


class SpecNumber(gr.Number):
    """A number box whose bad values get a sentence naming its parameter (see SpecSlider)."""

    is_template = True
    param: Param

    def preprocess(self, payload: Any) -> Any:
        param = getattr(self, "param", None)
        return _checked_number(param, payload, super().preprocess) if param else super().preprocess(payload)


class SpecCheckbox(gr.Checkbox):
    """A checkbox whose value is checked by the spec ("true", 1 and "yes" count; "maybe" is refused)."""

    is_template = True
    param: Param

    def preprocess(self, payload: Any) -> Any:
        param = getattr(self, "param", None)
        return _checked(param, payload) if param else super().preprocess(payload)


class SpecDropdown(gr.Dropdown):
    """A dropdown whose wrong value gets a sentence naming its parameter and its choices
    (Gradio's alone: "Value: 5 (type: <class 'int'>) is not in the list of choices")."""

    is_template = True
    param: Param

    def preprocess(self, payload: Any) -> Any:
        param = getattr(self, "param", None)
        return _checked(param, payload) if param else super().preprocess(payload)


class SpecRadio(gr.Radio):
    """Radio buttons whose wrong value gets a sentence naming its parameter (see SpecDropdown)."""

    is_template = True
    param: Param

    def preprocess(self, payload: Any) -> Any:
        param = getattr(self, "param", None)
        return _checked(param, payload) if param else super().preprocess(payload)


class SpecTextbox(gr.Textbox):
    """A textbox whose value is checked by the spec: a list or an object is refused with a
    sentence (Gradio would pass on its repr), and lone surrogates and NUL are removed."""

    is_template = True
    param: Param

    def preprocess(self, payload: Any) -> Any:
        param = getattr(self, "param", None)
        return _checked(param, payload) if param else super().preprocess(payload)


def _bound(component: Any, param: Param) -> Any:
    """The component with its Param. Gradio rebuilds a component from its constructor
    arguments when an event updates it, and the rebuilt copy (kept per session) has no
    `param`: it then checks values as Gradio does, until components.errors.answer_gradio_errors
    hands it the original's Param before the next request is read."""
    component.param = param
    return component


def info_line(param: Param) -> str | None:
    """The help line, naming the API parameter when the label is a readable one."""
    hint = param.help if param.help.strip().rstrip(".").lower() != (param.label or "").lower() else ""
    if param.label and param.label != param.name:
        hint = f"{hint.rstrip()} · API: {param.name}" if hint else f"API: {param.name}"
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
    return _bound(SpecTextbox(value=value if value is not None else "", **common), param)


def _slider(param: Param, common: dict[str, Any]) -> gr.Component:
    step = param.step if param.step is not None else (1 if param.kind == "int" else 0.01)
    return _bound(SpecSlider(param.low, param.high, value=_default(param), step=step, **common), param)


def _number(param: Param, common: dict[str, Any]) -> gr.Component:
    precision = 0 if param.kind == "int" else None
    number = SpecNumber(_default(param), precision=precision, minimum=param.low, maximum=param.high, **common)
    return _bound(number, param)


def _checkbox(param: Param, common: dict[str, Any]) -> gr.Component:
    return _bound(SpecCheckbox(bool(_default(param)), **common), param)


def _dropdown(param: Param, common: dict[str, Any]) -> gr.Component:
    return _bound(SpecDropdown(_choices(param), value=_default(param), **common), param)


def _radio(param: Param, common: dict[str, Any]) -> gr.Component:
    return _bound(SpecRadio(_choices(param), value=_default(param), **common), param)


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


__all__ = ["info_line", "widget"]
