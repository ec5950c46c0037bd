"""The close's P&L headline and EBITDA bridge: worked by hand on a small plan with two
departments, summing to the EBITDA gap to the cent on every window of the demo, and published
on the Recon tab a close writes, which verify covers."""

from __future__ import annotations

import openpyxl
import pytest

from plan_tables import BASE, base, raw_sheets, sheets
from sopfin import layout
from sopfin.calendar import fiscal_quarters, fiscal_years
from sopfin.cli import main
from sopfin.close import records as rc
from sopfin.close.reconcile import reconcile
from sopfin.close.records import Reconciliation
from sopfin.engine.dollarize import dollarize
from sopfin.money import to_cents
from sopfin.pipeline import check_with_finance
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.render.recon_sections import published_bridge

TWO_DEPARTMENTS = """
Budget
| Family | Measure | Department | Account  | 2027-01 | 2027-02 | 2027-03 |
| P-100  | units   |            |          | 150     | 150     | 150     |
| P-100  | revenue |            |          | 3600    | 3600    | 3700    |
| P-100  | cogs    |            |          | 2400    | 2400    | 2400    |
|        | opex    | Sales      | Salaries | 1000    | 1000    | 1000    |
|        | opex    | Operations | Freight  | 300     | 300     | 300     |

Opex
| Scenario | Department | Account  | Driver | DriverOf | Rate | 2027-01 | 2027-02 | 2027-03 |
| base     | Sales      | Salaries |        |          |      | 1100    | 1100    | 1200    |
| base     | Operations | Freight  |        |          |      | 250     | 250     | 250     |
| upside   | Sales      | Salaries |        |          |      | 1000    | 1000    | 1000    |
"""


def _reconcile(grids, window: str = "Horizon") -> Reconciliation:
    plan, issues = parse_plan(raw_sheets(grids))
    assert plan is not None and not issues, issues
    finance, _ = parse_finance(raw_sheets(grids), plan)
    d, _ = dollarize(plan)
    return reconcile(plan, d, finance, window=window, scenario="base")


def _two_departments():
    grids = sheets(BASE)
    grids.update(sheets(TWO_DEPARTMENTS))
    return grids


def cents(amount: float) -> int:
    return round(float(to_cents(amount)) * 100)


@pytest.mark.parametrize(("window", "sales", "operations"),
                         [("Horizon", 3000 - 3400, 900 - 750), ("2027-03", 1000 - 1200, 50)])
def test_two_departments_worked_by_hand(window, sales, operations) -> None:
    rec = _reconcile(_two_departments(), window)
    assert rec.ebitda is not None
    bridge = rec.ebitda.bridge
    months = len(rec.window.months)
    budget_opex, plan_opex = 1300.0 * months, 1300.0 * months - sales - operations
    margin_start, margin_end = rec.margin_bridge[0].amount, rec.margin_bridge[-1].amount
    assert margin_start == pytest.approx(sum([3600, 3600, 3700][-months:]) - 2400 * months)
    # Budget EBITDA -> the gross-margin bridge's steps as they are -> departments -> plan
    assert bridge[0] == rc.BridgeLine(rc.START, "Budget EBITDA", margin_start - budget_opex)
    assert bridge[1:-3] == rec.margin_bridge[1:-1]
    assert [(line.kind, line.label, line.amount) for line in bridge[-3:]] == [
        (rc.OPEX, "Opex: Sales", sales), (rc.OPEX, "Opex: Operations", operations),
        (rc.END, "Plan EBITDA", pytest.approx(margin_end - plan_opex))]
    assert rec.ebitda.gap == pytest.approx(sum(line.amount for line in bridge[1:-1]))
    headline = {line.measure: (line.plan, line.budget, line.variance)
                for line in rec.ebitda.headline}
    assert list(headline) == ["revenue", "gross_margin", "opex", "ebitda"]
    assert headline["revenue"] == pytest.approx(
        (rec.revenue_bridge[-1].amount, rec.revenue_bridge[0].amount, rec.revenue_gap))
    assert headline["gross_margin"] == pytest.approx(
        (margin_end, margin_start, rec.margin_gap))
    assert headline["opex"] == pytest.approx((plan_opex, budget_opex, sales + operations))
    assert headline["ebitda"] == pytest.approx(
        (margin_end - plan_opex, margin_start - budget_opex, rec.ebitda.gap))


