"""Who imports whom inside a package, read from the source with ``ast`` (nothing is imported).

A module's imports are its ``import`` and ``from ... import`` statements, resolved to the
package's own modules: ``from sopfin.close import ledger`` is ``sopfin.close.ledger`` when that
module exists, else ``sopfin.close``; relative imports resolve against the importing module's
package. Importing a module also runs its parents' ``__init__``; that implicit edge is not
counted, as Python finishes a package's ``__init__`` before any of its modules can need it.

``top_level`` imports are the ones that run when the module is imported: statements of the
module body, including those under ``if``/``try``/``with`` and in class bodies, but not those
inside functions (they run when the function is called, after every import finished) nor
under ``if TYPE_CHECKING:`` (they never run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SOPFIN = Path(__file__).resolve().parents[1] / "sopfin"


def module_names(package: Path) -> dict[str, Path]:
    """{dotted module name: file} for every .py file under ``package``."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(body: list[ast.stmt], top_level: bool) -> Iterator[ast.stmt]:
    """The statements of ``body`` and of the blocks nested in it; with ``top_level``, only
    those that run at import time."""
    for node in body:
        yield node
        if top_level and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if top_level and isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(node.orelse, top_level)
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield from _statements([child], top_level)
            elif isinstance(child, ast.excepthandler):
                yield from _statements(child.body, top_level)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _from_base(node: ast.ImportFrom, module: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(module, path)
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def imports_of(module: str, modules: dict[str, Path], *, top_level: bool) -> set[str]:
    """The package's own modules that ``module`` imports."""
    path = modules[module]
    found: set[str] = set()
    for node in _statements(ast.parse(path.read_text(encoding="utf-8")).body, top_level):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, module, path)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if name in modules}


def import_graph(package: Path = SOPFIN, *, top_level: bool = True) -> dict[str, set[str]]:
    modules = module_names(package)
    return {name: imports_of(name, modules, top_level=top_level) for name in modules}


def import_cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The groups of modules that import one another, directly or around a loop (the
    strongly connected components with more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[frozenset[str]] = []

    def visit(name: str) -> None:  # Tarjan's algorithm; the package is small enough to recurse
        index[name] = low[name] = len(index)
        stack.append(name)
        for other in sorted(graph[name]):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            group = set()
            while not group or name not in group:
                group.add(stack.pop())
            if len(group) > 1 or name in graph[name]:
                groups.append(frozenset(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(groups, key=sorted)
