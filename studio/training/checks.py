"""A checked config section: pydantic's validation, with its first problem said in one sentence
that names the parameter and what it may be (the API's and the page's errors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from studio.errors import UserError, shorten

Section = TypeVar("Section", bound=BaseModel)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _shown(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return shorten(repr(value), 42)


def bounds(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    low = high = None
    field = model.model_fields.get(name)
    for rule in field.metadata if field else ():
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high


def _owner(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[type[BaseModel], str]:
    """The model and field an error location names (e.g. ("training", "seed"))."""
    names = [part for part in loc if isinstance(part, str)]
    for part in names[:-1]:
        annotation = model.model_fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return model, names[-1] if names else "config"


def sentence(model: type[BaseModel], error: ValidationError, highs: Mapping[str, float] | None = None) -> str:
    """The first problem as one sentence naming the parameter and what it may be."""
    first = error.errors()[0]
    owner, name = _owner(model, first["loc"])
    kind, value = first["type"], first.get("input")
    low, high = bounds(owner, name)
    high = (highs or {}).get(name, high)
    if low is not None and high is not None and kind != "missing":
        whole = " a whole number" if kind == "int_from_float" else ""
        return f"{name} must be{whole} between {_number(low)} and {_number(high)}; got {_shown(value)}."
    if kind == "literal_error":
        annotation = owner.model_fields[name].annotation
        return f"{name} must be one of {', '.join(map(str, get_args(annotation)))}; got {_shown(value)}."
    if kind.startswith("bool"):
        return f"{name} must be true or false; got {_shown(value)}."
    return f"{name} is not valid ({first['msg']}); got {_shown(value)}."


def checked(model: type[Section], values: Mapping[str, Any], highs: Mapping[str, float] | None = None) -> Section:
    """model(**values), or a UserError of one sentence instead of pydantic's report.

    highs: tighter upper bounds known only at run time (num_processes: this machine's cores)."""
    try:
        result = model.model_validate(dict(values))
    except ValidationError as error:
        raise UserError(sentence(model, error, highs)) from None
    for name, high in (highs or {}).items():
        if getattr(result, name) > high:
            low = bounds(model, name)[0]
            span = f"between {_number(low)} and {_number(high)}" if low is not None else f"at most {_number(high)}"
            raise UserError(f"{name} must be {span}; got {_shown(getattr(result, name))}.")
    return result
