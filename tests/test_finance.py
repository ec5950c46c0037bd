"""Reading the finance sheets: overrides, actions, actuals, forecast; every issue at its cell.

Sheets are written in the planner's notation of tests/plan_tables.py (blank = empty cell,
"quoted" = text, @date = a date cell, #N/A = an Excel error).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from plan_tables import make_plan, raw_sheets, sheets
from sopfin.model import CellRef, IssueCode, Severity
from sopfin.plan.finance_sheets import parse_finance

PLAN = make_plan(
    demand="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | P-100  |     100 |     100 |     100 |
    | upside   | P-100  |     120 |     120 |     120 |
    | base     | V-200  |      10 |      10 |      10 |
    | upside   | V-200  |      10 |      10 |      10 |
    """,
    prices="""
    | family | 2027-01 | 2027-02 | 2027-03 |
    | P-100  | 25 | 25 | 25 |
    | V-200  | 8 | 8 | 8 |
    """,
    std_cost="""
    | family | material | labour | overhead |
    | P-100  | 10 | 4 | 2 |
    | V-200  | 3 | 1 | 0.5 |
    """, constrained=False)

OVERRIDES_HEADER = ("| Id | Scenario | Family | Month | Measure | Amount | Owner | Reason "
                    "| ApprovedBy |")


def parse(text: str):
    return parse_finance(raw_sheets(sheets(text)), PLAN)


def at(issues) -> dict[str, tuple[str, str]]:
    """cell -> (code, message + fix) of each issue."""
    return {str(i.where): (i.code.value, i.format()) for i in issues}


def test_absent_sheets_give_no_records_and_no_issues():
    fin, issues = parse_finance({}, PLAN)
    assert issues == []
    assert fin.overrides == () and fin.actions == ()
    assert fin.actuals is None and fin.forecast is None


def test_valid_overrides_become_records_with_their_cell():
    fin, issues = parse(f"""
    Overrides
    {OVERRIDES_HEADER}
    | OVR-1 | base   | P-100 | 2027-02     | Revenue | 500    | J. Ortiz | Pricing true-up | CFO |
    | 7     | upside | V-200 | @2027-03-01 | cogs    | -120.5 | K. Lee   | Freight credit  |     |
    """)
    assert issues == []
    first, second = fin.overrides
    assert (first.id, first.scenario, first.family, first.month, first.measure, first.amount,
            first.owner, first.reason, first.approved_by) == (
        "OVR-1", "base", "P-100", "2027-02", "revenue", 500.0, "J. Ortiz", "Pricing true-up",
        "CFO")
    assert first.where == CellRef("Overrides", "A2")
    # a whole number typed as an Id reads as its digits; a date cell reads as its month
    assert (second.id, second.month, second.amount, second.approved_by) == (
        "7", "2027-03", -120.5, "")
    assert second.margin_effect == 120.5  # a cogs credit raises margin


