"""verify says whether the inputs changed from their fingerprint alone, and parses the plan
only when an output sheet is no longer as sopfin wrote it (the typed-over check needs it)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sopfin import layout
from sopfin.close.verify import run_verify
from sopfin.model import IssueCode

PLAN_STEPS = {"parse", "validate"}


@pytest.fixture
def book(closed_copy) -> Path:
    return closed_copy


def codes(path: Path) -> tuple[set[IssueCode], set[str]]:
    result = run_verify(path)
    return {f.code for f in result.findings}, set(result.timings.steps)


def test_an_untouched_close_verifies_without_parsing_the_plan(book):
    found, steps = codes(book)
    assert found == set() and run_verify(book).ok
    assert "read" in steps and not steps & PLAN_STEPS


def _edit(path: Path, sheet: str, pick) -> str:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    ws.protection.sheet = False
    cell = next(c for row in ws.iter_rows() for c in row if pick(c.value))
    cell.value = 12345.0 if cell.data_type == "f" else (cell.value or 0) + 1
    wb.save(path)
    return cell.coordinate


def test_a_typed_over_output_formula_is_found_with_the_plan_parsed(book):
    sheet = next(n for n in layout.OUTPUT_SHEET_NAMES if n != layout.ISSUES
                 and n in openpyxl.load_workbook(book, read_only=True).sheetnames)
    where = _edit(book, sheet, lambda v: isinstance(v, str) and v.startswith("="))
    result = run_verify(book)
    hits = [f for f in result.findings if f.code is IssueCode.OVERWRITTEN_FORMULA]
    assert any(f.where.sheet == sheet and f.where.cell == where for f in hits), hits
    assert set(result.timings.steps) >= PLAN_STEPS


def test_an_edited_input_is_named_by_its_row_from_the_fingerprint(book):
    where = _edit(book, "Demand", lambda v: type(v) in (int, float) and v > 0)
    result = run_verify(book)
    changed = [f for f in result.findings if f.code is IssueCode.INPUTS_CHANGED]
    row = where.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert [(f.where.sheet, f.where.cell) for f in changed] == [("Demand", f"{row}:{row}")]
