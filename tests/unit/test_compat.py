"""compat/ holds every touch of a library internal: what it relies on still exists in the
installed gradio, transformers and huggingface_hub, and no code outside compat/ uses one."""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import inspect
import pkgutil
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import compat
from compat import Reliance

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("gradio", "gradio_client", "transformers", "huggingface_hub")
# Modules and names of those libraries that their documentation does not describe (a dotted
# prefix: the module and everything in it). Code outside compat/ reaches them through compat/.
UNDOCUMENTED = (
    "gradio.blocks",
    "gradio.block_function",
    "gradio.context",
    "gradio.queueing",
    "gradio.route_utils",
    "gradio.routes",
    "gradio.state_holder",
    "gradio.utils",
    "gradio_client.utils",
    "huggingface_hub.constants",
    "huggingface_hub.file_download.repo_folder_name",
    "transformers.generation.continuous_batching",
    "transformers.models.whisper.tokenization_whisper.TO_LANGUAGE_CODE",
    "transformers.pipelines.base",
)
# Uses in files this change could not edit; compat/ has their replacement ready. Each entry
# is checked to still be there: once the file calls compat/, the entry must go.
NOT_YET_ROUTED: set[tuple[str, str]] = set()  # (file, internal) still to move into compat/


def compat_modules() -> list[ModuleType]:
    """Every module of compat/ (each imports its library)."""
    return [importlib.import_module(f"compat.{info.name}") for info in pkgutil.iter_modules(compat.__path__)]


def reliances() -> list[Reliance]:
    return [reliance for module in compat_modules() for reliance in module.RELIES_ON]


def _library(reliance: Reliance) -> str:
    return reliance.module.split(".")[0]


def _version(library: str) -> str:
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _gone(reliance: Reliance, what: str = "is gone") -> str:
    library = _library(reliance)
    return (
        f"{reliance.dotted} {what}: {reliance.user} needs updating for this {library} version "
        f"({library} {_version(library)})"
    )


@functools.cache
def _assigned_on_self(cls: type) -> frozenset[str]:
    """The attributes a class's own code sets on its instances (`self.x = ...`, `self.x: T = ...`,
    tuple targets too), and those it declares (dataclass fields, annotations, slots)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for target in targets:
                for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name) and item.value.id == "self":
                        names.add(item.attr)
    return frozenset(names)


def _resolve(reliance: Reliance) -> Any:
    """The object a reliance names in the installed library; fails naming the compat function."""
    try:
        found: Any = importlib.import_module(reliance.module)
    except ImportError:
        pytest.fail(_gone(Reliance(reliance.module, "", reliance.user)), pytrace=False)
    parts = reliance.name.split(".") if reliance.name else []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if last and reliance.instance:
            if not (hasattr(found, part) or part in _assigned_on_self(found)):
                pytest.fail(_gone(reliance, "is no longer set on its instances"), pytrace=False)
            return None
        if not hasattr(found, part):
            pytest.fail(_gone(reliance), pytrace=False)
        found = getattr(found, part)
    return found


@pytest.mark.parametrize("reliance", reliances(), ids=lambda reliance: reliance.dotted)
def test_every_internal_compat_relies_on_is_still_there(reliance: Reliance) -> None:
    found = _resolve(reliance)
    if reliance.parameters:
        names = [name for name in inspect.signature(found).parameters if name != "self"]
        if tuple(names[: len(reliance.parameters)]) != reliance.parameters:
            wanted = ", ".join(reliance.parameters)
            message = _gone(reliance, f"no longer takes ({wanted}) first; it takes ({', '.join(names)})")
            pytest.fail(message, pytrace=False)


def test_each_reliance_names_a_real_compat_function_with_a_docstring() -> None:
    for module in compat_modules():
        assert module.RELIES_ON, f"{module.__name__} relies on nothing: it has no reason to exist"
        for reliance in module.RELIES_ON:
            owner, _, name = reliance.user.rpartition(".")
            assert owner == module.__name__, f"{reliance.dotted}: {reliance.user} is not in {module.__name__}"
            assert hasattr(module, name), f"{reliance.dotted}: {reliance.user} does not exist"
        defined = [
            (name, value)
            for name, value in vars(module).items()
            if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == module.__name__
        ]
        for name, value in defined:
            if not name.startswith("_"):
                assert inspect.getdoc(value), f"{module.__name__}.{name} needs a docstring: what it relies on, why"


# ----------------------------------------------------------------- the rule
def checked_files() -> list[Path]:
    """Our code outside compat/: studio/, components/ and app.py."""
    return [*sorted((ROOT / "studio").rglob("*.py")), *sorted((ROOT / "components").rglob("*.py")), ROOT / "app.py"]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _scope_names(body: list[ast.stmt]) -> set[str]:
    """The names a module or class body binds: functions, classes, variables (not a function's locals)."""
    names: set[str] = set()
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(statement.name)
        elif isinstance(statement, ast.ClassDef):
            names.add(statement.name)
            names |= _scope_names(statement.body)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names |= {node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)}
        else:  # if / try / with at the top: their bodies bind names of the same scope
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(statement, field, [])
                names |= _scope_names([item for item in inner if isinstance(item, ast.stmt)])
                for handler in inner if field == "handlers" else []:
                    names |= _scope_names(handler.body)
    return names


