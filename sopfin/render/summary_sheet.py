"""The Summary sheet: plan, budget and gap per scenario by month, fiscal quarter and fiscal
year, a banner that warns when input tables were re-sorted since the last dollarize, and the
budget by family the budget rows add up.

Flows sum over a period's months; inventory value is the last month's balance; GM % is
recomputed from the period's revenue and margin. Revenue and COGS show the plan as one number:
a ``Dollarized`` row (the output sheets' totals), an ``Overrides`` row (the named overrides'
Amount cells on sheet Overrides, added by formula) and ``Plan``, their sum, which the budget
gap and gross margin use: the same plan the close's bridge ends at. The periods come from
``sopfin.calendar`` and the cached values from ``sopfin.engine.summary.summary_figures``, so the
sheet and the engine agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.calendar import Periods, fiscal_quarters, fiscal_years
from sopfin.close.records import Override
from sopfin.engine.capital import exposure
from sopfin.engine.results import BudgetMeasure
from sopfin.engine.summary import MEASURES, summary_figures
from sopfin.render.context import RenderContext
from sopfin.render.grid import BOLD, Grid, Section, put_section
from sopfin.render.refs import CHECK_MOVED, sheet_prefix, text_literal
from sopfin.sheetspec import SheetSpec, Style

KEYS = ("Scenario", "Measure", "Basis")
LEAD = ("Check",)
BANNER_ROW = 2
HEADER_ROW = 3
BANNER_TEXT = ("Inputs were re-sorted or edited since the last dollarize: "
               "run sopfin dollarize again")
BUDGETED = ("units", "revenue", "cogs", "gross_margin", "gm_pct")
OVERRIDDEN = ("revenue", "cogs")  # shown as Dollarized + Overrides = Plan
BASES = {"Dollarized": "dollarized", "Overrides": "overrides", "Plan": "plan",
         "Budget": "budget", "Gap": "gap"}
PLAN_ONLY = ("inventory_value", "inventory_cash", "revenue_at_risk")
LABELS = {
    "units": "Units shipped",
    "revenue": "Revenue",
    "cogs": "COGS",
    "gross_margin": "Gross margin",
    "gm_pct": "GM %",
    "inventory_value": "Inventory value (end)",
    "inventory_cash": "Cash effect of inventory",
    "revenue_at_risk": "Revenue at risk",
}
STYLES = {"units": Style.UNITS, "gm_pct": Style.PERCENT}
EXPOSURE_LABELS = {  # totals of the Cash sheet's rows, at each period's last month
    "stranded_units": "Stranded stock (units)", "stranded_value": "Stranded stock value",
    "excess_units": "Excess stock (units)", "excess_value": "Excess stock value"}
EXPOSURE_HEADING = ("Stranded and excess stock, all families (sheet Cash; a month the plan "
                    "cannot look far enough ahead from counts nothing)")
BUDGET_LABELS: dict[BudgetMeasure, str] = {
    "units": "Budget units", "revenue": "Budget revenue", "cogs": "Budget COGS"}


@dataclass(frozen=True)
class SummaryLayout:
    grid: Grid
    rows: dict[tuple[str, str, str], int]  # (scenario, measure, basis) -> row
    budget: dict[str, Section]  # budget measure -> family rows and total
    quarters: Periods
    years: Periods
    exposure: dict[tuple[str, str], int]  # (scenario, exposure measure) -> row


def layout_summary(ctx: RenderContext) -> SummaryLayout:
    start = ctx.plan.settings.fiscal_year_start
    quarters, years = fiscal_quarters(ctx.months, start), fiscal_years(ctx.months, start)
    periods = tuple(ctx.months) + quarters.labels + years.labels
    grid = Grid(layout.SUMMARY, KEYS, LEAD, periods, header_row=HEADER_ROW)
    rows: dict[tuple[str, str, str], int] = {}
    for scenario in ctx.scenarios:
        for measure in BUDGETED + PLAN_ONLY:
            for basis in _bases(measure):
                rows[(scenario, measure, basis)] = grid.cursor
                grid.skip()
        grid.skip()
    grid.skip()  # the budget detail's heading row
    budget: dict[str, Section] = {m: grid.allocate(len(ctx.families)) for m in BUDGET_LABELS}
    grid.skip()  # the stranded and excess stock's heading row
    exposure: dict[tuple[str, str], int] = {}
    for scenario in ctx.scenarios:
        section = grid.allocate(len(EXPOSURE_LABELS), total=False)
        exposure.update({(scenario, m): section.row(i) for i, m in enumerate(EXPOSURE_LABELS)})
    return SummaryLayout(grid, rows, budget, quarters, years, exposure)


def _bases(measure: str) -> tuple[str, ...]:
    if measure in OVERRIDDEN:
        return ("Dollarized", "Overrides", "Plan", "Budget", "Gap")
    return ("Plan", "Budget", "Gap") if measure in BUDGETED else ("Plan",)


def banner_formula(check_ranges: Sequence[str]) -> str:
    """Non-empty text when any key check on any output sheet says the inputs moved."""
    if not check_ranges:
        return '""'
    count = "+".join(f"COUNTIF({r},{text_literal(CHECK_MOVED)})" for r in check_ranges)
    return f'IF({count}>0,{text_literal(BANNER_TEXT)},"")'




def _period_formula(kind: str, first: str, last: str, row: int) -> str:
    if kind == "flow":
        return f"SUM({first}{row}:{last}{row})"
    return f"{last}{row}"


def render_summary(ctx: RenderContext, lay: SummaryLayout,
                   sources: dict[tuple[str, str], list[str]],
                   check_ranges: Sequence[str]) -> SheetSpec:
    """``sources[(scenario, measure)]`` holds, per month, the reference to the plan total on
    the sheet that computes it (e.g. 'Revenue!G17'); ``check_ranges`` the Check columns."""
    grid = lay.grid
    grid.title(ctx.title("Summary: plan vs budget"))
    grid.put(BANNER_ROW, 1, [[""]], [[banner_formula(check_ranges)]], Style.ERROR)
    grid.header()
    figures = summary_figures(ctx.d, ctx.plan.settings.fiscal_year_start, ctx.overrides)
    period_at = {label: p for p, label in enumerate(figures.labels)}
    picked = np.array([period_at.get(m, -1) for m in grid.months], dtype=np.int64)
    m = len(ctx.months)
    month_cols, period_cols = grid.month_cols[:m], grid.month_cols[m:]
    spans = [(lay.quarters.first[k], lay.quarters.last[k]) for k in range(len(lay.quarters))]
    spans += [(lay.years.first[k], lay.years.last[k]) for k in range(len(lay.years))]
    for scenario in ctx.scenarios:
        for (s, measure, basis), row in lay.rows.items():
            if s != scenario:
                continue
            formulas = _row_formulas(lay, scenario, measure, basis, row, sources, month_cols,
                                     period_cols, spans, ctx.overrides)
            column = figures.basis(BASES[basis], figures.scenarios.index(scenario),
                                   MEASURES.index(measure))
            cached = np.where(picked >= 0, column[np.maximum(picked, 0)], np.nan)
            style = STYLES.get(measure, Style.MONEY_WHOLE)
            if basis == "Plan":
                style = BOLD.get(style, style)
            grid.put_keys(row, [(scenario, LABELS[measure], basis)])
            grid.put_months(row, np.array([formulas], dtype=object),
                            np.array([cached], dtype=np.float64), style)
    _render_budget(ctx, lay)
    _render_exposure(ctx, lay, sources, month_cols, spans)
    return grid.spec(freeze_cols=len(KEYS) + len(LEAD), widths={1: 12.0, 2: 24.0, 3: 14.0})


def override_formulas(months: Sequence[str], scenario: str, measure: str,
                      overrides: Sequence[Override]) -> list[str]:
    """Per month, the sum of the Amount cells of the scenario's overrides of ``measure``
    ('Overrides!F2+Overrides!F5'), or 0."""
    cells: dict[str, list[str]] = {m: [] for m in months}
    for o in overrides:
        if o.scenario == scenario and o.measure == measure and o.month in cells \
                and o.amount_cell is not None:
            cells[o.month].append(f"{sheet_prefix(o.amount_cell.sheet)}{o.amount_cell.cell}")
    return ["+".join(cells[m]) or "0" for m in months]


def _row_formulas(lay: SummaryLayout, scenario: str, measure: str, basis: str, row: int,
                  sources: dict[tuple[str, str], list[str]], month_cols: Sequence[str],
                  period_cols: Sequence[str], spans: list[tuple[int, int]],
                  overrides: Sequence[Override] = ()) -> list[str]:
    def at(b: str, m: str = measure) -> int:
        return lay.rows[(scenario, m, b)]

    if basis == "Gap":
        plan, budget = at("Plan"), at("Budget")
        template = f"{{c}}{plan}-{{c}}{budget}"
        if measure == "gm_pct":
            template = f'IF(OR({{c}}{plan}="",{{c}}{budget}=""),"",{template})'
    elif measure == "gm_pct":
        revenue, margin = at(basis, "revenue"), at(basis, "gross_margin")
        template = f'IF({{c}}{revenue}=0,"",{{c}}{margin}/{{c}}{revenue})'
    elif measure == "gross_margin":
        template = f"{{c}}{at(basis, 'revenue')}-{{c}}{at(basis, 'cogs')}"
    else:
        template = ""
    if template:
        return [template.format(c=c) for c in list(month_cols) + list(period_cols)]
    if basis == "Budget":
        section = lay.budget[measure]
        monthly = [f"{c}{section.total}" for c in month_cols]
    elif basis == "Plan" and measure in OVERRIDDEN:
        monthly = [f"{c}{at('Dollarized')}+{c}{at('Overrides')}" for c in month_cols]
    elif basis == "Overrides":
        monthly = override_formulas(lay.grid.months[:len(month_cols)], scenario, measure,
                                    overrides)
    else:
        monthly = list(sources[(scenario, measure)])
    kind = "balance" if measure == "inventory_value" else "flow"
    periods = [_period_formula(kind, month_cols[a], month_cols[b], row) for a, b in spans]
    return monthly + periods


def _render_budget(ctx: RenderContext, lay: SummaryLayout) -> None:
    grid = lay.grid
    first = min(s.first for s in lay.budget.values())
    grid.put(first - 1, 1, [["Budget by family (from the Budget sheet)"]], style=Style.NOTE)
    m = len(ctx.months)
    for measure, label in BUDGET_LABELS.items():
        section = lay.budget[measure]
        rows_of = [ctx.budget.find_all(family, measure) for family in ctx.families]
        formulas = ctx.budget.refs(rows_of)
        checks = [ctx.budget.rows_check(rows) for rows in rows_of]
        keys = [("Budget", label, family) for family in ctx.families]
        style = STYLES.get(measure, Style.MONEY_WHOLE)
        put_section(grid, section, keys, formulas, ctx.d.budget[measure], style,
                    total_key=("Budget", label, "Total"), checks=checks,
                    cols=grid.month_cols[:m])


def _render_exposure(ctx: RenderContext, lay: SummaryLayout,
                     sources: dict[tuple[str, str], list[str]], month_cols: Sequence[str],
                     spans: list[tuple[int, int]]) -> None:
    """Stranded and excess stock per scenario: the Cash sheet's totals by month, each period
    at its last month (a balance)."""
    grid = lay.grid
    if not lay.exposure:
        return
    grid.put(min(lay.exposure.values()) - 1, 1, [[EXPOSURE_HEADING]], style=Style.NOTE)
    found = exposure(ctx.d, ctx.plan.settings.stranded_months,
                     ctx.plan.settings.target_cover_days)
    last = [b for _, b in spans]
    for si, scenario in enumerate(ctx.scenarios):
        for measure, label in EXPOSURE_LABELS.items():
            row = lay.exposure[(scenario, measure)]
            monthly = np.nansum(found[measure][si], axis=0)
            cached = np.concatenate((monthly, monthly[last] if last else monthly[:0]))
            formulas = list(sources[(scenario, measure)]) + [
                _period_formula("balance", month_cols[a], month_cols[b], row) for a, b in spans]
            style = Style.UNITS if measure.endswith("_units") else Style.MONEY_WHOLE
            grid.put_keys(row, [(scenario, label, "Plan")])
            grid.put_months(row, np.array([formulas], dtype=object), np.array([cached]), style)
