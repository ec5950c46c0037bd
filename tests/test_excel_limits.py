"""Excel's limits: nothing is written that Excel would have to repair. A key too long for a
formula's string constant is an error at its cell; a sheet past Excel's grid or a formula past
8,192 characters is refused before a byte is written (exit 2); a long string constant is
joined from pieces Excel accepts."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from plan_tables import base, set_cell, write_xlsx
from sopfin.cli import main
from sopfin.render.refs import MAX_LITERAL, key_equals, text_literal
from sopfin.sheetspec import Block, FormulaGrid, SheetSpec
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.sheetxml import MAX_FORMULA, longest_formula
from sopfin.xlsx.writer import write_sheets

VALID = Path(__file__).resolve().parent / "errors" / "valid.xlsx"
_LITERAL = re.compile(r'"((?:[^"]|"")*)"')


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_key_too_long_for_a_formula_is_an_error_at_its_cell(tmp_path, capsys):
    grids = base()
    set_cell(grids, "Supply", "A2", "S" * 256)
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    before = digest(path)
    assert main(["dollarize", str(path), "-q"]) == 1
    out = capsys.readouterr().out
    assert "error[text-too-long] plan.xlsx!Supply!A2: the scenario 'SSSS" in out
    assert "is 256 characters long" in out
    assert digest(path) == before


def test_a_key_of_255_characters_is_accepted(tmp_path, capsys):
    grids = base()
    for ref in ("B2", "B3"):  # the P-100 rows of Demand, and the family itself
        set_cell(grids, "Demand", ref, "P" * 255)
    set_cell(grids, "Families", "A2", "P" * 255)
    for sheet, ref in (("Prices", "A2"), ("Prices", "A3"), ("Supply", "B2"), ("Supply", "B4"),
                       ("Demand", "B5"), ("OpeningInventory", "A2"), ("StdCost", "A2"),
                       ("StdCost", "A3"), ("PlannedVariances", "B2"), ("Budget", "A2"),
                       ("Budget", "A3")):
        set_cell(grids, sheet, ref, "P" * 255)
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    assert main(["dollarize", str(path), "-q"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("text", ['"' * 255, "a" * 255, 'x"' * 200, "ok"])
def test_string_constants_stay_within_excel_limit(text):
    literal = text_literal(text)
    pieces = _LITERAL.findall(literal)
    assert all(len(p) <= MAX_LITERAL for p in pieces), [len(p) for p in pieces]
    assert "".join(p.replace('""', '"') for p in pieces) == text
    assert key_equals("A1", text).startswith("A1")


def _write(tmp_path: Path, spec: SheetSpec) -> tuple[Path, str]:
    path = tmp_path / "book.xlsx"
    shutil.copyfile(VALID, path)
    return path, digest(path)


@pytest.mark.parametrize(("block", "expected"), [
    (Block(row=1_048_576, col=1, values=[[1.0], [2.0]]), "row 1,048,577"),
    (Block(row=1, col=16_384, values=[[1.0, 2.0]]), "column 16,385"),
    (Block(row=1, col=1, values=[[None]], formulas=[["+".join(["A1"] * 3000)]]),
     "8,192"),
    (Block(row=1, col=1, values=[[None], [None]],
           formulas=FormulaGrid(("A%s+" * 2000 + "1",), (range(1, 3),) * 2000, 2)),
     "8,192"),
])
def test_a_sheet_past_excel_limits_is_refused_before_writing(tmp_path, block, expected):
    path, before = _write(tmp_path, SheetSpec("Big", [block]))
    with pytest.raises(WorkbookError, match=expected):
        write_sheets(path, [SheetSpec("Big", [block])])
    assert digest(path) == before


def test_the_last_row_and_column_and_a_formula_of_8192_are_written(tmp_path):
    formula = "1+" * ((MAX_FORMULA - 1) // 2) + "1"
    assert len(formula) <= MAX_FORMULA
    blocks = [Block(row=1_048_576, col=16_384, values=[[3.0]]),
              Block(row=1, col=1, values=[[None]], formulas=[[formula]])]
    path, before = _write(tmp_path, SheetSpec("Edge", blocks))
    write_sheets(path, [SheetSpec("Edge", blocks)])
    assert digest(path) != before
    assert longest_formula([[formula]]) == len(formula)
