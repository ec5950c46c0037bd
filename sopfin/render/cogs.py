"""The COGS sheet: standard COGS, planned variances, COGS, revenue, gross margin and GM %,
per scenario and family, each block with a total row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sopfin import layout
from sopfin.render.context import RenderContext
from sopfin.render.grid import BOLD, Grid, Section, fill, put_row_totals, put_section, total_values
from sopfin.render.inventory import InventoryLayout
from sopfin.render.refs import sheet_prefix
from sopfin.render.revenue import RevenueLayout, family_sums
from sopfin.sheetspec import FormulaGrid, Formulas, SheetSpec, Style

KEYS = ("Scenario", "Family", "Measure")
LEAD = ("Check", "Total")
MEASURES = ("cogs_standard", "variance", "cogs", "revenue", "gross_margin", "gm_pct")
LABELS = {
    "cogs_standard": "Standard COGS",
    "variance": "Variance",
    "cogs": "COGS",
    "revenue": "Revenue",
    "gross_margin": "Gross margin",
    "gm_pct": "GM %",
}


@dataclass(frozen=True)
class CogsLayout:
    grid: Grid
    sections: dict[tuple[str, str], Section]


def layout_cogs(ctx: RenderContext) -> CogsLayout:
    grid = Grid(layout.COGS, KEYS, LEAD, ctx.months)
    sections = {}
    for scenario in ctx.scenarios:
        for measure in MEASURES:
            count = len(ctx.variance_order) if measure == "variance" else len(ctx.families)
            sections[(scenario, measure)] = grid.allocate(count)
        grid.skip()
    return CogsLayout(grid, sections)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN (a blank cell) where the denominator is zero or the
    quotient overflows (a cached value is never infinite; Excel computes the cell anew)."""
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        np.divide(numerator, denominator, out=out, where=denominator != 0)
    out[~np.isfinite(out)] = np.nan
    return out


RATIO_TEMPLATE = 'IF({c}{den}=0,"",{c}{num}/{c}{den})'


def ratio_formulas(template_rows: tuple[int, int], cols: tuple[str, ...]) -> list[str]:
    """GM %-style ratio per column: IF(denominator=0,"",numerator/denominator)."""
    num, den = template_rows
    return [RATIO_TEMPLATE.format(c=c, num=num, den=den) for c in cols]


def _variances(ctx: RenderContext, scenario: str,
               ) -> tuple[Formulas, list[str | None]]:
    rows_of = [ctx.variances.find_all(scenario, family, kind)
               for family, kind in ctx.variance_keys]
    return ctx.variances.refs(rows_of), [ctx.variances.rows_check(rows) for rows in rows_of]


def _cogs_formulas(ctx: RenderContext, lay: CogsLayout, scenario: str) -> FormulaGrid:
    """Per family and month: standard COGS plus the family's variance lines (none, one, or a
    SUM over several). The commonest of the three shapes is the grid's template; families of
    the other shapes are spelled out."""
    std = lay.sections[(scenario, "cogs_standard")]
    var = lay.sections[(scenario, "variance")]
    groups = ctx.variance_groups
    shapes = [min(group.count, 2) for group in groups]
    common = max(range(3), key=shapes.count) if shapes else 0
    tails = ("", "+{c}%s", "+SUM({c}%s:{c}%s)")
    texts = tuple(("{c}%s" + tails[common]).format(c=c) for c in lay.grid.month_cols)
    first = [var.row(g.start) if g.count else 0 for g in groups]
    last = [var.row(g.start + g.count - 1) if g.count else 0 for g in groups]
    args = ([std.row(f) for f in range(len(groups))], first, last)[:common + 1]
    explicit = {}
    for f, (shape, a, b) in enumerate(zip(shapes, first, last, strict=True)):
        if shape != common:
            tail = tails[shape] % ((a,), (a, b))[shape - 1] if shape else ""
            template = f"{{c}}{std.row(f)}{tail}"
            explicit[f] = [template.format(c=c) for c in lay.grid.month_cols]
    return FormulaGrid(texts, args, len(groups), explicit=explicit)


