"""The close's standard-cost variances: ActualCosts against StdCost's standards, published on
the Recon tab per family and in total, and read back from the file.

The small plan is the base plan of ``plan_tables`` with standards on StdCost that give its
cost per unit exactly (P-100: material 2 x 5, labour 0.5 h x 8, overhead 0.5 h x 2 + 150 /
150; V-200: 1 x 3, 0.1 h x 10, 0.1 h x 2 + 30 / 100) and actual costs for two closed months.
The expected figures were worked by hand from the textbook formulas (docs/workbook.md, "Cost
variances"); P-100's January takes the material price at purchase, the other rows at usage.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sopfin
from plan_tables import base, cell, raw_sheets, set_cell, sheets, table, table_rows, write_xlsx
from sopfin import layout
from sopfin.cli import main
from sopfin.close.cost_variances import LINES, TOTAL, column, cost_variances
from sopfin.close.publish import run_close
from sopfin.close.reconcile import reconcile
from sopfin.close.verify import run_verify
from sopfin.engine.dollarize import dollarize
from sopfin.model import IssueCode, Severity
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.render.recon_variances import TITLE, published_columns
from sopfin.xlsx.readback import read_cells

SPEC = {s.name: s for s in (*layout.INPUT_SHEETS, *layout.FINANCE_SHEETS)}
# StdCost as the sheet has it: Family, Material, Labour, Overhead, EffectiveFrom, then
# MaterialQty, MaterialPrice, LabourHours, LabourRate, VariableOverheadRate,
# FixedOverheadBudget, BudgetOutput.
STANDARDS = "StdCost\n" + table(
    ["Family", "Material", "Labour", "Overhead", "EffectiveFrom",
     *layout.STD_COST_STANDARDS], [
        ["P-100", 10, 4, 2, None, 2, 5, 0.5, 8, 2, 150, 150],
        ["P-100", 11, 4, 2, "2027-03", 2, 5.5, 0.5, 8, 2, 150, 150],
        ["V-200", 3, 1, 0.5, None, 1, 3, 0.1, 10, 2, 30, 100]])
# Family, Month, UnitsProduced, MaterialQtyUsed, MaterialQtyPurchased, MaterialCost,
# LabourHoursPaid, LabourHoursWorked, LabourCost, VariableOverheadCost, FixedOverheadCost
ACTUAL_HEADER = [*SPEC[layout.ACTUAL_COSTS].keys, *SPEC[layout.ACTUAL_COSTS].values]
ACTUAL_ROWS = [
    ["P-100", "2027-01", 140, 290, 300, 1530, 75, 72, 615, 150, 160],
    ["P-100", "2027-02", 150, 295, None, 1470.5, 74, None, 592, 140, 145],
    ["V-200", "2027-01", 10, 11, None, 34.1, 1.1, 1, 11.55, 2.3, 29],
]
ACTUAL_COSTS = "ActualCosts\n" + table(ACTUAL_HEADER, ACTUAL_ROWS)
# By hand. P-100 January: material price 300 x 5 - 1530 = -30, usage (280 - 290) x 5 = -50;
# labour rate 75 x 8 - 615 = -15, idle -(75 - 72) x 8 = -24, efficiency (70 - 72) x 8 = -16;
# variable overhead 72 x 2 - 150 = -6 and (70 - 72) x 2 = -4; fixed overhead 150 - 160 = -10,
# capacity (72 - 75) x 2 = -6, efficiency (70 - 72) x 2 = -4, volume (140 - 150) x 1 = -10.
# P-100 February (at usage, no idle time): 295 x 5 - 1470.5 = 4.5, (300 - 295) x 5 = 25;
# 74 x 8 - 592 = 0, 0, (75 - 74) x 8 = 8; 74 x 2 - 140 = 8, (75 - 74) x 2 = 2; 150 - 145 = 5,
# capacity (74 - 75) x 2 = -2, efficiency (75 - 74) x 2 = 2, volume 0.
# V-200 January: 33 - 34.1 = -1.1, (10 - 11) x 3 = -3; 11 - 11.55 = -0.55, -(0.1) x 10 = -1,
# 0; 2 - 2.3 = -0.3, 0; 30 - 29 = 1, capacity (1 - 10) x 3 = -27, efficiency 0, volume
# (10 - 100) x 0.3 = -27. The section's columns, one per line here:
EXPECTED = """
| Family                        | P-100  | V-200  | Total   |
| Material price                | -25.5  | -1.1   | -26.6   |
| Material usage                | -25    | -3     | -28     |
| Labour rate                   | -15    | -0.55  | -15.55  |
| Labour idle time              | -24    | -1     | -25     |
| Labour efficiency             | -8     | 0      | -8      |
| Variable overhead expenditure | 2      | -0.3   | 1.7     |
| Variable overhead efficiency  | -2     | 0      | -2      |
| Fixed overhead expenditure    | -5     | 1      | -4      |
| Fixed overhead capacity       | -8     | -27    | -35     |
| Fixed overhead efficiency     | -2     | 0      | -2      |
| Fixed overhead volume         | -10    | -27    | -37     |
| Total                         | -112.5 | -31.95 | -144.45 |
"""


def section_expected() -> list[list[object]]:
    """EXPECTED as the tab lays it out: a row per family, a column per variance."""
    header, rows = table_rows(EXPECTED)
    return [list(column) for column in zip(header, *rows, strict=True)]


def costed(actual_costs: str = ACTUAL_COSTS) -> dict[str, list[list[object]]]:
    grids = base()
    grids.update(sheets(STANDARDS))
    if actual_costs:
        grids.update(sheets(actual_costs))
    return grids


def section_of(cells: dict[str, object]) -> list[list[object]]:
    """The Cost variances section as read back: its header row and rows up to the note."""
    titles = [ref for ref, v in cells.items() if isinstance(v, str) and v.startswith(TITLE)]
    if not titles:
        return []
    row = int(titles[0][1:]) + 1
    width = len(published_columns()) + 1
    out = []
    while isinstance(cells.get(f"B{row}"), str | float):
        out.append([cells.get(f"{layout.column_letter(c)}{row}") for c in range(1, width + 1)])
        row += 1
    return out


def test_a_close_publishes_the_hand_worked_variances(tmp_path: Path):
    path = write_xlsx(tmp_path / "costed.xlsx", costed())
    result = run_close(path)
    assert result.ok, [i.format() for i in result.issues]
    cells = read_cells(path, ["Recon v001"])["Recon v001"]
    title = next(v for v in cells.values() if isinstance(v, str) and v.startswith(TITLE))
    assert title.endswith("2027-01..2027-02")  # the closed months of the Horizon window
    published = section_of(cells)
    assert published == section_expected()
    header = published[0]
    lines = [h for c, h in published_columns() if c.split(":")[-1] != "volume"][:-1]
    for row in published[1:]:  # the ten variances add up to the row's total, in whole cents
        by = dict(zip(header, row, strict=True))
        assert round(sum(by[h] for h in lines) * 100) == round(by["Total"] * 100)
        assert round(by["Fixed overhead volume"] * 100) == round(
            (by["Fixed overhead capacity"] + by["Fixed overhead efficiency"]) * 100)
    assert run_verify(path).ok


def test_a_published_variance_changed_afterwards_is_caught_at_its_cell(tmp_path: Path):
    """The section is part of the tab's cells: verify names a variance typed over."""
    path = write_xlsx(tmp_path / "costed.xlsx", costed())
    assert run_close(path).ok
    book = openpyxl.load_workbook(path)
    sheet = book["Recon v001"]
    sheet.protection.sheet = False
    total = next(c for row in sheet.iter_rows() for c in row if c.value == "Total"
                 and sheet.cell(row=c.row, column=2).value == -26.6)
    target = sheet.cell(row=total.row, column=13)  # the Total row's total
    target.value = 0.0
    book.save(path)
    result = run_verify(path)
    assert not result.ok
    assert any(target.coordinate in str(f.where) for f in result.failing())


