"""The Revenue sheet: per scenario, one block of sales lines (family x channel) per measure.

Blocks: demand units (from Demand), required units and backlog (backorder only), shipments
(the family's shipments shared in proportion to each line's requirement), price (from
Prices), revenue, unconstrained revenue and revenue at risk, each with a total row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sopfin import layout
from sopfin.engine.results import LineMeasure
from sopfin.render.context import RenderContext, line_price_rows
from sopfin.render.grid import Grid, Section, fill, put_row_totals, put_section
from sopfin.render.refs import sheet_prefix
from sopfin.sheetspec import FormulaGrid, Formulas, SheetSpec, Style

if TYPE_CHECKING:
    from sopfin.render.inventory import InventoryLayout

KEYS = ("Scenario", "Family", "Channel", "Measure")
LEAD = ("Check", "Total")

LABELS = {
    "demand_units": "Demand units",
    "required_units": "Required units",
    "shipments_units": "Shipments units",
    "backlog_units": "Backlog units",
    "price": "Price",
    "revenue": "Revenue",
    "unconstrained_revenue": "Unconstrained revenue",
    "revenue_at_risk": "Revenue at risk",
}
STYLES = {"price": Style.PRICE, "revenue": Style.MONEY, "unconstrained_revenue": Style.MONEY,
          "revenue_at_risk": Style.MONEY}
NO_TOTAL = {"price"}


@dataclass(frozen=True)
class RevenueLayout:
    grid: Grid
    sections: dict[tuple[str, str], Section]  # (scenario, line measure) -> rows
    measures: tuple[LineMeasure, ...]

    def family_rows(self, ctx: RenderContext, scenario: str, measure: str, f: int,
                    ) -> tuple[int, int] | None:
        """First and last row of family f's lines in a block (None when it has no lines)."""
        group = ctx.line_groups[f]
        if group.count == 0:
            return None
        section = self.sections[(scenario, measure)]
        return section.row(group.start), section.row(group.start + group.count - 1)


def measures_for(ctx: RenderContext) -> tuple[LineMeasure, ...]:
    shared: tuple[LineMeasure, ...] = ("required_units", "shipments_units", "backlog_units")
    if not (ctx.backorder and ctx.constrained):
        shared = ("shipments_units",)
    return ("demand_units", *shared, "price", "revenue", "unconstrained_revenue",
            "revenue_at_risk")


def layout_revenue(ctx: RenderContext) -> RevenueLayout:
    grid = Grid(layout.REVENUE, KEYS, LEAD, ctx.months)
    measures = measures_for(ctx)
    sections: dict[tuple[str, str], Section] = {}
    for scenario in ctx.scenarios:
        for measure in measures:
            sections[(scenario, measure)] = grid.allocate(len(ctx.line_order),
                                                          total=measure not in NO_TOTAL)
        grid.skip()
    return RevenueLayout(grid, sections, measures)


def family_sum(rev: RevenueLayout, ctx: RenderContext, scenario: str, measure: str, f: int,
               cols: tuple[str, ...]) -> list[str]:
    """Per month, a formula summing family f's lines of a Revenue block (``0`` without lines)."""
    span = rev.family_rows(ctx, scenario, measure, f)
    if span is None:
        return ["0"] * len(cols)
    prefix = sheet_prefix(layout.REVENUE)
    a, b = span
    if a == b:
        return [f"{prefix}{c}{a}" for c in cols]
    return [f"SUM({prefix}{c}{a}:{c}{b})" for c in cols]


def family_sums(rev: RevenueLayout, ctx: RenderContext, scenario: str, measure: str,
                cols: tuple[str, ...]) -> FormulaGrid:
    """``family_sum`` for every family: one SUM template per month over the family's lines;
    families with one line or none are spelled out."""
    spans = [rev.family_rows(ctx, scenario, measure, f) for f in range(len(ctx.families))]
    prefix = sheet_prefix(layout.REVENUE).replace("%", "%%")
    texts = tuple(f"SUM({prefix}{c}%s:{c}%s)" for c in cols)
    ranged = [span if span is not None and span[0] < span[1] else (0, 0) for span in spans]
    explicit = {f: family_sum(rev, ctx, scenario, measure, f, cols)
                for f, span in enumerate(spans) if span is None or span[0] == span[1]}
    return FormulaGrid(texts, ([a for a, _ in ranged], [b for _, b in ranged]), len(spans),
                       explicit=explicit)


