"""Render the dollarized plan as output sheets of live formulas with cached values.

Every computed cell is a formula that references the input cells it was computed from (by
direct reference, from the input tables' provenance) or rows computed before it; its cached
value is the engine's unrounded figure, so the workbook shows the right numbers before Excel
recalculates and stays right when the user edits a number.

Sheets are laid out first (row positions only), then filled, because they reference each
other: Revenue <-> Inventory -> COGS -> Cash -> Summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sopfin import layout
from sopfin.close.records import Override
from sopfin.engine.opex import plan_opex
from sopfin.engine.results import Dollarized
from sopfin.guard.row_prints import with_fingerprints
from sopfin.model import Issue, Plan, Table
from sopfin.render.cash import CashLayout, layout_cash, render_cash
from sopfin.render.cash_exposure import MEASURES as EXPOSURE_MEASURES
from sopfin.render.cogs import CogsLayout, layout_cogs, render_cogs
from sopfin.render.context import RenderContext, build_context
from sopfin.render.grid import Grid, Section
from sopfin.render.inventory import InventoryLayout, layout_inventory, render_inventory
from sopfin.render.issues_sheet import render_issues
from sopfin.render.page import output_page
from sopfin.render.pnl_sheet import PnlSources, layout_pnl, render_pnl
from sopfin.render.refs import sheet_prefix
from sopfin.render.revenue import RevenueLayout, layout_revenue, render_revenue
from sopfin.render.summary_sheet import layout_summary, render_summary
from sopfin.sheetspec import SheetSpec

__all__ = ["render_outputs", "rerender_issues"]

TAB_COLOR = "FF1F4E79"


def render_outputs(plan: Plan, d: Dollarized, issues: Sequence[Issue], *,
                   generated_at: str = "", overrides: Sequence[Override] = (),
                   actuals: Table | None = None, opex_actuals: Table | None = None,
                   ) -> list[SheetSpec]:
    """SheetSpecs for Revenue, COGS, Inventory, Cash, Summary, P&L and Issues (all owned);
    the Summary's plan adds the named ``overrides`` (sheet Overrides) to the dollarized plan;
    the P&L's latest estimate reads the family and opex ``actuals`` (sheet Actuals)."""
    ctx = build_context(plan, d, generated_at, overrides)
    rev, inv = layout_revenue(ctx), layout_inventory(ctx)
    cogs, cash, summary = layout_cogs(ctx), layout_cash(ctx), layout_summary(ctx)
    sheets = {
        layout.REVENUE: render_revenue(ctx, rev, inv),
        layout.INVENTORY: render_inventory(ctx, inv, rev),
        layout.COGS: render_cogs(ctx, cogs, inv, rev),
        layout.CASH: render_cash(ctx, cash, inv, cogs),
    }
    sources = _plan_sources(ctx, rev, inv, cogs, cash)
    checks = [_check_range(g) for g in (rev.grid, inv.grid, cogs.grid)]
    checks.append(_check_range(summary.grid))
    sheets[layout.SUMMARY] = render_summary(ctx, summary, sources, checks)
    opex = plan_opex(plan, d, opex_actuals)
    pnl = PnlSources(ctx, opex, summary, rev, inv, actuals, opex_actuals)
    sheets[layout.PNL] = render_pnl(pnl, layout_pnl(ctx, opex))
    sheets[layout.ISSUES] = render_issues(issues, ctx.title("Issues"))
    settings = plan.settings
    return [output_page(_tab(with_fingerprints(sheets[name])
                             if name in layout.FINGERPRINTED_SHEETS else sheets[name]),
                        settings.company, settings.current_cycle)
            for name in layout.OUTPUT_SHEET_NAMES]


def rerender_issues(specs: Sequence[SheetSpec], issues: Sequence[Issue]) -> list[SheetSpec]:
    """``specs`` with the Issues sheet rendered again from ``issues`` (same title, same page
    setup)."""
    out = []
    for spec in specs:
        if spec.name == layout.ISSUES:
            title = str(spec.blocks[0].values[0][0]) if spec.blocks else layout.ISSUES
            spec = replace(_tab(render_issues(issues, title)), page=spec.page)
        out.append(spec)
    return out


def _tab(spec: SheetSpec) -> SheetSpec:
    return replace(spec, tab_color=TAB_COLOR)


def _check_range(grid: Grid) -> str:
    col = grid.lead_col("Check")
    first, last = grid.header_row + 1, max(grid.cursor, grid.header_row + 1)
    return f"{sheet_prefix(grid.name)}${col}${first}:${col}${last}"


def _plan_sources(ctx: RenderContext, rev: RevenueLayout, inv: InventoryLayout,
                  cogs: CogsLayout, cash: CashLayout) -> dict[tuple[str, str], list[str]]:
    """Per (scenario, summary measure): the per-month references to that plan total."""
    where: dict[str, tuple[Grid, dict[tuple[str, str], Section], str]] = {
        "units": (inv.grid, inv.sections, "shipments_units"),
        "revenue": (rev.grid, rev.sections, "revenue"),
        "cogs": (cogs.grid, cogs.sections, "cogs"),
        "inventory_value": (inv.grid, inv.sections, "inventory_value"),
        "inventory_cash": (cash.grid, cash.sections, "inventory_cash"),
        "revenue_at_risk": (rev.grid, rev.sections, "revenue_at_risk"),
    }
    out: dict[tuple[str, str], list[str]] = {}
    for scenario in ctx.scenarios:
        for measure, (grid, sections, key) in where.items():
            row = sections[(scenario, key)].total
            prefix = sheet_prefix(grid.name)
            out[(scenario, measure)] = [f"{prefix}{c}{row}" for c in grid.month_cols]
        for measure in EXPOSURE_MEASURES:
            row = cash.exposure.sections[(scenario, measure)].total_row
            prefix = sheet_prefix(cash.grid.name)
            out[(scenario, measure)] = [f"{prefix}{c}{row}" for c in cash.grid.month_cols]
    return out