def _reconciled(grids: dict[str, list[list[object]]], window: str = "Horizon"):
    raw = raw_sheets(grids)
    plan, issues = parse_plan(raw)
    assert plan is not None, issues
    fin, fin_issues = parse_finance(raw, plan)
    assert not [i for i in fin_issues if i.severity is Severity.ERROR], fin_issues
    d, _ = dollarize(plan)
    return plan, fin, reconcile(plan, d, fin, window=window)


def test_each_variance_is_the_engine_function_on_the_same_inputs():
    """The published figures of each family are sopfin.variances on its month's actuals and
    the StdCost row in force, summed over the closed months."""
    plan, fin, rec = _reconciled(costed())
    table = rec.cost_variances
    std = {"P-100": (2, 5, 0.5, 8, 2, 150, 150), "V-200": (1, 3, 0.1, 10, 2, 30, 100)}
    rows = ACTUAL_ROWS
    expected: dict[str, dict[str, float]] = {}
    for family, _month, units, used, bought, cost, paid, worked, labour, voh, foh in rows:
        qty, price, hours, rate, voh_rate, budget, output = std[family]
        worked = paid if worked is None else worked
        found = {
            "material": (sopfin.variances.material(qty, price, units, used, None,
                                                   qty_purchased=bought, purchase_cost=cost)
                         if bought is not None else
                         sopfin.variances.material(qty, price, units, used, cost)),
            "labour": sopfin.variances.labour(hours, rate, units, paid, labour,
                                              hours_worked=worked),
            "variable_overhead": sopfin.variances.variable_overhead(hours, voh_rate, units,
                                                                    worked, voh),
            "fixed_overhead": sopfin.variances.fixed_overhead(output, hours, budget, units,
                                                              worked, foh),
        }
        sums = expected.setdefault(family, {})
        for element, parts in found.items():
            for part, amount in parts.items():
                sums[column(element, part)] = sums.get(column(element, part), 0.0) + amount
    for family, sums in expected.items():
        for name, amount in sums.items():
            assert table.figure(family, name) == pytest.approx(amount, abs=1e-9), (family, name)
    total = sum(table.figure(f, column(e, "total")) for f in expected
                for e in ("material", "labour", "variable_overhead", "fixed_overhead"))
    assert table.figure(TOTAL, "total") == pytest.approx(total, abs=1e-9)
    as_data = rec.cost_variances.as_dict()
    assert as_data["months"] == ["2027-01", "2027-02"]
    assert as_data["by_family"]["P-100"]["labour"]["idle_time"] == -24.0
    assert as_data["total"]["total"] == -144.45


