"""The Cash sheet's working capital: per scenario and month, receivables from revenue (DSO),
payables from production cost (DPO), inventory value, net working capital, its change and
its cash effect; the cash conversion cycle (DIO + DSO - DPO) and inventory turnover by month,
and by fiscal quarter and year in a block of their own.

Every figure is a formula over the output sheets' total rows, the DSO and DPO rows (the
Settings' days, one per month, which a planner may change month by month) and the sheet's
Days row; the cached values are ``sopfin.engine.capital.capital_plan`` and
``sopfin.engine.working_capital.cycle_by_period``. Before the horizon, receivables and
payables stand at the first month's level, so the first month's change is the inventory build.
A period's ratios sum its months' flows and days and take its last month's balances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin.calendar import Periods, fiscal_quarters, fiscal_years
from sopfin.engine.capital import CapitalPlan, capital_plan
from sopfin.engine.working_capital import cycle_by_period
from sopfin.layout import column_letter
from sopfin.render.context import RenderContext
from sopfin.render.grid import Grid, Section, fill, put_row_totals
from sopfin.sheetspec import Formulas, Style

ROWS = ("revenue", "production_cost", "dso_terms", "dpo_terms", "receivables", "payables",
        "inventory", "net_working_capital", "change", "cash_effect", "cogs", "dio", "dso",
        "dpo", "ccc", "turnover")
RATIOS = ("dio", "dso", "dpo", "ccc", "turnover")
LABELS = {
    "revenue": "Revenue",
    "production_cost": "Production cost",
    "dso_terms": "DSO terms (days)",
    "dpo_terms": "DPO terms (days)",
    "receivables": "Receivables",
    "payables": "Payables",
    "inventory": "Inventory value",
    "net_working_capital": "Net working capital",
    "change": "Change in working capital",
    "cash_effect": "Cash effect of working capital",
    "cogs": "COGS",
    "dio": "DIO (days)",
    "dso": "DSO (days)",
    "dpo": "DPO (days, on COGS)",
    "ccc": "Cash conversion cycle (days)",
    "turnover": "Inventory turnover",
}
TERMS = ("dso_terms", "dpo_terms")  # constants: the Settings' days, per month
FLOWS = ("revenue", "production_cost", "change", "cash_effect", "cogs")
PERIOD_TITLE = "Working capital by fiscal quarter and year"


@dataclass(frozen=True)
class CapitalLayout:
    rows: dict[tuple[str, str], int]  # (scenario, row name) -> sheet row
    period_header: int
    period_rows: dict[tuple[str, str], int]  # (scenario, ratio) -> sheet row
    periods: tuple[str, ...]
    first: tuple[int, ...]  # per period: index of its first and last month
    last: tuple[int, ...]


@dataclass(frozen=True)
class Sources:
    """Per scenario, the rows the working capital reads: (sheet prefix, row) or a Cash row."""

    revenue: tuple[str, int]  # the COGS sheet's revenue total (prefix, row)
    production_cost: tuple[str, int]  # the Inventory sheet's production cost total
    revenue_cols: tuple[str, ...]  # the month columns of those two sheets
    production_cost_cols: tuple[str, ...]
    inventory: int  # the Cash sheet's rows: inventory value at the end, at the start, COGS
    inventory_start: int
    cogs: int


def capital_periods(ctx: RenderContext) -> tuple[Periods, Periods]:
    start = ctx.plan.settings.fiscal_year_start
    return fiscal_quarters(ctx.months, start), fiscal_years(ctx.months, start)


def layout_capital(ctx: RenderContext, grid: Grid) -> CapitalLayout:
    rows = {}
    for scenario in ctx.scenarios:
        section = grid.allocate(len(ROWS), total=False)
        rows.update({(scenario, name): section.row(i) for i, name in enumerate(ROWS)})
    grid.skip()
    period_header = grid.cursor
    grid.skip()
    period_rows = {}
    for scenario in ctx.scenarios:
        section = grid.allocate(len(RATIOS), total=False)
        period_rows.update({(scenario, name): section.row(i) for i, name in enumerate(RATIOS)})
    quarters, years = capital_periods(ctx)
    return CapitalLayout(rows, period_header, period_rows, quarters.labels + years.labels,
                         tuple(int(i) for i in (*quarters.first, *years.first)),
                         tuple(int(i) for i in (*quarters.last, *years.last)))


def _monthly_ratios(plan: CapitalPlan, months: Sequence[str]) -> dict[str, np.ndarray]:
    return cycle_by_period(plan.revenue, plan.cogs, plan.inventory, plan.receivables,
                           plan.payables, months)


def _period_ratios(ctx: RenderContext, plan: CapitalPlan) -> dict[str, np.ndarray]:
    per = [cycle_by_period(plan.revenue, plan.cogs, plan.inventory, plan.receivables,
                           plan.payables, ctx.months, p) for p in capital_periods(ctx)]
    return {name: np.concatenate([p[name] for p in per], axis=-1) for name in RATIOS}


def _templates(src: Sources, at: dict[str, int], days_row: int) -> dict[str, str]:
    """The month template of each row; ``{c}`` is the month's column."""
    days = f"{{c}}${days_row}"
    return {
        "revenue": f"{src.revenue[0]}{{rc}}{src.revenue[1]}",
        "production_cost": f"{src.production_cost[0]}{{pc}}{src.production_cost[1]}",
        "receivables": f"{{c}}{at['revenue']}*{{c}}{at['dso_terms']}/{days}",
        "payables": f"{{c}}{at['production_cost']}*{{c}}{at['dpo_terms']}/{days}",
        "inventory": f"{{c}}{src.inventory}",
        "net_working_capital": f"{{c}}{at['receivables']}+{{c}}{at['inventory']}"
                               f"-{{c}}{at['payables']}",
        "change": f"{{c}}{at['net_working_capital']}-{{p}}{at['net_working_capital']}",
        "cash_effect": f"-{{c}}{at['change']}",
        "cogs": f"{{c}}{src.cogs}",
        "dio": f'IF({{c}}{at["cogs"]}=0,"",{{c}}{at["inventory"]}/{{c}}{at["cogs"]}*{days})',
        "dso": f'IF({{c}}{at["revenue"]}=0,"",{{c}}{at["receivables"]}/{{c}}{at["revenue"]}'
               f"*{days})",
        "dpo": f'IF({{c}}{at["cogs"]}=0,"",{{c}}{at["payables"]}/{{c}}{at["cogs"]}*{days})',
        "ccc": f'IF(OR({{c}}{at["cogs"]}=0,{{c}}{at["revenue"]}=0),"",{{c}}{at["dio"]}'
               f'+{{c}}{at["dso"]}-{{c}}{at["dpo"]})',
        "turnover": f'IF({{c}}{at["inventory"]}=0,"",{{c}}{at["cogs"]}/{{c}}{at["inventory"]})',
    }