def test_every_override_problem_is_reported_at_its_cell_and_the_row_left_out():
    fin, issues = parse(f"""
    Overrides
    {OVERRIDES_HEADER}
    | OVR-1 | base   | P-100 | 2027-02 | revenue | 500     | J. Ortiz | Pricing | |
    | OVR-2 | base   | P-100 | 2027-02 | revenue | 100     |          | Pricing | |
    | OVR-3 | base   | P-100 | 2027-02 | revenue | 100     | J. Ortiz |         | |
    | OVR-4 | Base   | P-10  | 2027-13 | margin  | "1,200" | J. Ortiz | x       | |
    | OVR-1 | base   | P-100 | 2027-02 | revenue |         | J. Ortiz | x       | |
    |       | base   | P-100 | 2026-12 | cogs    | #N/A    | J. Ortiz | x       | |
    """)
    assert [o.id for o in fin.overrides] == ["OVR-1"]
    found = at(issues)
    assert found == {
        "Overrides!G3": ("override-incomplete",
                         "Overrides!G3: the override 'OVR-2' has no Owner: an override must say "
                         "who owns it and why it is there; fill in the Owner, or delete the "
                         "override."),
        "Overrides!H4": ("override-incomplete",
                         "Overrides!H4: the override 'OVR-3' has no Reason: an override must "
                         "say who owns it and why it is there; fill in the Reason, or delete "
                         "the override."),
        "Overrides!B5": ("override-invalid",
                         "Overrides!B5: the scenario 'Base' is not in Settings 'Scenarios' "
                         "(base, upside); add it to 'Scenarios' on Settings or correct the "
                         "spelling (did you mean 'base'?)."),
        "Overrides!C5": ("override-invalid",
                         "Overrides!C5: the family 'P-10' is not on sheet Families; add it on "
                         "sheet Families or correct the spelling (did you mean 'P-100'?)."),
        "Overrides!D5": ("override-invalid",
                         "Overrides!D5: the override month is '2027-13', not a month of the "
                         "plan horizon (2027-01 to 2027-03); type a month of the horizon as "
                         "the text YYYY-MM."),
        "Overrides!E5": ("override-invalid",
                         "Overrides!E5: unknown override measure 'margin'; expected one of "
                         "revenue, cogs; correct the measure, or delete the row."),
        "Overrides!F5": ("override-invalid",
                         "Overrides!F5: the override Amount must be a number in currency, "
                         "found the text '1,200'; type the amount as a number (positive raises "
                         "the measure, negative lowers it)."),
        "Overrides!A6": ("override-invalid",
                         "Overrides!A6: the override Id 'OVR-1' is already used on row 2; give "
                         "each override its own Id."),
        "Overrides!F6": ("override-invalid",
                         "Overrides!F6: the override Amount must be a number in currency, "
                         "found a blank cell; type the amount as a number (positive raises the "
                         "measure, negative lowers it)."),
        "Overrides!A7": ("override-invalid",
                         "Overrides!A7: the override has no Id, so the bridge cannot name it; "
                         "fill in a short unique Id such as OVR-001."),
        "Overrides!D7": ("override-invalid",
                         "Overrides!D7: the override month is '2026-12', not a month of the "
                         "plan horizon (2027-01 to 2027-03); type a month of the horizon as "
                         "the text YYYY-MM."),
        "Overrides!F7": ("excel-error",
                         "Overrides!F7: expected an amount, found the Excel error #N/A; fix the "
                         "formula or the cell it refers to, or type the value."),
    }
    assert all(i.severity is Severity.ERROR for i in issues)


def test_a_blank_family_is_a_blank_key_and_a_missing_column_drops_the_sheet():
    _, issues = parse(f"""
    Overrides
    {OVERRIDES_HEADER}
    | OVR-1 | base | | 2027-02 | revenue | 5 | J. Ortiz | x | |
    """)
    assert [(i.code, str(i.where)) for i in issues] == [(IssueCode.BLANK_KEY, "Overrides!C2")]
    fin, issues = parse("""
    Overrides
    | Id | Scenario | Family | Month | Measure | Amount | Owner | Reason |
    | OVR-1 | base | P-100 | 2027-02 | revenue | 5 | J. Ortiz | x |
    """)
    assert fin.overrides == ()
    assert [(i.code, str(i.where)) for i in issues] == [(IssueCode.MISSING_COLUMN, "Overrides!I1")]


def test_actions_probability_blank_is_one_and_out_of_range_is_an_error():
    fin, issues = parse("""
    Actions
    | Id    | Scenario | Description    | Owner    | RevenueImpact | MarginImpact | Probability |
    | ACT-1 | base     | OEM price rise | J. Ortiz | 3000          | 2500         | 0.5         |
    | ACT-2 | base     | Web promo      | K. Lee   | 1000          |              |             |
    | ACT-3 | base     | Typed percent  | K. Lee   | 1000          | 10           | 50          |
    | ACT-4 | base     | Text percent   | K. Lee   | 1000          | 10           | "50%"       |
    | ACT-5 | base     | Negative       | K. Lee   | 1000          | 10           | -0.1        |
    | ACT-6 | downside | Unknown        | K. Lee   | "lots"        | 10           | 1           |
    """)
    assert [(a.id, a.revenue_impact, a.margin_impact, a.probability) for a in fin.actions] == [
        ("ACT-1", 3000.0, 2500.0, 0.5), ("ACT-2", 1000.0, 0.0, 1.0)]
    assert fin.actions[0].where == CellRef("Actions", "A2")
    assert fin.actions[0].description == "OEM price rise" and fin.actions[0].owner == "J. Ortiz"
    found = at(issues)
    assert found["Actions!G4"] == (
        "probability-invalid",
        "Actions!G4: the probability must be a number from 0 to 1, found 50; type it as a "
        "fraction or a percentage (for 50% type 0.5 or 50%), or leave it blank for certain.")
    assert found["Actions!G5"] == (
        "probability-invalid",
        "Actions!G5: the probability must be a number from 0 to 1, found the text '50%'; type "
        "it as a fraction or a percentage, or leave it blank for certain.")
    assert found["Actions!G6"][0] == "probability-invalid"
    assert "found -0.1" in found["Actions!G6"][1]
    assert found["Actions!B7"][0] == "unknown-scenario"
    assert found["Actions!E7"] == (
        "not-a-number",
        "Actions!E7: expected a number for RevenueImpact, found the text 'lots'; type the "
        "impact in currency as a number, or leave the cell empty for 0.")
    assert len(issues) == 5


