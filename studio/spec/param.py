"""The parameter spec's machinery: Param, Spec and @takes (the declarations are in studio/spec/shared.py).

A `Param` holds a name (the API's, as transformers spells it), a kind, a default, bounds or
choices, a readable label, one line of help and a widget hint. From one declaration come:

- validation (`Param.check`): the only place numbers, choices and texts are parsed, so every
  bad value gets one sentence naming the parameter and its range; an input that must be
  filled (`Param.empty`, its own sentence) is refused when blank, by `Spec.precheck`;
- an adapter's signature and defaults (`@takes(...)`), hence the API's, since the page's
  widgets start at the same defaults;
- the widgets (components/widgets.py builds them from the hint, bound by name);
- Show code's arguments and the parameter tables in docs/API.md.

See docs/ARCHITECTURE.md, "Parameters".
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from studio.errors import UserError, shorten


class _Required:
    """The default of an input that has none (shown as required in the API)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

Kind = Literal["text", "int", "float", "bool", "choice", "image", "audio", "file", "messages", "any"]
WIDGET_OF_KIND = {
    "text": "textbox",
    "int": "slider",
    "float": "slider",
    "bool": "checkbox",
    "choice": "dropdown",
    "image": "image",
    "audio": "audio",
    "file": "file",
    "messages": "chatbot",
    "any": "json",
}
ANNOTATION_OF_KIND: dict[str, Any] = {"text": str, "int": int, "float": float, "bool": bool, "choice": str}

# Text that tokenizers choke on: lone UTF-16 surrogates (invalid in UTF-8) and NUL.
_UNSAFE_TEXT = re.compile("[\ud800-\udfff\x00]")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def clean_text(value: str) -> str:
    """The text without characters no tokenizer can encode (lone surrogates, NUL)."""
    return _UNSAFE_TEXT.sub("", value)


def _fmt(number: float | None) -> str:
    whole = number is not None and float(number).is_integer() and abs(number) < 1e15
    return "" if number is None else str(int(number)) if whole else f"{number:g}"