def put_capital(ctx: RenderContext, grid: Grid, lay: CapitalLayout,
                sources: dict[str, Sources], days_row: int) -> None:
    """The working-capital rows of every scenario, then the block by quarter and year."""
    settings = ctx.plan.settings
    plan = capital_plan(ctx.d, settings.dso_days, settings.dpo_days)
    ratios = _monthly_ratios(plan, ctx.months)
    m = len(ctx.months)
    for si, scenario in enumerate(ctx.scenarios):
        at = {name: lay.rows[(scenario, name)] for name in ROWS}
        cols = {"c": grid.month_cols, "p": grid.prev_cols,
                "rc": sources[scenario].revenue_cols,
                "pc": sources[scenario].production_cost_cols}
        templates = _templates(sources[scenario], at, days_row)
        values = {"revenue": plan.revenue[si], "production_cost": plan.production_cost[si],
                  "dso_terms": np.full(m, settings.dso_days),
                  "dpo_terms": np.full(m, settings.dpo_days),
                  "receivables": plan.receivables[si], "payables": plan.payables[si],
                  "inventory": plan.inventory[si],
                  "net_working_capital": plan.net_working_capital[si],
                  "change": plan.change[si], "cash_effect": plan.cash_effect[si],
                  "cogs": plan.cogs[si], **{r: ratios[r][si] for r in RATIOS}}
        first_change = f"{{c}}{at['inventory']}-{{c}}{sources[scenario].inventory_start}"
        for name in ROWS:
            row = at[name]
            grid.put_keys(row, [(scenario, "Total", LABELS[name])])
            cached = np.asarray(values[name], dtype=np.float64).reshape(1, m)
            style = Style.DAYS if name in RATIOS + TERMS else Style.MONEY
            if name in TERMS:
                grid.put(row, grid.first_month_index, cached, style=style)
                continue
            first = first_change if name == "change" else None
            formulas: Formulas = fill(templates[name], 1, {}, cols, first=first)
            grid.put_months(row, formulas, _blank_nonfinite(cached), style)
            if name in FLOWS:
                put_row_totals(grid, Section(row, 1), cached, style)
    _put_periods(ctx, grid, lay, plan, days_row)


