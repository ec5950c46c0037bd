"""Numbers too large to compute: an input of 1e15 or more (or infinity, or NaN) is an error at
its cell, a result that still overflows is an error naming the inputs that produced it, and
no command writes, crashes or prints invalid JSON on either."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

from plan_tables import base, raw_sheets, set_cell, write_xlsx
from sopfin.cli import main
from sopfin.engine.dollarize import dollarize
from sopfin.model import IssueCode, Severity
from sopfin.money import to_cents
from sopfin.plan.overflow import MAX_AMOUNT
from sopfin.plan.read import parse_plan

# (sheet, cell) of one number in each input table of the base plan
INPUT_CELLS = [("Demand", "D2"), ("Prices", "C4"), ("Supply", "C2"), ("OpeningInventory", "B2"),
               ("StdCost", "B2"), ("PlannedVariances", "D2"), ("Budget", "C3")]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("sheet", "ref"), INPUT_CELLS)
def test_a_huge_input_is_an_error_at_its_cell_and_nothing_is_written(tmp_path, capsys, sheet,
                                                                     ref):
    grids = base()
    set_cell(grids, sheet, ref, 1e308)
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    before = digest(path)
    assert main(["dollarize", str(path), "--json", "-q"]) == 1
    payload = json.loads(capsys.readouterr().out)  # strict JSON: no Infinity, no NaN
    found = [i for i in payload["issues"] if i["code"] == "number-too-large"]
    assert [(i["sheet"], i["cell"], i["severity"]) for i in found] == [(sheet, ref, "error")]
    assert "1e+308" in found[0]["message"]
    assert main(["close", str(path), "-q"]) == 1
    out = capsys.readouterr().out
    assert f"{sheet}!{ref}: expected a number below 1e+15" in out
    assert digest(path) == before


def test_just_below_the_limit_is_accepted(tmp_path, capsys):
    grids = base()
    set_cell(grids, "Prices", "C4", MAX_AMOUNT * 0.999)
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    assert main(["check", str(path), "-q"]) == 0
    capsys.readouterr()


def test_infinity_and_nan_cells_are_errors_at_their_cells(tmp_path):
    grids = base()
    set_cell(grids, "Supply", "D3", math.inf)
    set_cell(grids, "Demand", "E2", math.nan)
    plan, issues = parse_plan(raw_sheets(grids))
    from sopfin.plan.checks import validate

    found = {str(i.where): i.message for i in validate(plan)
             if i.code is IssueCode.NUMBER_TOO_LARGE}
    assert set(found) == {"Supply!D3", "Demand!E2"}
    assert "not a finite number" in found["Supply!D3"]


def test_a_result_that_overflows_names_the_inputs_that_produced_it():
    """Past the checks (dollarize called on an unchecked plan), 1e200 units at 1e200 each
    still give no infinity in the results without an error naming both cells."""
    grids = base()
    set_cell(grids, "Demand", "D4", 1e200)  # base, V-200, Retail, 2027-01
    set_cell(grids, "Supply", "C3", 1e200)
    set_cell(grids, "Prices", "C4", 1e200)
    plan, _ = parse_plan(raw_sheets(grids))
    d, issues = dollarize(plan)
    found = [i for i in issues if i.code is IssueCode.NUMBER_TOO_LARGE]
    assert found and all(i.severity is Severity.ERROR for i in found)
    first = found[0]
    assert str(first.where) in ("Demand!D4", "Supply!C3", "Prices!C4")
    assert "Prices!C4 (1e+200)" in first.message and "'V-200'" in first.message
    assert "2027-01" in first.message and first.fix
    assert not math.isfinite(d.fam["revenue"].max())


def test_cents_of_a_huge_amount_do_not_overflow():
    for amount in (1e308, -1e308, -2.5e20, 12.345):
        assert to_cents(amount) == float(to_cents(np.array([amount]))[0])
    assert to_cents(12.345) == 12.35
