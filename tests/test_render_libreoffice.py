"""LibreOffice is the oracle: a plan workbook goes through the whole pipeline (the project's
reader, dollarize, render, the project's writer), a copy is recalculated headless, and every
formula cell must come back equal to the value sopfin cached in it. Then an input is edited,
or an input table re-sorted, and the live formulas must follow.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from lo_oracle import read_values, recalculate_many, spec_cells
from plan_tables import make_plan, sheet_rows
from sopfin import layout
from sopfin.close.records import Override
from sopfin.engine.dollarize import dollarize
from sopfin.model import Plan
from sopfin.plan.demo import demo_sheets
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.render import render_outputs
from sopfin.sheetspec import SheetSpec
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.writer import create_workbook, write_sheets
from test_render import BUDGET, DEMAND, OPENING, PRICES, STD_COST, SUPPLY, VARIANCES

# A second scenario where PUMP is short in every month, and a family sold through one channel.
DOWNSIDE = """
| downside | PUMP   | Retail  |     130 |     150 |     110 |
| downside | PUMP   | OEM     |      70 |      60 |      40 |
| downside | VALVE  | Retail  |      60 |      50 |      40 |
"""
DOWNSIDE_SUPPLY = """
| downside | PUMP   |      50 |      90 |     120 |
"""

CASES = {
    # channels share a shortfall, backlog carried, PUMP's cost changes in February (the
    # EffectiveFrom cell holds a real date), overtime and expedite variances
    "backorder": dict(shortage_policy="backorder", constrained=True),
    # unmet demand dropped; VALVE is keyed 1001, stored as a number in every input sheet
    "lost": dict(shortage_policy="lost", constrained=True),
    # ship demand whatever the supply; inventory goes negative (a warning on Issues)
    "unconstrained": dict(shortage_policy="lost", constrained=False),
    # no Channel column, a family with supply but no demand, no variances and no budget
    "sparse": dict(shortage_policy="backorder", constrained=True),
    # a Budget by channel: the Summary's budget adds up each family's channel rows
    "channel_budget": dict(shortage_policy="backorder", constrained=True),
}
BUDGET_BY_CHANNEL = """
| family | measure | channel | 2027-01 | 2027-02 | 2027-03 |
| PUMP   | revenue | Retail  |     700 |     700 |     720 |
| PUMP   | revenue | OEM     |     300 |     300 |     280 |
| PUMP   | units   | Retail  |      70 |      70 |      72 |
| PUMP   | units   | OEM     |      30 |      30 |      28 |
| VALVE  | revenue | Retail  |     150 |     150 |     150 |
"""
SPARSE = dict(
    demand="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |     100 |     120 |      80 |
    """,
    supply="""
    | scenario | family | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   |      90 |     100 |     150 |
    | base     | GEAR   |      10 |       0 |       5 |
    """,
    prices="""
    | family | 2027-01 | 2027-02 | 2027-03 |
    | PUMP   |    12.5 |    12.5 |      13 |
    """,
    std_cost="""
    | family | material | labour | overhead |
    | PUMP   |     4.25 |    1.1 |     0.65 |
    | GEAR   |        2 |      1 |        0 |
    """,
    opening="""
    | family | units |
    | GEAR   |    10 |
    """)
EDITED = ("Supply", "D2", 150)  # PUMP's base production in February: 100 -> 150
OUTPUTS = list(layout.OUTPUT_SHEET_NAMES)


def _plan_for(case: str) -> Plan:
    if case == "sparse":
        return make_plan(**SPARSE, **CASES[case])  # type: ignore[arg-type]
    variances = VARIANCES + "| base | PUMP | expedite | 0 | 40 | 0 |\n"
    budget = BUDGET_BY_CHANNEL if case == "channel_budget" else BUDGET
    return make_plan(demand=DEMAND + DOWNSIDE, supply=SUPPLY + DOWNSIDE_SUPPLY, prices=PRICES,
                     std_cost=STD_COST, opening=OPENING, variances=variances, budget=budget,
                     scenarios=("base", "downside"), **CASES[case])


def _typed(case: str, sheet: str, value: object) -> object:
    """Cells as a planner would type them: numeric keys and dates stored as such."""
    if case == "lost" and value == "VALVE":
        return 1001
    if case == "backorder" and sheet == layout.STD_COST and value == "2027-02":
        return dt.datetime(2027, 2, 1)
    return value


def _write_inputs(plan: Plan, case: str, path: Path) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, grid in sheet_rows(plan).items():
        sheet = book.create_sheet(name)
        for row in grid:
            sheet.append([_typed(case, name, v) for v in row])
    book.save(path)


