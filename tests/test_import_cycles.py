"""No import cycles in the sopfin package.

The imports are read from the source with ``ast`` (nothing is imported). Module level: the
graph of ``import`` / ``from ... import`` statements outside functions (``if TYPE_CHECKING:``
blocks aside, they never run) has no cycle. Any level: no two modules import each other, not
even through an import inside a function, which would only hide a cycle of two (as publish
and verify once did).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

SOPFIN = Path(__file__).resolve().parents[1] / "sopfin"

Graph = Mapping[str, set[str]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOPFIN.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SOPFIN.rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _statements(body: list[ast.stmt], *, in_functions: bool) -> Iterator[ast.stmt]:
    """The statements that run at import (and, with ``in_functions``, inside functions)."""
    for node in body:
        if _type_checking_only(node):
            continue
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not in_functions:
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _statements(inner, in_functions=in_functions)


def _targets(node: ast.stmt) -> set[str]:
    """The sopfin modules an import statement loads (a package's name when it imports a
    name defined in its ``__init__``)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in MODULES}
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in MODULES:
        subs = {f"{node.module}.{a.name}" for a in node.names}
        found = {s for s in subs if s in MODULES}
        return found if len(found) == len(subs) else found | {node.module}
    return set()


def import_graph(*, in_functions: bool) -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        body = ast.parse(path.read_text(encoding="utf-8")).body
        graph[name] = {t for node in _statements(body, in_functions=in_functions)
                       for t in _targets(node) if t != name}
    return graph


def find_cycle(graph: Graph) -> list[str]:
    """One cycle of ``graph`` as [a, b, ..., a], or [] when it has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_the_package():
    graph = import_graph(in_functions=False)
    assert len(graph) > 50
    assert "sopfin.close.ledger" in graph["sopfin.close.ledger_checks"]
    assert "sopfin.close.published" in graph["sopfin.close.publish"]


def test_no_import_cycle_at_module_level():
    cycle = find_cycle(import_graph(in_functions=False))
    assert cycle == [], "import cycle: " + " -> ".join(cycle)


def test_no_two_modules_import_each_other_even_inside_functions():
    graph = import_graph(in_functions=True)
    pairs = sorted((a, b) for a, targets in graph.items() for b in targets
                   if a < b and a in graph.get(b, ()))
    assert pairs == []
