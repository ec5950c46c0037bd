"""The P&L sheet: per scenario, revenue, COGS, gross margin, operating expenses by department
(accounts grouped beneath each department's total, so a department folds open) and EBITDA,
each by month, fiscal quarter and fiscal year, as plan, budget, variance, variance %, actual
and the latest estimate.

Every figure is a live formula with the engine's cached value. Revenue and COGS read the
Summary's plan (dollarized + named overrides) and budget rows; an opex line reads its cells
on sheet Opex (a driver line: its Rate cell times the driver's cells on Inventory or
Revenue), its budget on Budget and its actual on Actuals. The Actual row holds the actual of
each closed month and is blank after: for revenue and COGS the months with a family actual
(the close's rule, summed from Actuals by SUMIFS on the measure), for opex the months with an
opex actual (0 for a line that booked nothing), for gross margin and EBITDA the months closed
for all their parts; a quarter or year sums its closed months (blank when none is). The
latest estimate reads the Actual row in a closed month and the Plan row after. Quarters and
years sum their months; margins, totals and variances are computed in every column. Without
opex lines the sheet has no opex rows and EBITDA is gross margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from sopfin import layout
from sopfin.calendar import fiscal_quarters, fiscal_years
from sopfin.engine.opex import Opex, closed_months
from sopfin.engine.summary import monthly_overrides
from sopfin.layout import column_letter
from sopfin.model import Table, sheet_row
from sopfin.render.context import RenderContext
from sopfin.render.grid import BOLD, Grid
from sopfin.render.inventory import InventoryLayout
from sopfin.render.refs import sheet_prefix, text_literal
from sopfin.render.revenue import KEYS as REVENUE_KEYS
from sopfin.render.revenue import RevenueLayout
from sopfin.render.summary_sheet import SummaryLayout
from sopfin.sheetspec import SheetSpec, Style

KEYS = ("Scenario", "Line", "Account", "Basis")
BASES = ("Plan", "Budget", "Variance", "Variance %", "Actual", "Latest estimate")
# the bases read from sources or summed from parts; the variances derive from plan and budget
FIGURES = ("Plan", "Budget", "Actual", "Latest estimate")
HEADER_ROW = 2


@dataclass(frozen=True)
class Item:
    """One P&L line of a scenario: its basis rows (``BASES``) from ``first``."""

    line: str  # 'Revenue', 'COGS', 'Gross margin', a department, 'Opex', 'EBITDA'
    account: str  # an account, 'Total' for a department's total, '' otherwise
    first: int
    level: int = 0  # outline level: 1 for accounts, grouped under their department

    def row(self, basis: str) -> int:
        return self.first + BASES.index(basis)


@dataclass(frozen=True)
class PnlLayout:
    grid: Grid
    items: dict[str, list[Item]]  # scenario -> its items in sheet order
    spans: list[tuple[int, int]]  # first and last month of each quarter, then each year


def layout_pnl(ctx: RenderContext, opex: Opex) -> PnlLayout:
    start = ctx.plan.settings.fiscal_year_start
    quarters, years = fiscal_quarters(ctx.months, start), fiscal_years(ctx.months, start)
    grid = Grid(layout.PNL, KEYS, (), tuple(ctx.months) + quarters.labels + years.labels,
                header_row=HEADER_ROW)
    items: dict[str, list[Item]] = {}
    for scenario in ctx.scenarios:
        items[scenario] = [_take(grid, line) for line in ("Revenue", "COGS", "Gross margin")]
        for k, dept in enumerate(opex.departments):
            for account in [a for (d, a), of in zip(opex.lines, opex.department_of_line,
                                                    strict=True) if of == k and d == dept]:
                items[scenario].append(_take(grid, dept, account, level=1))
            items[scenario].append(_take(grid, dept, "Total"))
        if opex.departments:
            items[scenario].append(_take(grid, "Opex"))
        items[scenario].append(_take(grid, "EBITDA"))
        grid.skip()
    spans = [(int(p.first[k]), int(p.last[k])) for p in (quarters, years) for k in range(len(p))]
    return PnlLayout(grid, items, spans)


def _take(grid: Grid, line: str, account: str = "", level: int = 0) -> Item:
    item = Item(line, account, grid.cursor, level)
    grid.skip(len(BASES))
    return item


# ----------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class PnlSources:
    """Where the figures come from: the other sheets' layouts and the engine's figures."""

    ctx: RenderContext
    opex: Opex
    summary: SummaryLayout
    revenue: RevenueLayout
    inventory: InventoryLayout
    family_actuals: Table | None
    opex_actuals: Table | None

    @property
    def months(self) -> int:
        return len(self.ctx.months)


# per month: formulas and cached values (an Actual: None and NaN in an open month)
Monthly = tuple[Sequence[str | None], np.ndarray]


def _summary_row(src: PnlSources, s: int, measure: str, basis: str) -> Monthly:
    scenario = src.ctx.scenarios[s]
    row = src.summary.rows[(scenario, measure, basis)]
    prefix = sheet_prefix(layout.SUMMARY)
    cols = src.summary.grid.month_cols[:src.months]
    d = src.ctx.d
    if basis == "Budget":
        values = d.budget["revenue" if measure == "revenue" else "cogs"].sum(axis=0)
    else:
        added = monthly_overrides(d, src.ctx.overrides)
        values = d.fam["revenue" if measure == "revenue" else "cogs"][s].sum(axis=0) \
            + added["revenue" if measure == "revenue" else "cogs"][s]
    return [f"{prefix}{c}{row}" for c in cols], np.asarray(values, dtype=np.float64)


def _family_actual(src: PnlSources, measure: str) -> Monthly:
    """Per month: SUMIFS of the Actuals cells of ``measure`` (``0`` without Actuals)."""
    table = src.family_actuals
    if table is None or not len(table):
        return ["0"] * src.months, np.zeros(src.months)
    prefix, first, last = sheet_prefix(table.sheet), table.first_row, table.last_row
    key = table.key_col("measure")
    formulas = [f"SUMIFS({prefix}{c}${first}:{c}${last},{prefix}${key}${first}:${key}${last},"
                f"{text_literal(measure)})" for c in table.value_cols]
    rows = (table.keys["measure"] == measure).astype(bool)
    values = np.nansum(table.values[rows], axis=0) if rows.any() else np.zeros(src.months)
    return formulas, np.asarray(values, dtype=np.float64)


def _actual(actual: Monthly, closed: np.ndarray) -> Monthly:
    """The actual of the closed months (a missing figure counts 0); blank in open months."""
    formulas = [f if closed[j] else None for j, f in enumerate(actual[0])]
    return formulas, np.where(closed, np.nan_to_num(actual[1]), np.nan)


def _estimate(item: Item, cols: Sequence[str], plan: np.ndarray, actual: Monthly,
              closed: np.ndarray) -> Monthly:
    """The Actual row's cell in a closed month, the Plan row's after."""
    formulas: list[str | None] = [
        f"{c}{item.row('Actual') if closed[j] else item.row('Plan')}" for j, c in enumerate(cols)]
    return formulas, np.where(closed, np.nan_to_num(actual[1]), plan)


def _opex_plan(src: PnlSources, s: int, line: int) -> Monthly:
    """An opex line's plan: its cells on Opex, or its Rate cell times its driver's cells."""
    values = src.opex.plan[s, line]
    row = int(src.opex.plan_row[s, line])
    table = src.ctx.plan.opex
    if row < 0 or table is None:
        return ["0"] * src.months, values
    prefix, at = sheet_prefix(table.sheet), sheet_row(table.keys, row)
    driver = str(table.keys["driver"][row])
    if not driver:
        return [f"{prefix}{c}{at}" for c in table.value_cols], values
    rate = f"{prefix}${table.key_col('rate')}${at}"
    refs = _driver_refs(src, s, driver, str(table.keys["driver_of"][row]))
    return [f"{rate}*{ref}" for ref in refs], values


def _driver_refs(src: PnlSources, s: int, driver: str, scope: str) -> list[str]:
    """Per month, a reference to the driver's quantity on Inventory or Revenue."""
    scenario = src.ctx.scenarios[s]
    if driver == "revenue":
        rev = src.revenue
        section = rev.sections[(scenario, "revenue")]
        prefix, cols = sheet_prefix(layout.REVENUE), rev.grid.month_cols
        if not scope:
            return [f"{prefix}{c}{section.total_row}" for c in cols]
        ch = column_letter(REVENUE_KEYS.index("Channel") + 1)
        return [f"SUMIFS({prefix}{c}{section.first}:{c}{section.last},{prefix}${ch}"
                f"${section.first}:${ch}${section.last},{text_literal(scope)})" for c in cols]
    inv = src.inventory
    prefix, cols = sheet_prefix(layout.INVENTORY), inv.grid.month_cols

    def at(measure: str) -> int:
        section = inv.sections[(scenario, measure)]
        return section.row(src.ctx.families.index(scope)) if scope else section.total_row

    if driver == "units_shipped":
        return [f"{prefix}{c}{at('shipments_units')}" for c in cols]
    start, end = at("start_units"), at("end_units")
    return [f"({prefix}{c}{start}+{prefix}{c}{end})/2" for c in cols]


