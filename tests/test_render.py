"""The rendered output sheets as plain data: live formulas with the engine's cached values,
references to the input cells, key checks, and a hand-worked plan's figures in the right cells.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from lo_oracle import spec_cells
from plan_tables import make_plan
from sopfin import layout
from sopfin.engine.dollarize import dollarize
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.render import render_outputs
from sopfin.sheetspec import SheetSpec, Style

# Two channels of PUMP share a shortfall; PUMP's cost rises from 5 to 6 in February;
# VALVE has no Supply row and lives off its opening stock. Cells: Demand!D2 is PUMP Retail Jan.
DEMAND = """
| scenario | family | channel | 2027-01 | 2027-02 | 2027-03 |
| base     | PUMP   | Retail  |     100 |     120 |      80 |
| base     | PUMP   | OEM     |      50 |      60 |      40 |
| base     | VALVE  | Retail  |      30 |      30 |      30 |
"""
SUPPLY = """
| scenario | family | 2027-01 | 2027-02 | 2027-03 |
| base     | PUMP   |     100 |     100 |     200 |
"""
PRICES = """
| family | channel | 2027-01 | 2027-02 | 2027-03 |
| PUMP   | Retail  |      10 |      10 |      11 |
| PUMP   | OEM     |       8 |       8 |       8 |
| VALVE  | Retail  |       5 |       5 |       5 |
"""
STD_COST = """
| family | material | labour | overhead | effective_from |
| PUMP   |        3 |      1 |        1 |  |
| PUMP   |        4 |      1 |        1 | 2027-02 |
| VALVE  |        1 |      1 |      0.5 |  |
"""
OPENING = """
| family | units |
| PUMP   |    20 |
| VALVE  |   100 |
"""
VARIANCES = """
| scenario | family | type     | 2027-01 | 2027-02 | 2027-03 |
| base     | PUMP   | overtime |     100 |       0 |      50 |
"""
BUDGET = """
| family | measure | 2027-01 | 2027-02 | 2027-03 |
| PUMP   | revenue |    1000 |    1000 |    1000 |
| PUMP   | units   |     100 |     100 |     100 |
"""

# Worked by hand (backorder, constrained). PUMP: available 120, 100, 200 against required
# 150, 210 (180 + 30 carried), 230 (120 + 110): ships 120, 100, 200; ends at 0 each month.
# Retail requires 100, 140, 153.33 of 150, 210, 230 -> ships 80, 66.67, 133.33.
# VALVE ships 30 a month out of 100 on hand: ends at 70, 40, 10; value at 2.50 a unit.
HAND = {
    ("Inventory", "PUMP", "Shipments units"): [120, 100, 200],
    ("Inventory", "PUMP", "Backlog units"): [30, 110, 30],
    ("Inventory", "VALVE", "End units"): [70, 40, 10],
    ("Inventory", "VALVE", "Inventory value"): [175, 100, 25],
    ("Inventory", "PUMP", "Unit cost"): [5, 6, 6],
    ("Revenue", "PUMP", "Retail", "Shipments units"): [80, 200 / 3, 400 / 3],
    ("Revenue", "PUMP", "OEM", "Backlog units"): [10, 110 / 3, 10],
    ("Revenue", "PUMP", "Retail", "Revenue"): [800, 2000 / 3, 4400 / 3],
    ("COGS", "PUMP", "Standard COGS"): [600, 600, 1200],
    ("COGS", "PUMP", "COGS"): [700, 600, 1250],
    ("COGS", "Total", "Revenue"): [1270, 3250 / 3, 2150],
    ("Cash", "Total", "Cash effect of inventory"): [175, 75, 75],
}
# Summary, base scenario, plan: months then FY2027 Q1 then FY2027.
HAND_SUMMARY = {
    ("Revenue", "Plan"): [1270, 3250 / 3, 2150, 13510 / 3, 13510 / 3],
    ("Revenue", "Budget"): [1000, 1000, 1000, 3000, 3000],
    ("COGS", "Plan"): [775, 675, 1325, 2775, 2775],
    ("Gross margin", "Gap"): [-505, 1225 / 3 - 1000, -175, 13510 / 3 - 2775 - 3000,
                              13510 / 3 - 2775 - 3000],
    ("GM %", "Plan"): [495 / 1270, (3250 / 3 - 675) / (3250 / 3), 825 / 2150,
                       (13510 / 3 - 2775) / (13510 / 3), (13510 / 3 - 2775) / (13510 / 3)],
    ("Inventory value (end)", "Plan"): [175, 100, 25, 25, 25],
    ("Units shipped", "Gap"): [50, 30, 130, 210, 210],
}

ALLOWED_FUNCTIONS = {"SUM", "MIN", "MAX", "IF", "AND", "OR", "COUNTIF", "IFERROR", "ROUND",
                     "ABS"}
FUNCTION = re.compile(r"([A-Z][A-Z0-9.]*)\(")
NUMBER_STYLES = {Style.UNITS, Style.UNITS_BOLD, Style.MONEY, Style.MONEY_BOLD, Style.MONEY_WHOLE,
                 Style.MONEY_WHOLE_BOLD, Style.PRICE,
                 Style.PERCENT, Style.PERCENT_BOLD, Style.DAYS}
# Ratios blank on a zero denominator; stranded and excess stock blank where the look-ahead
# passes the horizon's end.
BLANKABLE = {"GM %", "Days of inventory", "DIO (days)", "DSO (days)", "DPO (days, on COGS)",
             "Cash conversion cycle (days)", "Inventory turnover",
             "DIO (days), by period", "DSO (days), by period", "DPO (days, on COGS), by period",
             "Cash conversion cycle (days), by period", "Inventory turnover, by period",
             "Stranded stock (units)", "Stranded stock value", "Excess stock (units)",
             "Excess stock value"}
CONSTANT_ROWS = {"Days in month", "DSO terms (days)", "DPO terms (days)"}  # calendar, Settings


def _plan(**overrides: object):
    tables = dict(demand=DEMAND, supply=SUPPLY, prices=PRICES, std_cost=STD_COST,
                  opening=OPENING, variances=VARIANCES, budget=BUDGET,
                  shortage_policy="backorder", constrained=True)
    tables.update(overrides)
    return make_plan(**tables)


def _render(plan, issues=()):
    d, engine_issues = dollarize(plan)
    specs = render_outputs(plan, d, list(issues) + engine_issues, generated_at="2027-01-05 09:00")
    return {s.name: s for s in specs}


@pytest.fixture(scope="module")
def sheets() -> dict[str, SheetSpec]:
    return _render(_plan())


def _styled_cells(spec: SheetSpec):
    """(cell, formula, value, style) of every cell."""
    for block in spec.blocks:
        values = np.asarray(block.values, dtype=object)
        formulas = None if block.formulas is None else np.asarray(block.formulas, dtype=object)
        styles = block.style if isinstance(block.style, Style) or block.style is None else None
        for (i, j), value in np.ndenumerate(values):
            style = styles if styles is not None or block.style is None else \
                np.asarray(block.style, dtype=object)[i, j]
            formula = None if formulas is None else formulas[i, j]
            yield layout.cell_name(block.row + i, block.col + j), formula, value, style


def _row_of(spec: SheetSpec, *keys: str, scenario: str = "base") -> int:
    """The sheet row whose key cells read (scenario, *keys)."""
    cells = spec_cells(spec)
    rows = {int(re.sub(r"[A-Z]+", "", ref)) for ref in cells}
    for row in sorted(rows):
        texts = [cells.get(f"{layout.column_letter(c)}{row}", (None, None))[1]
                 for c in range(1, len(keys) + 2)]
        if texts == [scenario, *keys]:
            return row
    raise AssertionError(f"no row {keys} on {spec.name}")


def _month_values(spec: SheetSpec, row: int, first_col: int, count: int) -> list[object]:
    cells = spec_cells(spec)
    return [cells[f"{layout.column_letter(first_col + j)}{row}"][1] for j in range(count)]


def _month_col(spec: SheetSpec) -> int:
    """1-based column of the first month header ('YYYY-MM')."""
    header = [b for b in spec.blocks if b.style == Style.MONTH_HEADER][0]
    return header.col


def test_six_owned_sheets_in_layout_order(sheets):
    assert list(sheets) == list(layout.OUTPUT_SHEET_NAMES)
    assert all(s.owned for s in sheets.values())


def _row_labels(spec: SheetSpec) -> dict[int, set[object]]:
    """Sheet row -> the texts in its key columns."""
    out: dict[int, set[object]] = {}
    for ref, (formula, value) in spec_cells(spec).items():
        if formula is None and isinstance(value, str):
            out.setdefault(int(re.sub(r"[A-Z]+", "", ref)), set()).add(value)
    return out


@pytest.mark.parametrize("name", [layout.REVENUE, layout.INVENTORY, layout.COGS, layout.CASH,
                                  layout.SUMMARY])
def test_every_number_cell_is_a_formula_with_a_finite_or_blank_cached_value(sheets, name):
    spec = sheets[name]
    labels = _row_labels(spec)
    numbers = [(ref, f, v) for ref, f, v, style in _styled_cells(spec)
               if style in NUMBER_STYLES and not CONSTANT_ROWS & labels.get(
                   int(re.sub(r"[A-Z]+", "", ref)), set())]
    assert len(numbers) > 50
    for ref, formula, value in numbers:
        assert formula, f"{name}!{ref} holds a constant {value!r}"
        assert isinstance(value, float), f"{name}!{ref} caches {value!r}"
        if math.isnan(value):  # only ratios may be blank (revenue or COGS of zero)
            assert labels[int(re.sub(r"[A-Z]+", "", ref))] & BLANKABLE, f"{name}!{ref} is blank"


def test_cash_days_row_holds_calendar_constants(sheets):
    cash = sheets[layout.CASH]
    col = _month_col(cash)
    assert _month_values(cash, 3, col, 3) == [31.0, 28.0, 31.0]


def test_only_portable_functions(sheets):
    used: set[str] = set()
    for spec in sheets.values():
        for formula, _ in spec_cells(spec).values():
            if formula:
                used |= set(FUNCTION.findall(formula))
                assert len(formula) < 8000
                assert not formula.startswith("=")
    assert used <= ALLOWED_FUNCTIONS, used - ALLOWED_FUNCTIONS
    assert {"SUM", "MAX", "MIN", "IF", "COUNTIF", "AND"} <= used


def test_blocks_do_not_overlap(sheets):
    for spec in sheets.values():
        seen: set[tuple[int, int]] = set()
        for block in spec.blocks:
            rows, cols = block.shape
            cells = {(block.row + i, block.col + j) for i in range(rows) for j in range(cols)}
            assert not cells & seen, f"{spec.name}: overlapping block at {block.row},{block.col}"
            seen |= cells


def test_demand_and_price_reference_their_input_cells(sheets):
    revenue = sheets[layout.REVENUE]
    cells = spec_cells(revenue)
    col = _month_col(revenue)
    demand = _row_of(revenue, "PUMP", "OEM", "Demand units")
    price = _row_of(revenue, "PUMP", "OEM", "Price")
    # Demand: PUMP/OEM is row 3, months in D..F; Prices: row 3, months in C..E.
    assert [cells[f"{layout.column_letter(col + j)}{demand}"][0] for j in range(3)] == \
        ["Demand!D3", "Demand!E3", "Demand!F3"]
    assert [cells[f"{layout.column_letter(col + j)}{price}"][0] for j in range(3)] == \
        ["Prices!C3", "Prices!D3", "Prices!E3"]


def test_supply_opening_cost_and_variance_references(sheets):
    inv, cogs = sheets[layout.INVENTORY], sheets[layout.COGS]
    icells, ccells = spec_cells(inv), spec_cells(cogs)
    col = _month_col(inv)
    letter = layout.column_letter
    assert icells[f"{letter(col)}{_row_of(inv, 'PUMP', 'Production units')}"][0] == "Supply!C2"
    assert icells[f"{letter(col - 1)}{_row_of(inv, 'VALVE', 'End units')}"][0] == \
        "OpeningInventory!B3"
    # VALVE has no Supply row: production is a formula of zero.
    assert icells[f"{letter(col)}{_row_of(inv, 'VALVE', 'Production units')}"] == ("0", 0.0)
    cost = _row_of(inv, "PUMP", "Unit cost")
    # January uses the undated StdCost row 2, February on the row effective 2027-02 (row 3).
    assert icells[f"{letter(col)}{cost}"][0] == "StdCost!B2+StdCost!C2+StdCost!D2"
    assert icells[f"{letter(col + 1)}{cost}"][0] == "StdCost!B3+StdCost!C3+StdCost!D3"
    overtime = _row_of(cogs, "PUMP", "Variance: overtime")
    assert ccells[f"{letter(_month_col(cogs) + 2)}{overtime}"][0] == "PlannedVariances!F2"


def test_budget_rows_reference_the_budget_sheet(sheets):
    summary = sheets[layout.SUMMARY]
    cells = spec_cells(summary)
    row = _row_of(summary, "Budget revenue", "PUMP", scenario="Budget")
    assert cells[f"{layout.column_letter(_month_col(summary))}{row}"][0] == "Budget!C2"


def test_every_input_reading_row_has_a_key_check(sheets):
    revenue = sheets[layout.REVENUE]
    cells = spec_cells(revenue)
    row = _row_of(revenue, "PUMP", "OEM", "Demand units")
    assert cells[f"E{row}"] == (
        'IF(AND(Demand!$A$3="base",Demand!$B$3="PUMP",Demand!$C$3="OEM"),"ok","RE-SORTED")',
        "ok")
    inv = sheets[layout.INVENTORY]
    cost_check = spec_cells(inv)[f"D{_row_of(inv, 'PUMP', 'Unit cost')}"][0]
    # One check over both StdCost rows the row reads, including their effective dates.
    for condition in ('StdCost!$A$2="PUMP"', 'StdCost!$E$2=""', 'StdCost!$A$3="PUMP"',
                      'StdCost!$E$3="2027-02"'):
        assert condition in cost_check
    inputs = re.compile(r"(Demand|Prices|Supply|OpeningInventory|StdCost|PlannedVariances|"
                        r"Budget)!")
    for spec, col in ((revenue, "E"), (inv, "D"), (sheets[layout.COGS], "D"),
                      (sheets[layout.SUMMARY], "D")):
        cells = spec_cells(spec)
        reading = {int(re.sub(r"[A-Z]+", "", ref)) for ref, (f, _) in cells.items()
                   if f and inputs.search(f) and not ref.startswith(col)}
        assert reading, spec.name
        for r in reading:
            formula, value = cells.get(f"{col}{r}", (None, None))
            assert formula and formula.startswith("IF(") and value == "ok", (spec.name, r)


def test_numeric_keys_compare_as_text():
    plan = _plan(demand=DEMAND.replace("VALVE", "1001"), prices=PRICES.replace("VALVE", "1001"),
                 std_cost=STD_COST.replace("VALVE", "1001"), opening=OPENING.replace("VALVE",
                                                                                     "1001"))
    revenue = _render(plan)[layout.REVENUE]
    check = spec_cells(revenue)[f"E{_row_of(revenue, '1001', 'Retail', 'Demand units')}"][0]
    assert 'Demand!$B$4&""="1001"' in check


def test_summary_banner_counts_every_check_column(sheets):
    summary = sheets[layout.SUMMARY]
    formula, value = spec_cells(summary)["A2"]
    assert value == ""
    for ref in ("Revenue!$E$", "Inventory!$D$", "COGS!$D$", "Summary!$D$"):
        assert f'COUNTIF({ref}' in formula
    assert formula.endswith('>0,"Inputs were re-sorted or edited since the last dollarize: '
                            'run sopfin dollarize again","")')


@pytest.mark.parametrize("key", list(HAND), ids=lambda k: "/".join(k))
def test_hand_worked_figures_sit_in_their_rows(sheets, key):
    spec = sheets[key[0]]
    row = _row_of(spec, *key[1:])
    got = _month_values(spec, row, _month_col(spec), 3)
    assert np.allclose(np.asarray(got, dtype=float), HAND[key], atol=0.005), got


@pytest.mark.parametrize("key", list(HAND_SUMMARY), ids=lambda k: "/".join(k))
def test_hand_worked_summary(sheets, key):
    summary = sheets[layout.SUMMARY]
    header = [b for b in summary.blocks if b.style == Style.MONTH_HEADER][0]
    assert list(np.asarray(header.values, dtype=object)[0]) == \
        ["2027-01", "2027-02", "2027-03", "FY2027 Q1", "FY2027"]
    got = _month_values(summary, _row_of(summary, *key), header.col, 5)
    assert np.allclose(np.asarray(got, dtype=float), HAND_SUMMARY[key], atol=0.005), got


def test_quarters_sum_flows_and_take_the_last_balance(sheets):
    summary = sheets[layout.SUMMARY]
    cells = spec_cells(summary)
    col = _month_col(summary)
    letter = layout.column_letter
    revenue = _row_of(summary, "Revenue", "Plan")
    value = _row_of(summary, "Inventory value (end)", "Plan")
    assert cells[f"{letter(col + 3)}{revenue}"][0] == \
        f"SUM({letter(col)}{revenue}:{letter(col + 2)}{revenue})"
    assert cells[f"{letter(col + 3)}{value}"][0] == f"{letter(col + 2)}{value}"


def test_fiscal_year_start_shapes_the_summary_columns():
    summary = _render(_plan(fiscal_year_start=2))[layout.SUMMARY]
    header = [b for b in summary.blocks if b.style == Style.MONTH_HEADER][0]
    # With a February start, January 2027 closes FY2027; February opens FY2028.
    assert list(np.asarray(header.values, dtype=object)[0]) == \
        ["2027-01", "2027-02", "2027-03", "FY2027 Q4", "FY2028 Q1", "FY2027", "FY2028"]


def test_lost_policy_has_lost_rows_and_no_line_backlog():
    sheets = _render(_plan(shortage_policy="lost"))
    inv, revenue = sheets[layout.INVENTORY], sheets[layout.REVENUE]
    lost = _month_values(inv, _row_of(inv, "PUMP", "Lost units"), _month_col(inv), 3)
    # Lost: required 150, 180, 120 against 120, 100, 200 available.
    assert np.allclose(np.asarray(lost, float), [30, 80, 0])
    with pytest.raises(AssertionError):
        _row_of(revenue, "PUMP", "Retail", "Backlog units")


def test_unconstrained_ships_demand():
    sheets = _render(_plan(constrained=False))
    inv = sheets[layout.INVENTORY]
    cells = spec_cells(inv)
    row = _row_of(inv, "PUMP", "Shipments units")
    col = layout.column_letter(_month_col(inv))
    assert cells[f"{col}{row}"] == (f"{col}{_row_of(inv, 'PUMP', 'Demand units')}", 150.0)


def test_gm_pct_is_blank_where_revenue_is_zero():
    plan = _plan(prices=PRICES.replace("| VALVE  | Retail  |       5 |       5 |       5 |",
                                       "| VALVE  | Retail  |       0 |       0 |       0 |"))
    cogs = _render(plan)[layout.COGS]
    row = _row_of(cogs, "VALVE", "GM %")
    cells = spec_cells(cogs)
    formula, value = cells[f"{layout.column_letter(_month_col(cogs))}{row}"]
    assert formula.startswith("IF(") and value is None


def test_freeze_panes_and_month_headers(sheets):
    for name in (layout.REVENUE, layout.INVENTORY, layout.COGS, layout.CASH):
        spec = sheets[name]
        col = _month_col(spec)
        assert spec.freeze is not None and spec.freeze[1] == col - 1
        header = [b for b in spec.blocks if b.style == Style.MONTH_HEADER][0]
        assert list(np.asarray(header.values, dtype=object)[0]) == ["2027-01", "2027-02",
                                                                    "2027-03"]
        assert spec.col_widths


def test_issues_sheet_lists_issues_with_links():
    issue = Issue(IssueCode.NEGATIVE_INVENTORY, Severity.WARNING, CellRef("Supply", "D2"),
                  "inventory of PUMP goes negative in 2027-02", "add supply")
    sheet = _render(_plan(), issues=[issue])[layout.ISSUES]
    cells = spec_cells(sheet)
    assert [cells[f"{c}3"][1] for c in "ABCDE"] == [
        "warning", "negative-inventory", "Supply!D2", "inventory of PUMP goes negative in 2027-02",
        "add supply"]
    assert [(link.cell, link.target) for link in sheet.links] == [("C3", "Supply!D2")]


def test_issues_sheet_says_when_there_are_none(sheets):
    cells = spec_cells(sheets[layout.ISSUES])
    assert cells["A3"][1].startswith("No open issues")
    assert not sheets[layout.ISSUES].links


def test_render_is_pure_and_repeatable():
    plan = _plan()
    first, second = _render(plan), _render(plan)
    for name in first:
        assert spec_cells(first[name]) == spec_cells(second[name])


def test_a_chosen_scenario_renders_alone():
    plan = _plan(demand=DEMAND + "| downside | PUMP | Retail | 1 | 2 | 3 |\n",
                 scenarios=("base", "downside"))
    d, issues = dollarize(plan, ["downside"])
    sheets = {s.name: s for s in render_outputs(plan, d, issues)}
    for name in (layout.REVENUE, layout.INVENTORY, layout.COGS, layout.CASH, layout.SUMMARY):
        scenarios = {v for ref, (f, v) in spec_cells(sheets[name]).items()
                     if ref.startswith("A") and f is None and ref[1:] not in ("1", "2", "3")}
        assert "base" not in scenarios and "downside" in scenarios, name
    revenue = sheets[layout.REVENUE]
    row = _row_of(revenue, "PUMP", "Retail", "Demand units", scenario="downside")
    # The downside row is the fourth Demand row.
    assert spec_cells(revenue)[f"G{row}"][0] == "Demand!D5"
