"""The Inventory sheet: the units roll-forward and its valuation, per scenario and family.

Blocks per scenario (families x months, each with a total row): demand (the family's sales
lines on the Revenue sheet), production (Supply), start units (the previous month's end;
the Opening column holds opening units), required, shipments, backlog or lost, end units,
unit cost (the StdCost row in force), inventory value and production cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sopfin import layout
from sopfin.engine.results import FamilyMeasure
from sopfin.render.context import RenderContext, cost_rows
from sopfin.render.grid import BOLD, Grid, Section, fill, put_section, total_values
from sopfin.render.refs import check_formula
from sopfin.render.revenue import family_sums
from sopfin.sheetspec import FormulaGrid, Formulas, SheetSpec, Style

if TYPE_CHECKING:
    from sopfin.render.revenue import RevenueLayout

KEYS = ("Scenario", "Family", "Measure")
LEAD = ("Check", "Opening")

LABELS = {
    "demand_units": "Demand units",
    "production_units": "Production units",
    "start_units": "Start units",
    "required_units": "Required units",
    "shipments_units": "Shipments units",
    "backlog_units": "Backlog units",
    "lost_units": "Lost units",
    "end_units": "End units",
    "unit_cost": "Unit cost",
    "inventory_value": "Inventory value",
    "production_cost": "Production cost",
}
STYLES = {"unit_cost": Style.PRICE, "inventory_value": Style.MONEY,
          "production_cost": Style.MONEY}
NO_TOTAL = {"unit_cost"}


@dataclass(frozen=True)
class InventoryLayout:
    grid: Grid
    sections: dict[tuple[str, str], Section]  # (scenario, family measure) -> rows
    measures: tuple[FamilyMeasure, ...]


def layout_inventory(ctx: RenderContext) -> InventoryLayout:
    grid = Grid(layout.INVENTORY, KEYS, LEAD, ctx.months)
    shortfall: FamilyMeasure = "backlog_units" if ctx.backorder else "lost_units"
    measures: tuple[FamilyMeasure, ...] = (
        "demand_units", "production_units", "start_units", "required_units", "shipments_units",
        shortfall, "end_units", "unit_cost", "inventory_value", "production_cost")
    sections: dict[tuple[str, str], Section] = {}
    for scenario in ctx.scenarios:
        for measure in measures:
            sections[(scenario, measure)] = grid.allocate(len(ctx.families),
                                                          total=measure not in NO_TOTAL)
        grid.skip()
    return InventoryLayout(grid, sections, measures)


def _templates(ctx: RenderContext, shortfall: str) -> dict[str, tuple[str, str | None]]:
    required = ("{c}{demand_units}+{p}{backlog_units}", "{c}{demand_units}") \
        if ctx.backorder and ctx.constrained else ("{c}{demand_units}", None)
    shipments = "MAX(0,MIN({c}{required_units},{c}{start_units}+{c}{production_units}))" \
        if ctx.constrained else "{c}{demand_units}"
    return {
        "start_units": ("{p}{end_units}", None),
        "required_units": required,
        "shipments_units": (shipments, None),
        shortfall: ("{c}{required_units}-{c}{shipments_units}", None),
        "end_units": ("{c}{start_units}+{c}{production_units}-{c}{shipments_units}", None),
        "inventory_value": ("{c}{end_units}*{c}{unit_cost}", None),
        "production_cost": ("{c}{production_units}*{c}{unit_cost}", None),
    }


def _supply(ctx: RenderContext, scenario: str,
            ) -> tuple[FormulaGrid | np.ndarray, list[str | None]]:
    rows_of = [ctx.supply.find_all(scenario, family) for family in ctx.families]
    return ctx.supply.refs(rows_of), [ctx.supply.rows_check(rows) for rows in rows_of]


def _unit_cost(ctx: RenderContext) -> tuple[np.ndarray, list[str | None]]:
    """Per family and month: the sum of the StdCost row in force; one check over its rows."""
    table, rows = ctx.plan.std_cost, ctx.std_cost
    formulas = np.full((len(ctx.families), len(ctx.months)), "0", dtype=object)
    checks: list[str | None] = []
    literals = table.keys["effective_from_literal"].astype(str).tolist() \
        if "effective_from_literal" in table.keys.columns else None
    in_force = cost_rows(ctx)
    for f in range(len(ctx.families)):
        row_of_month = in_force[f].tolist()
        sums = {r: "+".join(rows.cells(r)) for r in set(row_of_month) if r >= 0}
        formulas[f, :] = [sums.get(r, "0") for r in row_of_month]
        conditions: list[str | None] = []
        for r in sorted(sums):
            conditions += rows.key_conditions(r, ("family",))
            if literals is not None:
                conditions.append(rows.literal_condition(r, "effective_from", literals[r]))
        checks.append(check_formula([c for c in conditions if c]))
    return formulas, checks


def _opening(ctx: RenderContext) -> tuple[list[str], list[str | None]]:
    formulas, checks = [], []
    for family in ctx.families:
        rows = ctx.opening.find_all(family)
        formulas.append(ctx.opening.sum_cells(rows)[0])
        checks.append(ctx.opening.rows_check(rows))
    return formulas, checks


def render_inventory(ctx: RenderContext, inv: InventoryLayout, rev: RevenueLayout) -> SheetSpec:
    grid = inv.grid
    grid.title(ctx.title("Inventory"))
    grid.header()
    cols = {"c": grid.month_cols, "p": grid.prev_cols}
    n = len(ctx.families)
    shortfall = inv.measures[5]
    templates = _templates(ctx, shortfall)
    cost_formulas, cost_checks = _unit_cost(ctx)
    opening_formulas, opening_checks = _opening(ctx)
    for si, scenario in enumerate(ctx.scenarios):
        row: dict[str, list[int]] = {
            m: [inv.sections[(scenario, m)].row(f) for f in range(n)] for m in inv.measures}
        row.setdefault("backlog_units", row[shortfall])
        for measure in inv.measures:
            section = inv.sections[(scenario, measure)]
            values = ctx.d.fam[measure][si]
            checks = None
            formulas: Formulas
            if measure == "demand_units":
                formulas = family_sums(rev, ctx, scenario, "demand_units", rev.grid.month_cols)
            elif measure == "production_units":
                formulas, checks = _supply(ctx, scenario)
            elif measure == "unit_cost":
                formulas, checks = cost_formulas, cost_checks
            elif measure == "end_units":
                formulas, checks = fill(templates[measure][0], n, row, cols), opening_checks
            else:
                template, first = templates[measure]
                formulas = fill(template, n, row, cols, first)
            style = STYLES.get(measure, Style.UNITS)
            label = LABELS[measure]
            put_section(grid, section, [(scenario, fam, label) for fam in ctx.families],
                        formulas, values, style, total_key=(scenario, "Total", label),
                        checks=checks)
        _put_opening(ctx, grid, inv, scenario, si, opening_formulas)
    return grid.spec(freeze_cols=len(KEYS) + len(LEAD), widths={1: 12.0, 2: 14.0, 3: 18.0})


def _put_opening(ctx: RenderContext, grid: Grid, inv: InventoryLayout, scenario: str, si: int,
                 opening_formulas: list[str]) -> None:
    """Opening column: opening units on the end-units block, opening value on the value block."""
    col, opening_col, first_month = grid.lead("Opening"), grid.lead_col("Opening"), \
        grid.month_cols[0]
    end = inv.sections[(scenario, "end_units")]
    value = inv.sections[(scenario, "inventory_value")]
    cost = inv.sections[(scenario, "unit_cost")]
    units = ctx.d.opening_units.astype(np.float64)
    grid.put_column(end.first, col, opening_formulas, units.tolist(), Style.UNITS)
    opening_value = ctx.d.opening_value[si]
    value_formulas = [f"{opening_col}{end.row(f)}*{first_month}{cost.row(f)}"
                      for f in range(len(ctx.families))]
    grid.put_column(value.first, col, value_formulas, opening_value.tolist(), Style.MONEY)
    for section, values, style in ((end, units, Style.UNITS), (value, opening_value, Style.MONEY)):
        if section.total is None:
            continue
        formula = f"SUM({opening_col}{section.first}:{opening_col}{section.last})" \
            if section.count else "0"
        grid.put_column(section.total, col, [formula],
                        [float(total_values(values.reshape(-1, 1))[0, 0])], BOLD[style])
