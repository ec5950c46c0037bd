"""Validation checks: each code from a small plan in the planner's notation, at its cell."""

from __future__ import annotations

import inspect

from plan_tables import base, raw_sheets, set_cell
from sopfin.model import CellRef, IssueCode, Severity
from sopfin.plan.checks import CHECKS, validate
from sopfin.plan.issue_log import ISSUES_PER_CODE
from sopfin.plan.read import parse_plan


def check(grids):
    plan, issues = parse_plan(raw_sheets(grids))
    assert plan is not None and issues == [], [i.format() for i in issues]
    return validate(plan)


def codes(issues):
    return [(i.code, str(i.where)) for i in issues]


def test_the_base_plan_is_valid():
    assert check(base()) == []


def test_checks_are_small_named_functions():
    assert len(CHECKS) >= 10
    for fn in CHECKS:
        assert fn.__name__.startswith("check_"), fn
        assert len(inspect.getsource(fn).splitlines()) < 60, fn.__name__


def test_missing_price_row_points_at_the_first_demand_cell():
    grids = base()
    grids["Prices"].pop(3)  # V-200 Retail
    issues = check(grids)
    assert [i.format() for i in issues] == [
        "Demand!D4: price is missing for family 'V-200' channel 'Retail' in 2027-01 and 2 more "
        "months: there is no row for it on Prices; add it on sheet Prices or mark the family "
        "inactive."]


def test_zero_or_blank_price_where_there_is_demand_points_at_the_price_cell():
    grids = base()
    set_cell(grids, "Prices", "C3", 0.0)  # P-100 OEM 2027-01: demand 50
    set_cell(grids, "Prices", "D3", None)  # P-100 OEM 2027-02: no demand, so no issue
    issues = check(grids)
    assert codes(issues) == [(IssueCode.MISSING_PRICE, "Prices!C3")]
    assert "in 2027-01:" in issues[0].message and "Demand!D3" in issues[0].message


def _without_column(rows, index):
    return [row[:index] + row[index + 1:] for row in rows]


def test_a_family_price_applies_to_every_channel_when_prices_have_no_channel():
    grids = base()
    grids["Prices"] = _without_column([grids["Prices"][k] for k in (0, 1, 3)], 1)
    assert check(grids) == []


def test_channel_mismatches():
    grids = base()
    grids["Demand"].append(["upside", "P-100", "Web", 1.0, 0.0, 0.0])
    assert codes(check(grids)) == [(IssueCode.CHANNEL_MISMATCH, "Demand!C7")]
    grids = base()
    grids["Demand"] = _without_column([r for k, r in enumerate(grids["Demand"]) if k != 2], 2)
    assert codes(check(grids)) == [(IssueCode.CHANNEL_MISMATCH, "Prices!B1")]


def test_missing_std_cost_from_the_first_month_the_family_is_active():
    grids = base()
    set_cell(grids, "StdCost", "E2", "2027-02")  # P-100 has opening stock: needed from 2027-01
    grids["StdCost"].pop(3)  # V-200: no cost at all
    grids["OpeningInventory"].pop(2)
    issues = check(grids)
    assert codes(issues) == [(IssueCode.MISSING_STD_COST, "StdCost!E2"),
                             (IssueCode.MISSING_STD_COST, "Demand!D4")]
    assert "starts in 2027-02, but it is needed from 2027-01 (OpeningInventory!B2)" in (
        issues[0].message)


def test_a_launch_costed_from_its_first_month_is_fine():
    grids = base()
    grids["Families"].append(["N-1", "New", "Pumps", "ea", True])
    grids["Demand"].append(["base", "N-1", "Retail", None, None, 7.0])
    grids["Prices"].append(["N-1", "Retail", None, None, 30.0])
    grids["StdCost"].append(["N-1", 5.0, 1.0, 1.0, "2027-03"])
    assert check(grids) == []
    grids["Supply"].append(["base", "N-1", None, 7.0, None])
    assert codes(check(grids)) == [(IssueCode.MISSING_STD_COST, "StdCost!E5")]