def _input_grid(ctx: RenderContext, scenario: str, kind: str,
                ) -> tuple[FormulaGrid, list[str | None]]:
    """Formulas and key checks for the demand or price block (direct input references)."""
    prices = line_price_rows(ctx) if kind == "price" else None
    table = ctx.demand if prices is None else ctx.prices
    rows_of_lines = []
    for k, li in enumerate(ctx.line_order.tolist()):
        if prices is None:
            rows_of_lines.append(table.find_all(scenario, *ctx.line_keys[k]))
        else:
            rows_of_lines.append([int(prices[li])] if prices[li] >= 0 else [])
    return table.refs(rows_of_lines), [table.rows_check(rows) for rows in rows_of_lines]


def render_revenue(ctx: RenderContext, rev: RevenueLayout, inv: InventoryLayout) -> SheetSpec:
    grid = rev.grid
    grid.title(ctx.title("Revenue"))
    grid.header()
    cols = {"c": grid.month_cols, "p": grid.prev_cols, "ic": inv.grid.month_cols}
    fam_of_line = ctx.d.lines["fam_idx"][ctx.line_order]
    inv_prefix = sheet_prefix(layout.INVENTORY)
    n = len(ctx.line_order)
    for si, scenario in enumerate(ctx.scenarios):
        row: dict[str, list[int]] = {
            m: [rev.sections[(scenario, m)].row(k) for k in range(n)] for m in rev.measures}
        if "required_units" not in rev.measures:
            row["required_units"] = row["demand_units"]
        inv_req = [inv.sections[(scenario, "required_units")].row(f) for f in fam_of_line]
        inv_ship = [inv.sections[(scenario, "shipments_units")].row(f) for f in fam_of_line]
        templates = {
            "required_units": ("{c}{demand_units}+{p}{backlog_units}", "{c}{demand_units}"),
            "shipments_units": (
                f"IF({inv_prefix}{{ic}}{{R}}=0,0,{inv_prefix}{{ic}}{{S}}*{{c}}{{required_units}}"
                f"/{inv_prefix}{{ic}}{{R}})" if ctx.constrained else "{c}{demand_units}", None),
            "backlog_units": ("{c}{required_units}-{c}{shipments_units}", None),
            "revenue": ("{c}{shipments_units}*{c}{price}", None),
            "unconstrained_revenue": ("{c}{demand_units}*{c}{price}", None),
            "revenue_at_risk": ("{c}{unconstrained_revenue}-{c}{revenue}", None),
        }
        row_args = dict(row, R=inv_req, S=inv_ship)
        keys_of = _keys(ctx, scenario)
        for measure in rev.measures:
            section = rev.sections[(scenario, measure)]
            values = ctx.d.line[measure][si][ctx.line_order]
            checks = None
            formulas: Formulas
            if measure in ("demand_units", "price"):
                formulas, checks = _input_grid(ctx, scenario, measure.split("_")[0])
            else:
                template, first = templates[measure]
                formulas = fill(template, n, row_args, cols, first)
            style = STYLES.get(measure, Style.UNITS)
            label = LABELS[measure]
            put_section(grid, section, [k + (label,) for k in keys_of], formulas, values, style,
                        total_key=(scenario, "Total", "", label), checks=checks)
            if measure not in NO_TOTAL:
                put_row_totals(grid, section, values, style)
    return grid.spec(freeze_cols=len(KEYS) + len(LEAD), widths={1: 12.0, 2: 14.0, 3: 12.0,
                                                                  4: 22.0})


def _keys(ctx: RenderContext, scenario: str) -> list[tuple[str, str, str]]:
    return [(scenario, family, channel) for family, channel in ctx.line_keys]
