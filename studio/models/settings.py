"""How a model is loaded (the model-settings row of every tab): dtype, quantization, device.

A leaf: the model cache, loading, remote engines and Show code all take it, and it imports
nothing of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.errors import UserError
from studio.spec.shared import DEVICES, DTYPES, QUANTIZATIONS


@dataclass(frozen=True)
class ModelSettings:
    """How a model is loaded: the model-settings row of every tab."""

    dtype: str = "auto"
    quantization: str = "none"
    device: str = "auto"

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("dtype", self.dtype, DTYPES),
            ("quantization", self.quantization, QUANTIZATIONS),
            ("device", self.device, DEVICES),
        ):
            if value not in allowed:
                raise UserError(f"{name} {value!r} is not supported; choose one of {', '.join(allowed)}.")