def test_a_window_takes_only_its_closed_months():
    _, _, february = _reconciled(costed(), window="2027-02")
    assert february.cost_variances.months == ("2027-02",)
    assert list(february.cost_variances.rows) == ["P-100", TOTAL]
    assert february.cost_variances.figure(TOTAL, "total") == 52.5
    _, _, march = _reconciled(costed(), window="2027-03")
    assert march.cost_variances is None  # no actual costs in March: no section


def _issues(grids: dict[str, list[list[object]]]) -> set[tuple[str, str, str]]:
    raw = raw_sheets(grids)
    plan, issues = parse_plan(raw)
    assert plan is not None, issues
    return {(i.code.value, i.severity.value, str(i.where)) for i in parse_finance(raw, plan)[1]}


def test_bad_actual_cost_rows_are_issues_at_their_cells():
    bad = [["X-999", "2027-02", 1, 1, None, 1, 1, None, 1, 1, 1],
           ["V-200", "2028-05", 1, 1, None, 1, 1, None, 1, 1, 1],
           ["V-200", "2027-01", 1, 1, None, 1, 1, None, 1, 1, 1],
           ["V-200", "2027-02", -5, 1, None, 1, 1, None, 1, 1, 1],
           ["V-200", "2027-03", 1, 1, None, "lots", 1, None, 1, 1, 1],
           ["V-200", dt.date(2027, 3, 1), 1, 1, None, 1, 2, 3, 1, 1, 1]]
    grids = costed("ActualCosts\n" + table(ACTUAL_HEADER, ACTUAL_ROWS + bad))
    assert _issues(grids) == {
        ("unknown-family", "error", "ActualCosts!A5"),
        ("month-outside-horizon", "error", "ActualCosts!B6"),
        ("duplicate-row", "error", "ActualCosts!A7"),
        ("negative-value", "error", "ActualCosts!C8"),
        ("not-a-number", "error", "ActualCosts!F9"),
        ("value-invalid", "error", "ActualCosts!H10"),  # 3 hours worked of 2 paid
    }
    raw = raw_sheets(grids)
    plan, _ = parse_plan(raw)
    fin, _ = parse_finance(raw, plan)
    assert fin.actual_costs.families == ("P-100", "P-100", "V-200")  # bad rows left out