def test_actuals_blank_cells_are_open_months_not_zero():
    fin, issues = parse("""
    Actuals
    | Family | Measure | 2027-01 | 2027-02 | 2027-03 |
    | P-100  | units   | 95      |         |         |
    | P-100  | Revenue | 2400    | 0       |         |
    """)
    assert issues == []
    table = fin.actuals
    assert list(table.keys["measure"]) == ["units", "revenue"]
    assert table.values[0, 0] == 95.0 and np.isnan(table.values[0, 1])
    assert table.values[1, 1] == 0.0 and np.isnan(table.values[1, 2])
    assert table.ref(1, 0) == CellRef("Actuals", "C3")


def test_actuals_and_forecast_rows_with_bad_keys_are_reported_and_left_out():
    fin, issues = parse("""
    Actuals
    | Family | Measure | 2027-01 | 2027-02 | 2027-03 |
    | P-100  | units   | 95      |         |         |
    | P-100  | margin  | 5       |         |         |
    | X-1    | units   | 5       |         |         |
    | P-100  | units   | 96      |         |         |
    | P-100  | cogs    | "n/a"   |         |         |

    Forecast
    | Scenario | Family | Measure | 2027-01 | 2027-02 | 2027-03 |
    | base     | P-100  | revenue | 2500    | 2500    |         |
    | base     | P-100  | units   | 100     |         |         |
    | stretch  | P-100  | cogs    | 1       |         |         |
    """)
    found = at(issues)
    assert found["Actuals!B3"] == (
        "unknown-measure",
        "Actuals!B3: unknown Actuals measure 'margin'; expected one of units, revenue, cogs, opex; "
        "correct the measure, or delete the row.")
    assert found["Actuals!A4"][0] == "unknown-family"
    assert found["Actuals!A5"] == (
        "duplicate-row",
        "Actuals!A5: the keys family 'P-100', measure 'units' are already on row 2; merge the "
        "two rows into one, or correct the keys.")
    assert found["Actuals!C6"][0] == "not-a-number"
    assert found["Forecast!C3"][0] == "unknown-measure"
    assert "expected one of revenue, cogs" in found["Forecast!C3"][1]
    assert found["Forecast!A4"][0] == "unknown-scenario"
    assert len(issues) == 6
    assert list(zip(fin.actuals.keys["family"], fin.actuals.keys["measure"],
                    strict=True)) == [
        ("P-100", "units"), ("P-100", "cogs")]
    assert list(fin.actuals.keys["row"]) == [2, 6]
    assert len(fin.forecast) == 1 and np.isnan(fin.forecast.values[0, 2])
    assert fin.forecast.ref(0, 1) == CellRef("Forecast", "E2")


def test_month_cells_may_be_dates_and_headers_follow_the_input_rules():
    when = dt.datetime(2027, 2, 1)
    fin, issues = parse_finance(raw_sheets({"Overrides": [
        ["id", "SCENARIO", "Family", "Month", "Measure", "Amount", "Owner", "Reason",
         "Approved By"],
        ["OVR-9", "base", "V-200", when, "cogs", 12.0, "K. Lee", "Scrap", None]]}), PLAN)
    assert issues == []
    assert fin.overrides[0].month == "2027-02"


@pytest.mark.parametrize("value, ok", [(0.0, True), (1.0, True), (1.0001, False), (True, False)])
def test_probability_bounds(value, ok):
    _, issues = parse_finance(raw_sheets({"Actions": [
        ["Id", "Scenario", "Description", "Owner", "RevenueImpact", "MarginImpact",
         "Probability"],
        ["A", "base", "d", "o", 1.0, 1.0, value]]}), PLAN)
    assert (issues == []) is ok