def our_private_names(files: list[Path]) -> set[str]:
    """The underscore names our own code defines: module and class functions, classes and variables
    (a class made inside a function too), and the attributes it sets on self or cls. compat/ is
    left out: its subclasses define library names. (A library's private attribute that happens to
    share a name with one of ours passes.)"""
    names: set[str] = set()
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= _scope_names(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):  # a class made inside a function too (a lazy subclass)
                names |= _scope_names([node])
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                names.add(node.attr)
    return {name for name in names if _private(name)}


def _ours(name: str, ours: set[str]) -> bool:
    """Our own private names, and our marks on library objects (`model._studio_engine`)."""
    return name in ours or name.startswith("_studio_")


def _undocumented(dotted: str) -> str | None:
    """The UNDOCUMENTED entry (or the private segment's path) a dotted library path falls in."""
    parts = dotted.split(".")
    if parts[0] not in LIBRARIES:
        return None
    for index, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[: index + 1])
    return next((entry for entry in UNDOCUMENTED if dotted == entry or dotted.startswith(entry + ".")), None)


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """`a.b.c` with `a` an imported library name, as its full dotted path."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


def internal_uses(path: Path, ours: set[str]) -> list[tuple[str, int, str]]:
    """(what, line, code) for each library internal a file uses: an import of an undocumented or
    private module or name, a dotted use of one, or a private attribute that is not ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    found: list[tuple[str, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:  # `import a.b` binds a
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
                if what := _undocumented(alias.name):
                    found.append((what, node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if what := _undocumented(node.module) or _undocumented(f"{node.module}.{alias.name}"):
                    found.append((what, node.lineno, f"from {node.module} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node, aliases)
            if dotted is not None and (what := _undocumented(dotted)):
                found.append((what, node.lineno, ast.unparse(node)))
            elif _private(node.attr) and not _ours(node.attr, ours):
                found.append((node.attr, node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
            and not _ours(node.args[1].value, ours)
        ):
            found.append((node.args[1].value, node.lineno, ast.unparse(node)))
    unique = {(what, line): code for what, line, code in sorted(found, key=lambda use: len(use[2]), reverse=True)}
    return sorted((what, line, code) for (what, line), code in unique.items())


def all_internal_uses() -> dict[tuple[str, str], list[str]]:
    files = checked_files()
    ours = our_private_names(files)
    uses: dict[tuple[str, str], list[str]] = {}
    for path in files:
        relative = str(path.relative_to(ROOT))
        for what, line, code in internal_uses(path, ours):
            uses.setdefault((relative, what), []).append(f"{relative}:{line}: {code}")
    return uses


def test_no_library_internal_is_used_outside_compat() -> None:
    uses = all_internal_uses()
    offenders = [line for key, lines in sorted(uses.items()) if key not in NOT_YET_ROUTED for line in lines]
    assert offenders == [], (
        "Library internals used outside compat/ (a private name or an undocumented module of "
        + ", ".join(LIBRARIES)
        + "): add a function to compat/<library>.py, list what it relies on in its RELIES_ON, "
        "and call it instead:\n" + "\n".join(offenders)
    )
    routed = sorted(key for key in NOT_YET_ROUTED if key not in uses)
    assert routed == [], f"These now go through compat/: remove them from NOT_YET_ROUTED: {routed}"


def test_the_rule_sees_a_private_attribute_an_import_and_a_getattr(tmp_path: Path) -> None:
    """The rule's own check, on code that touches internals the three ways it looks for."""
    ours = our_private_names(checked_files())
    code = textwrap.dedent(
        """
        import gradio as gr
        from huggingface_hub import constants
        from transformers.generation.continuous_batching.continuous_api import OutputRouter

        def start(manager, model, blocks):
            manager._generation_thread.start()
            model._studio_engine = None
            gr.utils.abspath("x")
            return getattr(blocks, "_id")
        """
    )
    path = tmp_path / "example.py"
    path.write_text(code, encoding="utf-8")
    found = {what for what, _, _ in internal_uses(path, ours)}
    assert found == {
        "huggingface_hub.constants",
        "transformers.generation.continuous_batching",
        "_generation_thread",
        "gradio.utils",
        "_id",
    }
