"""The core takes plain data and returns plain data: it imports no workbook or Excel library,
and no edge module of sopfin. Only sopfin/xlsx, the pipeline, the CLI and the add-in do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sopfin"
FORBIDDEN = {"xlwings", "openpyxl", "lxml", "zipfile", "python_calamine", "xlsxwriter", "win32com"}
# The edge (adapters, doors) and the orchestration above it (pipeline, publish, verify, and
# the ledger as a workbook holds it), which run the core's steps against a workbook.
EDGE = ("sopfin/xlsx/", "sopfin/excel/", "sopfin/live", "sopfin/cli.py", "sopfin/pipeline.py",
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