def _opex_cells(table: Table | None, line: tuple[str, str], months: int) -> list[str]:
    """Per month, the line's cells on Budget or Actuals (``0`` without a row)."""
    if table is None:
        return ["0"] * months
    rows = [i for i, key in enumerate(zip(table.keys["department"], table.keys["account"],
                                          strict=True)) if key == line]
    if not rows:
        return ["0"] * months
    prefix = sheet_prefix(table.sheet)
    sheet_rows = [sheet_row(table.keys, i) for i in rows]
    return ["+".join(f"{prefix}{c}{r}" for r in sheet_rows) for c in table.value_cols]


# ----------------------------------------------------------------------------- rendering
def render_pnl(src: PnlSources, lay: PnlLayout) -> SheetSpec:
    ctx, grid = src.ctx, lay.grid
    grid.title(ctx.title("P&L: plan vs budget, latest estimate"))
    grid.header()
    cols = grid.month_cols[:src.months]
    family_closed = closed_months(ctx.months, src.family_actuals)
    outline: dict[int, int] = {}
    for s, scenario in enumerate(ctx.scenarios):
        done: Done = {}
        for item in lay.items[scenario]:
            monthly = _figures(src, s, item, done, cols, family_closed)
            done[(item.line, item.account)] = (item, monthly)
            _put_item(grid, lay, scenario, item, monthly)
            if item.level:
                outline.update({r: item.level for r in range(item.first,
                                                               item.first + len(BASES))})
    spec = grid.spec(freeze_cols=len(KEYS), widths={1: 12.0, 2: 16.0, 3: 18.0, 4: 16.0})
    return replace(spec, row_outline=outline)