def test_negative_values_except_variances_and_budget():
    grids = base()
    set_cell(grids, "Demand", "E2", -1.0)
    set_cell(grids, "Supply", "C3", -2.0)
    set_cell(grids, "Prices", "C2", -25.0)
    set_cell(grids, "OpeningInventory", "B2", -40.0)
    set_cell(grids, "StdCost", "C4", -1.0)
    set_cell(grids, "Budget", "C3", -100.0)
    issues = check(grids)
    assert sorted(codes(issues)) == sorted(
        [(IssueCode.NEGATIVE_VALUE, c) for c in ("Demand!E2", "Supply!C3", "Prices!C2",
                                                 "OpeningInventory!B2", "StdCost!C4")])
    assert all(i.severity is Severity.ERROR for i in issues)


def test_unknown_and_duplicate_names():
    grids = base()
    grids["Families"].append(["V-200", "Again", "Valves", "ea", True])
    set_cell(grids, "Supply", "B3", "v-200")
    set_cell(grids, "Supply", "A4", "Upside")
    set_cell(grids, "StdCost", "A4", "XYZ")
    grids["Supply"].append(["base", "P-100", 1.0, 1.0, 1.0])
    issues = check(grids)
    assert codes(issues) == [
        (IssueCode.DUPLICATE_FAMILY, "Families!A5"),
        (IssueCode.DUPLICATE_ROW, "Supply!A6"),
        (IssueCode.UNKNOWN_FAMILY, "Supply!B3"),
        (IssueCode.UNKNOWN_FAMILY, "StdCost!A4"),
        (IssueCode.UNKNOWN_SCENARIO, "Supply!A4"),
        (IssueCode.MISSING_STD_COST, "OpeningInventory!B3"),  # V-200 lost its StdCost row
    ]
    assert issues[2].fix.endswith("(did you mean 'V-200'?)")
    assert issues[3].fix.endswith("correct the spelling")
    assert issues[1].message == "the keys scenario 'base', family 'P-100' are already on row 2"


def test_std_cost_duplicates_are_by_family_and_effective_month():
    grids = base()
    grids["StdCost"].append(["P-100", 12.0, 4.0, 2.0, "2027-02"])
    assert check(grids) == []
    grids["StdCost"].append(["P-100", 12.0, 4.0, 2.0, "2027-03"])
    assert codes(check(grids)) == [(IssueCode.DUPLICATE_ROW, "StdCost!A6")]


def test_unknown_family_is_reported_once_per_sheet_with_its_row_count():
    grids = base()
    for r in (2, 3):
        set_cell(grids, "Demand", f"B{r}", "P-1OO")
    issues = check(grids)
    assert codes(issues) == [(IssueCode.UNKNOWN_FAMILY, "Demand!B2")]
    assert "(2 rows; this is the first)" in issues[0].message


def test_scenarios_missing_from_demand_or_supply():
    grids = base()
    set_cell(grids, "Settings", "B6", "base, upside, downside")
    grids["Supply"] = grids["Supply"][:3]
    issues = check(grids)
    assert codes(issues) == [(IssueCode.SCENARIO_MISSING, "Supply!A4"),
                             (IssueCode.SCENARIO_MISSING, "Demand!A7")]
    set_cell(grids, "Settings", "B7", "FALSE")  # unconstrained: supply rows are optional
    assert codes(check(grids)) == [(IssueCode.SCENARIO_MISSING, "Demand!A7")]


def test_inactive_family_with_demand_is_a_warning_only():
    grids = base()
    set_cell(grids, "Families", "E3", False)  # V-200
    issues = check(grids)
    assert codes(issues) == [(IssueCode.INACTIVE_FAMILY_HAS_DEMAND, "Demand!D4")]
    assert issues[0].severity is Severity.WARNING
    assert "inactive (Families!E3) but has 66 units of demand" in issues[0].message


def test_unknown_budget_measure():
    grids = base()
    set_cell(grids, "Budget", "B2", "margin")
    assert codes(check(grids)) == [(IssueCode.UNKNOWN_MEASURE, "Budget!B2")]


def test_validate_reports_everything_at_once_and_caps_each_code():
    grids = base()
    for k in range(ISSUES_PER_CODE + 10):
        grids["Budget"].append(["P-100", f"m{k}", 1.0, 1.0, 1.0])
    set_cell(grids, "Demand", "E2", -1.0)
    issues = check(grids)
    measures = [i for i in issues if i.code is IssueCode.UNKNOWN_MEASURE]
    assert len(measures) == ISSUES_PER_CODE + 1
    assert measures[-1].where == CellRef("Budget")
    assert "and 10 more unknown-measure issues" in measures[-1].message
    assert (IssueCode.NEGATIVE_VALUE, "Demand!E2") in codes(issues)
