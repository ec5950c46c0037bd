"""The Cash sheet's stranded and excess stock, per scenario, family and month, in units and
dollars (``sopfin.engine.stranded``, through ``sopfin.engine.capital.exposure``).

Stranded: the month's ending stock when the family's demand in the next N months (Settings,
``Stranded horizon (months)``) adds up to zero. Excess: the ending stock above the units the
next ``Target cover (days)`` days of the shipment plan take (each later month's shipments at
an even daily rate), stranded stock not counted twice. A month whose look-ahead passes the
horizon's end is blank: the plan cannot judge it. The formulas read the Inventory sheet's
demand, ending stock, shipments and unit cost; a later month's share of the target cover is a
constant of the calendar, written into the formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopfin.engine.capital import exposure
from sopfin.render.context import RenderContext
from sopfin.render.grid import Grid, Section, fill, put_section
from sopfin.render.inventory import InventoryLayout
from sopfin.render.refs import sheet_prefix
from sopfin.sheetspec import FormulaGrid, Formulas, Style

MEASURES = ("stranded_units", "stranded_value", "excess_units", "excess_value")
LABELS = {
    "stranded_units": "Stranded stock (units)",
    "stranded_value": "Stranded stock value",
    "excess_units": "Excess stock (units)",
    "excess_value": "Excess stock value",
}
NOT_JUDGED = '""'


@dataclass(frozen=True)
class ExposureLayout:
    sections: dict[tuple[str, str], Section]  # (scenario, measure) -> family rows and total


def layout_exposure(ctx: RenderContext, grid: Grid) -> ExposureLayout:
    sections = {}
    for scenario in ctx.scenarios:
        for measure in MEASURES:
            sections[(scenario, measure)] = grid.allocate(len(ctx.families))
        grid.skip()
    return ExposureLayout(sections)


def cover_shares(days: np.ndarray, t: int, target_days: float) -> list[str | None] | None:
    """Per later month, the share of its shipments inside the ``target_days`` after month
    t's end (as ``sopfin.engine.stranded.forward_units``) as formula text: '' for all of it,
    '*14/31' for 14 of its 31 days, None for none; None for the whole list past the
    horizon's end. Days, not a decimal share, so that a spreadsheet app that re-spells
    numbers to 15 digits on saving leaves the formula as sopfin wrote it."""
    later = days[t + 1:]
    if target_days > later.sum():
        return None
    start = np.cumsum(later) - later
    inside = np.clip(target_days - start, 0.0, later)
    return [None if d <= 0 else "" if d == n else f"*{d:.15g}/{n:.15g}"
            for d, n in zip(inside.tolist(), later.tolist(), strict=True)]


def put_exposure(ctx: RenderContext, grid: Grid, lay: ExposureLayout,
                 inv: InventoryLayout) -> None:
    settings = ctx.plan.settings
    ahead, target = settings.stranded_months, settings.target_cover_days
    found = exposure(ctx.d, ahead, target)
    days = np.asarray(ctx.d.days_in_month, dtype=np.float64)
    shares = [cover_shares(days, t, target) for t in range(len(ctx.months))]
    for si, scenario in enumerate(ctx.scenarios):
        sec = {m: lay.sections[(scenario, m)] for m in MEASURES}
        formulas = {
            "stranded_units": _stranded(ctx, inv, scenario, ahead),
            "stranded_value": _valued(ctx, grid, inv, scenario, sec["stranded_units"]),
            "excess_units": _excess(ctx, grid, inv, scenario, sec["stranded_units"], shares),
            "excess_value": _valued(ctx, grid, inv, scenario, sec["excess_units"]),
        }
        for measure in MEASURES:
            style = Style.UNITS if measure.endswith("_units") else Style.MONEY
            put_section(grid, sec[measure],
                        [(scenario, f, LABELS[measure]) for f in ctx.families],
                        formulas[measure], found[measure][si], style,
                        total_key=(scenario, "Total", LABELS[measure]))


def _inventory_rows(inv: InventoryLayout, scenario: str, measure: str) -> list[int]:
    return list(inv.sections[(scenario, measure)].rows)


def _unused(count: int) -> str:
    """Formats that take ``count`` row arguments and print nothing (a column that does not
    read them, in a grid whose every column takes the same arguments)."""
    return "%.0s" * count


def _stranded(ctx: RenderContext, inv: InventoryLayout, scenario: str,
              ahead: int) -> FormulaGrid:
    prefix, cols = sheet_prefix(inv.grid.name), inv.grid.month_cols
    m = len(cols)
    texts = [f"IF(SUM({prefix}{cols[t + 1]}%s:{cols[t + ahead]}%s)=0,"
             f"MAX(0,{prefix}{cols[t]}%s),0)" if t < m - ahead else NOT_JUDGED + _unused(3)
             for t in range(m)]
    demand = _inventory_rows(inv, scenario, "demand_units")
    end = _inventory_rows(inv, scenario, "end_units")
    return FormulaGrid(tuple(texts), (demand, demand, end), len(ctx.families))


def _valued(ctx: RenderContext, grid: Grid, inv: InventoryLayout, scenario: str,
            units: Section) -> Formulas:
    """Units x the month's unit cost, blank where the units are."""
    prefix = sheet_prefix(inv.grid.name)
    template = f'IF({{c}}{{u}}="","",{{c}}{{u}}*{prefix}{{ic}}{{k}})'
    rows = {"u": list(units.rows), "k": _inventory_rows(inv, scenario, "unit_cost")}
    return fill(template, len(ctx.families), rows,
                {"c": grid.month_cols, "ic": inv.grid.month_cols})


def _excess(ctx: RenderContext, grid: Grid, inv: InventoryLayout, scenario: str,
            stranded: Section, shares: list[list[str | None] | None]) -> FormulaGrid:
    """The arguments of every column: the stranded cell's row, the ending stock's, then the
    shipments' row once per later month inside the target cover (the most any month needs)."""
    prefix, cols = sheet_prefix(inv.grid.name), inv.grid.month_cols
    used = [[(k, s) for k, s in enumerate(share) if s is not None] if share is not None
            else None for share in shares]
    most = max((len(u) for u in used if u is not None), default=0)
    texts = []
    for t, terms in enumerate(used):
        if terms is None:
            texts.append(NOT_JUDGED + _unused(2 + most))
            continue
        cover = "+".join(f"{prefix}{cols[t + 1 + k]}%s{s}" for k, s in terms) or "0"
        texts.append(f'IF(COUNTIF({grid.month_cols[t]}%s,">0"),0,'
                     f"MAX(0,{prefix}{cols[t]}%s-({cover})))" + _unused(most - len(terms)))
    ship = _inventory_rows(inv, scenario, "shipments_units")
    end = _inventory_rows(inv, scenario, "end_units")
    args = (list(stranded.rows), end, *([ship] * most))
    return FormulaGrid(tuple(texts), args, len(ctx.families))