def _read(path: Path) -> Plan:
    plan, issues = parse_plan(read_raw_sheets(path, layout.INPUT_SHEET_NAMES), source=path.name)
    assert plan is not None and not [i for i in issues if i.severity == "error"], issues
    return plan


def _render(plan: Plan, overrides: tuple[Override, ...] = ()) -> dict[str, SheetSpec]:
    d, issues = dollarize(plan)
    return {s.name: s for s in render_outputs(plan, d, issues, generated_at="2027-01-05",
                                              overrides=overrides)}


def _demo_overrides(path: Path, plan: Plan) -> tuple[Override, ...]:
    """The demo's named overrides, which the Summary adds to the plan by formula."""
    finance, issues = parse_finance(read_raw_sheets(path, layout.FINANCE_SHEET_NAMES), plan)
    assert finance.overrides and not issues
    return finance.overrides


@dataclass
class Run:
    specs: dict[str, SheetSpec]  # as written
    cached: dict[str, dict[str, object]]  # values cached in the written file
    recalculated: dict[str, dict[str, object]]  # after LibreOffice recalculated a copy


@pytest.fixture(scope="module")
def oracle(tmp_path_factory, soffice) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("render-oracle")
    files, specs, cached = {}, {}, {}
    for case in [*CASES, "demo"]:
        path = root / f"{case}.xlsx"
        if case == "demo":  # the project's demo plan: three scenarios, 18 months, a cost roll
            create_workbook(path, demo_sheets(families=12, months=18))
        else:
            _write_inputs(_plan_for(case), case, path)
        plan = _read(path)
        specs[case] = _render(plan, _demo_overrides(path, plan) if case == "demo" else ())
        write_sheets(path, list(specs[case].values()))
        cached[case] = read_values(path, OUTPUTS)
        files[case] = path
    files["edited"] = _edited_copy(files["backorder"], root / "edited.xlsx")
    specs["edited"] = _render(_read(files["edited"]))
    files["resorted"] = _resorted_copy(files["backorder"], root / "resorted.xlsx")
    recalculated = recalculate_many(list(files.values()), root / "lo", soffice)
    return {name: Run(specs.get(name, specs["backorder"]), cached.get(name, {}),
                      read_values(recalculated[path], OUTPUTS))
            for name, path in files.items()}


def _edited_copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    book = openpyxl.load_workbook(target)
    sheet, cell, value = EDITED
    book[sheet][cell] = value
    book.save(target)
    return target


def _resorted_copy(source: Path, target: Path) -> Path:
    """Demand rows 2 and 3 swapped, as Excel's sort would leave them."""
    shutil.copyfile(source, target)
    book = openpyxl.load_workbook(target)
    demand = book[layout.DEMAND]
    for col in range(1, demand.max_column + 1):
        upper, lower = demand.cell(2, col), demand.cell(3, col)
        upper.value, lower.value = lower.value, upper.value
    book.save(target)
    return target


def same(expected: object, got: object) -> bool:
    """Text equal, blank equal blank, numbers equal well within a cent."""
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return got is None or got == ""
    if isinstance(expected, str):
        return got == expected or (expected == "" and got is None)
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-6)


def formula_cells(spec: SheetSpec) -> dict[str, object]:
    return {ref: value for ref, (formula, value) in spec_cells(spec).items() if formula}


def mismatches(specs: dict[str, SheetSpec], values: dict[str, dict[str, object]],
               ) -> list[str]:
    out = []
    for name, spec in specs.items():
        for ref, expected in formula_cells(spec).items():
            got = values[name].get(ref)
            if not same(expected, got):
                out.append(f"{name}!{ref}: expected {expected!r}, found {got!r}")
    return out


@pytest.mark.parametrize("case", [*CASES, "demo"])
def test_libreoffice_recalculates_every_formula_to_its_cached_value(oracle, case):
    run = oracle[case]
    assert sum(len(formula_cells(s)) for s in run.specs.values()) > 300
    assert mismatches(run.specs, run.recalculated)[:10] == []


@pytest.mark.parametrize("case", [*CASES, "demo"])
def test_the_written_file_caches_the_engine_values(oracle, case):
    run = oracle[case]
    assert mismatches(run.specs, run.cached)[:10] == []


def month_values(spec: SheetSpec, *keys: object) -> list[object]:
    """Cached month values of the row whose key cells read ``keys``."""
    cells = spec_cells(spec)
    first = next(b.col for b in spec.blocks if b.style == "month_header")
    months = len(next(b for b in spec.blocks if b.style == "month_header").values[0])
    for row in sorted({int(re.sub(r"[A-Z]+", "", r)) for r in cells}):
        texts = [cells.get(f"{layout.column_letter(c)}{row}", (None, None))[1]
                 for c in range(1, len(keys) + 1)]
        if texts == list(keys):
            return [cells[f"{layout.column_letter(first + j)}{row}"][1] for j in range(months)]
    raise AssertionError(f"no row {keys} on {spec.name}")