def render_cogs(ctx: RenderContext, lay: CogsLayout, inv: InventoryLayout,
                rev: RevenueLayout) -> SheetSpec:
    grid = lay.grid
    grid.title(ctx.title("COGS and gross margin"))
    grid.header()
    n = len(ctx.families)
    inv_prefix = sheet_prefix(layout.INVENTORY)
    cols = {"c": grid.month_cols, "ic": inv.grid.month_cols}
    var_keys = [(family, f"Variance: {kind}") for family, kind in ctx.variance_keys]
    for si, scenario in enumerate(ctx.scenarios):
        sec = {m: lay.sections[(scenario, m)] for m in MEASURES}
        rows = {"S": [inv.sections[(scenario, "shipments_units")].row(f) for f in range(n)],
                "U": [inv.sections[(scenario, "unit_cost")].row(f) for f in range(n)],
                "cogs": list(sec["cogs"].rows), "revenue": list(sec["revenue"].rows)}
        fam = ctx.d.fam
        var_formulas, var_checks = _variances(ctx, scenario)
        blocks: dict[str, tuple[Formulas, np.ndarray]] = {
            "cogs_standard": (fill(f"{inv_prefix}{{ic}}{{S}}*{inv_prefix}{{ic}}{{U}}", n, rows,
                                   cols), fam["cogs_standard"][si]),
            "variance": (var_formulas, ctx.d.variance[si][ctx.variance_order]),
            "cogs": (_cogs_formulas(ctx, lay, scenario), fam["cogs"][si]),
            "revenue": (family_sums(rev, ctx, scenario, "revenue", rev.grid.month_cols),
                        fam["revenue"][si]),
            "gross_margin": (fill("{c}{revenue}-{c}{cogs}", n, rows, cols),
                             fam["gross_margin"][si]),
        }
        for measure, (formulas, values) in blocks.items():
            checks = None
            if measure == "variance":
                checks = var_checks
                keys = [(scenario,) + k for k in var_keys]
            else:
                keys = [(scenario, family, LABELS[measure]) for family in ctx.families]
            put_section(grid, sec[measure], keys, formulas, values, Style.MONEY,
                        total_key=(scenario, "Total", LABELS[measure]), checks=checks)
            put_row_totals(grid, sec[measure], values, Style.MONEY)
        _put_gm_pct(ctx, grid, sec, si, scenario)
    return grid.spec(freeze_cols=len(KEYS) + len(LEAD), widths={1: 12.0, 2: 14.0, 3: 20.0})


def _put_gm_pct(ctx: RenderContext, grid: Grid, sec: dict[str, Section], si: int,
                scenario: str) -> None:
    """GM % rows recomputed from the revenue and margin rows (blank when revenue is zero)."""
    pct, rev, gm = sec["gm_pct"], sec["revenue"], sec["gross_margin"]
    revenue, margin = ctx.d.fam["revenue"][si], ctx.d.fam["gross_margin"][si]
    month_cols = grid.month_cols
    formulas = fill(RATIO_TEMPLATE, len(ctx.families),
                    {"num": list(gm.rows), "den": list(rev.rows)}, {"c": month_cols})
    label = LABELS["gm_pct"]
    grid.put_keys(pct.first, [(scenario, fam, label) for fam in ctx.families])
    grid.put_months(pct.first, formulas, ratio(margin, revenue), Style.PERCENT)
    total_rev, total_gm = total_values(revenue), total_values(margin)
    grid.put_keys(pct.total_row, [(scenario, "Total", label)])
    total_formulas = np.array([ratio_formulas((gm.total_row, rev.total_row), month_cols)],
                              dtype=object)
    grid.put_months(pct.total_row, total_formulas, ratio(total_gm, total_rev), BOLD[Style.PERCENT])
    total_col = grid.lead_col("Total")
    fam_ratio = ratio(np.nansum(margin, axis=1), np.nansum(revenue, axis=1))
    grid.put_column(pct.first, grid.lead("Total"),
                    [ratio_formulas((gm.row(f), rev.row(f)), (total_col,))[0]
                     for f in range(len(ctx.families))], fam_ratio.tolist(), Style.PERCENT)
    grid.put_column(pct.total_row, grid.lead("Total"),
                    ratio_formulas((gm.total_row, rev.total_row), (total_col,)),
                    [float(ratio(np.nansum(margin), np.nansum(revenue)))], BOLD[Style.PERCENT])