Done = dict[tuple[str, str], tuple[Item, dict[str, Monthly]]]  # the items rendered so far


def _figures(src: PnlSources, s: int, item: Item, done: Done, cols: Sequence[str],
             family_closed: np.ndarray) -> dict[str, Monthly]:
    """The item's Plan, Budget and Latest estimate per month."""
    if item.line in ("Revenue", "COGS"):
        measure = item.line.lower()
        plan = _summary_row(src, s, measure, "Plan")
        actual = _actual(_family_actual(src, measure), family_closed)
        return {"Plan": plan, "Budget": _summary_row(src, s, measure, "Budget"),
                "Actual": actual,
                "Latest estimate": _estimate(item, cols, plan[1], actual, family_closed)}
    if item.account and item.account != "Total":
        return _account_figures(src, s, item, cols)
    parts, sign = _parts(item, done, src)
    return {b: _combine(b, parts, sign, cols, done) for b in FIGURES}


def _account_figures(src: PnlSources, s: int, item: Item, cols: Sequence[str]
                     ) -> dict[str, Monthly]:
    o = src.opex
    line = o.lines.index((item.line, item.account))
    plan = _opex_plan(src, s, line)
    budget = _opex_cells(src.ctx.plan.opex_budget, o.lines[line], src.months), o.budget[line]
    booked: Monthly = (list(_opex_cells(src.opex_actuals, o.lines[line], src.months)),
                       o.actual[line])
    actual = _actual(booked, o.closed)
    return {"Plan": plan, "Budget": budget, "Actual": actual,
            "Latest estimate": _estimate(item, cols, plan[1], actual, o.closed)}


