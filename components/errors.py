"""Errors shown in the page: a UserError becomes a gr.Error; anything else is logged.
Gradio's own input errors are answered with a sentence too (answer_gradio_errors)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr

from compat.gradio import Event, wrap_preprocess_data
from components.media_inputs import REFUSED_PATH
from studio.errors import UserError

log = logging.getLogger("studio.ui")


@contextmanager
def shown_as_gr_error(action: str) -> Iterator[None]:
    """Turn a UserError into a one-sentence gr.Error; log bugs with their traceback."""
    try:
        yield
    except UserError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    except gr.Error:
        raise
    except Exception:
        log.exception("%s failed", action)
        raise gr.Error(
            f"{action} failed because of an unexpected error; the details are in the server log.",
            print_exception=False,
        ) from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def _parameter_names(event: Event) -> list[str]:
    """The API names of an event's inputs (the handler's parameters, as view_api lists them)."""
    inputs = event.inputs
    count = len(inputs)
    try:
        parameters = inspect.signature(event.handler).parameters.values()  # type: ignore[arg-type]
        names = [p.name for p in parameters if not isinstance(p.default, (gr.Progress, gr.Request))]
    except (TypeError, ValueError):
        names = []
    if len(names) < count:
        names = [getattr(block, "label", None) or f"input {i + 1}" for i, block in enumerate(inputs)]
    return names[:count]


def _expected(block: Any) -> str:
    """What an input component takes, in words."""
    if isinstance(block, gr.Image):
        return "an uploaded image file or an image URL, given as {'path': ...}"
    if isinstance(block, gr.Audio):
        return "an uploaded audio file or an audio URL, given as {'path': ...}"
    if isinstance(block, gr.File):
        return "an uploaded file, given as {'path': ...}"
    if isinstance(block, (gr.Dropdown, gr.Radio)) and not getattr(block, "allow_custom_value", False):
        return "one of " + ", ".join(str(value) for _, value in block.choices)
    if isinstance(block, gr.Checkbox):
        return "true or false"
    if isinstance(block, (gr.Slider, gr.Number)):
        low, high = block.minimum, block.maximum
        return "a number" + (f" between {low:g} and {high:g}" if low is not None and high is not None else "")
    if isinstance(block, (gr.Chatbot, gr.JSON)):
        return "a list of messages like {'role': 'user', 'content': 'Hi'}"
    return "text" if isinstance(block, gr.Textbox) else "a value of the type the API docs show"


def _refused(block: Any, value: Any) -> bool:
    """Whether Gradio's own checks (data model, then preprocess) refuse this value."""
    try:
        if getattr(block, "data_model", None) is not None and value is not None:
            value = block.data_model.model_validate(value, context={"validate_meta": True})
        block.preprocess(value)
    except Exception:
        return True
    return False


def answer_gradio_errors(blocks: gr.Blocks) -> None:
    """Gradio's own input errors as one sentence naming the parameter: too few values, a value
    a component's data model refuses (an image given as 5), a wrong choice in a plain dropdown.
    Left alone, they reach the caller as a bare "Error" or with a Python class name in it. The
    widgets built from the spec (components/widgets.py) answer their own bad values first."""

    async def preprocess_data(
        run: Callable[[], Awaitable[Any]], event: Event, inputs: list[Any], copy_in_session: Callable[[Any], Any]
    ) -> Any:
        names = _parameter_names(event)
        api = event.api_name or event.name
        if len(inputs) < len(event.inputs):
            listed = ", ".join(names) if len(names) <= 10 else ", ".join(names[:8]) + f" and {len(names) - 8} more"
            raise gr.Error(
                f"{api} takes {len(names)} values ({listed}) but got {len(inputs)}; "
                "send one value per input, in that order.",
                print_exception=False,
            )
        for block in event.inputs:  # a session's rebuilt copy of a spec widget gets its Param back
            copy = copy_in_session(block)
            if copy is not None and copy is not block and hasattr(block, "param") and not hasattr(copy, "param"):
                copy.param = block.param
        try:
            return await run()
        except gr.Error as exc:
            if not str(exc.message).startswith("Value"):
                raise  # a sentence already (ours, or one naming its field)
            error: Exception = exc
        except Exception as exc:
            error = exc
        for name, block, value in zip(names, event.inputs, inputs):
            if "not uploaded" in str(error) and isinstance(value, dict) and "path" in value:
                raise gr.Error(REFUSED_PATH.format(name=name), print_exception=False) from None
            if _refused(block, value):
                message = f"{name} must be {_expected(block)}; got {_shown(value)}."
                raise gr.Error(message, print_exception=False) from None
        log.error("input of %s refused: %s", api, error)
        raise gr.Error(
            f"{api} could not read its inputs ({', '.join(names)}); check each against the API docs.",
            print_exception=False,
        ) from None

    wrap_preprocess_data(blocks, preprocess_data)