def _put_periods(ctx: RenderContext, grid: Grid, lay: CapitalLayout, plan: CapitalPlan,
                 days_row: int) -> None:
    if not lay.periods:
        return
    grid.put(lay.period_header, 1, [["", "", PERIOD_TITLE]], style=Style.HEADER)
    grid.put(lay.period_header, grid.first_month_index, [list(lay.periods)],
             style=Style.MONTH_HEADER)
    ratios = _period_ratios(ctx, plan)
    month_cols = grid.month_cols
    for si, scenario in enumerate(ctx.scenarios):
        at = {name: lay.rows[(scenario, name)] for name in ROWS}
        for name in RATIOS:
            row = lay.period_rows[(scenario, name)]
            formulas = [_period_formula(name, at, month_cols[a], month_cols[b],
                                        _column(grid, k), lay.period_rows, scenario, days_row)
                        for k, (a, b) in enumerate(zip(lay.first, lay.last, strict=True))]
            grid.put_keys(row, [(scenario, "Total", f"{LABELS[name]}, by period")])
            grid.put(row, grid.first_month_index,
                     _blank_nonfinite(ratios[name][si].reshape(1, -1)),
                     np.array([formulas], dtype=object), Style.DAYS)


def _column(grid: Grid, k: int) -> str:
    return column_letter(grid.first_month_index + k)


def _period_formula(name: str, at: dict[str, int], first: str, last: str, here: str,
                    period_rows: dict[tuple[str, str], int], scenario: str,
                    days_row: int) -> str:
    def total(row_name: str) -> str:
        return f"SUM({first}{at[row_name]}:{last}{at[row_name]})"

    days = f"SUM({first}${days_row}:{last}${days_row})"
    inventory, receivables, payables = (f"{last}{at[n]}" for n in
                                        ("inventory", "receivables", "payables"))
    if name == "dio":
        return f'IF({total("cogs")}=0,"",{inventory}/{total("cogs")}*{days})'
    if name == "dso":
        return f'IF({total("revenue")}=0,"",{receivables}/{total("revenue")}*{days})'
    if name == "dpo":
        return f'IF({total("cogs")}=0,"",{payables}/{total("cogs")}*{days})'
    if name == "ccc":
        dio, dso, dpo = (f"{here}{period_rows[(scenario, n)]}" for n in ("dio", "dso", "dpo"))
        return f'IF(OR({total("cogs")}=0,{total("revenue")}=0),"",{dio}+{dso}-{dpo})'
    return f'IF({inventory}=0,"",{total("cogs")}/{inventory})'


def _blank_nonfinite(values: np.ndarray) -> np.ndarray:
    """NaN (a blank cell) where a ratio is not finite; a cached value is never infinite."""
    return np.where(np.isfinite(values), values, np.nan)
