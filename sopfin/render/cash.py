"""The Cash sheet: inventory value at the start and end of each month, the cash effect of
the change (a build consumes cash, a drawdown releases it), COGS and days of inventory on
hand, per scenario and family. A Days row holds the calendar days of each month. Below them,
per scenario, the working capital (``sopfin.render.cash_capital``) and the stranded and
excess stock (``sopfin.render.cash_exposure``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.render.cash_capital import CapitalLayout, Sources, layout_capital, put_capital
from sopfin.render.cash_exposure import ExposureLayout, layout_exposure, put_exposure
from sopfin.render.cogs import CogsLayout, ratio
from sopfin.render.context import RenderContext
from sopfin.render.grid import BOLD, Grid, Section, fill, put_row_totals, put_section, total_values
from sopfin.render.inventory import InventoryLayout
from sopfin.render.refs import sheet_prefix
from sopfin.sheetspec import SheetSpec, Style

KEYS = ("Scenario", "Family", "Measure")
LEAD = ("Total",)
DAYS_ROW = 3
MEASURES = ("value_start", "value_end", "inventory_cash", "cogs", "dio")
LABELS = {
    "value_start": "Inventory value, start",
    "value_end": "Inventory value, end",
    "inventory_cash": "Cash effect of inventory",
    "cogs": "COGS",
    "dio": "Days of inventory",
}
FLOWS = ("inventory_cash", "cogs")


@dataclass(frozen=True)
class CashLayout:
    grid: Grid
    sections: dict[tuple[str, str], Section]
    exposure: ExposureLayout
    capital: CapitalLayout


def layout_cash(ctx: RenderContext) -> CashLayout:
    grid = Grid(layout.CASH, KEYS, LEAD, ctx.months, cursor=DAYS_ROW + 2)
    sections = {}
    for scenario in ctx.scenarios:
        for measure in MEASURES:
            sections[(scenario, measure)] = grid.allocate(len(ctx.families))
        grid.skip()
    exposure = layout_exposure(ctx, grid)
    return CashLayout(grid, sections, exposure, layout_capital(ctx, grid))


def days_of_inventory(value: np.ndarray, cogs: np.ndarray, days: np.ndarray) -> np.ndarray:
    """value / COGS x days in month; NaN (blank) where COGS is zero."""
    with np.errstate(over="ignore"):
        days_of = ratio(value, cogs) * days
    return np.where(np.isfinite(days_of), days_of, np.nan)


def render_cash(ctx: RenderContext, lay: CashLayout, inv: InventoryLayout,
                cogs: CogsLayout) -> SheetSpec:
    grid = lay.grid
    grid.title(ctx.title("Inventory cash"))
    grid.header()
    days = np.asarray(ctx.d.days_in_month, dtype=np.float64)
    grid.put(DAYS_ROW, 1, [["", "", "Days in month"]], style=Style.NOTE)
    grid.put(DAYS_ROW, grid.first_month_index, [days.tolist()], style=Style.DAYS)
    n = len(ctx.families)
    inv_prefix, cogs_prefix = sheet_prefix(layout.INVENTORY), sheet_prefix(layout.COGS)
    inv_prev = (inv.grid.lead_col("Opening"),) + inv.grid.month_cols[:-1]
    cols = {"c": grid.month_cols, "ic": inv.grid.month_cols, "ip": inv_prev,
            "cc": cogs.grid.month_cols}
    fam = ctx.d.fam
    for si, scenario in enumerate(ctx.scenarios):
        sec = {m: lay.sections[(scenario, m)] for m in MEASURES}
        rows: dict[str, list[object]] = {m: list(sec[m].rows) for m in MEASURES}
        rows["V"] = list(inv.sections[(scenario, "inventory_value")].rows)
        rows["C"] = list(cogs.sections[(scenario, "cogs")].rows)
        end_value = fam["inventory_value"][si]
        start_value = np.concatenate((ctx.d.opening_value[si].reshape(n, 1), end_value[:, :-1]),
                                     axis=1)
        blocks = {
            "value_start": (f"{inv_prefix}{{ip}}{{V}}", start_value),
            "value_end": (f"{inv_prefix}{{ic}}{{V}}", end_value),
            "inventory_cash": ("{c}{value_start}-{c}{value_end}", fam["inventory_cash"][si]),
            "cogs": (f"{cogs_prefix}{{cc}}{{C}}", fam["cogs"][si]),
        }
        for measure, (template, values) in blocks.items():
            put_section(grid, sec[measure], [(scenario, f, LABELS[measure]) for f in ctx.families],
                        fill(template, n, rows, cols), values, Style.MONEY,
                        total_key=(scenario, "Total", LABELS[measure]))
            if measure in FLOWS:
                put_row_totals(grid, sec[measure], values, Style.MONEY)
        _put_dio(ctx, grid, sec, scenario, end_value, fam["cogs"][si], days)
    put_exposure(ctx, grid, lay.exposure, inv)
    put_capital(ctx, grid, lay.capital, _capital_sources(ctx, lay, inv, cogs), DAYS_ROW)
    return grid.spec(freeze_cols=len(KEYS) + len(LEAD), widths={1: 12.0, 2: 14.0, 3: 24.0},
                     freeze_rows=DAYS_ROW)


def _put_dio(ctx: RenderContext, grid: Grid, sec: dict[str, Section], scenario: str,
             value: np.ndarray, cogs: np.ndarray, days: np.ndarray) -> None:
    dio, end, cogs_rows = sec["dio"], sec["value_end"], sec["cogs"]
    template = 'IF({c}{cogs}=0,"",{c}{value}/{c}{cogs}*{c}$' + str(DAYS_ROW) + ")"
    cols = {"c": grid.month_cols}
    n = len(ctx.families)
    formulas = fill(template, n, {"cogs": list(cogs_rows.rows), "value": list(end.rows)}, cols)
    label = LABELS["dio"]
    grid.put_keys(dio.first, [(scenario, f, label) for f in ctx.families])
    grid.put_months(dio.first, formulas, days_of_inventory(value, cogs, days), Style.DAYS)
    if dio.total is not None:
        total = fill(template, 1, {"cogs": [cogs_rows.total], "value": [end.total]}, cols)
        grid.put_keys(dio.total, [(scenario, "Total", label)])
        grid.put_months(dio.total, total,
                        days_of_inventory(total_values(value), total_values(cogs), days),
                        BOLD.get(Style.DAYS, Style.DAYS))


def _capital_sources(ctx: RenderContext, lay: CashLayout, inv: InventoryLayout,
                     cogs: CogsLayout) -> dict[str, Sources]:
    """Per scenario, the total rows the working capital reads."""
    return {scenario: Sources(
        revenue=(sheet_prefix(layout.COGS), cogs.sections[(scenario, "revenue")].total_row),
        production_cost=(sheet_prefix(layout.INVENTORY),
                         inv.sections[(scenario, "production_cost")].total_row),
        revenue_cols=cogs.grid.month_cols, production_cost_cols=inv.grid.month_cols,
        inventory=lay.sections[(scenario, "value_end")].total_row,
        inventory_start=lay.sections[(scenario, "value_start")].total_row,
        cogs=lay.sections[(scenario, "cogs")].total_row) for scenario in ctx.scenarios}