def test_a_date_cell_reads_as_its_month():
    grids = costed()
    set_cell(grids, "ActualCosts", "B4", cell("@2027-01-01"))
    raw = raw_sheets(grids)
    plan, _ = parse_plan(raw)
    fin, issues = parse_finance(raw, plan)
    assert issues == [] and fin.actual_costs.months[-1] == "2027-01"


def test_standards_off_the_cost_per_unit_and_missing_standards_are_warnings():
    grids = costed()
    set_cell(grids, "StdCost", "G2", 5.01)  # P-100 material 2 x 5.01 = 10.02, not 10
    set_cell(grids, "StdCost", "K3", 160)  # from 2027-03: 0.5 x 2 + 160 / 150, not 2
    set_cell(grids, "StdCost", "I4", None)  # V-200: no labour rate
    assert _issues(grids) == {("std-cost-mismatch", "warning", "StdCost!B2"),
                              ("std-cost-mismatch", "warning", "StdCost!D3"),
                              ("standard-missing", "warning", "ActualCosts!A4")}
    _, _, rec = _reconciled(grids)
    v200 = rec.cost_variances.as_dict()["by_family"]["V-200"]
    assert v200["labour"] == {"rate": 0.0, "idle_time": 0.0, "efficiency": 0.0, "total": 0.0}
    assert v200["fixed_overhead"]["capacity"] == -27.0  # the other elements still count
    assert v200["total"] == -4.1 - 0.3 - 26


def test_a_bad_standard_is_an_issue_at_its_cell():
    grids = costed()
    set_cell(grids, "StdCost", "F3", -2)
    set_cell(grids, "StdCost", "L4", 0)  # a fixed budget over no output
    assert _issues(grids) == {("negative-value", "error", "StdCost!F3"),
                              ("value-invalid", "error", "StdCost!L4"),
                              # so V-200's fixed overhead has no usable standards
                              ("standard-missing", "warning", "ActualCosts!A4")}


def test_actual_costs_without_any_standards_publish_no_section_and_warn_per_family():
    grids = base()
    grids.update(sheets(ACTUAL_COSTS))
    assert _issues(grids) == {("standard-missing", "warning", "ActualCosts!A2"),
                              ("standard-missing", "warning", "ActualCosts!A4")}
    _, _, rec = _reconciled(grids)
    assert rec.cost_variances is None


def test_a_number_too_large_for_cents_is_an_error_and_no_stdcost_row_one_warning():
    grids = costed("ActualCosts\n" + table(ACTUAL_HEADER, [
        *ACTUAL_ROWS,
        ["P-100", "2027-03", 1, 1e300, None, 1, 1, None, 1, 1, 1],
        ["OLD-1", "2027-01", 1, 1, None, 1, 1, None, 1, 1, 1]]))  # OLD-1 has no StdCost row
    set_cell(grids, "StdCost", "J3", 2e15)
    issues = _issues(grids)
    assert issues == {("number-too-large", "error", "ActualCosts!D5"),
                      ("number-too-large", "error", "StdCost!J3"),
                      ("standard-missing", "warning", "ActualCosts!A6")}


def test_variances_that_overflow_are_an_error_at_their_row_not_a_crash():
    grids = costed()
    for ref, value in (("H4", 1e-160), ("L4", 1e-160), ("K4", 1e14)):  # V-200's standards
        set_cell(grids, "StdCost", ref, value)
    assert _issues(grids) == {("number-too-large", "error", "ActualCosts!A4"),
                              ("std-cost-mismatch", "warning", "StdCost!C4"),
                              ("std-cost-mismatch", "warning", "StdCost!D4")}


