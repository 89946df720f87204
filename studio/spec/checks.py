"""How each kind of parameter value is parsed and range-checked (used by Param.check in
studio/spec/param.py): numbers, whole numbers, true/false, choices and texts. Each bad value is
one sentence naming the parameter and what it may be."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from studio.errors import UserError

if TYPE_CHECKING:
    from studio.spec.param import Param

# Text that tokenizers choke on: lone UTF-16 surrogates (invalid in UTF-8) and NUL.
_UNSAFE_TEXT = re.compile("[\ud800-\udfff\x00]")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def clean_text(value: str) -> str:
    """The text without characters no tokenizer can encode (lone surrogates, NUL)."""
    return _UNSAFE_TEXT.sub("", value)


def _as_number(param: Param, value: Any) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict, tuple)):
        raise param._bad(value)
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise param._bad(value) from None
    if not math.isfinite(number):
        raise param._bad(value)
    return number


def _check_int(param: Param, value: Any) -> int:
    number = _as_number(param, value)
    if not number.is_integer():
        raise param._bad(value)
    param._within(number, value)
    return int(number)


def _check_float(param: Param, value: Any) -> float:
    number = _as_number(param, value)
    param._within(number, value)
    return number


def _check_bool(param: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise UserError(f"{param.name} must be true or false; got {value!r}.")


def _check_choice(param: Param, value: Any) -> Any:
    if value is None:
        raise param._bad(value)
    wanted = str(value).strip().lower()
    for choice in param.choices:
        if str(choice).lower() == wanted:
            return choice
    raise param._bad(value)


def _check_text(param: Param, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise param._bad(value)
    return clean_text(value)


CHECKS: dict[str, Callable[[Param, Any], Any]] = {
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "choice": _check_choice,
    "text": _check_text,
}