@dataclass(frozen=True)
class Param:
    """One input of a task: what it is, what it may be, and how the page shows it."""

    name: str
    kind: Kind
    default: Any = REQUIRED
    help: str = ""
    label: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is not allowed (e.g. top_p > 0)
    choices: tuple[Any, ...] = ()
    choice_labels: tuple[str, ...] = ()  # readable names for the choices, same order
    widget: str = ""  # a hint for components/widgets.py; empty: from the kind
    step: float | None = None
    lines: int = 1
    placeholder: str = ""
    # The sentence when this input is left empty, said before any model loads (empty: allowed).
    empty: str = ""
    max_chars: int = 0  # a longer text is refused before the model loads (0: no limit here)

    def __post_init__(self) -> None:
        if self.choice_labels and len(self.choice_labels) != len(self.choices):
            raise ValueError(f"{self.name}: choice_labels and choices differ in length")

    def but(self, **changes: Any) -> Param:
        """A copy with some fields changed (a task's own default or bounds for a shared input)."""
        return dataclasses.replace(self, **changes)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def title(self) -> str:
        """The label shown on the page: a readable one where declared, else the API name."""
        return self.label or self.name

    @property
    def widget_hint(self) -> str:
        return self.widget or WIDGET_OF_KIND[self.kind]

    @property
    def range_text(self) -> str:
        """The allowed values in words, for messages and docs."""
        if self.kind == "choice":
            return "one of " + ", ".join(str(choice) for choice in self.choices)
        if self.low is None or self.high is None:
            return {"int": "a whole number", "float": "a number"}.get(self.kind, "")
        if self.kind == "int":
            return f"a whole number between {_fmt(self.low)} and {_fmt(self.high)}"
        low = f"above {_fmt(self.low)}" if self.low_open else f"at least {_fmt(self.low)}"
        return f"{low} and at most {_fmt(self.high)}"

    def check(self, value: Any) -> Any:
        """The value as the adapter wants it, or a UserError naming this parameter and its range."""
        if value is None and not self.required:
            return self.default
        checker = {
            "int": self._check_int,
            "float": self._check_float,
            "bool": self._check_bool,
            "choice": self._check_choice,
            "text": self._check_text,
        }.get(self.kind)
        return checker(value) if checker else value

    def is_blank(self, value: Any) -> bool:
        """Whether this input must be filled (it has an `empty` sentence) and is not: no value, or
        blank text."""
        return bool(self.empty) and (value is None or (isinstance(value, str) and not value.strip()))

    def _as_number(self, value: Any) -> float:
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict, tuple)):
            raise self._bad(value)
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError, OverflowError):
            raise self._bad(value) from None
        if not math.isfinite(number):
            raise self._bad(value)
        return number

    def _check_int(self, value: Any) -> int:
        number = self._as_number(value)
        if not number.is_integer():
            raise self._bad(value)
        self._within(number, value)
        return int(number)

    def _check_float(self, value: Any) -> float:
        number = self._as_number(value)
        self._within(number, value)
        return number

    def _check_bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise UserError(f"{self.name} must be true or false; got {value!r}.")

    def _check_choice(self, value: Any) -> Any:
        if value is None:
            raise self._bad(value)
        wanted = str(value).strip().lower()
        for choice in self.choices:
            if str(choice).lower() == wanted:
                return choice
        raise self._bad(value)

    def _check_text(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self._bad(value)
        return clean_text(value)

    def _bad(self, value: Any) -> UserError:
        shown = shorten(repr(value))
        return UserError(f"{self.name} must be {self.range_text or self.kind}; got {shown}.")

    def _within(self, number: float, value: Any) -> None:
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            raise self._bad(value)
        if self.high is not None and number > self.high:
            raise self._bad(value)


@dataclass(frozen=True)
class Spec:
    """A task's inputs, in API order."""

    params: tuple[Param, ...]

    def __post_init__(self) -> None:
        names = [param.name for param in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names repeat: {names}")

    @property
    def names(self) -> list[str]:
        return [param.name for param in self.params]

    def __getitem__(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def defaults(self) -> dict[str, Any]:
        """The defaults of the inputs that have one."""
        return {param.name: param.default for param in self.params if not param.required}

    def checked(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every input checked, defaults filled in; a missing required input is checked as None."""
        unknown = [name for name in values if name not in self]
        if unknown:
            raise UserError(f"{unknown[0]} is not an input here; the inputs are {', '.join(self.names)}.")
        return {
            param.name: param.check(values.get(param.name, None if param.required else param.default))
            for param in self.params
        }

    def precheck(self, values: Mapping[str, Any]) -> None:
        """A UserError, before any model loads, when an input that must be filled is empty
        (blank text, no image: the Param's own sentence) or a text is longer than it may be."""
        for param in self.params:
            value = values.get(param.name)
            if param.is_blank(value):
                raise UserError(param.empty)
            if param.max_chars and isinstance(value, str) and len(value.strip()) > param.max_chars:
                length, limit = len(value.strip()), param.max_chars
                raise UserError(f"The {param.title.lower()} is {length:,} characters long; keep it under {limit:,}.")

    def signature_parameters(self) -> list[inspect.Parameter]:
        """The inputs as Python parameters (real names, spec defaults), for generated signatures."""
        return [
            inspect.Parameter(
                param.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=inspect.Parameter.empty if param.required else param.default,
                annotation=ANNOTATION_OF_KIND.get(param.kind, inspect.Parameter.empty),
            )
            for param in self.params
        ]


def spec_of(*groups: Param | Iterable[Param]) -> Spec:
    """A Spec from params and groups of params (e.g. GENERATION), flattened in order."""
    params: list[Param] = []
    for group in groups:
        params.extend([group] if isinstance(group, Param) else group)
    return Spec(tuple(params))


Adapter = TypeVar("Adapter", bound=Callable[..., Any])


def with_args_section(doc: str, spec: Spec) -> str:
    """The docstring with an `Args:` section (what Gradio's MCP tools read) written from the
    spec's help lines, unless the adapter documents its inputs itself."""
    if "Args:" in doc:
        return doc
    lines = [f"    {param.name}: {param.help or param.title}" for param in spec.params]
    return f"{doc}\n\nArgs:\n" + "\n".join(lines)


def takes(*groups: Param | Iterable[Param]) -> Callable[[Adapter], Adapter]:
    """Declare an adapter's inputs. The function lists the names (no defaults); every call,
    from Studio or from Python, is checked against the spec and gets its defaults."""
    spec = spec_of(*groups)

    def decorate(function: Adapter) -> Adapter:
        own = list(inspect.signature(function).parameters)
        if own[1:] != spec.names:
            raise TypeError(f"{function.__qualname__} takes {own[1:]} but its spec declares {spec.names}")
        first = inspect.signature(function).parameters[own[0]]
        signature = inspect.Signature([first, *spec.signature_parameters()])
        return checked_adapter(function, spec, signature, with_args_section(inspect.getdoc(function) or "", spec))

    return decorate


def checked_adapter(function: Adapter, spec: Spec, signature: inspect.Signature, doc: str) -> Adapter:
    """`function` (loaded, **inputs) behind the spec: a call binds its arguments to `signature`,
    fills the defaults, checks every input and refuses an empty or too long one (the Param's
    own sentence), so a plain Python call is refused as the page's request is. Keeps the
    function itself as `unchecked`, for Studio, which checks before it loads the model."""

    @functools.wraps(function)
    def adapter(loaded: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(loaded, *args, **kwargs)
        bound.apply_defaults()
        checked = spec.checked({name: bound.arguments[name] for name in spec.names})
        spec.precheck(checked)
        return function(loaded, **checked)

    adapter.__doc__ = doc
    # Attributes of the function object (no static type declares them): read by inspect.signature,
    # Task.spec and Studio.
    adapter.__dict__.update(__signature__=signature, spec=spec, unchecked=function)
    return cast(Adapter, adapter)  # called like `function`; functools.wraps types it as a _Wrapped
