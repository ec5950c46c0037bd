"""Operating expenses: the Opex sheet, the opex rows of Budget and Actuals, their validation
(issues at their cells) and the engine's figures, worked by hand on a small plan."""

from __future__ import annotations

import numpy as np
import pytest

from opex_tables import opex_plan
from plan_tables import Grids, base, raw_sheets, set_cell
from sopfin.engine.dollarize import dollarize
from sopfin.engine.opex import Opex, opex_frame, plan_opex
from sopfin.model import Issue, IssueCode, Severity
from sopfin.plan.checks import validate
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan


def _issues(grids: Grids) -> list[Issue]:
    plan, issues = parse_plan(raw_sheets(grids))
    if plan is None:  # a broken header leaves no plan
        return issues
    finance_issues = parse_finance(raw_sheets(grids), plan)[1]
    return issues + validate(plan) + finance_issues


def _found(grids: Grids) -> set[tuple[str, str, Severity]]:
    return {(i.code.value, str(i.where), i.severity) for i in _issues(grids)}


def _opex(grids: Grids) -> Opex:
    plan, issues = parse_plan(raw_sheets(grids))
    assert plan is not None and not issues
    finance, _ = parse_finance(raw_sheets(grids), plan)
    d, _ = dollarize(plan)
    return plan_opex(plan, d, finance.opex_actuals)


def test_a_plan_with_opex_reads_without_issues_and_keeps_family_budget_apart() -> None:
    grids = opex_plan()
    assert _issues(grids) == []
    plan, _ = parse_plan(raw_sheets(grids))
    assert plan is not None and plan.opex is not None and plan.opex_budget is not None
    assert list(plan.budget.keys["measure"]) == ["units", "revenue"]
    assert list(plan.opex_budget.keys["account"]) == ["Salaries", "Commission", "Freight"]
    assert plan.opex_budget.ref(2, 0).cell == "E6"


def test_a_workbook_without_opex_has_no_opex_lines() -> None:
    o = _opex(base())
    assert o.lines == () and o.plan.shape == (2, 0, 3)
    assert o.closed.tolist() == [False, False, False]


def test_typed_and_driven_lines_worked_by_hand() -> None:
    o = _opex(opex_plan())
    assert o.lines == (("Sales", "Salaries"), ("Sales", "Commission"),
                       ("Operations", "Freight"))
    base_plan = o.plan[0]
    assert base_plan[0].tolist() == [1100, 1100, 1200]
    # 5% of Retail revenue: P-100 Retail shipments x price + V-200 Retail 10 x 8.5
    # (P-100 ships 150, 110, 180 in base, shared by Retail and OEM in proportion to demand)
    retail = np.array([100 * 25 + 85, 110 * 25 + 85, 120 * 26 + 85])
    np.testing.assert_allclose(base_plan[1], 0.05 * retail)
    np.testing.assert_allclose(base_plan[2], [2 * 150, 2 * 110, 2 * 180])  # $2 per P-100 unit
    assert o.plan[1, 1].tolist() == [0, 0, 0]  # upside has no commission line
    assert o.budget[:, 0].tolist() == [1000, 150, 300]
    assert o.closed.tolist() == [True, True, False]
    le = o.latest_estimate[0]
    assert le[0].tolist() == [1050, 1120, 1200]  # actuals, then plan
    assert le[2].tolist() == [0, 0, 360]  # closed without an actual: nothing was booked


def test_department_totals_and_periods() -> None:
    o = _opex(opex_plan())
    sales = o.by_department("plan")[0, 0]
    np.testing.assert_allclose(sales, o.plan[0, 0] + o.plan[0, 1])
    frame = opex_frame(o).set_index(["scenario", "department", "period"])
    year = frame.loc[("base", "Operations", "FY2027")]
    assert year["plan"] == pytest.approx(880.0)
    assert year["budget"] == pytest.approx(900.0)
    assert year["variance"] == pytest.approx(-20.0)
    assert year["latest_estimate"] == pytest.approx(360.0)


@pytest.mark.parametrize(("edit", "expected"), [
    (("Opex", "A3", "best"), ("unknown-scenario", "Opex!A3", Severity.ERROR)),
    (("Opex", "C3", "Salaries"), ("duplicate-row", "Opex!B3", Severity.ERROR)),
    (("Opex", "G2", "lots"), ("not-a-number", "Opex!G2", Severity.ERROR)),
    (("Opex", "D3", "headcount"), ("unknown-driver", "Opex!D3", Severity.ERROR)),
    (("Opex", "E4", "P-999"), ("unknown-driver", "Opex!E4", Severity.ERROR)),
    (("Opex", "F4", None), ("rate-invalid", "Opex!D4", Severity.ERROR)),
    (("Opex", "F2", 3), ("rate-invalid", "Opex!F2", Severity.ERROR)),
    (("Opex", "F4", "2 $"), ("not-a-number", "Opex!F4", Severity.ERROR)),
    (("Opex", "G4", 12), ("value-invalid", "Opex!G4", Severity.WARNING)),
    (("Opex", "B2", None), ("blank-key", "Opex!B2", Severity.ERROR)),
    (("Budget", "C6", "Logistics"), ("unknown-department", "Budget!C6", Severity.ERROR)),
    (("Budget", "D6", "Fuel"), ("unknown-account", "Budget!D6", Severity.ERROR)),
    (("Budget", "D5", "Salaries"), ("duplicate-row", "Budget!C5", Severity.ERROR)),
    (("Budget", "C4", None), ("blank-key", "Budget!C4", Severity.ERROR)),
    (("Budget", "B4", "opx"), ("blank-key", "Budget!A4", Severity.ERROR)),  # not opex: a family row
    (("Actuals", "D3", "Bonus"), ("unknown-account", "Actuals!D3", Severity.ERROR)),
    (("Actuals", "E3", "n/a"), ("not-a-number", "Actuals!E3", Severity.ERROR)),
    (("Opex", "H2", 1e16), ("number-too-large", "Opex!H2", Severity.ERROR)),
    (("Budget", "F6", 1e16), ("number-too-large", "Budget!F6", Severity.ERROR)),
])
def test_opex_problems_are_issues_at_their_cells(edit: tuple[str, str, object],
                                                 expected: tuple[str, str, Severity]) -> None:
    grids = opex_plan()
    set_cell(grids, *edit)
    assert expected in _found(grids)


def test_a_month_missing_on_opex_is_reported_at_its_header() -> None:
    grids = opex_plan()
    for row in grids["Opex"]:
        del row[7]  # the 2027-02 column
    found = _found(grids)
    assert ("months-missing", "Opex!H1", Severity.ERROR) in found


def test_a_family_row_still_needs_its_family() -> None:
    grids = opex_plan()
    set_cell(grids, "Budget", "A2", None)
    assert ("blank-key", "Budget!A2", Severity.ERROR) in _found(grids)


def test_codes_are_in_the_catalogue() -> None:
    for code in ("unknown-department", "unknown-account", "unknown-driver", "rate-invalid"):
        assert IssueCode(code).value == code