def test_without_opex_there_is_no_ebitda_view() -> None:
    assert _reconcile(base()).ebitda is None


def test_every_window_and_scenario_of_the_demo_adds_up_to_the_ebitda_gap(built_demo) -> None:
    checked = check_with_finance(built_demo)
    plan, fin = checked.plan, checked.finance
    d, _ = dollarize(plan)
    start = plan.settings.fiscal_year_start
    windows = [*d.months, *fiscal_quarters(d.months, start).labels,
               *fiscal_years(d.months, start).labels, "YTD", "Horizon"]
    assert len(windows) == 24 + 8 + 2 + 2
    missed_line_by_line = 0
    for window in windows:
        for scenario in d.scenarios:
            rec = reconcile(plan, d, fin, window=window, scenario=scenario)
            assert rec.ebitda is not None, window
            published = published_bridge(rec.ebitda.bridge)
            gap = cents(published[-1].amount) - cents(published[0].amount)
            assert sum(cents(line.amount) for line in published[1:-1]) == gap, window
            ebitda = rec.ebitda.headline[-1]
            assert gap == cents(ebitda.plan) - cents(ebitda.budget), window
            assert sum(line.kind == rc.OPEX for line in published) >= 2, window
            exact = [cents(line.amount) for line in rec.ebitda.bridge]
            missed_line_by_line += sum(exact[1:-1]) != exact[-1] - exact[0]
    # The case this guards: rounded one by one, some of these bridges miss by a cent.
    assert missed_line_by_line > 0


def _section(sheet, title: str) -> list[tuple[object, ...]]:
    rows = list(sheet.iter_rows(values_only=True))
    at = next(i for i, row in enumerate(rows) if str(row[0] or "").startswith(title))
    out = []
    for row in rows[at + 2:]:  # past the title and the header row
        if row[0] is None:
            break
        out.append(row)
    return out


def test_a_demo_close_publishes_the_section_and_verifies(built_demo, tmp_path) -> None:
    book = tmp_path / "plan.xlsx"
    book.write_bytes(built_demo.read_bytes())
    assert main(["close", str(book), "--author", "test", "-q"]) == 0
    assert main(["verify", str(book), "-q"]) == 0
    sheet = openpyxl.load_workbook(book)[layout.recon_tab_name(1)]
    headline = _section(sheet, "P&L headline, plan against budget")
    assert [row[0] for row in headline] == ["Revenue", "Gross margin", "Opex", "EBITDA"]
    bridge = _section(sheet, "EBITDA bridge, budget to plan")
    assert bridge[0][0] == "Budget EBITDA" and bridge[-1][0] == "Plan EBITDA"
    amounts = [cents(float(row[1])) for row in bridge]
    assert sum(amounts[1:-1]) == amounts[-1] - amounts[0]
    assert amounts[-1] == cents(float(headline[-1][1]))
    assert amounts[0] == cents(float(headline[-1][2]))
    for label, plan, budget, variance in (row[:4] for row in headline):
        favourable = cents(budget) - cents(plan) if label == "Opex" else \
            cents(plan) - cents(budget)
        assert cents(variance) == favourable, label


@pytest.mark.libreoffice
def test_the_section_verifies_after_a_libreoffice_save(built_demo, tmp_path, soffice) -> None:
    from lo_oracle import recalculate

    book = tmp_path / "plan.xlsx"
    book.write_bytes(built_demo.read_bytes())
    assert main(["close", str(book), "--window", "FY2027", "--author", "test", "-q"]) == 0
    saved = recalculate(book, tmp_path / "saved", soffice)
    assert main(["verify", str(saved), "-q"]) == 0
    tab = layout.recon_tab_name(1)
    before = _section(openpyxl.load_workbook(book)[tab], "EBITDA bridge, budget to plan")
    after = _section(openpyxl.load_workbook(saved)[tab], "EBITDA bridge, budget to plan")
    assert len(after) >= 5 and after == before