def test_a_workbook_without_actual_costs_closes_as_before(tmp_path: Path):
    """No section without ActualCosts; a later close that has them publishes it, and both
    versions verify and diff."""
    path = write_xlsx(tmp_path / "plain.xlsx", base())
    assert run_close(path).ok
    assert section_of(read_cells(path, ["Recon v001"])["Recon v001"]) == []
    _, fin, rec = _reconciled(base())
    assert rec.cost_variances is None and fin.actual_costs is None
    book = openpyxl.load_workbook(path)
    for name, rows in costed().items():
        if name in (layout.STD_COST, layout.ACTUAL_COSTS):
            sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    sheet.cell(row=r, column=c, value=value)
    book.save(path)
    assert run_close(path).ok
    published = section_of(read_cells(path, ["Recon v002"])["Recon v002"])
    assert published == section_expected()
    assert main(["verify", str(path)]) == 0
    assert main(["diff", str(path), "v1", "v2"]) == 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 10_000)] * 4, st.floats(0.0, 5e4),
                          st.floats(0.0, 5e4), st.floats(0.0, 5e4)),
                min_size=1, max_size=6))
def test_published_lines_add_up_to_the_total_to_the_cent(rows):
    """Any actual costs: each family's ten variances add up to its total and the families add
    up to the Total row, in whole cents."""
    grids = costed("")
    body = [["P-100" if k % 2 else "V-200", f"2027-0{k // 2 + 1}", u, used, None, cost,
             paid, min(worked, paid), labour, voh, foh]
            for k, (u, used, paid, worked, cost, labour, voh) in enumerate(rows[:6])
            for foh in [cost / 3]]
    grids["ActualCosts"] = [ACTUAL_HEADER, *body]
    raw = raw_sheets(grids)
    plan, _ = parse_plan(raw)
    fin, issues = parse_finance(raw, plan)
    found = cost_variances(plan, fin.actual_costs, fin.standards, plan.months)
    cents = np.rint(found.values * 100).astype(np.int64)
    frame = dict(zip(found.columns, cents.T, strict=True))
    lines = sum(frame[column(e, p)] for e, p in LINES)
    assert (lines == frame["total"]).all()
    assert (cents[:-1].sum(axis=0) == cents[-1]).all()


def test_the_demo_close_publishes_its_two_closed_months(demo_copy: Path):
    """The demo's standards give its cost per unit (no warning), and its close explains the
    actual costs of 2027-01 and 2027-02 for every family that made something."""
    result = run_close(demo_copy)
    assert result.ok
    codes = {i.code for i in result.issues}
    assert not codes & {IssueCode.STD_COST_MISMATCH, IssueCode.STANDARD_MISSING}, codes
    published = section_of(read_cells(demo_copy, ["Recon v001"])["Recon v001"])
    header, *rows = published
    assert header == ["Family", *(h for _, h in published_columns())]
    assert rows[-1][0] == TOTAL and len(rows) > 20
    cents = np.rint(np.array([r[1:] for r in rows], dtype=float) * 100).astype(np.int64)
    volume = header.index("Fixed overhead volume") - 1
    ten = np.delete(cents[:, :-1], volume, axis=1)
    assert (ten.sum(axis=1) == cents[:, -1]).all()
    assert (cents[:-1].sum(axis=0) == cents[-1]).all()


def test_after_a_save_in_libreoffice_the_section_verifies_and_the_inputs_read_the_same(
        soffice: str, tmp_path: Path):
    """A user saves the closed workbook in LibreOffice: v001's section still verifies, and a
    forced close of the saved file reads ActualCosts and the standards as before."""
    from lo_oracle import recalculate

    path = write_xlsx(tmp_path / "costed.xlsx", costed())
    assert run_close(path).ok
    saved = recalculate(path, tmp_path / "saved", soffice)
    assert main(["verify", str(saved)]) == 0
    assert section_of(read_cells(saved, ["Recon v001"])["Recon v001"]) == section_expected()
    assert run_close(saved, force=True).ok
    assert section_of(read_cells(saved, ["Recon v002"])["Recon v002"]) == section_expected()
