"""The house rules, checked: layers with one direction, packages in order, no import circles
(imports inside functions included), no Gradio and no markup below the door (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUR_ROOTS = ("studio", "components", "compat", "app")

# Bottom to top. A module imports only from its own package or from packages below it.
PACKAGE_ORDER: tuple[tuple[str, ...], ...] = (
    ("compat",),
    ("studio.errors", "studio.results"),  # the floor: what every layer says and returns
    ("studio.spec",),
    ("studio.tasks",),
    ("studio.config",),
    ("studio.policy",),
    ("studio.serving", "studio.uploads"),
    ("studio.generation",),
    ("studio.models",),
    ("studio.adapters",),
    ("studio.codegen",),
    ("studio.training",),
    ("studio.insight",),
    ("studio.studio",),
    ("components",),
    ("app",),
)
# What the page may name from below the door: the door itself and its vocabulary (types and
# declarations), never the machinery behind it.
FROM_COMPONENTS = (
    "studio.studio",
    "studio.spec",
    "studio.results",
    "studio.errors",
    "studio.tasks",
    "studio.policy",
)
# Libraries whose import may be deferred into a function (they are heavy to import).
HEAVY = {"torch", "transformers", "datasets", "peft", "captum", "optuna", "accelerate", "librosa", "soundfile",
         "numpy", "pandas", "sklearn", "seqeval", "jiwer", "gguf", "huggingface_hub", "openai", "mcp", "PIL",
         "safetensors", "tokenizers", "spaces", "psutil", "yaml", "scipy", "bitsandbytes", "matplotlib"}  # fmt: skip


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module (ours)
    line: int
    in_function: bool


def module_files() -> dict[str, Path]:
    files = {"app": ROOT / "app.py"}
    for folder in OUR_ROOTS[:-1]:
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


FILES = module_files()


def ours(name: str) -> str | None:
    """The module of ours a dotted import name lands in (a package's __init__ counts)."""
    while name and name not in FILES:
        name = name.rpartition(".")[0]
    return name or None


def type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def function_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(inner) for inner in ast.walk(node) if inner is not node)
    return inside


def imports_of(module: str) -> tuple[list[Edge], list[tuple[str, int]]]:
    """Our modules this one imports (at run time; TYPE_CHECKING imports excluded), and the
    external top-level libraries it imports inside functions."""
    tree = ast.parse(FILES[module].read_text(encoding="utf-8"))
    skipped, inside = type_checking_nodes(tree), function_nodes(tree)
    edges: list[Edge] = []
    deferred: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in FILES]
            names = subs or [node.module]
        for name in names:
            target = ours(name) if name.split(".")[0] in OUR_ROOTS else None
            if target is None:
                if id(node) in inside:
                    deferred.append((name.split(".")[0], node.lineno))
                continue
            if target != module:
                edges.append(Edge(module, target, node.lineno, id(node) in inside))
    return edges, deferred


EDGES = [edge for module in FILES for edge in imports_of(module)[0]]


def layer_of(module: str) -> int:
    if module == "studio":  # the package's own __init__: a docstring
        return 1
    for index, layer in enumerate(PACKAGE_ORDER):
        if any(module == name or module.startswith(name + ".") for name in layer):
            return index
    raise AssertionError(f"{module} is in no layer of PACKAGE_ORDER: add its package to the order")


def package_of(module: str) -> str:
    """studio's packages (and its top modules) are units of the order; so are components/ and compat/."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "studio" else parts[0]


def test_every_module_has_a_place_in_the_order() -> None:
    for module in FILES:
        layer_of(module)


def test_imports_only_go_down_the_package_order() -> None:
    upward = [
        f"{FILES[e.source].relative_to(ROOT)}:{e.line} imports {e.target}"
        for e in EDGES
        if layer_of(e.target) > layer_of(e.source)
        or (layer_of(e.target) == layer_of(e.source) and package_of(e.source) != package_of(e.target))
    ]
    assert upward == [], "imports must go down the package order (docs/ARCHITECTURE.md):\n" + "\n".join(upward)


def test_no_import_circles() -> None:
    graph: dict[str, set[str]] = {module: set() for module in FILES}
    for edge in EDGES:
        graph[edge.source].add(edge.target)
    circles = strongly_connected(graph)
    assert circles == [], "import circles: " + "; ".join(" <-> ".join(sorted(c)) for c in circles)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other round."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(group)
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_imports_inside_functions_only_defer_heavy_libraries() -> None:
    """app.py's main() is the one exception: it imports the app (and so Gradio) only after the
    flags and models.yaml are checked, so `--help` and a wrong file answer at once."""
    ours_inside = [
        f"{FILES[e.source].relative_to(ROOT)}:{e.line} imports {e.target}"
        for e in EDGES
        if e.in_function and e.source != "app"
    ]
    assert ours_inside == [], "import our own modules at the top of the file:\n" + "\n".join(ours_inside)
    light = [
        f"{FILES[module].relative_to(ROOT)}:{line} defers {library}"
        for module in FILES
        for library, line in imports_of(module)[1]
        if library not in HEAVY and library not in {"gradio", "gradio_client"}
    ]
    assert light == [], "defer only heavy libraries:\n" + "\n".join(light)


def test_studio_never_imports_gradio() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for module, path in FILES.items()
        if module.startswith("studio")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(
            name == "gradio" or name.startswith("gradio.")
            for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
        )
    ]
    assert offenders == []


TAGS = "span|div|p|b|i|em|strong|br|table|tr|td|th|ul|ol|li|details|summary|code|pre|style|a|h\\d"
MARKUP = re.compile(rf"</?(?:{TAGS})\b[^>]*>|\*\*[^*\s][^*]*\*\*")  # tags, or Markdown bold


def string_parts(tree: ast.AST) -> list[tuple[str, int]]:
    """Every string literal but docstrings; an f-string reads with `x` for each value."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    skipped = docstrings | {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values
    }
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "x" for part in node.values)
            found.append((str(text), node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            found.append((node.value, node.lineno))
    return found


def test_no_html_css_or_markdown_below_the_door() -> None:
    """studio/ returns data; components/ draws it. The model card is the one Markdown file
    studio/ writes: the Hub reads a model's README.md as Markdown."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}"
        for module, path in FILES.items()
        if module.startswith("studio") and module != "studio.training.model_card"
        for text, line in string_parts(ast.parse(path.read_text(encoding="utf-8")))
        if MARKUP.search(text)
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_markup_check_sees_markup() -> None:
    tree = ast.parse('x = "<span class=t>a</span>"\ny = f"**{a}** tokens"\nz = "a ** b"\n')
    assert [bool(MARKUP.search(text)) for text, _ in string_parts(tree)] == [True, True, False]


def test_components_reach_studio_only_through_the_door() -> None:
    offenders = sorted(
        f"{FILES[e.source].relative_to(ROOT)}:{e.line} imports {e.target}"
        for e in EDGES
        if e.source.startswith("components")
        and e.target.startswith("studio")
        and not any(e.target == name or e.target.startswith(name + ".") for name in FROM_COMPONENTS)
    )
    assert offenders == [], "components/ may import only " + ", ".join(FROM_COMPONENTS) + ":\n" + "\n".join(offenders)


def test_no_reference_to_a_design_file_outside_the_repository() -> None:
    for path in FILES.values():
        assert "DESIGN.md" not in path.read_text(encoding="utf-8"), path
