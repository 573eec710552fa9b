"""Read the package's imports from its source, wherever they stand (module level or lazy).

Nothing is imported: the files are parsed, so a test can see the imports that only run
when a function is called, and those under ``if TYPE_CHECKING:`` are left out (they never
run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import apigw_ws

PACKAGE = Path(apigw_ws.__file__).parent


@dataclass(frozen=True)
class Import:
    """One import statement of ``source``: what it imports, and whether it runs lazily."""

    source: str  # the importing module
    module: str  # the absolute name of the module imported, or imported from
    names: tuple[str, ...]  # for ``from module import a, b``: ("a", "b"); else ()
    lazy: bool  # inside a function: runs when it is called, not at import
    line: int

    def __str__(self) -> str:
        what = f"from {self.module} import {', '.join(self.names)}" if self.names else self.module
        return f"{self.source}:{self.line}: {what}"


def module_name(path: Path) -> str:
    """Return the dotted name of the package file ``path``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def modules() -> dict[str, Path]:
    """Return every module of the package, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[Import]:
    """Yield the imports of ``path`` that can run, module-level and lazy alike."""
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]

    def absolute(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = package.split(".")
        base = base[: len(base) - node.level + 1]
        return ".".join([*base, node.module] if node.module else base)

    def visit(node: ast.AST, lazy: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from visit(child, lazy)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, alias.name, (), lazy, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            yield Import(source, absolute(node), names, lazy, node.lineno)
        inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, inner)

    yield from visit(ast.parse(path.read_text(), str(path)), False)


def declared_public(path: Path) -> frozenset[str] | None:
    """Return the names the module at ``path`` lists in ``__all__``, or ``None`` without one."""
    for node in ast.parse(path.read_text(), str(path)).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return frozenset(ast.literal_eval(node.value))
    return None


def import_graph() -> dict[str, dict[str, Import]]:
    """Return, for each module, the package modules it imports and the statement that does.

    ``from package import name`` points at ``package.name`` when that is a module, else
    at ``package``; the parent packages an import initialises on the way are not edges.
    """
    known = modules()
    graph: dict[str, dict[str, Import]] = {}
    for name, path in known.items():
        edges = graph.setdefault(name, {})
        for imp in imports(path):
            targets = [f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in known]
            if len(targets) < len(imp.names) or not imp.names:
                targets.append(imp.module)
            for target in targets:
                if target in known and target != name:
                    edges.setdefault(target, imp)
    return graph


def cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Return the strongly connected parts of ``graph`` that hold more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                part.append(other)
                if other == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found