def test_cases_cover_what_they_claim(oracle):
    backlog = month_values(oracle["backorder"].specs[layout.REVENUE], "base", "PUMP", "OEM",
                           "Backlog units")
    assert backlog[1] > 0  # OEM carries its share of February's shortfall
    lost = month_values(oracle["lost"].specs[layout.INVENTORY], "downside", "PUMP",
                        "Lost units")
    assert all(v > 0 for v in lost)
    end = month_values(oracle["unconstrained"].specs[layout.INVENTORY], "downside", "PUMP",
                       "End units")
    assert min(end) < 0
    sparse = oracle["sparse"].specs
    assert month_values(sparse[layout.INVENTORY], "base", "GEAR", "Demand units") == [0.0] * 3
    assert month_values(sparse[layout.REVENUE], "base", "PUMP", "", "Price") == [12.5, 12.5, 13]
    summary = formula_cells(oracle["demo"].specs[layout.SUMMARY])
    added = [ref for ref, (formula, _) in spec_cells(oracle["demo"].specs[layout.SUMMARY]).items()
             if formula and "Overrides!" in formula]
    assert added and any(summary[ref] for ref in added)  # named overrides, recalculated too
    by_channel = spec_cells(oracle["channel_budget"].specs[layout.SUMMARY])
    two_rows = [ref for ref, (formula, value) in by_channel.items()
                if formula and formula.count("Budget!") == 2 and value == 1000.0]
    assert two_rows  # PUMP's January budget revenue: its Retail and OEM rows, 700 + 300
    issues = spec_cells(oracle["unconstrained"].specs[layout.ISSUES])
    assert issues["B3"][1] == "negative-inventory"
    assert oracle["unconstrained"].recalculated[layout.ISSUES]["B3"] == "negative-inventory"


def test_an_edited_input_moves_exactly_its_dependent_cells(oracle):
    before, after = oracle["backorder"].specs, oracle["edited"].specs
    for name in OUTPUTS:  # same shape and formulas: only the numbers moved
        assert {r: f for r, (f, _) in spec_cells(before[name]).items()} == \
            {r: f for r, (f, _) in spec_cells(after[name]).items()}
    got = oracle["edited"].recalculated
    assert mismatches(after, got)[:10] == []
    moved = {(name, ref) for name in OUTPUTS
             for ref, value in formula_cells(before[name]).items()
             if not same(value, formula_cells(after[name])[ref])}
    unmoved = [(name, ref) for name in OUTPUTS for ref in formula_cells(before[name])
               if (name, ref) not in moved]
    assert all(same(formula_cells(before[n])[r], got[n].get(r)) for n, r in unmoved)
    # February onwards of PUMP's base roll-forward moved; VALVE, January and downside did not.
    inventory = spec_cells(before[layout.INVENTORY])
    rows = {(inventory[f"A{r}"][1], inventory[f"B{r}"][1], inventory[f"C{r}"][1]): r
            for r in {int(re.sub(r"[A-Z]+", "", ref)) for ref in inventory}
            if f"C{r}" in inventory and f"A{r}" in inventory}
    shipments = rows[("base", "PUMP", "Shipments units")]
    assert (layout.INVENTORY, f"G{shipments}") in moved
    assert (layout.INVENTORY, f"F{shipments}") not in moved
    for (scenario, family, _), r in rows.items():
        if family == "VALVE" or scenario == "downside":
            assert not any((layout.INVENTORY, f"{c}{r}") in moved for c in "EFGH")
    assert any(name == layout.SUMMARY for name, _ in moved)
    assert len(moved) > 30


def test_resorted_inputs_are_flagged(oracle):
    got = oracle["resorted"].recalculated
    specs = oracle["resorted"].specs
    revenue = spec_cells(specs[layout.REVENUE])
    flagged = {ref for ref, value in got[layout.REVENUE].items() if value == "RE-SORTED"}
    # Exactly the demand rows reading Demand rows 2 and 3, in the base scenario.
    expected = {f"E{int(r[1:])}" for r, (f, _) in revenue.items()
                if r.startswith("E") and f and re.search(r"Demand!\$A\$[23]\b", f)}
    assert expected and flagged == expected
    assert got[layout.SUMMARY]["A2"].startswith("Inputs were re-sorted")
    assert not oracle["backorder"].recalculated[layout.SUMMARY].get("A2")