def _parts(item: Item, done: Done, src: PnlSources) -> tuple[list[tuple[str, str]], str]:
    """The items an item is made of, and how: '+' sums them, '-' takes the rest from the
    first."""
    if item.line == "Gross margin":
        return [("Revenue", ""), ("COGS", "")], "-"
    if item.line == "EBITDA":
        opex = [("Opex", "")] if ("Opex", "") in done else []
        return [("Gross margin", ""), *opex], "-"
    if item.line == "Opex":
        return [(d, "Total") for d in src.opex.departments], "+"
    return [(d, a) for d, a in done if d == item.line and a != "Total"], "+"


def _combine(basis: str, parts: list[tuple[str, str]], sign: str, cols: Sequence[str],
             done: Done) -> Monthly:
    """Formulas on the parts' rows of the same basis (rows of this sheet); an Actual only in
    the months every part has one (blank, NaN, in the others)."""
    rows = [done[part][0].row(basis) for part in parts]
    open_ = [any(done[part][1][basis][0][j] is None for part in parts) for j in range(len(cols))]
    formulas: list[str | None] = [None if open_[j] else sign.join(f"{c}{r}" for r in rows) or "0"
                                  for j, c in enumerate(cols)]
    values = [done[part][1][basis][1] for part in parts]
    if not values:
        return formulas, np.zeros(len(cols))
    total = values[0] - np.sum(values[1:], axis=0) if sign == "-" else np.sum(values, axis=0)
    return formulas, np.asarray(total, dtype=np.float64)


def _put_item(grid: Grid, lay: PnlLayout, scenario: str, item: Item,
              monthly: dict[str, Monthly]) -> None:
    base = Style.MONEY_WHOLE if item.level else BOLD[Style.MONEY_WHOLE]
    grid.put(item.first, 1, [[scenario, item.line, item.account or None, b] for b in BASES],
             style=Style.TEXT)
    m = len(next(iter(monthly.values()))[0])
    month_cols = grid.month_cols[:m]
    for basis in FIGURES:
        formulas, values = monthly[basis]
        row = item.row(basis)
        held = [not np.isnan(values[a:b + 1]).all() for a, b in lay.spans]  # Actual: any closed
        sums = [f"SUM({month_cols[a]}{row}:{month_cols[b]}{row})" if h else None
                for (a, b), h in zip(lay.spans, held, strict=True)]
        totals = [float(np.nansum(values[a:b + 1])) if h else np.nan
                  for (a, b), h in zip(lay.spans, held, strict=True)]
        grid.put_months(row, np.array([list(formulas) + sums], dtype=object),
                        np.array([list(values) + totals], dtype=np.float64), base)
    plan, budget = (np.array([*monthly[b][1], *[float(np.sum(monthly[b][1][a:c + 1]))
                                                for a, c in lay.spans]]) for b in FIGURES[:2])
    variance = plan - budget
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(budget != 0, variance / np.abs(budget), np.nan)
    p, b, v = item.row("Plan"), item.row("Budget"), item.row("Variance")
    all_cols = list(grid.month_cols)
    grid.put_months(v, np.array([[f"{c}{p}-{c}{b}" for c in all_cols]], dtype=object),
                    variance[None], base)
    grid.put_months(item.row("Variance %"),
                    np.array([[f'IF({c}{b}=0,"",{c}{v}/ABS({c}{b}))' for c in all_cols]],
                             dtype=object), share[None], Style.PERCENT)
