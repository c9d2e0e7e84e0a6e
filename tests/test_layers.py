"""Every import of ``src/overconf`` points down the pipeline: no import cycle between modules and no import from a
higher layer, function-local imports counted too (read with :mod:`ast`, nothing imported).

A function-local import of overconf is allowed only for start-up time and says so (``# lazy: ...`` on its line), or
in a module whose docstring says all its commands import lazily (:data:`LAZY_MODULES`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "version", "_compat"),  # base: imports nothing of overconf ...
    ("validate", "paths"),  # ... or only the base modules above it
    ("registry", "files", "vocabulary"),
    ("data",),
    ("perturb",),
    ("models",),
    ("evaluation",),
    ("store",),
    ("metrics",),
    ("zoo", "train"),  # beside each other: neither imports the other
    ("report",),
    ("run",),
    ("api",),
    ("cli",),
    ("__main__",),
    ("overconf",),  # the package itself (its public names load overconf.api lazily)
)
"""Layers from the lowest up: a module may import its own part (package or base module) and the layers below."""

LAZY_MODULES = {"overconf.cli"}
"""Modules whose commands import what they run inside their bodies (start-up time of ``overconf --version``)."""


def _rank(module: str) -> tuple[int, str]:
    parts = module.split(".")
    part = parts[1] if len(parts) > 1 else parts[0]
    for rank, layer in enumerate(LAYERS):
        if part in layer:
            return rank, part
    raise AssertionError(f"{module}: not in the layer table of {__file__} (add its package to LAYERS)")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    file: str
    line: int
    local: bool  # inside a function
    lazy_comment: bool

    def __str__(self) -> str:
        return f"{self.source} imports {self.target} ({self.file} line {self.line})"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((SRC / "overconf").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _targets(node: ast.Import | ast.ImportFrom, module: str, package: bool, modules: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if package else 0)]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    for name in names:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules and name != module:
            yield name


def _imports() -> list[Import]:
    modules = _modules()
    found: list[Import] = []
    for module, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        package = path.name == "__init__.py"
        file = path.relative_to(SRC.parent).as_posix()

        def visit(node: ast.AST, local: bool, module: str = module, package: bool = package,
                  lines: list[str] = lines, file: str = file) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    comment = "# lazy" in lines[child.lineno - 1] or "# lazy" in lines[child.end_lineno - 1]
                    for target in _targets(child, module, package, modules):
                        found.append(Import(module, target, file, child.lineno, local, comment))
                visit(child, local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(ast.parse(text, filename=str(path)), False)
    return found


def upward_imports(imports: list[Import]) -> list[str]:
    """One line per import of a higher layer, or of a module beside it in the same layer."""
    problems = []
    for imp in imports:
        (rank, part), (target_rank, target_part) = _rank(imp.source), _rank(imp.target)
        if target_rank > rank or (target_rank == rank and target_part != part):
            problems.append(f"{imp}: {part} may not import {target_part} "
                            f"({'a higher layer' if target_rank > rank else 'beside it'}; see LAYERS in {Path(__file__).name})")
    return problems


def import_cycles(imports: list[Import]) -> list[str]:
    """One line per import cycle (each strongly connected set of modules, with one cycle through it spelled out)."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        edges.setdefault(imp.source, {}).setdefault(imp.target, imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    problems = []
    for component in components:
        members, start = set(component), component[0]
        path, seen, node = [start], {start}, start
        while True:  # follow edges inside the component until a module repeats: that is a cycle
            node = next(t for t in sorted(edges[node]) if t in members)
            if node in seen:
                break
            path.append(node)
            seen.add(node)
        cycle = [*path[path.index(node):], node]
        steps = "; ".join(str(edges[a][b]) for a, b in pairwise(cycle))
        problems.append(f"import cycle {' → '.join(cycle)}: {steps}")
    return problems


def unexplained_local_imports(imports: list[Import]) -> list[str]:
    return [f"{imp}: a function-local import; import at the top, or say why it is lazy (`# lazy: start-up time`)"
            for imp in imports if imp.local and not imp.lazy_comment and imp.source not in LAZY_MODULES]


def test_no_import_cycle() -> None:
    problems = import_cycles(_imports())
    assert not problems, "\n".join(problems)


def test_no_import_from_a_higher_layer() -> None:
    problems = upward_imports(_imports())
    assert not problems, "\n".join(problems)


def test_function_local_imports_say_why() -> None:
    problems = unexplained_local_imports(_imports())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "target", "expected"), [
    ("overconf.store.integrity", "overconf.run.plan", "store may not import run (a higher layer"),
    ("overconf.zoo.fetch", "overconf.train.cache", "zoo may not import train (beside it"),
])
def test_a_bad_import_is_named(source: str, target: str, expected: str) -> None:
    bad = Import(source, target, "src/x.py", 7, False, False)
    (problem,) = upward_imports([bad])
    assert problem.startswith(f"{source} imports {target} (src/x.py line 7)") and expected in problem


def test_a_cycle_is_named() -> None:
    made = [Import("overconf.run.a", "overconf.run.b", "a.py", 3, False, False),
            Import("overconf.run.b", "overconf.run.a", "b.py", 9, True, False)]
    (problem,) = import_cycles(made)
    assert problem.startswith("import cycle overconf.run.a → overconf.run.b → overconf.run.a") and "line 9" in problem
