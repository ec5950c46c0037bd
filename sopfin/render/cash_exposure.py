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
from sopfin.render.grid import Grid, Section, put_section
from sopfin.render.inventory import InventoryLayout
from sopfin.render.refs import sheet_prefix
from sopfin.sheetspec import Style

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


def cover_shares(days: np.ndarray, t: int, target_days: float) -> list[float] | None:
    """The share of each later month's shipments inside the ``target_days`` after month t's
    end (as ``sopfin.engine.stranded.forward_units``); None past the horizon's end."""
    later = days[t + 1:]
    if target_days > later.sum():
        return None
    start = np.cumsum(later) - later
    return [float(s) for s in np.clip(target_days - start, 0.0, later) / later]


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


def _stranded(ctx: RenderContext, inv: InventoryLayout, scenario: str,
              ahead: int) -> np.ndarray:
    prefix, cols = sheet_prefix(inv.grid.name), inv.grid.month_cols
    m = len(cols)
    demand = _inventory_rows(inv, scenario, "demand_units")
    end = _inventory_rows(inv, scenario, "end_units")
    out = np.full((len(ctx.families), m), NOT_JUDGED, dtype=object)
    for f in range(len(ctx.families)):
        for t in range(m - ahead):
            upcoming = f"SUM({prefix}{cols[t + 1]}{demand[f]}:{cols[t + ahead]}{demand[f]})"
            out[f, t] = f"IF({upcoming}=0,MAX(0,{prefix}{cols[t]}{end[f]}),0)"
    return out


def _valued(ctx: RenderContext, grid: Grid, inv: InventoryLayout, scenario: str,
            units: Section) -> np.ndarray:
    """Units x the month's unit cost, blank where the units are."""
    prefix, cols = sheet_prefix(inv.grid.name), inv.grid.month_cols
    cost = _inventory_rows(inv, scenario, "unit_cost")
    return np.array([[f'IF({c}{units.row(f)}="","",{c}{units.row(f)}*{prefix}{ic}{cost[f]})'
                      for c, ic in zip(grid.month_cols, cols, strict=True)]
                     for f in range(len(ctx.families))], dtype=object)


def _excess(ctx: RenderContext, grid: Grid, inv: InventoryLayout, scenario: str,
            stranded: Section, shares: list[list[float] | None]) -> np.ndarray:
    prefix, cols = sheet_prefix(inv.grid.name), inv.grid.month_cols
    ship = _inventory_rows(inv, scenario, "shipments_units")
    end = _inventory_rows(inv, scenario, "end_units")
    out = np.full((len(ctx.families), len(cols)), NOT_JUDGED, dtype=object)
    for t, share in enumerate(shares):
        if share is None:
            continue
        for f in range(len(ctx.families)):
            terms = [f"{prefix}{cols[t + 1 + k]}{ship[f]}" + ("" if s == 1.0 else f"*{s!r}")
                     for k, s in enumerate(share) if s > 0]
            cover = "+".join(terms) or "0"
            held = f"{grid.month_cols[t]}{stranded.row(f)}"
            out[f, t] = (f'IF(COUNTIF({held},">0"),0,'
                         f"MAX(0,{prefix}{cols[t]}{end[f]}-({cover})))")
    return out
