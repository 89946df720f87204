"""Every touch of a library internal, in one place: one module per library.

A library internal is a `_private` name, or an undocumented module or attribute, of gradio,
transformers or huggingface_hub. Such a name may change in any release without notice, so
the rest of the code never touches one: it calls a named function here, whose docstring says
what it relies on and why we need it. Each module lists what it relies on in `RELIES_ON`;
tests/unit/test_compat.py checks every entry against the installed version and names the
function to update when one is gone, and fails when code outside compat/ uses an internal.

This package imports no library at its top: compat.gradio imports gradio (only the page uses
it); compat.transformers and compat.huggingface_hub import theirs inside each function, so the
app's start stays free of torch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reliance:
    """One library internal that a compat function relies on.

    `module` is where it is defined ("gradio.blocks"); `name` its dotted path in that module
    ("Blocks.process_api"), empty for the module itself. `instance` marks an attribute that the
    class's own code sets on each instance (`self.name = ...`), so it is not visible on the
    class. `parameters` are the leading parameter names a wrapped method must still take, in
    order (self left out). `user` is the compat function to update when it is gone."""

    module: str
    name: str
    user: str
    instance: bool = False
    parameters: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        """The full dotted path, as a message names it."""
        return f"{self.module}.{self.name}" if self.name else self.module
