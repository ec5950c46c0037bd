"""The core takes plain data and returns plain data: it imports no workbook or Excel library,
and no edge module of sopfin. Only sopfin/xlsx, the pipeline, the CLI and the add-in do. And the
edge does no money maths: it imports no money code (below)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from import_graph import import_graph

PACKAGE = Path(__file__).resolve().parents[1] / "sopfin"
FORBIDDEN = {"xlwings", "openpyxl", "lxml", "zipfile", "python_calamine", "xlsxwriter", "win32com"}
# The edge (adapters, doors) and the orchestration above it (pipeline, publish, verify, and
# the ledger as a workbook holds it), which run the core's steps against a workbook.
EDGE = ("sopfin/xlsx/", "sopfin/excel/", "sopfin/live", "sopfin/cli/", "sopfin/pipeline.py",
        "sopfin/close/publish.py", "sopfin/close/verify.py", "sopfin/close/published.py",
        "sopfin/api.py", "sopfin/__init__.py", "sopfin/__main__.py",
        "sopfin/consolidate/unit.py", "sopfin/consolidate/run.py", "sopfin/consolidate/report.py",
        "sopfin/export/door.py")
# The import door reads CSV, Parquet and .xlsx sources into DuckDB; its commands (import,
# allocate) write, and the HTTP server runs them.
EDGE += ("sopfin/imports/sources.py", "sopfin/imports/command.py",
         "sopfin/imports/allocation.py", "sopfin/server/")
EDGE_MODULES = ("sopfin.xlsx", "sopfin.excel", "sopfin.excel.live", "sopfin.cli", "sopfin.pipeline",
                "sopfin.close.publish", "sopfin.close.verify", "sopfin.close.published",
                "sopfin.consolidate.unit", "sopfin.consolidate.run", "sopfin.consolidate.report",
                "sopfin.export.door")


def core_modules() -> list[Path]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if not rel.startswith(EDGE):
            out.append(path)
    return out


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_there_is_a_core_to_check():
    rels = {p.relative_to(PACKAGE).as_posix() for p in core_modules()}
    assert {"model.py", "plan/settings.py", "engine/dollarize.py", "plan/checks.py",
            "plan/read.py"} <= rels


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_core_module_imports_no_workbook_library(path: Path):
    names = imported_names(path)
    leaks = sorted(n for n in names if n.split(".")[0] in FORBIDDEN)
    edge = sorted(n for n in names if n.startswith(EDGE_MODULES))
    assert not leaks, f"{path.name} imports workbook/Excel libraries: {leaks}"
    assert not edge, f"{path.name} imports sopfin edge modules: {edge}"


# --- the edge does no money maths ----------------------------------------------------------
# The edge reads and writes packages (sopfin/xlsx/) and talks to Excel (sopfin/excel/). It must
# not import money code: the engine (dollarize, summary, bridge, results), the money policy, or
# the reconciliation. Every import counts, at module level or inside a function; what the money
# code's own records bring along (close/ledger rounds hashes through sopfin.money) does not.
# The one exemption is the worksheet functions: excel/functions.py is what a cell formula such
# as =SOPFIN.PVM(...) calls, so it is the core's entry for a formula and calls the engine.
# excel/udfs.py, the xlwings wrapper around it, only delegates and stays under the rule.
MONEY_MODULES = ("sopfin.engine", "sopfin.money", "sopfin.close.reconcile")
EDGE_PACKAGES = ("sopfin.xlsx", "sopfin.excel")
WORKSHEET_FUNCTIONS = ("sopfin.excel.functions",)
ALL_IMPORTS = import_graph(top_level=False)


def is_in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


EDGE_SIDE_MODULES = sorted(m for m in ALL_IMPORTS if is_in(m, EDGE_PACKAGES))


def test_the_edge_and_the_money_code_are_there_to_check():
    assert {"sopfin.xlsx.writer", "sopfin.xlsx.adapter", "sopfin.excel.ribbon",
            "sopfin.excel.udfs", *WORKSHEET_FUNCTIONS} <= set(EDGE_SIDE_MODULES)
    assert {"sopfin.engine.dollarize", "sopfin.money", "sopfin.close.reconcile"} <= {
        m for m in ALL_IMPORTS if is_in(m, MONEY_MODULES)}


@pytest.mark.parametrize("module", [m for m in EDGE_SIDE_MODULES if m not in WORKSHEET_FUNCTIONS])
def test_the_edge_imports_no_money_code(module: str):
    money = sorted(m for m in ALL_IMPORTS[module] if is_in(m, MONEY_MODULES))
    assert not money, f"{module} imports money code: {money}"


@pytest.mark.parametrize("module", WORKSHEET_FUNCTIONS)
def test_the_worksheet_functions_are_exempt_because_they_call_the_engine(module: str):
    """An exemption no longer needed is removed, so it cannot hide a new money import."""
    assert any(is_in(m, ("sopfin.engine",)) for m in ALL_IMPORTS[module])
