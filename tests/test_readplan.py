"""Reading the plan: raw grids -> Plan with exact source cells, and every reader issue."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from plan_tables import BASE, base, raw_sheets, set_cell, sheets, write_xlsx
from sopfin import layout
from sopfin.model import CellRef, IssueCode, Severity, XlError
from sopfin.plan.issue_log import ISSUES_PER_CODE
from sopfin.plan.read import parse_plan
from sopfin.xlsx.read import read_raw_sheets, workbook_sheet_names


def parse(grids):
    return parse_plan(raw_sheets(grids), source="plan.xlsx")


def codes(issues):
    return [(i.code, str(i.where)) for i in issues]


def only(issues, code):
    found = [i for i in issues if i.code is code]
    assert len(found) == 1, [i.format() for i in issues]
    return found[0]


# ----------------------------------------------------------------------------- the base plan
def test_base_plan_reads_without_issues_and_with_exact_provenance():
    plan, issues = parse(base())
    assert issues == []
    assert plan.months == ("2027-01", "2027-02", "2027-03")
    assert plan.scenarios == ("base", "upside")
    assert plan.has_channel and plan.source == "plan.xlsx"
    demand = plan.demand
    assert demand.key_names == ("scenario", "family", "channel")
    assert demand.key_cols == ("A", "B", "C")
    assert demand.value_names == plan.months
    assert demand.value_cols == ("D", "E", "F")
    assert (demand.first_row, demand.last_row) == (2, 6)
    assert demand.keys["row"].tolist() == [2, 3, 4, 5, 6]
    names = ("scenario", "family", "channel")
    assert [list(r) for r in zip(*(demand.keys[n].tolist() for n in names), strict=True)] == [
        ["base", "P-100", "Retail"], ["base", "P-100", "OEM"], ["base", "V-200", "Retail"],
        ["upside", "P-100", "Retail"], ["upside", "V-200", "Retail"]]
    assert demand.values.dtype == np.float64
    np.testing.assert_array_equal(demand.values, [[100, 110, 120], [50, 0, 60], [10, 10, 10],
                                                  [130, 140, 150], [12, 12, 12]])
    assert demand.ref(1, 1) == CellRef("Demand", "E3")
    assert demand.ref(4) == CellRef("Demand", "A6")


def test_base_plan_fixed_value_tables_and_std_cost_keys():
    plan, _ = parse(base())
    assert plan.families.keys["active"].tolist() == ["TRUE", "TRUE", "FALSE"]
    assert plan.families.key_names == ("family", "name", "product_line", "uom", "active")
    assert plan.opening.value_names == ("units",) and plan.opening.value_cols == ("B",)
    np.testing.assert_array_equal(plan.opening.values, [[40], [5]])
    cost = plan.std_cost
    assert cost.key_names == ("family", "effective_from")
    assert cost.key_cols == ("A", "E")  # EffectiveFrom after the value columns, as documented
    assert cost.value_names == ("material", "labour", "overhead")
    assert cost.value_cols == ("B", "C", "D")
    assert cost.keys["effective_from"].tolist() == ["", "2027-03", ""]
    assert cost.keys["effective_from_literal"].tolist() == ['""', '"2027-03"', '""']
    np.testing.assert_array_equal(cost.values, [[10, 4, 2], [11, 4, 2], [3, 1, 0.5]])
    np.testing.assert_array_equal(plan.variances.values, [[500, 0, -200]])
    assert plan.budget.keys["measure"].tolist() == ["units", "revenue"]


def test_headers_match_ignoring_case_spaces_and_underscores():
    grids = base()
    grids["Demand"][0][:3] = ["scenario", " FAMILY ", "chan_nel"]
    grids["StdCost"][0] = ["family", "MATERIAL", "labour", "Over Head", "effective_from"]
    plan, issues = parse(grids)
    assert issues == []
    assert plan.has_channel and plan.std_cost.key_cols == ("A", "E")


def test_month_headers_and_effective_from_as_date_cells():
    grids = base()
    grids["Supply"][0][2:5] = [dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.datetime(2027, 3, 1)]
    set_cell(grids, "StdCost", "E3", dt.date(2027, 3, 1))
    plan, issues = parse(grids)
    assert issues == []
    assert plan.supply.value_names == ("2027-01", "2027-02", "2027-03")
    assert plan.std_cost.keys["effective_from"][1] == "2027-03"
    # Excel stores 2027-03-01 as day 46447 (2024-01-01 is 45292; 366 + 365 + 365 + 31 + 28).
    assert plan.std_cost.keys["effective_from_literal"][1] == "46447"


def test_plan_without_channels():
    grids = sheets(BASE.replace("| Channel |", "|").replace("| Retail  |", "|")
                   .replace("| OEM     |", "|"))
    plan, issues = parse(grids)
    assert issues == []
    assert not plan.has_channel
    assert plan.demand.key_names == ("scenario", "family")
    assert plan.demand.value_cols == ("C", "D", "E")
    assert plan.demand.keys["channel"].tolist() == [""] * 5
    assert plan.prices.keys["channel"].tolist() == ["", "", ""]
    assert plan.std_cost.key_names == ("family", "effective_from")


def test_std_cost_without_effective_from_reads_blank_literals():
    grids = base()
    grids["StdCost"] = [row[:4] for row in grids["StdCost"]]
    del grids["StdCost"][2]
    plan, issues = parse(grids)
    assert issues == []
    assert plan.std_cost.key_names == ("family",)
    assert plan.std_cost.keys["effective_from"].tolist() == ["", ""]
    assert plan.std_cost.keys["effective_from_literal"].tolist() == ['""', '""']


def test_a_blank_row_ends_the_table():
    grids = base()
    grids["Supply"].insert(3, [None, "  ", None, None, None])
    plan, issues = parse(grids)
    assert issues == []
    assert (plan.supply.first_row, plan.supply.last_row) == (2, 3)
    assert plan.supply.keys["row"].tolist() == [2, 3]


def test_key_cells_become_stripped_text():
    grids = base()
    set_cell(grids, "Families", "A2", 1001.0)
    set_cell(grids, "Demand", "B2", 1001.0)
    set_cell(grids, "Demand", "B3", "  1001 ")
    set_cell(grids, "Prices", "A2", "1001")
    set_cell(grids, "Prices", "A3", "1001")
    set_cell(grids, "Budget", "B3", " Revenue ")
    grids["Families"][1:4] = [[*r[:4], flag] for r, flag in zip(grids["Families"][1:4],
                                                                  (1.0, "no", "Yes"), strict=True)]
    plan, issues = parse(grids)
    assert plan.demand.keys["family"].tolist()[:2] == ["1001", "1001"]
    assert plan.families.keys["active"].tolist() == ["TRUE", "FALSE", "TRUE"]
    assert plan.budget.keys["measure"].tolist() == ["units", "revenue"]
    assert [i.code for i in issues] == []


# ----------------------------------------------------------------------------- sheets
def test_optional_sheets_may_be_absent_and_budget_absent_is_a_warning():
    grids = base()
    for name in ("OpeningInventory", "PlannedVariances", "Budget"):
        del grids[name]
    plan, issues = parse(grids)
    assert plan is not None
    assert codes(issues) == [(IssueCode.MISSING_SHEET, "Budget")]
    assert issues[0].severity is Severity.WARNING
    assert len(plan.opening) == len(plan.variances) == len(plan.budget) == 0
    assert plan.variances.value_names == plan.months
    assert plan.opening.values.shape == (0, 1)


@pytest.mark.parametrize("name", ["Families", "Demand", "Prices", "Supply", "StdCost", "Settings"])
def test_a_required_sheet_missing_is_an_error(name):
    grids = base()
    del grids[name]
    plan, issues = parse(grids)
    issue = only(issues, IssueCode.MISSING_SHEET)
    assert issue.where == CellRef(name) and issue.severity is Severity.ERROR
    assert plan is None  # without Settings the 24-month default horizon breaks every month row


# ----------------------------------------------------------------------------- headers
def test_missing_key_column_is_reported_at_its_header_cell():
    grids = base()
    grids["Supply"][0][1] = "Product"
    plan, issues = parse(grids)
    assert plan is None
    issue = only(issues, IssueCode.MISSING_COLUMN)
    assert issue.format() == (
        "Supply!B1: expected the column 'Family' here, found 'Product'; the table must start in "
        "column A with Scenario, Family, in this order; rename this header to 'Family' or "
        "insert the column.")


def test_missing_and_repeated_value_columns_on_std_cost():
    grids = base()
    grids["StdCost"][0][2] = "Material"  # Labour renamed to a second Material
    plan, issues = parse(grids)
    assert plan is None
    assert codes(issues) == [(IssueCode.UNKNOWN_COLUMN, "StdCost!C1"),
                             (IssueCode.MISSING_COLUMN, "StdCost!F1")]
    assert issues[0].severity is Severity.ERROR
    assert "'Labour'" in issues[1].message


def test_months_beyond_the_horizon_are_ignored_with_a_warning():
    grids = base()
    for r, v in enumerate(["2027-04", 999.0, 999.0, 999.0, 999.0, 999.0], start=1):
        set_cell(grids, "Demand", f"G{r}", v)
    plan, issues = parse(grids)
    assert codes(issues) == [(IssueCode.UNKNOWN_COLUMN, "Demand!G1")]
    assert issues[0].severity is Severity.WARNING
    assert plan.demand.value_cols == ("D", "E", "F")
    assert plan.demand.values.max() == 150


def test_broken_month_headers_are_all_reported():
    grids = base()
    grids["Demand"][0][4] = "Feb-27"
    grids["Supply"][0][2:5] = ["2027-02", "2027-01", "2027-03"]
    grids["Prices"][0] = grids["Prices"][0][:4]
    for row in grids["Prices"]:
        del row[4:]
    plan, issues = parse(grids)
    assert plan is None
    assert codes(issues) == [(IssueCode.MONTH_HEADER_INVALID, "Demand!E1"),
                             (IssueCode.MONTHS_MISSING, "Prices!E1"),
                             (IssueCode.MONTHS_OUT_OF_ORDER, "Supply!C1")]
    assert issues[1].message.startswith("1 month of the horizon is missing (2027-03)")


def test_a_month_missing_in_the_middle_points_where_it_was_expected():
    grids = base()
    for row in grids["Budget"]:
        del row[3]
    _, issues = parse(grids)
    issue = only(issues, IssueCode.MONTHS_MISSING)
    assert issue.where == CellRef("Budget", "D1")
    assert "(2027-02)" in issue.message and "from column C" in issue.message


# ----------------------------------------------------------------------------- cells
def test_every_bad_value_cell_is_reported_and_read_as_zero():
    grids = base()
    set_cell(grids, "Demand", "D2", "1,200")
    set_cell(grids, "Demand", "E2", "lots")
    set_cell(grids, "Demand", "F2", True)
    set_cell(grids, "Demand", "D3", XlError("#N/A"))
    set_cell(grids, "Demand", "E4", "   ")
    set_cell(grids, "Prices", "C2", XlError("#REF!"))
    plan, issues = parse(grids)
    assert plan is not None
    assert sorted(codes(issues)) == sorted([
        (IssueCode.EXCEL_ERROR, "Demand!D3"), (IssueCode.NOT_A_NUMBER, "Demand!D2"),
        (IssueCode.NOT_A_NUMBER, "Demand!E2"), (IssueCode.NOT_A_NUMBER, "Demand!F2"),
        (IssueCode.EXCEL_ERROR, "Prices!C2")])
    by_cell = {str(i.where): i.format() for i in issues}
    assert by_cell["Demand!D2"] == ("Demand!D2: expected a number for 2027-01, found the text "
                                    "'1,200'; type it as a number (1200), not as text.")
    assert by_cell["Demand!E2"].endswith("type a number, or leave the cell empty for 0.")
    assert "found TRUE" in by_cell["Demand!F2"]
    assert "#N/A" in by_cell["Demand!D3"] and "#REF!" in by_cell["Prices!C2"]
    np.testing.assert_array_equal(plan.demand.values[:3], [[0, 0, 0], [0, 0, 60], [10, 0, 10]])


def test_issues_are_capped_per_code_and_sheet():
    grids = base()
    grids["Demand"] = [grids["Demand"][0]] + [
        ["base", "P-100", f"C{k}", "x", "y", 1.0] for k in range(60)]
    _, issues = parse(grids)
    bad = [i for i in issues if i.code is IssueCode.NOT_A_NUMBER]
    assert len(bad) == ISSUES_PER_CODE + 1
    assert bad[-1].where == CellRef("Demand")
    assert bad[-1].message == "\u2026 and 70 more not-a-number issues like the ones above"


def test_blank_keys_and_key_errors_drop_the_row():
    grids = base()
    set_cell(grids, "Demand", "A3", None)
    set_cell(grids, "Demand", "C4", "  ")
    set_cell(grids, "Supply", "B2", XlError("#N/A"))
    set_cell(grids, "Families", "B2", None)  # a blank Name is fine
    plan, issues = parse(grids)
    assert codes(issues) == [(IssueCode.BLANK_KEY, "Demand!A3"), (IssueCode.BLANK_KEY, "Demand!C4"),
                             (IssueCode.EXCEL_ERROR, "Supply!B2")]
    assert plan.demand.keys["row"].tolist() == [2, 5, 6]
    assert plan.demand.values[1].tolist() == [130, 140, 150]
    assert plan.supply.keys["row"].tolist() == [3, 4, 5]


def test_bad_active_flag_and_bad_effective_from():
    grids = base()
    set_cell(grids, "Families", "E3", "maybe")
    set_cell(grids, "StdCost", "E3", "March")
    _, issues = parse(grids)
    assert codes(issues) == [(IssueCode.VALUE_INVALID, "Families!E3"),
                             (IssueCode.VALUE_INVALID, "StdCost!E3")]


def test_settings_issues_come_through_with_their_cells():
    grids = base()
    set_cell(grids, "Settings", "B3", "dollars")
    _, issues = parse(grids)
    assert codes(issues) == [(IssueCode.SETTING_INVALID, "Settings!B3")]


# ----------------------------------------------------------------------------- real workbooks
def test_a_real_workbook_reads_like_its_grids(tmp_path):
    path = write_xlsx(tmp_path / "plan.xlsx", base())
    assert workbook_sheet_names(path) == list(base())
    raw = read_raw_sheets(path, layout.INPUT_SHEET_NAMES + ("NoSuchSheet",))
    assert set(raw) == set(base())
    from_file, issues = parse_plan(raw, source="plan.xlsx")
    from_grids, _ = parse(base())
    assert issues == []
    for field in ("families", "demand", "prices", "supply", "opening", "std_cost", "variances",
                  "budget"):
        a, b = getattr(from_file, field), getattr(from_grids, field)
        assert a.keys.equals(b.keys), field
        np.testing.assert_array_equal(a.values, b.values)
        assert (a.key_cols, a.value_cols, a.last_row) == (b.key_cols, b.value_cols, b.last_row)


def test_excel_error_cells_are_read_as_errors_never_blanks(tmp_path):
    grids = base()
    set_cell(grids, "Demand", "E3", XlError("#N/A"))
    set_cell(grids, "Prices", "C4", XlError("#REF!"))
    set_cell(grids, "Budget", "H9", XlError("#DIV/0!"))  # outside every value calamine reports
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    raw = read_raw_sheets(path, layout.INPUT_SHEET_NAMES)
    assert raw["Demand"].rows[2][4] == XlError("#N/A")
    assert raw["Prices"].rows[3][2] == XlError("#REF!")
    assert raw["Budget"].rows[8][7] == XlError("#DIV/0!")
    assert raw["Demand"].rows[2][3] == 50.0 and raw["Demand"].rows[2][4 - 1] is not None
    assert raw["Demand"].rows[3][5] == 10.0 and raw["Families"].rows[2][4] is None
    _, issues = parse_plan(raw)
    assert codes(issues) == [(IssueCode.EXCEL_ERROR, "Demand!E3"),
                             (IssueCode.EXCEL_ERROR, "Prices!C4")]
